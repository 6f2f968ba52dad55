package checkers

import (
	"fmt"
	"slices"
)

// producerKey names who produced a value and where it sits in that
// producer's sequence: for "W-N" values the worker W and counter N (a worker
// keeps its counter across process changes); for other values the sending
// process and the position of the send in the history.
type producerKey struct {
	producer int64
	rank     int64
}

func producerOf(value string, v *qvalue) producerKey {
	if k, ok := valueKey(value); ok {
		return producerKey{producer: int64(k >> 32), rank: int64(k & 0xffffffff)}
	}
	return producerKey{producer: -2 - int64(v.proc), rank: int64(v.invPos)}
}

// producerBounds keeps, per producer, the first and last of its sends that
// some read returned: the lines between lost-prefix, -middle and -postfix.
type producerBounds struct {
	dense  []bound // workers 0..len-1
	sparse map[int64]*bound
}

type bound struct {
	lo, hi int64
	set    bool
}

func (b *producerBounds) get(p int64, create bool) *bound {
	if p >= 0 && p < maxDenseWorker {
		if int(p) >= len(b.dense) {
			if !create {
				return nil
			}
			b.dense = append(b.dense, make([]bound, int(p)+1-len(b.dense))...)
		}
		return &b.dense[p]
	}
	if r, ok := b.sparse[p]; ok {
		return r
	}
	if !create {
		return nil
	}
	if b.sparse == nil {
		b.sparse = map[int64]*bound{}
	}
	r := &bound{}
	b.sparse[p] = r
	return r
}

func (b *producerBounds) note(k producerKey) {
	r := b.get(k.producer, true)
	if !r.set {
		r.lo, r.hi, r.set = k.rank, k.rank, true
		return
	}
	r.lo, r.hi = min(r.lo, k.rank), max(r.hi, k.rank)
}

// lostKind splits a lost value by where it sits among its producer's
// sends that were read, as Jepsen's NATS checker does: before the first is
// a prefix, after the last (or with none read) a postfix, else the middle.
func (b *producerBounds) lostKind(k producerKey) Kind {
	r := b.get(k.producer, false)
	switch {
	case r == nil || !r.set || k.rank > r.hi:
		return LostPostfix
	case k.rank < r.lo:
		return LostPrefix
	default:
		return LostMiddle
	}
}

// reportValues walks the values of st in order of first appearance and
// reports what each one's send and reads add up to.
func (q *queueScan) reportValues(res *Result, st *qstream, c *counts) {
	nodes := make([]int, 0, len(st.nodeDone))
	for n := range st.nodeDone {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for id := range st.vals.len() {
		v := st.vals.at(id)
		if v.read {
			c.distinctReads++
		}
		if v.state != notSent {
			c.sends++
		}
		switch v.state {
		case notSent:
			if v.read {
				res.addWith(Unexpected, func() Example {
					ex := q.example(st, id)
					ex.Ops = q.ops(v.readPos)
					ex.Offset = v.off
					ex.Message = fmt.Sprintf("value %q read at offset %d (op #%d) was never sent", ex.Value, v.off, q.idx(v.readPos))
					return ex
				})
			}
		case sendOK:
			c.acked++
			if !v.read {
				q.reportLost(res, st, id, v)
			}
		case sendFail:
			c.failed++
			if v.read {
				res.addWith(AbortedRead, func() Example {
					ex := q.example(st, id)
					ex.Ops = q.ops(v.invPos, v.donePos, v.readPos)
					ex.Offset = v.off
					ex.Message = fmt.Sprintf("value %q, whose send by %s failed (op #%d: %s), was read at offset %d (op #%d)",
						ex.Value, sender(ex.Value, v.proc), q.idx(v.donePos), q.h[v.donePos].Error, v.off, q.idx(v.readPos))
					return ex
				})
			}
		case sendInfo, sendPending:
			c.indeterminate++
			if v.read {
				c.recovered++
				res.addWith(Recovered, func() Example {
					ex := q.example(st, id)
					ex.Ops = q.ops(v.invPos, v.donePos, v.readPos)
					ex.Offset = v.off
					ex.Message = fmt.Sprintf("value %q, whose send by %s had an unknown outcome, was read at offset %d (op #%d)",
						ex.Value, sender(ex.Value, v.proc), v.off, q.idx(v.readPos))
					return ex
				})
			}
		}
		if len(nodes) > 0 && v.read && (v.state == sendOK || st.valNodes[id] != 0) {
			q.reportLostOnNode(res, st, id, v, nodes)
		}
	}
}

// reportLost reports an acknowledged value that no read returned: lost
// when a drain reached the end of the stream, unseen otherwise.
func (q *queueScan) reportLost(res *Result, st *qstream, id int32, v *qvalue) {
	kind := Unseen
	if st.drain.ok {
		kind = st.bounds.lostKind(producerOf(q.name(st, id), v))
	}
	if !res.wants(kind) && (kind == Unseen || !res.wants(Lost)) {
		res.addWith(kind, nil)
		if kind != Unseen {
			res.addWith(Lost, nil)
		}
		return
	}
	ex := q.example(st, id)
	ex.Ops = q.ops(v.invPos, v.donePos)
	who := fmt.Sprintf("value %q sent by %s, acknowledged at offset %d (op #%d)", ex.Value, sender(ex.Value, v.proc), v.ackOff, q.idx(v.donePos))
	if ex.Node != "" {
		who += " by " + ex.Node
	}
	if !st.drain.ok {
		if st.drain.cut {
			ex.Message = who + fmt.Sprintf(", was not read before the drain was cut short (op #%d)", q.idx(st.drain.pos))
		} else {
			ex.Message = who + ", was not read, and the history holds no drain of the stream"
		}
		res.Add(Unseen, ex)
		return
	}
	ex.Message = who + fmt.Sprintf(", was never read; the drain (op #%d) reached the end of the stream (%s)",
		q.idx(st.drain.pos), kind)
	res.Add(Lost, ex)
	res.Add(kind, ex)
}
