package checkers

import (
	"fmt"
	"slices"
)

// offsetConflict lists the distinct values seen at one offset.
type offsetConflict struct {
	vals []int32
	poss []int32
}

// valueOffsets lists the distinct offsets one value was seen at.
type valueOffsets struct {
	offs []int64
	poss []int32
}

// Conflicts are rare in a healthy run, so they are kept in maps beside the
// hot records, with every distinct value (or offset) and the op that first
// showed it, for the examples.

// conflict notes value id at offset o, which already holds r's value.
func (st *qstream) conflict(o int64, r *obsRef, id int32, pos int32) {
	if st.conflicts == nil {
		st.conflicts = map[int64]*offsetConflict{}
	}
	c := st.conflicts[o]
	if c == nil {
		c = &offsetConflict{vals: []int32{r.val - 1}, poss: []int32{r.pos}}
		st.conflicts[o] = c
	}
	if !slices.Contains(c.vals, id) {
		c.vals = append(c.vals, id)
		c.poss = append(c.poss, pos)
	}
}

// duplicate notes value id at offset o, though it was seen at v.off.
func (st *qstream) duplicate(id int32, v *qvalue, o int64, pos int32) {
	if st.dups == nil {
		st.dups = map[int32]*valueOffsets{}
	}
	d := st.dups[id]
	if d == nil {
		d = &valueOffsets{offs: []int64{v.off}, poss: []int32{v.offPos}}
		st.dups[id] = d
	}
	if !slices.Contains(d.offs, o) {
		d.offs = append(d.offs, o)
		d.poss = append(d.poss, pos)
	}
}

// reportConflicts reports values seen at several offsets (duplicate) and
// offsets seen with several values (inconsistent-offset).
func (q *queueScan) reportConflicts(res *Result, st *qstream) {
	for _, id := range sortedKeys(st.dups) {
		d := st.dups[id]
		ex := q.example(st, id)
		ex.Offset = d.offs[1]
		ex.Ops = q.ops(d.poss...)
		ex.Message = fmt.Sprintf("value %q is at offsets %s", ex.Value, listAt(d.offs, d.poss, q))
		res.Add(Duplicate, ex)
	}
	for _, o := range sortedKeys(st.conflicts) {
		c := st.conflicts[o]
		ex := Example{Stream: st.name, Offset: o, Value: q.name(st, c.vals[1]), Ops: q.ops(c.poss...)}
		parts := ""
		for i, id := range c.vals {
			if i > 0 {
				parts += " and "
			}
			parts += fmt.Sprintf("%q (op #%d)", q.name(st, id), q.idx(c.poss[i]))
		}
		ex.Message = fmt.Sprintf("offset %d holds %s", o, parts)
		res.Add(InconsistentOffset, ex)
	}
}

func listAt(offs []int64, poss []int32, q *queueScan) string {
	s := ""
	for i, o := range offs {
		if i > 0 {
			s += " and "
		}
		s += fmt.Sprintf("%d (op #%d)", o, q.idx(poss[i]))
	}
	return s
}
