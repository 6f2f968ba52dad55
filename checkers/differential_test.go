package checkers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// TestWitnessAgreesWithPorcupine is the differential test: on thousands of
// small random single-stream histories, linearizable ones and mutated ones,
// the witness checker and porcupine must give the same verdict on every
// one, for each log model.
func TestWitnessAgreesWithPorcupine(t *testing.T) {
	models := []LogModel{{}, {ZeroBased: true}, {Sparse: true}, {Sparse: true, ZeroBased: true}}
	const perModel = 2500
	for _, m := range models {
		t.Run(m.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, uint64(len(m.String()))))
			var legal, illegal int
			// Illegal histories whose only violations are of one kind:
			// proof that the subtle rules, not just value mix-ups, are
			// exercised.
			only := map[string]int{}
			for i := range perModel {
				h := randomLogHistory(rng, m, i%3 != 0)
				w := witnessViolations(t, h, m)
				phs := porcupineHistories(h, m)
				ok := true
				for _, ph := range phs {
					ok = ok && porcupine.CheckOperations(logModel(m, nil), ph.ops)
				}
				if ok != (len(w) == 0) {
					t.Fatalf("history %d: porcupine says linearizable=%v, the witness found %d violation(s) %v\n%s",
						i, ok, len(w), messages(w), dump(h))
				}
				if ok {
					legal++
				} else {
					illegal++
					if c := category(w); c != "" {
						only[c]++
					}
				}
			}
			// Both outcomes must be well represented, or the test proves little.
			require.Greater(t, legal, perModel/8, "linearizable histories")
			require.Greater(t, illegal, perModel/8, "non-linearizable histories")
			t.Logf("%d linearizable, %d not; not for one reason only: %v", legal, illegal, only)
			require.Positive(t, only["ack-order"], "an acknowledged send ordered after a later send")
			require.Positive(t, only["read-order"], "a read past a send that had not begun")
			if !m.Sparse {
				require.Positive(t, only["gap"], "an offset nothing could fill")
			}
		})
	}
}

func witnessViolations(t *testing.T, h []history.Op, m LogModel) []violation {
	t.Helper()
	s := newLinScan(h, m)
	require.NoError(t, s.scan(t.Context()))
	var out []violation
	for _, st := range s.streams.sorted() {
		out = append(out, s.check(st).list...)
	}
	return out
}

// category names the one kind of violation in vs, or "" for a mix.
func category(vs []violation) string {
	c := ""
	for _, v := range vs {
		var k string
		switch {
		case strings.Contains(v.msg, "before the send of"):
			k = "ack-order"
		case strings.Contains(v.msg, "must hold"):
			k = "read-order"
		case strings.Contains(v.msg, "hold no value"):
			k = "gap"
		default:
			k = "value"
		}
		if c != "" && c != k {
			return ""
		}
		c = k
	}
	return c
}

func messages(vs []violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.msg
	}
	return out
}

