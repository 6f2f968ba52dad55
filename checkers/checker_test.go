package checkers

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// withAnomalies builds a result holding n anomalies of each kind.
func withAnomalies(counts map[Kind]int) Result {
	r := Result{Checker: "test"}
	for k, n := range counts {
		for range n {
			r.Add(k, Example{Message: string(k)})
		}
	}
	return r
}

func TestJudge(t *testing.T) {
	lost := map[Kind]int{Lost: 3, LostMiddle: 2, LostPostfix: 1}
	allow := func(kinds ...Kind) Allowed {
		return func(k Kind, n int) bool {
			for _, a := range kinds {
				if a == k {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name    string
		counts  map[Kind]int
		allowed Allowed
		verdict Verdict
		reason  string
		failing []Kind
	}{
		{name: "nothing", counts: map[Kind]int{}, verdict: Valid},
		{name: "lost names its parts", counts: lost, verdict: Invalid,
			reason: "test: 3 lost (2 lost-middle, 1 lost-postfix)", failing: []Kind{Lost, LostMiddle, LostPostfix}},
		{name: "the parent's allowance covers the children", counts: lost, allowed: allow(Lost), verdict: Valid},
		{name: "the children's allowances cover the parent", counts: map[Kind]int{Lost: 1, LostPostfix: 1},
			allowed: allow(LostPostfix), verdict: Valid},
		{name: "one child not allowed", counts: lost, allowed: allow(LostPostfix), verdict: Invalid,
			reason: "test: 3 lost (2 lost-middle, 1 lost-postfix)", failing: []Kind{Lost, LostMiddle}},
		{name: "a parent without its split is judged alone", counts: map[Kind]int{Lost: 1},
			allowed: allow(LostPostfix), verdict: Invalid, reason: "test: 1 lost", failing: []Kind{Lost}},
		{name: "counted kinds never fail", counts: map[Kind]int{Recovered: 4}, verdict: Valid},
		{name: "no proof is unknown", counts: map[Kind]int{Unseen: 2}, verdict: Unknown,
			reason: "test: 2 unseen", failing: []Kind{Unseen}},
		{name: "invalid beats unknown", counts: map[Kind]int{Unseen: 2, Duplicate: 1}, verdict: Invalid,
			reason: "test: 2 unseen, 1 duplicate", failing: []Kind{Unseen, Duplicate}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			results := []Result{withAnomalies(c.counts)}
			s := Judge(results, c.allowed)
			assert.Equal(t, c.verdict, s.Verdict)
			assert.Equal(t, c.verdict, results[0].Verdict)
			assert.Equal(t, c.reason, s.Reason)
			assert.Equal(t, c.failing, s.Failing)
			for k, n := range c.counts {
				assert.Equal(t, n, s.Counts[k], "an allowed anomaly is still counted")
			}
			assert.Len(t, s.Counts, len(Kinds), "every kind has a count")
		})
	}
}

func TestKindsAreDefined(t *testing.T) {
	seen := map[Kind]bool{}
	for _, info := range Kinds {
		assert.False(t, seen[info.Kind], "kind %s listed twice", info.Kind)
		seen[info.Kind] = true
		assert.NotEmpty(t, info.Definition)
		if info.Parent != "" {
			parent, ok := KindInfoOf(info.Parent)
			require.True(t, ok, "parent of %s", info.Kind)
			assert.Equal(t, parent.Proof, info.Proof, "a child proves what its parent does")
		}
	}
	assert.Equal(t, []Kind{LostPrefix, LostMiddle, LostPostfix}, children(Lost))
	assert.NotContains(t, KindNames(), string(Recovered), "a counted kind is not an expectation")
	assert.Contains(t, KindNames(), string(Lost))
}

type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Check(context.Context, []history.Op) Result {
	var m map[string]int
	m["boom"]++ // nil map write
	return Result{}
}

func TestPanickingCheckerIsUnknownAndOthersStillRun(t *testing.T) {
	h := three().read(9, rd(1, "0-1"), rd(3, "0-3")).drain(9, 3).h
	results := Compose(context.Background(), h, panicky{}, Queue{})
	sum := Judge(results, nil)
	assert.Equal(t, Unknown, results[0].Verdict)
	assert.Contains(t, results[0].Error, "checker panicky panicked: assignment to entry in nil map")
	assert.Equal(t, Invalid, sum.Verdict, "the queue checker's finding survives")
	assert.Equal(t, 1, sum.Counts[Lost])
}

func TestCheckersStopWithTheirContext(t *testing.T) {
	h := three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).h
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range Default(Options{Porcupine: true}) {
		res := Safe(ctx, c, h)
		assert.NotEmpty(t, res.Error, c.Name())
		assert.Equal(t, Unknown, Judge([]Result{res}, nil).Verdict, c.Name())
	}
}

// TestDocsDefineEveryKind keeps docs/checkers.md in step with Kinds: every
// kind has a row with its definition, word for word.
func TestDocsDefineEveryKind(t *testing.T) {
	b, err := os.ReadFile("../docs/checkers.md")
	require.NoError(t, err)
	doc := string(b)
	for _, k := range Kinds {
		assert.Contains(t, doc, "| `"+string(k.Kind)+"` |", "no row for %s", k.Kind)
		assert.Contains(t, doc, k.Definition, "definition of %s", k.Kind)
	}
}
