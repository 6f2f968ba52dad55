package checkers

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// recorded is a clean history from a real run, indexed for the mutations.
type recorded struct {
	h       []history.Op
	drainer int
	drains  []int          // positions of the drain's ok polls
	polls   []int          // positions of the consumers' ok polls with reads
	acked   []int          // positions of ok sends
	ackAt   map[string]int // value -> position of its ok send
	invAt   map[string]int // value -> position of its send invoke
	readers map[string][]int
	maxOff  int64
}

func index(h []history.Op) *recorded {
	r := &recorded{h: h, drainer: -1, ackAt: map[string]int{}, invAt: map[string]int{}, readers: map[string][]int{}}
	for _, op := range h {
		if op.F == history.Drain {
			r.drainer = op.Process
		}
	}
	for i, op := range h {
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			r.invAt[op.Value] = i
		case op.F == history.Send && op.Type == history.OK:
			r.acked = append(r.acked, i)
			r.ackAt[op.Value] = i
			r.maxOff = max(r.maxOff, op.Offset)
		case op.F == history.Poll && op.Type == history.OK && len(op.Reads) > 0:
			if op.Process == r.drainer {
				r.drains = append(r.drains, i)
			} else {
				r.polls = append(r.polls, i)
			}
			for _, rd := range op.Reads {
				r.readers[rd.Value] = append(r.readers[rd.Value], i)
				r.maxOff = max(r.maxOff, rd.Offset)
			}
		}
	}
	return r
}

// clone copies the history deeply enough for a mutation to edit reads.
func (r *recorded) clone() []history.Op {
	h := slices.Clone(r.h)
	for i := range h {
		h[i].Reads = slices.Clone(h[i].Reads)
	}
	return h
}

// readValue is an acknowledged value that both a consumer and the drain
// read, picked at random.
func (r *recorded) readValue(rng *rand.Rand, byConsumer bool) string {
	for {
		v := r.h[r.acked[rng.IntN(len(r.acked))]].Value
		inDrain, inConsumer := false, false
		for _, p := range r.readers[v] {
			if r.h[p].Process == r.drainer {
				inDrain = true
			} else {
				inConsumer = true
			}
		}
		if inDrain && (inConsumer || !byConsumer) {
			return v
		}
	}
}

func dropReads(op *history.Op, keep func(history.Read) bool) {
	op.Reads = slices.DeleteFunc(op.Reads, func(rd history.Read) bool { return !keep(rd) })
}

// mutation breaks a clean history in one way, at a place picked by rng.
type mutation struct {
	name string
	kind Kind
	// exact is the number of anomalies of kind the mutation must give, 0
	// for at least one.
	exact int
	// also lists the kinds that may come with it.
	also  []Kind
	apply func(rng *rand.Rand, r *recorded) []history.Op
}

var mutations = []mutation{
	{name: "drop every read of a value", kind: Lost, exact: 1,
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, false)
			for _, p := range r.readers[v] {
				dropReads(&h[p], func(rd history.Read) bool { return rd.Value != v })
			}
			return h
		}},
	{name: "drop a drain read", kind: PollSkip, exact: 1,
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, true)
			for _, p := range r.readers[v] {
				if h[p].Process == r.drainer {
					dropReads(&h[p], func(rd history.Read) bool { return rd.Value != v })
				}
			}
			return h
		}},
	{name: "duplicate a value", kind: Duplicate, exact: 1, also: []Kind{Nonlinearizable},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, false)
			last := &h[r.drains[len(r.drains)-1]]
			last.Reads = append(last.Reads, history.Read{Offset: r.maxOff + 1, Value: v})
			return h
		}},
	{name: "swap two offsets", kind: InconsistentOffset, exact: 2, also: []Kind{Duplicate, Nonlinearizable, NonmonotonicSend},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h := r.clone()
			a, b := r.acked[rng.IntN(len(r.acked))], r.acked[rng.IntN(len(r.acked))]
			for h[a].Offset == h[b].Offset {
				b = r.acked[rng.IntN(len(r.acked))]
			}
			h[a].Offset, h[b].Offset = h[b].Offset, h[a].Offset
			return h
		}},
	{name: "forge a value", kind: Unexpected, exact: 1, also: []Kind{Nonlinearizable},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h := r.clone()
			p := &h[r.polls[rng.IntN(len(r.polls))]]
			p.Reads = append(p.Reads, history.Read{Offset: r.maxOff + 1, Value: fmt.Sprintf("forged-%d", rng.IntN(1000))})
			return h
		}},
	{name: "reorder two sends", kind: NonmonotonicSend, also: []Kind{Nonlinearizable},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h := r.clone()
			for {
				a := r.acked[rng.IntN(len(r.acked))]
				b := r.acked[rng.IntN(len(r.acked))]
				va, vb := h[a].Value, h[b].Value
				if h[a].Time >= r.h[r.invAt[vb]].Time || h[a].Offset >= h[b].Offset {
					continue // a must be acknowledged before b begins
				}
				// b takes a's place in the log and a takes b's.
				h[a].Offset, h[b].Offset = h[b].Offset, h[a].Offset
				for i := range h {
					for j, rd := range h[i].Reads {
						switch rd.Value {
						case va:
							h[i].Reads[j].Value = vb
						case vb:
							h[i].Reads[j].Value = va
						}
					}
				}
				return h
			}
		}},
	{name: "swap two drain reads", kind: NonmonotonicPoll, exact: 1,
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h := r.clone()
			for {
				p := &h[r.drains[rng.IntN(len(r.drains))]]
				if len(p.Reads) < 2 {
					continue
				}
				i := rng.IntN(len(p.Reads) - 1)
				p.Reads[i], p.Reads[i+1] = p.Reads[i+1], p.Reads[i]
				return h
			}
		}},
	{name: "fail a send that was read", kind: AbortedRead, exact: 1, also: []Kind{Nonlinearizable},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, false)
			op := &h[r.ackAt[v]]
			op.Type, op.Offset, op.Error = history.Fail, history.NoOffset, "forged failure"
			return h
		}},
	{name: "move a send after a read of it", kind: Nonlinearizable, also: []Kind{NonmonotonicSend},
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, true)
			first := r.readers[v][0]
			h[r.invAt[v]].Time = r.h[first].Time + time.Millisecond
			h[r.ackAt[v]].Time = r.h[first].Time + 2*time.Millisecond
			return h
		}},
	{name: "cut the drain short and lose a value", kind: Unseen, exact: 1,
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h, v := r.clone(), r.readValue(rng, false)
			for _, p := range r.readers[v] {
				dropReads(&h[p], func(rd history.Read) bool { return rd.Value != v })
			}
			for i := range h {
				if h[i].F == history.Drain && h[i].Type == history.OK {
					h[i].Type, h[i].Error = history.Info, "drain cut short"
				}
			}
			return h
		}},
	{name: "start the faults before the traffic", kind: Unexercised, exact: 1,
		apply: func(_ *rand.Rand, r *recorded) []history.Op {
			h := r.clone()
			for i := range h {
				if h[i].F == history.FaultStart {
					h[i].Time = 0
					break
				}
			}
			return h
		}},
	{name: "drop a value from one node", kind: LostOnNode, exact: 1,
		apply: func(rng *rand.Rand, r *recorded) []history.Op {
			h := withNodeReads(r.clone())
			n := fmt.Sprintf("n%d", 1+rng.IntN(3))
			v := r.readValue(rng, false)
			for i := range h {
				if h[i].F == ReadNode && h[i].Node == n {
					dropReads(&h[i], func(rd history.Read) bool { return rd.Value != v })
				}
			}
			return h
		}},
}

