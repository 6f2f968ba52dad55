package checkers

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// implied lists the kinds that come with a kind: a log with a duplicate
// is not linearizable either. A bad history may show these besides its own
// kind, and the kind's parent or children; anything else is a failure.
var implied = map[Kind][]Kind{
	Duplicate:          {Nonlinearizable},
	InconsistentOffset: {Nonlinearizable, Duplicate},
	Unexpected:         {Nonlinearizable},
	AbortedRead:        {Nonlinearizable},
	NonmonotonicSend:   {Nonlinearizable},
}

// related says whether kind k may show up in a history made to show want.
func related(want, k Kind) bool {
	info, _ := KindInfoOf(k)
	wantInfo, _ := KindInfoOf(want)
	return k == want || info.Counted || info.Parent == want || wantInfo.Parent == k ||
		slices.Contains(implied[want], k)
}

// TestHistories walks testdata/histories with the standard checkers:
// NAME-ok.jsonl must be valid with no anomaly (recorded-*-ok.jsonl are
// real runs); NAME-bad.jsonl must show anomalies of kind NAME, with the
// verdict that kind gives, and no unrelated kind.
func TestHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	badKinds := map[Kind]bool{}
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(base, func(t *testing.T) {
			h, info, err := history.ReadFile(file)
			require.NoError(t, err)
			require.False(t, info.Torn)
			results := Compose(context.Background(), h, Default(Options{})...)
			sum := Judge(results, nil)
			for _, r := range results {
				require.Empty(t, r.Error, r.Checker)
			}
			name, bad := strings.CutSuffix(base, "-bad")
			if !bad {
				require.True(t, strings.HasSuffix(base, "-ok"), "file %s must end in -ok or -bad", file)
				assert.Equal(t, Valid, sum.Verdict, sum.Reason)
				for k, n := range sum.Counts {
					if info, _ := KindInfoOf(k); !info.Counted {
						assert.Zerof(t, n, "kind %s", k)
					}
				}
				return
			}
			kind := Kind(name)
			kindInfo, known := KindInfoOf(kind)
			require.Truef(t, known, "file %s names no anomaly kind", file)
			badKinds[kind] = true
			assert.Positivef(t, sum.Counts[kind], "expected %s anomalies", kind)
			want := Invalid
			if !kindInfo.Proof {
				want = Unknown
			}
			assert.Equal(t, want, sum.Verdict, sum.Reason)
			for k, n := range sum.Counts {
				if n > 0 && !related(kind, k) {
					t.Errorf("unexpected %d %s anomalies: %v", n, k, sum.Reason)
				}
			}
		})
	}
	// Every kind that can be proven has a bad history.
	for _, info := range Kinds {
		if !info.Counted {
			assert.Truef(t, badKinds[info.Kind], "no %s-bad.jsonl in testdata/histories", info.Kind)
		}
	}
}

// TestPartialHistories cuts a recorded history where a crashed run would
// have stopped writing it: the checkers must finish, prove nothing wrong
// and, before the drain completed, leave the run unknown.
func TestPartialHistories(t *testing.T) {
	h, _, err := history.ReadFile("../testdata/histories/recorded-nats-short-ok.jsonl")
	require.NoError(t, err)
	drainAt := slices.IndexFunc(h, func(op history.Op) bool { return op.F == history.Drain })
	require.Positive(t, drainAt)
	for _, frac := range []float64{0.1, 0.5, 0.9, 0.99} {
		n := int(frac * float64(len(h)))
		t.Run(fmt.Sprintf("first %d of %d ops", n, len(h)), func(t *testing.T) {
			results := Compose(context.Background(), h[:n], Default(Options{})...)
			sum := Judge(results, nil)
			for _, r := range results {
				require.Empty(t, r.Error, r.Checker)
			}
			require.Less(t, n, drainAt)
			assert.Equal(t, Unknown, sum.Verdict, sum.Reason)
			for _, k := range sum.Failing {
				info, _ := KindInfoOf(k)
				assert.False(t, info.Proof, "a cut history proves no %s", k)
			}
		})
	}
}
