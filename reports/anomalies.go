// The anomalies of a run as the report shows them: the expectations, one
// section per kind found with its examples spelled out operation by
// operation, and links to porcupine's views of failing streams.

package reports

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

type expectationRow struct {
	Expectation
	Definition string
	// Proof false: failing it leaves the run unknown, not invalid.
	Proof bool
	// Child refines another kind (lost-middle of lost); Counted is a fact,
	// not an anomaly (recovered).
	Child, Counted bool
}

func expectationRows(r *Results) []expectationRow {
	out := make([]expectationRow, len(r.Expectations))
	for i, e := range r.Expectations {
		info := kindInfo(r, e.Kind)
		out[i] = expectationRow{Expectation: e, Definition: info.Definition, Proof: info.Proof,
			Child: info.Parent != "", Counted: info.Counted}
	}
	return out
}

// kindInfo looks a kind up in the checkers' current list, then in the one
// results.json was written with.
func kindInfo(r *Results, k checkers.Kind) checkers.KindInfo {
	if info, ok := checkers.KindInfoOf(k); ok {
		return info
	}
	for _, info := range r.Kinds {
		if info.Kind == k {
			return info
		}
	}
	return checkers.KindInfo{Kind: k, Proof: true}
}

// kindSection is every anomaly of one kind, over all checkers.
type kindSection struct {
	Kind       checkers.Kind
	Definition string
	Proof      bool
	Counted    bool
	Count      int
	Allowed    string
	Pass       bool
	// Tolerated says whose allowance lets a count over Allowed pass.
	Tolerated string
	// Children break the count down (lost into lost-prefix, -middle,
	// -postfix); their examples are the parent's, so they get no section.
	Children []childCount
	Examples []exampleView
	Hidden   int
}

type childCount struct {
	Kind       checkers.Kind
	Count      int
	Definition string
}

type exampleView struct {
	Checker  string
	Message  []textPart
	Stream   string
	Value    string
	Offset   string
	Producer string
	Node     string
	Ops      []opView
	// Missing are op indices the history does not hold.
	Missing []int64
}

// metaPart is one field of an example's subtitle: text, then an optional
// value shown as code.
type metaPart struct {
	Text  string
	Code  string
	Muted bool
}

// Meta is the example's subtitle: the fields v has, in order, ending with
// the checker that found it. The template puts a separator between parts,
// never before the first.
func (v exampleView) Meta() []metaPart {
	var out []metaPart
	add := func(set bool, p metaPart) {
		if set {
			out = append(out, p)
		}
	}
	add(v.Value != "", metaPart{Text: "value", Code: v.Value})
	add(v.Offset != "", metaPart{Text: "offset " + v.Offset})
	add(v.Stream != "", metaPart{Text: "stream", Code: v.Stream})
	add(v.Producer != "", metaPart{Text: "sent by " + v.Producer})
	add(v.Node != "", metaPart{Text: "node " + v.Node})
	add(v.Checker != "", metaPart{Text: v.Checker + " checker", Muted: true})
	return out
}

// opView is one operation of an example, spelled out.
type opView struct {
	Index   int64
	Time    string
	Process string
	Type    string
	F       string
	Value   string
	Offset  string
	Node    string
	Error   string
	Reads   string
	// Match is set when the op holds the example's value (sent or read).
	Match bool
}