// withNodeReads adds per-node readers on n1-n3 after the drain, each
// reading what the drain read, and each reaching the end.
func withNodeReads(h []history.Op) []history.Op {
	r := index(h)
	end := h[len(h)-1].Time
	var last int64
	for _, op := range h {
		if op.F == history.Drain && op.Type == history.OK {
			last = op.Offset
		}
	}
	add := func(op history.Op) {
		end += time.Microsecond
		op.Index, op.Time, op.Stream = int64(len(h)), end, h[r.drains[0]].Stream
		h = append(h, op)
	}
	for i, node := range []string{"n1", "n2", "n3"} {
		p := 1000 + i
		for _, d := range r.drains {
			add(history.Op{Process: p, Type: history.Invoke, F: ReadNode, Offset: noOffset, Node: node})
			add(history.Op{Process: p, Type: history.OK, F: ReadNode, Offset: noOffset, Node: node, Reads: slices.Clone(h[d].Reads)})
		}
		add(history.Op{Process: p, Type: history.Invoke, F: DrainNode, Offset: noOffset, Node: node})
		add(history.Op{Process: p, Type: history.OK, F: DrainNode, Offset: last, Node: node})
	}
	return h
}

func seedOf(parts ...string) uint64 {
	f := fnv.New64a()
	for _, p := range parts {
		f.Write([]byte(p))
	}
	return f.Sum64()
}

// TestMutationsAreDetected takes the clean recorded histories, checks
// that they are clean (with and without per-node readers added), then
// breaks them in each way at random places: every mutant must show its
// kind, and no kind the mutation does not explain.
func TestMutationsAreDetected(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/recorded-*-ok.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	trials := 12
	if testing.Short() {
		trials = 3
	}
	for _, file := range files {
		h, _, err := history.ReadFile(file)
		require.NoError(t, err)
		r := index(h)
		require.NotEmpty(t, r.drains, "%s has no drain", file)
		require.NotEmpty(t, r.polls, "%s has no consumer reads", file)
		base := filepath.Base(file)
		t.Run(base+"/clean", func(t *testing.T) {
			for _, h := range [][]history.Op{h, withNodeReads(r.clone())} {
				sum := Judge(Compose(context.Background(), h, Default(Options{})...), nil)
				require.Equal(t, Valid, sum.Verdict, sum.Reason)
			}
		})
		for _, m := range mutations {
			t.Run(base+"/"+m.name, func(t *testing.T) {
				for trial := range trials {
					rng := rand.New(rand.NewPCG(seedOf(base, m.name), uint64(trial)))
					mutant := m.apply(rng, r)
					results := Compose(context.Background(), mutant, Default(Options{})...)
					got := countsOf(results...)
					assertUniqueOps(t, results...)
					if m.exact > 0 {
						require.Equal(t, m.exact, got[m.kind], "trial %d: %s anomalies; all: %v", trial, m.kind, got)
					} else {
						require.Positive(t, got[m.kind], "trial %d: no %s anomaly; all: %v", trial, m.kind, got)
					}
					for k := range got {
						if !related(m.kind, k) && !slices.Contains(m.also, k) {
							t.Fatalf("trial %d: %s gave %d %s anomalies it does not explain: %v", trial, m.name, got[k], k, got)
						}
					}
				}
			})
		}
	}
}
