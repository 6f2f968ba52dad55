package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a scenario file: where, which field, and
// what is allowed instead.
type Problem struct {
	File  string
	Pos   Pos // zero for a scenario built in Go
	Field string
	Msg   string
}

// String formats the problem as FILE:LINE:COL: FIELD: MESSAGE, the form
// editors and CI logs link to; parts that are unknown are left out.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File + ":")
	}
	if p.Pos.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Pos.Line, p.Pos.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a scenario, in file order. Loading
// collects them all so that one `riptide validate` shows everything to fix.
type Problems []Problem

// Error prints one problem per line.
func (p *Problems) Error() string {
	lines := make([]string, len(p.List()))
	for i, pr := range p.List() {
		lines[i] = pr.String()
	}
	return strings.Join(lines, "\n")
}

// List returns the problems, sorted by line then column.
func (p *Problems) List() []Problem {
	if p == nil {
		return nil
	}
	return *p
}

// sortProblems orders problems by position; problems at the same place keep
// the order they were found in.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// asError sorts the problems and returns them as an error, or nil for none
// so that callers can test err != nil. A list longer than maxProblems, or
// one already cut short, ends with a note saying so.
func asError(file string, ps Problems, truncated bool) error {
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	if len(ps) > maxProblems {
		ps, truncated = ps[:maxProblems], true
	}
	if truncated {
		ps = append(ps, Problem{File: file, Msg: fmt.Sprintf("too many problems; showing the first %d", len(ps))})
	}
	return &ps
}
