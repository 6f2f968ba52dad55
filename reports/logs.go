package reports

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Bounds of a node's log excerpt: the report shows the end of the log and
// the lines that say something went wrong, not the whole file (the run
// directory has it).
const (
	logTailLines   = 25
	logErrorLines  = 40
	logPanicLines  = 40 // lines kept after a panic, for its stack
	logMaxScan     = 32 << 20
	logMaxLineSize = 1 << 10
)

// problemLine matches the lines worth showing from anywhere in a log: Go
// panics and fatal errors, and the error levels of common server logs
// (NATS [ERR]/[FTL], log4j ERROR/FATAL, logfmt level=error). Levels are
// matched as loggers write them, in capitals: "Read Error" in an info line
// of NATS is not an error of the server.
var problemLine = regexp.MustCompile(`\bpanic\b|fatal error|\[(ERR|FTL|FATAL|ERROR)\]|\b(ERROR|FATAL|SEVERE)\b|level=(error|fatal|ERROR|FATAL)`)

var panicStart = regexp.MustCompile(`^(panic: |fatal error: )`)

// nodeLog is the excerpt of one node's log.
type nodeLog struct {
	Name string
	Path string // relative to the run directory, for the link
	// Problems are error and panic lines (the last logErrorLines of them),
	// with a panic's stack kept whole.
	Problems []string
	// ProblemsTotal counts all problem lines, shown or not.
	ProblemsTotal int
	Panicked      bool
	Tail          []string
	Lines         int
	Missing       bool
}

// readNodeLogs reads dir/nodes/NAME/node.log for every node.
func readNodeLogs(dir string, nodes []string) []nodeLog {
	if len(nodes) == 0 && dir != "" {
		entries, _ := os.ReadDir(filepath.Join(dir, "nodes"))
		for _, e := range entries {
			if e.IsDir() {
				nodes = append(nodes, e.Name())
			}
		}
		sort.Strings(nodes)
	}
	out := make([]nodeLog, 0, len(nodes))
	for _, n := range nodes {
		rel := filepath.ToSlash(filepath.Join("nodes", n, "node.log"))
		l := nodeLog{Name: n, Path: rel}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil || dir == "" {
			l.Missing = true
			out = append(out, l)
			continue
		}
		excerpt(f, &l)
		f.Close()
		out = append(out, l)
	}
	return out
}

// excerpt scans a log once, keeping its tail and its problem lines. A huge
// log is read from its last logMaxScan bytes only.
func excerpt(f *os.File, l *nodeLog) {
	var r io.Reader = f
	if st, err := f.Stat(); err == nil && st.Size() > logMaxScan {
		if _, err := f.Seek(st.Size()-logMaxScan, io.SeekStart); err == nil {
			r = f
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	tail := make([]string, 0, logTailLines)
	var problems []string
	inPanic := 0
	for sc.Scan() {
		line := sc.Text()
		if len(line) > logMaxLineSize {
			line = line[:logMaxLineSize] + " …"
		}
		l.Lines++
		if len(tail) == logTailLines {
			copy(tail, tail[1:])
			tail = tail[:logTailLines-1]
		}
		tail = append(tail, line)
		switch {
		case panicStart.MatchString(line):
			l.Panicked = true
			inPanic = logPanicLines
			l.ProblemsTotal++
			problems = append(problems, line)
		case inPanic > 0:
			inPanic--
			problems = append(problems, line)
		case problemLine.MatchString(line):
			l.ProblemsTotal++
			problems = append(problems, line)
		}
	}
	l.Tail = tail
	if len(problems) > logErrorLines+logPanicLines && !l.Panicked {
		problems = problems[len(problems)-logErrorLines:]
	}
	l.Problems = problems
}

// trimLines is for display: a log line's own trailing spaces are noise.
func trimLines(lines []string) string {
	for i, s := range lines {
		lines[i] = strings.TrimRight(s, " \t\r")
	}
	return strings.Join(lines, "\n")
}