// kindOrder lists the kinds in report order: the checkers' list, then any
// kind an older results.json or a newer checker reported.
func kindOrder(r *Results) []checkers.Kind {
	var order []checkers.Kind
	seen := map[checkers.Kind]bool{}
	addKind := func(k checkers.Kind) {
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, info := range checkers.Kinds {
		addKind(info.Kind)
	}
	for _, info := range r.Kinds {
		addKind(info.Kind)
	}
	var extra []checkers.Kind
	for _, c := range r.Checkers {
		for k := range c.Anomalies {
			if !seen[k] {
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		addKind(k)
	}
	return order
}

func kindSections(r *Results, h []history.Op, pos func(int64) (int, bool), limit int) (found []kindSection, clean []string) {
	allowed := map[checkers.Kind]Expectation{}
	for _, e := range r.Expectations {
		allowed[e.Kind] = e
	}
	count := func(k checkers.Kind) int {
		n := 0
		for _, c := range r.Checkers {
			n += c.Anomalies[k].Count
		}
		return n
	}
	for _, k := range kindOrder(r) {
		info := kindInfo(r, k)
		s := kindSection{Kind: k, Definition: info.Definition, Proof: info.Proof, Counted: info.Counted,
			Pass: true, Allowed: "0", Count: count(k)}
		if s.Count == 0 {
			clean = append(clean, string(k))
			continue
		}
		if info.Parent != "" && count(info.Parent) > 0 {
			continue // shown in its parent's section
		}
		if e, ok := allowed[k]; ok {
			s.Allowed, s.Pass, s.Tolerated = e.Allowed, e.Pass, e.Tolerated
		}
		for _, child := range kindOrder(r) {
			if ci := kindInfo(r, child); ci.Parent == k {
				if n := count(child); n > 0 {
					s.Children = append(s.Children, childCount{Kind: child, Count: n, Definition: ci.Definition})
				}
			}
		}
		for _, c := range r.Checkers {
			for _, ex := range c.Anomalies[k].Examples {
				if len(s.Examples) < limit {
					s.Examples = append(s.Examples, newExampleView(c.Checker, ex, h, pos))
				}
			}
		}
		s.Hidden = s.Count - len(s.Examples)
		found = append(found, s)
	}
	// Facts that are not anomalies (recovered sends) come after them.
	slices.SortStableFunc(found, func(a, b kindSection) int {
		switch {
		case a.Counted == b.Counted:
			return 0
		case b.Counted:
			return -1
		}
		return 1
	})
	return found, clean
}

func newExampleView(checker string, ex checkers.Example, h []history.Op, pos func(int64) (int, bool)) exampleView {
	v := exampleView{Checker: checker, Message: linkOps(ex.Message, pos), Stream: ex.Stream, Value: ex.Value, Node: ex.Node}
	if ex.Offset != 0 {
		v.Offset = strconv.FormatInt(ex.Offset, 10)
	}
	if ex.Producer != nil {
		v.Producer = ex.ProducerName()
	}
	for _, idx := range ex.Ops {
		i, ok := pos(idx)
		if !ok {
			v.Missing = append(v.Missing, idx)
			continue
		}
		v.Ops = append(v.Ops, newOpView(h[i], ex.Value))
	}
	return v
}

func newOpView(op history.Op, value string) opView {
	v := opView{Index: op.Index, Time: formatOpTime(op.Time), Process: processName(op.Process),
		Type: op.Type.String(), F: string(op.F), Value: op.Value, Node: op.Node, Error: op.Error,
		Match: value != "" && op.Value == value}
	if op.Offset != history.NoOffset {
		v.Offset = strconv.FormatInt(op.Offset, 10)
	}
	if op.Fault != nil {
		v.F += " " + op.Fault.ID + " " + op.Fault.Kind
		v.Node = strings.Join(op.Fault.Targets, ", ")
	}
	if len(op.Reads) > 0 {
		v.Reads = readsSummary(op.Reads, value)
		for _, r := range op.Reads {
			if value != "" && r.Value == value {
				v.Match = true
			}
		}
	}
	return v
}

// readsSummary describes a batch of reads, naming where value sits in it.
func readsSummary(reads []history.Read, value string) string {
	s := fmt.Sprintf("%d reads, offsets %d–%d", len(reads), reads[0].Offset, reads[len(reads)-1].Offset)
	if len(reads) == 1 {
		s = fmt.Sprintf("1 read: %s at offset %d", reads[0].Value, reads[0].Offset)
	}
	if value == "" || len(reads) == 1 {
		return s
	}
	var at []string
	for _, r := range reads {
		if r.Value == value {
			at = append(at, strconv.FormatInt(r.Offset, 10))
		}
	}
	if len(at) > 0 {
		s += "; " + value + " at offset " + strings.Join(at, ", ")
	}
	return s
}

// textPart is a piece of a checker's message: text, or a reference to an
// operation ("#123") that the report turns into a link.
type textPart struct {
	Text string
	Op   int64
	Link bool
}

var opRef = regexp.MustCompile(`#(\d+)`)

// linkOps splits a message so that every "#N" naming an operation of the
// history links to it in the operation table.
func linkOps(msg string, pos func(int64) (int, bool)) []textPart {
	var parts []textPart
	last := 0
	for _, m := range opRef.FindAllStringSubmatchIndex(msg, -1) {
		idx, err := strconv.ParseInt(msg[m[2]:m[3]], 10, 64)
		if _, ok := pos(idx); err != nil || !ok {
			continue
		}
		if m[0] > last {
			parts = append(parts, textPart{Text: msg[last:m[0]]})
		}
		parts = append(parts, textPart{Text: msg[m[0]:m[1]], Op: idx, Link: true})
		last = m[1]
	}
	if last < len(msg) {
		parts = append(parts, textPart{Text: msg[last:]})
	}
	return parts
}

func processName(p int) string {
	if p == history.NemesisProcess {
		return "nemesis"
	}
	return strconv.Itoa(p)
}

// porcupineLink is a linearizability visualization the checker wrote next
// to the report for a failing stream.
type porcupineLink struct {
	Stream string
	Href   string
}

func porcupineLinks(dir string) []porcupineLink {
	if dir == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "porcupine-*.html"))
	sort.Strings(paths)
	out := make([]porcupineLink, 0, len(paths))
	for _, p := range paths {
		name := filepath.Base(p)
		stream := strings.TrimSuffix(strings.TrimPrefix(name, "porcupine-"), ".html")
		out = append(out, porcupineLink{Stream: stream, Href: name})
	}
	return out
}
