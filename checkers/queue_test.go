package checkers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// TestHistories walks testdata/histories: NAME-ok.jsonl must be valid with no
// anomaly; NAME-bad.jsonl must show anomalies of the kind NAME and no other.
func TestHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(base, func(t *testing.T) {
			h, info, err := history.ReadFile(file)
			require.NoError(t, err)
			require.False(t, info.Torn)
			results := Compose(context.Background(), h, Queue{})
			sum := Judge(results, nil)
			name, bad := strings.CutSuffix(base, "-bad")
			if !bad {
				assert.Equal(t, Valid, sum.Verdict, sum.Reason)
				for k, n := range sum.Counts {
					assert.Zerof(t, n, "kind %s", k)
				}
				return
			}
			kind := Kind(name)
			info2, known := KindInfoOf(kind)
			require.Truef(t, known, "file %s names no anomaly kind", file)
			assert.Positivef(t, sum.Counts[kind], "expected %s anomalies", kind)
			want := Invalid
			if !info2.Proof {
				want = Unknown
			}
			assert.Equal(t, want, sum.Verdict, sum.Reason)
			for k, n := range sum.Counts {
				if k != kind {
					assert.Zerof(t, n, "unexpected %s anomalies", k)
				}
			}
		})
	}
}

func TestLostNamesValueAndProducer(t *testing.T) {
	h, _, err := history.ReadFile("../testdata/histories/lost-bad.jsonl")
	require.NoError(t, err)
	res := Queue{}.Check(context.Background(), h)
	lost := res.Anomalies[Lost]
	require.Equal(t, 1, lost.Count)
	ex := lost.Examples[0]
	assert.Equal(t, "1-1", ex.Value)
	require.NotNil(t, ex.Producer)
	assert.Equal(t, 1, *ex.Producer)
	assert.Equal(t, int64(2), ex.Offset)
	assert.Equal(t, []int64{1, 3}, ex.Ops)
	assert.Contains(t, ex.Message, `"1-1" sent by process 1`)
}

func TestRecoveredIsCountedNotAnomaly(t *testing.T) {
	h, _, err := history.ReadFile("../testdata/histories/recovered-ok.jsonl")
	require.NoError(t, err)
	res := Queue{}.Check(context.Background(), h)
	assert.Equal(t, int64(1), res.Stats["recovered"])
	assert.Empty(t, res.Anomalies)
}

func TestJudgeAllowances(t *testing.T) {
	h, _, err := history.ReadFile("../testdata/histories/duplicate-bad.jsonl")
	require.NoError(t, err)
	results := Compose(context.Background(), h, Queue{})
	assert.Equal(t, Invalid, Judge(results, nil).Verdict)
	allowDup := func(k Kind, n int) bool { return k == Duplicate }
	sum := Judge(results, allowDup)
	assert.Equal(t, Valid, sum.Verdict)
	assert.Equal(t, 1, sum.Counts[Duplicate], "an allowed anomaly is still counted")
}

type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Check(context.Context, []history.Op) Result {
	var m map[string]int
	m["boom"]++ // nil map write
	return Result{}
}

func TestPanickingCheckerIsUnknownAndOthersStillRun(t *testing.T) {
	h, _, err := history.ReadFile("../testdata/histories/lost-bad.jsonl")
	require.NoError(t, err)
	results := Compose(context.Background(), h, panicky{}, Queue{})
	sum := Judge(results, nil)
	assert.Equal(t, Unknown, results[0].Verdict)
	assert.Contains(t, results[0].Error, "panicked")
	assert.Equal(t, Invalid, sum.Verdict, "the queue checker's finding survives")
	assert.Equal(t, 1, sum.Counts[Lost])
}
