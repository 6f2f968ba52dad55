package scenarios

// Positions for yaml.v3's syntax errors, which carry at most a line, and
// for some errors no line or the wrong one: found again in the text.

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlLine matches yaml.v3's syntax errors, which carry a line but no column.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// unknownAnchor matches yaml.v3's error for an alias to no anchor, which
// carries no position at all.
var unknownAnchor = regexp.MustCompile(`^unknown anchor '([0-9A-Za-z_-]+)' referenced`)

// readerErrors are the messages of yaml.v3's reader, for bytes that are not
// text: they carry no position, so syntaxProblem finds the byte itself.
var readerErrors = []string{
	"control characters are not allowed",
	"invalid leading UTF-8 octet", "incomplete UTF-8 octet sequence", "invalid trailing UTF-8 octet",
	"invalid length of a UTF-8 sequence", "invalid Unicode character",
	"incomplete UTF-16 character", "unexpected low surrogate area", "incomplete UTF-16 surrogate pair", "expected low surrogate area",
}

// syntaxProblem turns yaml.v3's syntax error into a problem with a position.
// yaml.v3 gives at most a line, and for some errors no line or the wrong
// one; those are found again in data.
func syntaxProblem(file string, data []byte, err error) Problems {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var pos Pos
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		pos = Pos{Line: line, Column: 1}
		msg = err.Error()[len(m[0]):]
	}
	switch m := unknownAnchor.FindStringSubmatch(msg); {
	case m != nil:
		pos = aliasPos(data, m[1])
	case pos.Line == 0 && slices.Contains(readerErrors, msg):
		pos = notTextPos(data)
	case strings.Contains(msg, "found a tab character") && pos.Line > 0:
		// yaml.v3 names the line where the scalar it was reading starts
		// (unless that is the first line); the tab it refuses is in the
		// indentation of that line or a later one.
		pos = tabPos(data, pos.Line)
	case pos.Line == 0:
		// yaml.v3 counts lines from 0 and leaves out "line 0": a scanner
		// or parser error without a line is on the first one.
		pos = Pos{Line: 1, Column: 1}
	}
	return Problems{{File: file, Pos: pos, Msg: "invalid YAML: " + msg}}
}

// aliasPos finds the first use of the alias *name outside comments, or
// returns the zero Pos. It reads the text, not YAML, so an alias-like word
// inside a quoted string could mislead it; yaml.v3 gives nothing better.
func aliasPos(data []byte, name string) Pos {
	// An alias starts a token: after a space, a flow indicator or at the
	// start of a line; it ends where the anchor characters end.
	re := regexp.MustCompile(`(?:^|[\s\[{,])(\*` + regexp.QuoteMeta(name) + `)(?:[^0-9A-Za-z_-]|$)`)
	for i, line := range strings.Split(string(data), "\n") {
		if m := re.FindStringSubmatchIndex(stripComment(line)); m != nil {
			return Pos{Line: i + 1, Column: utf8.RuneCountInString(line[:m[2]]) + 1}
		}
	}
	return Pos{}
}

// stripComment cuts a line at a # that starts a comment (at the start or
// after a space). A # inside quotes is taken for a comment too: the worst
// that does is to miss an alias on the rest of that line.
func stripComment(line string) string {
	for i := range len(line) {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// notTextPos finds the first character yaml.v3's reader refuses: invalid
// UTF-8, or a control character other than tab and line breaks. yaml.v3
// reads in order and stops at the first, so that is the one it refused.
// Columns count characters, as yaml.v3's do.
func notTextPos(data []byte) Pos {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return Pos{} // UTF-16, which yaml.v3 reads and this does not
	}
	line, col := 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size == 1 || !yamlChar(r) {
			return Pos{Line: line, Column: col}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return Pos{}
}

// yamlChar reports whether YAML allows r in a file (YAML 1.2, 5.1).
func yamlChar(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r >= 0x20 && r <= 0x7e, r == 0x85:
		return true
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// tabPos finds the first tab in the indentation (the spaces and tabs a
// line starts with) of line from or a later line; if there is none, it
// returns the start of line from, as yaml.v3 said.
func tabPos(data []byte, from int) Pos {
	lines := strings.Split(string(data), "\n")
	for i := from - 1; i < len(lines); i++ {
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " \t"))
		if col := strings.IndexByte(lines[i][:indent], '\t'); col >= 0 {
			return Pos{Line: i + 1, Column: col + 1}
		}
	}
	return Pos{Line: from, Column: 1}
}