func dump(h []history.Op) string {
	var b strings.Builder
	for _, op := range h {
		b.WriteString(op.String())
		fmt.Fprintf(&b, " t=%d", op.Time)
		for _, r := range op.Reads {
			fmt.Fprintf(&b, " %d:%s", r.Offset, r.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// logEvent is one operation of a generated history before it is laid out
// as invoke and completion ops.
type logEvent struct {
	send      bool
	value     string
	call, ret int
	typ       history.Type // completion type; 0 for still pending
	offset    int64
	reads     []history.Read
}

// randomLogHistory builds a small history of one stream by simulating a
// correct log (every operation takes effect at a random point inside its
// interval), then, when mutate is set, breaks it in one or two random ways
// (which may or may not make it non-linearizable). Times are small
// integers so that intervals often touch, exercising the closed-interval
// rule.
func randomLogHistory(rng *rand.Rand, m LogModel, mutate bool) []history.Op {
	type point struct {
		at int
		ev int
	}
	var evs []logEvent
	nSends := 1 + rng.IntN(5)
	nReads := rng.IntN(4)
	for i := range nSends {
		c := rng.IntN(12)
		evs = append(evs, logEvent{send: true, value: fmt.Sprintf("%d-%d", i%3, i+1), call: c, ret: c + rng.IntN(6)})
	}
	for range nReads {
		c := rng.IntN(14)
		evs = append(evs, logEvent{call: c, ret: c + rng.IntN(5)})
	}
	// Linearization points, then outcomes.
	pts := make([]point, len(evs))
	for i, e := range evs {
		pts[i] = point{at: 2*e.call + rng.IntN(2*(e.ret-e.call)+1), ev: i}
	}
	slices.SortStableFunc(pts, func(a, b point) int { return a.at - b.at })
	var log []history.Read
	next := m.first()
	for _, p := range pts {
		e := &evs[p.ev]
		if e.send {
			switch r := rng.IntN(10); {
			case r < 6:
				e.typ = history.OK
			case r < 7:
				e.typ = history.Fail
				continue // never happened
			case r < 8:
				e.typ = history.Info
			default:
				e.typ = 0 // pending
			}
			if e.typ != history.OK && rng.IntN(2) == 0 {
				continue // an unknown outcome that did not happen
			}
			if m.Sparse {
				next += int64(rng.IntN(3))
			}
			e.offset = next
			log = append(log, history.Read{Offset: next, Value: e.value})
			next++
			continue
		}
		e.typ = history.OK
		if len(log) > 0 {
			lo := rng.IntN(len(log))
			hi := lo + rng.IntN(len(log)-lo) + 1
			for _, r := range log[lo:hi] {
				if rng.IntN(4) != 0 {
					e.reads = append(e.reads, r)
				}
			}
		}
	}
	if mutate {
		for range 1 + rng.IntN(2) {
			mutateLog(rng, evs)
		}
	}
	return layOut(evs)
}

// mutateLog breaks evs in one random way.
func mutateLog(rng *rand.Rand, evs []logEvent) {
	var sends, oks, reads []int
	for i, e := range evs {
		switch {
		case e.send && e.typ == history.OK:
			oks = append(oks, i)
			sends = append(sends, i)
		case e.send:
			sends = append(sends, i)
		case len(e.reads) > 0:
			reads = append(reads, i)
		}
	}
	switch rng.IntN(10) {
	case 0: // swap two acknowledged offsets
		if len(oks) >= 2 {
			a, b := oks[rng.IntN(len(oks))], oks[rng.IntN(len(oks))]
			evs[a].offset, evs[b].offset = evs[b].offset, evs[a].offset
		}
	case 1: // move an operation in time
		i := rng.IntN(len(evs))
		d := rng.IntN(9) - 4
		evs[i].call = max(0, evs[i].call+d)
		evs[i].ret = max(evs[i].call, evs[i].ret+d)
	case 2: // shorten an operation
		i := rng.IntN(len(evs))
		evs[i].ret = evs[i].call + rng.IntN(max(1, evs[i].ret-evs[i].call))
	case 3: // a read returns a different value or offset
		if len(reads) > 0 {
			r := &evs[reads[rng.IntN(len(reads))]]
			k := rng.IntN(len(r.reads))
			if rng.IntN(2) == 0 {
				r.reads[k].Offset += int64(rng.IntN(3) - 1)
			} else if len(sends) > 0 {
				r.reads[k].Value = evs[sends[rng.IntN(len(sends))]].value
			}
		}
	case 4: // a read sees a value never sent
		if len(reads) > 0 {
			r := &evs[reads[rng.IntN(len(reads))]]
			r.reads = append(r.reads, history.Read{Offset: r.reads[len(r.reads)-1].Offset + 1, Value: "9-99"})
		}
	case 5: // an outcome changes
		if len(sends) > 0 {
			e := &evs[sends[rng.IntN(len(sends))]]
			switch rng.IntN(3) {
			case 0:
				e.typ = history.Fail
			case 1:
				e.typ = history.Info
			default:
				e.typ, e.offset = history.OK, int64(rng.IntN(5))
			}
		}
	case 6: // a read drops a message, or reads one more
		if len(reads) > 0 {
			r := &evs[reads[rng.IntN(len(reads))]]
			if rng.IntN(2) == 0 {
				r.reads = slices.Delete(r.reads, 0, 1)
			} else if len(oks) > 0 {
				e := evs[oks[rng.IntN(len(oks))]]
				r.reads = append(r.reads, history.Read{Offset: e.offset, Value: e.value})
				slices.SortFunc(r.reads, func(a, b history.Read) int { return int(a.Offset - b.Offset) })
			}
		}
	case 7: // an acknowledged offset shifts
		if len(oks) > 0 {
			evs[oks[rng.IntN(len(oks))]].offset += int64(rng.IntN(3) - 1)
		}
	case 8: // a read happens earlier, maybe before a send it saw began
		if len(reads) > 0 && len(sends) > 0 {
			r := &evs[reads[rng.IntN(len(reads))]]
			s := evs[sends[rng.IntN(len(sends))]]
			d := r.ret - r.call
			r.ret = max(0, s.call-rng.IntN(2))
			r.call = max(0, r.ret-d)
		}
	case 9: // a send begins later, maybe after a later send returned
		if len(sends) > 0 {
			e := &evs[sends[rng.IntN(len(sends))]]
			d := 1 + rng.IntN(8)
			e.call += d
			e.ret = max(e.ret, e.call) + rng.IntN(2)
		}
	}
}

// layOut turns events into invoke and completion ops in time order, one
// process per operation.
func layOut(evs []logEvent) []history.Op {
	type at struct {
		t, kind, ev int // kind 0 invoke, 1 completion
	}
	var order []at
	for i, e := range evs {
		order = append(order, at{e.call, 0, i})
		if !(e.send && e.typ == 0) {
			order = append(order, at{e.ret, 1, i})
		}
	}
	slices.SortStableFunc(order, func(a, b at) int {
		if a.t != b.t {
			return a.t - b.t
		}
		return a.kind - b.kind
	})
	var h []history.Op
	for _, o := range order {
		e := evs[o.ev]
		op := history.Op{Index: int64(len(h)), Process: o.ev, Stream: "s", Offset: noOffset, Time: timeOf(o.t)}
		if e.send {
			op.F, op.Value = history.Send, e.value
		} else {
			op.F = history.Poll
		}
		if o.kind == 0 {
			op.Type = history.Invoke
		} else {
			op.Type = e.typ
			if e.send && e.typ == history.OK {
				op.Offset = e.offset
			}
			if !e.send {
				op.Reads = e.reads
			}
		}
		h = append(h, op)
	}
	return h
}
