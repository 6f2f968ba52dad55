package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"syscall"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds what Parse reads: a scenario is a page of YAML, and
// anything far bigger is a mistake (or an attack on the parser).
const maxFileSize = 1 << 20

// Load reads, decodes and validates the scenario file at path, with defaults
// applied. Problems with the file come back as *Problems.
//
// Besides regular files, Load reads what a shell passes as a file name: a
// pipe (/dev/stdin, process substitution <(...)) or a device. It never
// waits for a writer to open a named pipe (mkfifo): such a pipe with no
// writer yet reads as empty and is refused, where waiting could hang
// riptide validate for ever. A pipe riptide cannot tell from one a writer
// is about to open, so the writer must be there first, as with a shell's.
func Load(path string) (*Scenario, error) {
	// O_NONBLOCK makes opening a named pipe return at once instead of
	// waiting for a writer. It changes nothing for regular files, and Go
	// still waits for a pipe's or a terminal's data, not failing with EAGAIN.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough for Parse to refuse the file: a
	// device or a pipe (riptide validate /dev/zero) is never read to its end.
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	if info, err := f.Stat(); len(data) == 0 && err == nil && info.Mode()&fs.ModeNamedPipe != 0 {
		return nil, asError(path, Problems{{File: path, Pos: Pos{Line: 1, Column: 1},
			Msg: "empty scenario: nothing was written to this pipe (riptide reads a named pipe only if a writer has it open already)"}}, false)
	}
	return Parse(path, data)
}

// Parse decodes and validates a scenario from data; file names it in
// messages. Every problem found, in decoding and in validation, comes back
// together as *Problems, and then the scenario is nil.
func Parse(file string, data []byte) (s *Scenario, err error) {
	defer func() {
		// Neither yaml.v3 nor this package should panic, but a scenario
		// file is user input: a crash here would hide what is wrong.
		if r := recover(); r != nil {
			s, err = nil, asError(file, Problems{{File: file, Msg: fmt.Sprintf("internal error reading the scenario: %v", r)}}, false)
		}
	}()
	root, probs := parseYAML(file, data)
	if probs != nil {
		return nil, asError(file, probs, false)
	}
	d := newDecoder(file)
	s = &Scenario{File: file}
	d.value(root, reflect.ValueOf(s).Elem(), "")
	s.pos = d.pos
	s.ApplyDefaults()
	probs = d.problems
	if d.full() {
		// Decoding stopped part way: validating the rest would only add
		// noise about fields that were never read. Stopped at maxProblems,
		// there may be more; stopped by aliases, the problem says so.
		return nil, asError(file, probs, len(probs) >= maxProblems)
	}
	// A value that failed to decode is reported once, by the decoder, not
	// again by validation as missing or out of range.
	for _, p := range s.validate() {
		if !d.covers(p.Field) {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, asError(file, probs, false)
	}
	return s, nil
}

// parseYAML returns the top node of the one YAML document in data.
func parseYAML(file string, data []byte) (*yaml.Node, Problems) {
	at := func(line, col int, format string, args ...any) Problems {
		return Problems{{File: file, Pos: Pos{Line: line, Column: col}, Msg: fmt.Sprintf(format, args...)}}
	}
	if len(data) > maxFileSize {
		return nil, at(1, 1, "file is larger than %d bytes; a scenario is a page of YAML", maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, at(1, 1, "empty scenario")
	}
	if err != nil {
		return nil, syntaxProblem(file, data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, at(1, 1, "empty scenario")
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblem(file, data, err)
	default:
		return nil, at(next.Line, next.Column, "more than one YAML document; a scenario file holds one (remove the ---)")
	}
	return doc.Content[0], nil
}
