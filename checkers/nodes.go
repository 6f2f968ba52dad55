package checkers

import (
	"fmt"

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
			done := st.nodeDone[n]
			ex := q.example(st, id)
			ex.Node = q.nodeName(n)
			ex.Ops = q.ops(v.invPos, v.donePos, v.readPos, done.pos)
			where := fmt.Sprintf("read at offset %d (op #%d)", v.off, q.idx(v.readPos))
			if holder >= 0 {
				where += " and held by node " + q.nodeName(holder)
			}
			ex.Message = fmt.Sprintf("value %q was %s, but node %s's read reached the end of its log at offset %d (op #%d) without it",
				ex.Value, where, ex.Node, done.offset, q.idx(done.pos))
			return ex
		})
	}
}
