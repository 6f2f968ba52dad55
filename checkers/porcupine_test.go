package checkers

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// TestPorcupineAgreesOnTestdata runs porcupine on the small histories of
// testdata: it must find a stream not linearizable exactly where the
// witness checker does.
func TestPorcupineAgreesOnTestdata(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.jsonl")
	require.NoError(t, err)
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "recorded-") {
			continue // too large for porcupine; see TestPorcupineBounds
		}
		h, _, err := history.ReadFile(file)
		require.NoError(t, err)
		p := check(Porcupine{}, h)
		w := check(Linearizable{}, h)
		require.Empty(t, p.Error, file)
		assert.Equal(t, w.Count(Nonlinearizable) > 0, p.Count(Nonlinearizable) > 0, "%s: witness %v", file, w.Anomalies)
	}
}

// hard is a history porcupine needs exponential time and memory for: n
// concurrent sends of unknown outcome, and a read no order explains.
func hard(n int) []history.Op {
	b := new(builder)
	for i := range n {
		b.at(1).send(i, fmt.Sprintf("0-%d", i+1))
	}
	for i := range n {
		b.at(2).sendInfo(i, fmt.Sprintf("0-%d", i+1))
	}
	return b.at(10).read(n+1, rd(int64(n+1), "0-1")).h
}

// TestPorcupineBounds checks that porcupine never hangs or exhausts
// memory: each bound turns into an unknown result that says which.
func TestPorcupineBounds(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		c    Porcupine
		h    []history.Op
		want string
	}{
		{name: "deadline", ctx: context.Background(), c: Porcupine{Timeout: 50 * time.Millisecond, MaxHeap: 8 << 30},
			h: hard(40), want: "deadline exceeded"},
		{name: "heap bound", ctx: context.Background(), c: Porcupine{Timeout: time.Hour, MaxHeap: 1},
			h: hard(40), want: "heap bound exceeded"},
		{name: "input bound", ctx: context.Background(), c: Porcupine{MaxOps: 10},
			h: hard(40), want: "over the bound of 10"},
		{name: "canceled", ctx: canceled, c: Porcupine{}, h: hard(40), want: "no time left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Safe(c.ctx, c.c, c.h)
			assert.Contains(t, res.Error, c.want)
			assert.Zero(t, res.Count(Nonlinearizable), "an undecided stream is not reported as broken")
			assert.Equal(t, Unknown, Judge([]Result{res}, nil).Verdict)
		})
	}
}

func TestPorcupineFindsWhatTheWitnessFinds(t *testing.T) {
	h := new(builder).sent(0, "0-1", 2).sent(1, "1-1", 1).h
	res := check(Porcupine{}, h)
	require.Empty(t, res.Error)
	assert.Equal(t, 1, res.Count(Nonlinearizable))
	assert.Equal(t, "porcupine found no linearization of stream s (2 ops) on a dense log from offset 1",
		res.Anomalies[Nonlinearizable].Examples[0].Message)
}

func TestVisualizeStream(t *testing.T) {
	bad, _, err := history.ReadFile("../testdata/histories/nonlinearizable-bad.jsonl")
	require.NoError(t, err)
	ok, _, err := history.ReadFile("../testdata/histories/lost-ok.jsonl")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var buf bytes.Buffer
	require.NoError(t, VisualizeStream(ctx, bad, "s", LogModel{}, &buf))
	html := buf.String()
	assert.Contains(t, html, "<html")
	assert.Contains(t, html, "began only at", "the witness's explanation is annotated")
	assert.Contains(t, html, "send(1-1) -\\u003e 2", "operations are described")

	buf.Reset()
	require.NoError(t, VisualizeStream(ctx, ok, "s", LogModel{}, &buf))
	assert.Contains(t, buf.String(), "<html")

	assert.ErrorContains(t, VisualizeStream(ctx, ok, "nope", LogModel{}, &buf), "no such stream")
	h := synthetic(20_000, 1, 4, 3)
	assert.ErrorContains(t, VisualizeStream(ctx, h, "stream-0", LogModel{}, &buf), "too many to draw")
}
