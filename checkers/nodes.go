package checkers

import (
	"fmt"
	"math"

	"github.com/riptidechaos/riptide/history"
)

// Per-node reads. A workload that reads each node's copy of a stream
// separately (to catch a node whose log diverged) records them with these
// operation names, defined in the history package.
const (
	// ReadNode reads a batch from one node's copy of Stream, in offset
	// order from the start of the log (history.ReadNode).
	ReadNode = history.ReadNode
	// DrainNode ends a per-node read of Stream on Node: ok with Offset =
	// the node's last offset, info when cut short (history.DrainNode).
	DrainNode = history.DrainNode
)

// nodeRead is one read-node completion: an ok one with the lowest and
// highest offsets it returned, or one that failed (fail or info), which a
// reader stepping over messages the node cannot load records with the
// offsets in its error.
type nodeRead struct {
	pos    int32
	lo, hi int64
	failed bool
}

// noteNodeRead records the read-node completion op (at pos) of node n.
// An ok op that returned nothing shows nothing and is left out.
func (st *qstream) noteNodeRead(n int, op *history.Op, pos int32) {
	r := nodeRead{pos: pos, lo: math.MaxInt64, hi: math.MinInt64, failed: op.Type != history.OK}
	if !r.failed && len(op.Reads) == 0 {
		return
	}
	for _, rd := range op.Reads {
		r.lo, r.hi = min(r.lo, rd.Offset), max(r.hi, rd.Offset)
	}
	if st.nodeReads == nil {
		st.nodeReads = map[int][]nodeRead{}
	}
	st.nodeReads[n] = append(st.nodeReads[n], r)
}

// reportLostOnNode reports value id of st, which some read returned, for
// each node in nodes (those whose per-node read reached the end of their
// log) that does not hold it.
func (q *queueScan) reportLostOnNode(res *Result, st *qstream, id int32, v *qvalue, nodes []int) {
	held := st.valNodes[id]
	var holder int = -1
	for n := range 64 {
		if held&(1<<n) != 0 {
			holder = n
			break
		}
	}
	for _, n := range nodes {
		if n < 64 && held&(1<<n) != 0 {
			continue
		}
		res.addWith(LostOnNode, func() Example {
			return q.lostOnNodeExample(st, id, v, holder, n)
		})
	}
}

// lostOnNodeExample names the ops that prove value id lost on node n: its
// acknowledgement, the first read that returned it, the read of another
// node (holder, -1 for none) that returned it, the reads of n around its
// offset and n's drain-node op.
func (q *queueScan) lostOnNodeExample(st *qstream, id int32, v *qvalue, holder, n int) Example {
	done := st.nodeDone[n]
	ex := q.example(st, id)
	ex.Node = q.nodeName(n)
	ack := int32(-1)
	if v.state == sendOK {
		ack = v.donePos
	}
	where := fmt.Sprintf("read at offset %d (op #%d)", v.off, q.idx(v.readPos))
	held := int32(-1)
	if holder >= 0 {
		where += " and held by node " + q.nodeName(holder)
		if held = q.nodeReadOf(st, holder, ex.Value, ex.Offset); held >= 0 {
			where += fmt.Sprintf(" (op #%d)", q.idx(held))
		}
	}
	around, how := q.nodeReadsAround(st, n, ex.Offset, done.pos)
	ex.Ops = q.ops(append(append([]int32{ack, v.readPos, held}, around...), done.pos)...)
	ex.Message = fmt.Sprintf("value %q was %s, but node %s's read reached the end of its log at offset %d (op #%d) without it: %s",
		ex.Value, where, ex.Node, done.offset, q.idx(done.pos), how)
	return ex
}

// nodeReadOf is the position of a read-node op of node n that returned
// value (looked for first among the ops whose offsets span o), -1 if none.
func (q *queueScan) nodeReadOf(st *qstream, n int, value string, o int64) int32 {
	has := func(r nodeRead) bool {
		for _, rd := range q.h[r.pos].Reads {
			if rd.Value == value {
				return true
			}
		}
		return false
	}
	reads := st.nodeReads[n]
	for _, r := range reads {
		if !r.failed && r.lo <= o && o <= r.hi && has(r) {
			return r.pos
		}
	}
	// The value sits at another offset on n: a rare divergence.
	for _, r := range reads {
		if !r.failed && (o < r.lo || o > r.hi) && has(r) {
			return r.pos
		}
	}
	return -1
}

// nodeReadsAround lists the read-node ops of node n, before its drain-node
// op at end, that show n lacks offset o (what a value elsewhere sits at),
// and says what they show: the op whose offsets span o, or else the last
// op below o and the first above, with the last failed op in between (a
// reader stepping over messages the node cannot load names them).
func (q *queueScan) nodeReadsAround(st *qstream, n int, o int64, end int32) ([]int32, string) {
	reads := st.nodeReads[n]
	for _, r := range reads {
		if r.pos > end || r.failed || r.lo > o || o > r.hi {
			continue
		}
		below, above := int64(math.MinInt64), int64(math.MaxInt64)
		for _, rd := range q.h[r.pos].Reads {
			switch {
			case rd.Offset == o:
				return []int32{r.pos}, fmt.Sprintf("it read %q at offset %d (op #%d)", rd.Value, o, q.idx(r.pos))
			case rd.Offset < o:
				below = max(below, rd.Offset)
			default:
				above = min(above, rd.Offset)
			}
		}
		return []int32{r.pos}, fmt.Sprintf("it read offset %d then offset %d (op #%d)", below, above, q.idx(r.pos))
	}
	before, afterI := -1, -1
	for i, r := range reads {
		switch {
		case r.pos > end || r.failed:
		case r.hi < o && (before < 0 || r.hi >= reads[before].hi):
			before = i
		case r.lo > o && (afterI < 0 || r.lo < reads[afterI].lo):
			afterI = i
		}
	}
	lo, hi := int32(-1), end
	if before >= 0 {
		lo = reads[before].pos
	}
	if afterI >= 0 {
		hi = reads[afterI].pos
	}
	failed := -1
	for i, r := range reads {
		if r.failed && r.pos > lo && r.pos < hi {
			failed = i
		}
	}
	var (
		ops         []int32
		first, last string
		failure     string
	)
	if before >= 0 {
		ops = append(ops, lo)
		last = fmt.Sprintf("offset %d (op #%d)", reads[before].hi, q.idx(lo))
	}
	if failed >= 0 {
		f := reads[failed].pos
		ops = append(ops, f)
		failure = fmt.Sprintf("failed (op #%d: %s)", q.idx(f), firstLine(q.h[f].Error))
	}
	if afterI >= 0 {
		ops = append(ops, hi)
		first = fmt.Sprintf("offset %d (op #%d)", reads[afterI].lo, q.idx(hi))
	}
	switch {
	case last != "" && first != "" && failure != "":
		return ops, "it read " + last + ", " + failure + ", then read " + first
	case last != "" && first != "":
		return ops, "it read " + last + ", then " + first
	case last != "" && failure != "":
		return ops, "its last read was " + last + ", then it " + failure
	case last != "":
		return ops, "its last read was " + last
	case first != "" && failure != "":
		return ops, "it " + failure + ", then its first read was " + first
	case first != "":
		return ops, "its first read was " + first
	case failure != "":
		return ops, "it read nothing: it " + failure
	}
	return nil, "it read nothing"
}
