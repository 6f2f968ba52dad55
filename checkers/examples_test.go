package checkers

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// assertUniqueOps checks that no example of results names an op twice: a
// report shows one row per op of an example.
func assertUniqueOps(t *testing.T, results ...Result) {
	t.Helper()
	for _, r := range results {
		for k, a := range r.Anomalies {
			for i, ex := range a.Examples {
				seen := map[int64]bool{}
				for _, op := range ex.Ops {
					if seen[op] {
						t.Errorf("%s: example %d of %s names op #%d twice: ops %v (%s)", r.Checker, i, k, op, ex.Ops, ex.Message)
					}
					seen[op] = true
				}
			}
		}
	}
}

// TestExampleOpsAreUnique runs every history of testdata/histories, and
// histories where one op shows a value twice, through every checker: an
// example names each op once. The drain's read that jumps over an offset
// (poll-skip) or goes back (nonmonotonic-poll) within one batch is both
// ends of the jump.
func TestExampleOpsAreUnique(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	histories := map[string][]history.Op{
		// One read returns two values at one offset, and one value at
		// two offsets.
		"one op, two values at an offset": three().send(1, "1-1").sendInfo(1, "1-1").send(1, "1-2").sendInfo(1, "1-2").
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "1-1"), rd(4, "1-2")).drain(9, 4).h,
		"one op, a value at two offsets": three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "0-3"), rd(5, "0-3")).drain(9, 5).h,
	}
	for _, file := range files {
		h, _, err := history.ReadFile(file)
		require.NoError(t, err)
		histories[strings.TrimSuffix(filepath.Base(file), ".jsonl")] = h
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range histories {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			// Porcupine would exhaust its bounds on the recorded runs.
			opts := Options{Porcupine: !strings.HasPrefix(name, "recorded-")}
			results := Compose(context.Background(), histories[name], Default(opts)...)
			for _, r := range results {
				require.Empty(t, r.Error, r.Checker)
			}
			assertUniqueOps(t, results...)
		})
	}
}

// TestProducerIsTheWorker: the producer of a value "W-N" is worker W, also
// when W sent it as a new process after an info (process W + k*workers);
// the message names the process. Other values' producer is the process.
func TestProducerIsTheWorker(t *testing.T) {
	// Five workers: worker 0's send of 0-1 ends in info, and it goes on
	// as process 5. 0-3 is lost between 0-2 and 0-4, which were read:
	// the place of a value is its counter, whichever process sent it.
	h := new(builder).send(0, "0-1").sendInfo(0, "0-1").sent(5, "0-2", 1).sent(5, "0-3", 2).
		send(5, "0-4").sendFailed(5, "0-4", "no responders").send(7, "x").ack(7, "x", 3, "n1").
		read(9, rd(1, "0-2"), rd(4, "0-4")).drain(9, 4).h
	results := Compose(context.Background(), h, Queue{}, Linearizable{})
	queue, lin := results[0], results[1]
	require.Empty(t, queue.Error)
	require.Empty(t, lin.Error)
	producers := func(r Result, k Kind) map[string]int {
		out := map[string]int{}
		for _, ex := range r.Anomalies[k].Examples {
			if assert.NotNil(t, ex.Producer, "%s example of %s", k, ex.Value) {
				out[ex.Value] = *ex.Producer
			}
		}
		return out
	}
	assert.Equal(t, map[string]int{"0-3": 0, "x": 7}, producers(queue, Lost))
	assert.Equal(t, map[string]int{"0-4": 0}, producers(queue, AbortedRead))
	assert.Equal(t, map[string]int{"0-4": 0}, producers(lin, Nonlinearizable))
	assert.Equal(t, `value "0-3" sent by process 5 (worker 0), acknowledged at offset 2 (op #5) by n1, was never read; the drain (op #13) reached the end of the stream (lost-middle)`,
		queue.Anomalies[Lost].Examples[0].Message)
	assert.Equal(t, `value "x" sent by process 7, acknowledged at offset 3 (op #9) by n1, was never read; the drain (op #13) reached the end of the stream (lost-postfix)`,
		queue.Anomalies[Lost].Examples[1].Message)
	assert.Equal(t, `value "0-4", whose send by process 5 (worker 0) failed (op #7: no responders), was read at offset 4 (op #11)`,
		queue.Anomalies[AbortedRead].Examples[0].Message)
}

func TestProducerName(t *testing.T) {
	p := func(n int) *int { return &n }
	assert.Equal(t, "", Example{Value: "3-494"}.ProducerName())
	assert.Equal(t, "worker 3", Example{Value: "3-494", Producer: p(3)}.ProducerName())
	assert.Equal(t, "process 10", Example{Value: "3-494", Producer: p(10)}.ProducerName(),
		"a results.json that recorded the sending process")
	assert.Equal(t, "process 7", Example{Value: "x", Producer: p(7)}.ProducerName())
}
