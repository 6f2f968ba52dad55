package checkers

import (
	"fmt"
	"math"

	"github.com/riptidechaos/riptide/history"
)

// Ordered readers are the readers meant to see every offset of a log in
// order: the final drain (polls by a process that performs a drain op) and
// per-node readers (read-node ops). Consumers of a shared queue are not:
// each sees some increasing subsequence, and a redelivery after a missed
// ack, or a batch the server sent after the client gave up, legitimately
// goes back. Judging them would cry wolf, so nonmonotonic-poll and
// poll-skip apply to ordered readers only.

// readerKey names one ordered reader: a process reading one stream,
// through one node for a per-node reader.
type readerKey struct {
	process int
	stream  int32
	node    int // -1 for the drain, which reads the whole cluster
}

// reader follows one ordered reader through the history.
type reader struct {
	key readerKey
	// started is set after its first read; until then the reader is
	// anchored before the first offset, as it reads from the start.
	started bool
	// adrift is set by a re-subscribe (a failed or indeterminate read):
	// the next read may start anywhere and is not judged.
	adrift  bool
	last    int64
	lastPos int32
	seen    offsetSet
	jumps   []jump
}

// jump is a read past the next offset, a candidate poll-skip: only at the
// end of the history is it known which offsets in between hold values.
type jump struct {
	from, to     int64 // from is math.MinInt64 for a first read
	fromPos, pos int32
	// end marks the jump to the end a drain declared: to is one past it.
	end bool
}

// back is a nonmonotonic poll.
type back struct {
	key          readerKey
	from, to     int64
	fromPos, pos int32
}

// reader returns the ordered reader op belongs to (op at position pos is
// a read-node op, or a poll of a drain process).
func (q *queueScan) reader(op *history.Op, pos int32) *reader {
	key := readerKey{process: op.Process, node: -1}
	if op.F == ReadNode {
		key.node = q.nodes.id(op.Node)
	}
	st := q.stream(op.Stream)
	key.stream = st.id
	r := q.readers[key]
	if r == nil {
		// After a read with an unknown outcome, its worker goes on as a
		// new process, resuming where the old one was: a reader that
		// appears after one may not be starting at the beginning.
		r = &reader{key: key, adrift: st.firstInfo != 0 && st.firstInfo-1 < pos}
		q.readers[key] = r
		st.readers = append(st.readers, r)
	}
	return r
}

// replayDrains runs the drain processes' polls and drain ops, logged in
// history order during the scan, through their ordered readers.
func (q *queueScan) replayDrains() {
	for _, pos := range q.later {
		op := &q.h[pos]
		if !q.drainers[op.Process] {
			continue
		}
		if op.F == history.Drain {
			key := readerKey{process: op.Process, stream: q.stream(op.Stream).id, node: -1}
			if r := q.readers[key]; r != nil {
				r.finish(op.Offset, pos)
			}
			continue
		}
		r := q.reader(op, pos)
		if op.Type != history.OK {
			r.resubscribe()
			continue
		}
		st := q.stream(op.Stream)
		for _, rd := range op.Reads {
			r.read(st, rd.Offset, pos)
		}
	}
}

func (r *reader) resubscribe() {
	if r.started {
		r.adrift = true
	}
}

func (r *reader) read(st *qstream, o int64, pos int32) {
	r.seen.add(o)
	switch {
	case r.adrift:
		r.adrift = false
	case !r.started:
		r.jumps = append(r.jumps, jump{from: math.MinInt64, to: o, fromPos: -1, pos: pos})
	case o <= r.last:
		st.backs = append(st.backs, back{key: r.key, from: r.last, to: o, fromPos: r.lastPos, pos: pos})
	case o > r.last+1:
		r.jumps = append(r.jumps, jump{from: r.last, to: o, fromPos: r.lastPos, pos: pos})
	}
	r.started = true
	r.last, r.lastPos = o, pos
}

// finish is a drain's claim to have reached offset last: offsets it did
// not read up to there count as skipped.
func (r *reader) finish(last int64, pos int32) {
	switch {
	case r.adrift:
	case !r.started:
		r.jumps = append(r.jumps, jump{from: math.MinInt64, to: last + 1, fromPos: -1, pos: pos, end: true})
	case last > r.last:
		r.jumps = append(r.jumps, jump{from: r.last, to: last + 1, fromPos: r.lastPos, pos: pos, end: true})
	}
}

func (q *queueScan) readerName(k readerKey) string {
	if k.node < 0 {
		return fmt.Sprintf("drain process %d", k.process)
	}
	return fmt.Sprintf("process %d reading node %s", k.process, q.nodeName(k.node))
}

