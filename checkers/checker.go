// Package checkers reads a history and says what broke: each anomaly is a
// named kind with the operations that prove it. Verdicts are three-valued and
// merge as invalid > unknown > valid.
package checkers

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/riptidechaos/riptide/history"
)

// Verdict is the outcome of a check.
type Verdict string

const (
	Valid   Verdict = "valid"
	Unknown Verdict = "unknown"
	Invalid Verdict = "invalid"
)

func (v Verdict) rank() int {
	switch v {
	case Valid:
		return 0
	case Unknown:
		return 1
	default:
		return 2
	}
}

// Merge returns the worse of two verdicts: invalid > unknown > valid.
func Merge(a, b Verdict) Verdict {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Example is one anomaly: the operations that prove it and a sentence saying
// what they show.
type Example struct {
	Stream string `json:"stream,omitempty"`
	Value  string `json:"value,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	// Producer is who sent Value, when known: the worker W of a value
	// "W-N" (the workload names its values so; a worker goes on as a new
	// process after an info, and keeps W), else the sending process. The
	// message names the sending process.
	Producer *int `json:"producer,omitempty"`
	// Node is the node the example is about (that served the send, or
	// whose log lacks the value), when there is one.
	Node string `json:"node,omitempty"`
	// Ops are indices into the history.
	Ops     []int64 `json:"ops,omitempty"`
	Message string  `json:"message"`
}

// ProducerName spells Producer for a reader: "worker 3" when it is the
// worker of a value "3-N", "process 7" otherwise (a value of another form,
// or a results.json written when Producer held the sending process), ""
// when there is none.
func (e Example) ProducerName() string {
	if e.Producer == nil {
		return ""
	}
	if k, ok := valueKey(e.Value); ok && int(k>>32) == *e.Producer {
		return fmt.Sprintf("worker %d", *e.Producer)
	}
	return fmt.Sprintf("process %d", *e.Producer)
}

// Anomalies of one kind.
type Anomalies struct {
	Count int `json:"count"`
	// Examples holds at most MaxExamples of them.
	Examples []Example `json:"examples,omitempty"`
}

// MaxExamples bounds how many examples a result keeps per kind.
const MaxExamples = 20

// Result is what a checker found. Checkers fill Anomalies, Stats and, when
// they could not finish, Error; Judge sets Verdict and Reason.
type Result struct {
	Checker string  `json:"checker"`
	Verdict Verdict `json:"verdict"`
	// Reason says in one sentence why the verdict is not valid.
	Reason string `json:"reason,omitempty"`
	// Error is set when the checker could not finish (a panic, a blown
	// deadline or memory bound): its verdict is then at best unknown.
	Error     string             `json:"error,omitempty"`
	Anomalies map[Kind]Anomalies `json:"anomalies,omitempty"`
	// Stats holds counts the checker measured (acked sends, reads, ...).
	Stats map[string]int64 `json:"stats,omitempty"`
	// Windows holds traffic around each fault (availability checker).
	Windows []FaultWindow `json:"windows,omitempty"`
}

// Add records one anomaly of kind k.
func (r *Result) Add(k Kind, ex Example) {
	if r.Anomalies == nil {
		r.Anomalies = make(map[Kind]Anomalies)
	}
	a := r.Anomalies[k]
	a.Count++
	if len(a.Examples) < MaxExamples {
		a.Examples = append(a.Examples, ex)
	}
	r.Anomalies[k] = a
}

// addWith records one anomaly of kind k, building its example only while
// the kind keeps fewer than MaxExamples: formatting examples nobody reads
// would cost more than finding the anomalies.
func (r *Result) addWith(k Kind, build func() Example) {
	if r.Anomalies == nil {
		r.Anomalies = make(map[Kind]Anomalies)
	}
	a := r.Anomalies[k]
	a.Count++
	if len(a.Examples) < MaxExamples {
		a.Examples = append(a.Examples, build())
	}
	r.Anomalies[k] = a
}

// addCount records n more anomalies of kind k without examples.
func (r *Result) addCount(k Kind, n int) {
	if n <= 0 {
		return
	}
	if r.Anomalies == nil {
		r.Anomalies = make(map[Kind]Anomalies)
	}
	a := r.Anomalies[k]
	a.Count += n
	r.Anomalies[k] = a
}

// wants says whether an anomaly of kind k would keep its example.
func (r *Result) wants(k Kind) bool { return len(r.Anomalies[k].Examples) < MaxExamples }

// Count is the number of anomalies of kind k.
func (r Result) Count(k Kind) int { return r.Anomalies[k].Count }

// Checker analyses a history.
type Checker interface {
	Name() string
	Check(ctx context.Context, h []history.Op) Result
}

// Safe runs c and turns a panic into a result with Error set, so that one
// broken checker never hides the others' findings.
func Safe(ctx context.Context, c Checker, h []history.Op) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{
				Checker: c.Name(),
				Error:   fmt.Sprintf("checker %s panicked: %v\n%s", c.Name(), p, debug.Stack()),
			}
		}
	}()
	res = c.Check(ctx, h)
	res.Checker = c.Name()
	if err := ctx.Err(); err != nil && res.Error == "" {
		res.Error = fmt.Sprintf("checker %s ran out of time: %v", c.Name(), err)
	}
	return res
}

// Compose runs every checker safely and returns their results in order.
func Compose(ctx context.Context, h []history.Op, cs ...Checker) []Result {
	out := make([]Result, 0, len(cs))
	for _, c := range cs {
		out = append(out, Safe(ctx, c, h))
	}
	return out
}

// Allowed says whether n anomalies of kind k are tolerated; nil tolerates none.
type Allowed func(k Kind, n int) bool

// Summary is the merged outcome of all checkers.
type Summary struct {
	Verdict Verdict      `json:"verdict"`
	Reason  string       `json:"reason,omitempty"`
	Counts  map[Kind]int `json:"counts"`
	// Failing lists, in Kinds order, the kinds whose counts broke their
	// allowance: what an expectations table should mark as failed.
	Failing []Kind `json:"failing,omitempty"`
}

// Judge sets each result's verdict and reason and merges them. A kind whose
// count is not allowed makes a result invalid when it is proof of a broken
// guarantee, unknown otherwise (unseen); a checker that failed is unknown.
// Counted kinds (recovered) never count against a result. A child kind
// (lost-middle) is tolerated when its parent (lost) is allowed; a parent is
// tolerated when each of its children present is allowed.
func Judge(results []Result, allowed Allowed) Summary {
	s := Summary{Verdict: Valid, Counts: make(map[Kind]int)}
	for _, info := range Kinds {
		s.Counts[info.Kind] = 0
	}
	failing := map[Kind]bool{}
	var reasons []string
	for i := range results {
		r := &results[i]
		r.Verdict, r.Reason = Valid, ""
		var why []string
		if r.Error != "" {
			r.Verdict = Unknown
			why = append(why, firstLine(r.Error))
		}
		bad := map[Kind]bool{}
		for _, info := range Kinds {
			n := r.Anomalies[info.Kind].Count
			s.Counts[info.Kind] += n
			if n == 0 || info.Counted || tolerated(*r, info, n, allowed) {
				continue
			}
			bad[info.Kind] = true
			failing[info.Kind] = true
			v := Invalid
			if !info.Proof {
				v = Unknown
			}
			r.Verdict = Merge(r.Verdict, v)
		}
		for _, info := range Kinds {
			if !bad[info.Kind] || bad[info.Parent] {
				continue // a failing parent names its children
			}
			text := fmt.Sprintf("%d %s", r.Count(info.Kind), info.Kind)
			var parts []string
			for _, c := range children(info.Kind) {
				if n := r.Count(c); n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, c))
				}
			}
			if len(parts) > 0 {
				text += " (" + strings.Join(parts, ", ") + ")"
			}
			why = append(why, text)
		}
		r.Reason = strings.Join(why, ", ")
		s.Verdict = Merge(s.Verdict, r.Verdict)
		if r.Reason != "" {
			reasons = append(reasons, r.Checker+": "+r.Reason)
		}
	}
	for _, info := range Kinds {
		if failing[info.Kind] {
			s.Failing = append(s.Failing, info.Kind)
		}
	}
	s.Reason = strings.Join(reasons, "; ")
	return s
}

// tolerated says whether n anomalies of a kind are within what allowed
// permits, counting the parent's allowance for a child and the children's
// allowances for a parent.
func tolerated(r Result, info KindInfo, n int, allowed Allowed) bool {
	if allowed == nil {
		return false
	}
	if allowed(info.Kind, n) {
		return true
	}
	if info.Parent != "" {
		return allowed(info.Parent, r.Count(info.Parent))
	}
	kids := children(info.Kind)
	if len(kids) == 0 {
		return false
	}
	sum := 0
	for _, c := range kids {
		nc := r.Count(c)
		sum += nc
		if nc > 0 && !allowed(c, nc) {
			return false
		}
	}
	// Only a parent fully split into allowed children is tolerated.
	return sum == n
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