// reportReaders reports the ordered readers' backward reads and skips. An
// offset counts as skipped when other reads show it holds a value (through
// the same node, for a per-node reader) and this reader never read it: an
// offset known only from an acknowledgement is lost or unseen, not a skip.
func (q *queueScan) reportReaders(res *Result, st *qstream) {
	for _, b := range st.backs {
		ref := st.offs.get(b.to)
		ex := Example{Stream: st.name, Offset: b.to, Ops: q.ops(b.fromPos, b.pos), Node: q.nodeName(b.key.node)}
		if ref.val != 0 {
			ex.Value = q.name(st, ref.val-1)
		}
		ex.Message = fmt.Sprintf("%s read offset %d (op #%d) after offset %d (op #%d), with no re-subscribe in between",
			q.readerName(b.key), b.to, q.idx(b.pos), b.from, q.idx(b.fromPos))
		res.Add(NonmonotonicPoll, ex)
	}
	for _, r := range st.readers {
		var bit uint64
		if r.key.node >= 0 && r.key.node < 64 {
			bit = 1 << r.key.node
		}
		for _, j := range r.jumps {
			var (
				n     int
				first int64
				ref   obsRef
			)
			st.offs.inRange(j.from, j.to, func(o int64, x *obsRef) bool {
				known := x.readPos != 0
				if r.key.node >= 0 {
					known = st.offNodes[o]&bit != 0
				}
				if known && !r.seen.has(o) {
					if n == 0 {
						first, ref = o, *x
					}
					n++
				}
				return true
			})
			if n == 0 {
				continue
			}
			ex := Example{Stream: st.name, Offset: first, Value: q.name(st, ref.val-1),
				Ops: q.ops(j.fromPos, j.pos, ref.readPos-1), Node: q.nodeName(r.key.node)}
			from := "its first read"
			if j.fromPos >= 0 {
				from = fmt.Sprintf("offset %d (op #%d)", j.from, q.idx(j.fromPos))
			}
			what := fmt.Sprintf("read offset %d (op #%d)", j.to, q.idx(j.pos))
			if j.end {
				what = fmt.Sprintf("declared the end of the log at offset %d (op #%d)", j.to-1, q.idx(j.pos))
			}
			ex.Message = fmt.Sprintf("%s %s after %s, skipping %d offset(s) that hold values, first %d with %q (op #%d), and never read them",
				q.readerName(r.key), what, from, n, first, ex.Value, q.idx(ref.readPos-1))
			res.Add(PollSkip, ex)
		}
	}
}

// reportSendOrder reports nonmonotonic sends: B began after A was
// acknowledged, yet B's offset is below A's. Walking the offsets from the
// top while keeping the earliest acknowledgement above finds every such B
// in one pass; each B counts once, with the earliest A as its witness.
func (q *queueScan) reportSendOrder(res *Result, st *qstream) {
	var (
		minDone = int64(math.MaxInt64)
		minID   = int32(-1)
	)
	visit := func(o int64, id int32) {
		v := st.vals.at(id)
		if v.state != sendOK || v.ackOff != o {
			return
		}
		if minID >= 0 && minDone < v.invT {
			aID := minID
			res.addWith(NonmonotonicSend, func() Example {
				a := st.vals.at(aID)
				ex := q.example(st, id)
				ex.Ops = q.ops(a.invPos, a.donePos, v.invPos, v.donePos)
				ex.Message = fmt.Sprintf("send of %q by %s was acknowledged at offset %d (op #%d, at %s) before send of %q by %s began (op #%d, at %s), which got the lower offset %d",
					q.name(st, aID), sender(q.name(st, aID), a.proc), a.ackOff, q.idx(a.donePos), fmtTime(a.doneT),
					ex.Value, sender(ex.Value, v.proc), q.idx(v.invPos), fmtTime(v.invT), o)
				return ex
			})
		}
		if v.doneT < minDone {
			minDone, minID = v.doneT, id
		}
	}
	st.offs.each(false, func(o int64, r *obsRef) bool {
		visit(o, r.val-1)
		if c := st.conflicts[o]; c != nil {
			for _, id := range c.vals[1:] {
				visit(o, id)
			}
		}
		return true
	})
}

// offsetSet is a set of offsets: bits for the dense range, a map beyond.
type offsetSet struct {
	bits   []uint64
	sparse map[int64]bool
}

func (s *offsetSet) add(o int64) {
	if o >= 0 && o < math.MaxInt32 && int(o>>6) < len(s.bits)+maxDenseJump>>6 {
		for int(o>>6) >= len(s.bits) {
			s.bits = append(s.bits, 0)
		}
		s.bits[o>>6] |= 1 << (o & 63)
		return
	}
	if s.sparse == nil {
		s.sparse = map[int64]bool{}
	}
	s.sparse[o] = true
}

func (s *offsetSet) has(o int64) bool {
	if o >= 0 && int(o>>6) < len(s.bits) && s.bits[o>>6]&(1<<(o&63)) != 0 {
		return true
	}
	return s.sparse[o]
}
