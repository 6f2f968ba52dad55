package checkers

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/riptidechaos/riptide/history"
)

// LogModel says what a stream's log looks like to the linearizability
// checkers. Its zero value is a NATS stream: dense sequences from 1.
type LogModel struct {
	// Sparse logs may leave offsets unused (Kafka's transaction markers,
	// compaction): offsets only grow. Dense logs fill every offset, so an
	// offset below the highest one seen holds some send's value.
	Sparse bool
	// ZeroBased logs start at offset 0 (Kafka); the others at 1 (NATS).
	ZeroBased bool
}

func (m LogModel) first() int64 {
	if m.ZeroBased {
		return 0
	}
	return 1
}

func (m LogModel) String() string {
	s := "dense"
	if m.Sparse {
		s = "sparse"
	}
	return fmt.Sprintf("%s log from offset %d", s, m.first())
}

// Linearizable checks that each stream's log is linearizable: that one
// order of appends agrees with real time (an operation that returned
// before another began comes first), with every acknowledged offset and
// with every read. The offsets acknowledged to the producers are witnesses
// of that order, so instead of searching for an order as porcupine does,
// it checks the one the offsets give, in near-linear time:
//
//   - values sit where the acks and reads put them: one value per offset,
//     one offset per value, only values that were sent and did not fail;
//   - (dense logs) every offset up to the highest seen holds a value, so
//     offsets nobody saw must be filled by sends with an unknown outcome;
//     the earliest-invoked ones are used, which is never worse;
//   - walking offsets upwards, E(o) is the latest invocation among the
//     sends at offsets up to o: the earliest moment the log can reach o.
//     An acknowledged send at o, or a read whose highest offset is o, that
//     returned before E(o) is impossible.
//
// docs/checkers.md gives the argument that this is exact: it agrees with
// porcupine on the same model, as the differential test checks.
type Linearizable struct {
	Log LogModel
}

func (Linearizable) Name() string { return "linearizable" }

// lvalue is what the witness keeps about one value of a stream.
type lvalue struct {
	invT, retT int64 // retT is infinity when the send never returned
	key        uint64
	off        int64 // where acks and reads put it, noOffset if nowhere
	ackOff     int64
	invPos     int32
	retPos     int32
	offPos     int32
	state      sendState
	dup        bool // reported at a second offset
}

// lread is one read op that returned messages of a stream.
type lread struct {
	maxOff int64
	retT   int64
	pos    int32
}

type lstream struct {
	name  string
	id    int32
	ids   valueIndex
	vals  store[lvalue]
	offs  offsetTable
	names map[int32]string
	reads []lread
	// dups and conflicts are value-level violations found while indexing.
	dups      violations
	conflicts violations
}

// violations counts violations and keeps the first MaxExamples of them:
// a badly broken history must not cost a formatted message per violation.
type violations struct {
	list []violation
	n    int
}

func (vs *violations) add(build func() violation) {
	vs.n++
	if len(vs.list) < MaxExamples {
		vs.list = append(vs.list, build())
	}
}

func (vs *violations) addAll(o violations) {
	vs.n += o.n
	vs.list = append(vs.list, o.list[:min(len(o.list), MaxExamples-len(vs.list))]...)
}

// violation is one reason a stream's log is not linearizable.
type violation struct {
	ops   []int32 // positions in the history
	value int32   // value id, -1 when none
	off   int64
	msg   string
}

type linScan struct {
	h       []history.Op
	model   LogModel
	streams streamSet[lstream]
	procs   procTable
	keys    keyTable
}

func (c Linearizable) Check(ctx context.Context, h []history.Op) Result {
	var res Result
	if len(h) >= math.MaxInt32 {
		res.Error = fmt.Sprintf("history of %d ops is too large for the linearizability checker", len(h))
		return res
	}
	s := newLinScan(h, c.Log)
	if err := s.scan(ctx); err != nil {
		res.Error = fmt.Sprintf("linearizability checker stopped: %v", err)
		return res
	}
	var bad int64
	for _, st := range s.streams.sorted() {
		vs := s.check(st)
		if vs.n > 0 {
			bad++
		}
		for _, v := range vs.list {
			ex := Example{Stream: st.name, Offset: v.off, Message: v.msg, Ops: opIndices(h, v.ops...)}
			if v.value >= 0 {
				ex.Value = s.name(st, v.value)
				if lv := st.vals.at(v.value); lv.state != notSent && lv.invPos >= 0 {
					p := producerID(ex.Value, h[lv.invPos].Process)
					ex.Producer = &p
				}
			}
			res.Add(Nonlinearizable, ex)
		}
		// The violations beyond the examples kept are counted only.
		res.addCount(Nonlinearizable, vs.n-len(vs.list))
	}
	res.Stats = map[string]int64{"streams": int64(len(s.streams.list)), "nonlinearizable-streams": bad}
	return res
}

func newLinScan(h []history.Op, model LogModel) *linScan {
	return &linScan{h: h, model: model}
}

func (s *linScan) stream(name string) *lstream { return s.streams.get(name, newLStream) }

func newLStream(name string, id int32) *lstream { return &lstream{name: name, id: id} }

func (s *linScan) value(st *lstream, v string) (int32, *lvalue, bool) {
	k, ok := valueKey(v)
	return s.valueKey(st, v, k, ok)
}

func (s *linScan) valueKey(st *lstream, v string, k uint64, ok bool) (int32, *lvalue, bool) {
	id, created := s.keys.intern(&st.ids, st.id, v, k, ok, st.vals.len())
	if created {
		if !ok {
			k = noKey
		}
		st.vals.add(lvalue{invT: math.MinInt64, retT: infinity, key: k, off: noOffset, ackOff: noOffset,
			invPos: -1, retPos: -1, offPos: -1})
	}
	return id, st.vals.at(id), created
}

// readValue finds the value a read returned, through the offset table
// when it holds that value (see qstream.readValue).
func (s *linScan) readValue(st *lstream, rd history.Read) (int32, *lvalue, bool) {
	k, ok := valueKey(rd.Value)
	if ok {
		if r := st.offs.ref(rd.Offset, false); r != nil && r.val != 0 {
			if v := st.vals.at(r.val - 1); v.key == k {
				return r.val - 1, v, false
			}
		}
	}
	return s.valueKey(st, rd.Value, k, ok)
}

func (s *linScan) scan(ctx context.Context) error {
	for i := range s.h {
		if i&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		op := &s.h[i]
		if op.Process == history.NemesisProcess {
			continue
		}
		pos := int32(i)
		switch op.F {
		case history.Send:
			s.send(op, pos)
		case history.Poll, ReadNode:
			s.read(op, pos)
		}
	}
	return nil
}

func (s *linScan) send(op *history.Op, pos int32) {
	if op.Type == history.Invoke {
		st := s.stream(op.Stream)
		id, v, _ := s.value(st, op.Value)
		open := s.procs.invoke(op.Process, pos)
		open.stream = st.id
		if v.state == notSent && v.invPos < 0 {
			v.invT, v.invPos, v.state = int64(op.Time), pos, sendPending
			open.val = id
		}
		return
	}
	var (
		st *lstream
		id int32
		v  *lvalue
	)
	switch open := s.procs.complete(op.Process); {
	case open.pos != 0 && open.val < 0:
		return // a second send of one value: ignored
	case open.pos != 0:
		st, id = s.streams.list[open.stream], open.val
		v = st.vals.at(id)
	default:
		// No invoke (a history cut at the start): at face value.
		st = s.stream(op.Stream)
		id, v, _ = s.value(st, op.Value)
		if v.state != notSent {
			return
		}
		v.invT = int64(op.Time)
	}
	v.retPos = pos
	switch {
	case op.Type == history.OK && op.Offset != noOffset:
		v.state, v.retT, v.ackOff = sendOK, int64(op.Time), op.Offset
		st.observe(s, op.Offset, id, v, pos)
	case op.Type == history.Fail:
		v.state = sendFail
	default:
		// Info, or an ok without an offset: it may have taken effect
		// anywhere at any later time.
		v.state = sendInfo
	}
}

func (s *linScan) read(op *history.Op, pos int32) {
	if op.Type == history.Invoke {
		s.procs.invoke(op.Process, pos)
		return
	}
	s.procs.complete(op.Process)
	if op.Type != history.OK || len(op.Reads) == 0 {
		return
	}
	st := s.stream(op.Stream)
	maxOff := int64(math.MinInt64)
	for _, rd := range op.Reads {
		id, v, created := s.readValue(st, rd)
		if created {
			if st.names == nil {
				st.names = map[int32]string{}
			}
			st.names[id] = rd.Value
		}
		st.observe(s, rd.Offset, id, v, pos)
		maxOff = max(maxOff, rd.Offset)
	}
	st.reads = append(st.reads, lread{maxOff: maxOff, retT: int64(op.Time), pos: pos})
}

// observe puts value id at offset o and notes the value-level violations:
// a value at two offsets, an offset with two values.
func (st *lstream) observe(s *linScan, o int64, id int32, v *lvalue, pos int32) {
	if o < 0 {
		// Offsets are never negative, and -1 is the history's "none".
		st.conflicts.add(func() violation {
			return violation{ops: positions(pos), value: id, off: o,
				msg: fmt.Sprintf("op #%d puts %q at the negative offset %d", s.h[pos].Index, s.name(st, id), o)}
		})
		return
	}
	r := st.offs.ref(o, true)
	switch r.val {
	case 0:
		r.val, r.pos = id+1, pos
		st.offs.note(o)
	case id + 1:
	default:
		if !r.reported {
			r.reported = true
			st.conflicts.add(func() violation {
				return violation{ops: positions(r.pos, pos), value: id, off: o,
					msg: fmt.Sprintf("offset %d holds %q (op #%d) and %q (op #%d): a log holds one value per offset",
						o, s.name(st, r.val-1), s.h[r.pos].Index, s.name(st, id), s.h[pos].Index)}
			})
		}
	}
	switch v.off {
	case noOffset:
		v.off, v.offPos = o, pos
	case o:
	default:
		if !v.dup {
			v.dup = true
			st.dups.add(func() violation {
				return violation{ops: positions(v.offPos, pos), value: id, off: o,
					msg: fmt.Sprintf("value %q is at offset %d (op #%d) and offset %d (op #%d): a send appends once",
						s.name(st, id), v.off, s.h[v.offPos].Index, o, s.h[pos].Index)}
			})
		}
	}
}

func (s *linScan) name(st *lstream, id int32) string {
	v := st.vals.at(id)
	return spell(s.h, st.names, id, v.invPos, v.retPos)
}

func (s *linScan) idx(pos int32) int64 { return opIndex(s.h, pos) }

// check returns the violations of st, in a deterministic order.
func (s *linScan) check(st *lstream) violations {
	var out violations
	out.addAll(st.dups)
	out.addAll(st.conflicts)
	first := s.model.first()

	// Values read but never sent, or sent by a send that failed, cannot be
	// in the log; unobserved sends with an unknown outcome may fill gaps.
	var fillers []int32
	for id := range st.vals.len() {
		v := st.vals.at(id)
		switch {
		case v.off == noOffset && (v.state == sendInfo || v.state == sendPending):
			fillers = append(fillers, id)
		case v.off == noOffset:
		case v.state == notSent:
			out.add(func() violation {
				return violation{ops: positions(v.offPos), value: id, off: v.off,
					msg: fmt.Sprintf("value %q read at offset %d (op #%d) was never sent", s.name(st, id), v.off, s.idx(v.offPos))}
			})
		case v.state == sendFail:
			out.add(func() violation {
				return violation{ops: positions(v.invPos, v.retPos, v.offPos), value: id, off: v.off,
					msg: fmt.Sprintf("value %q, whose send failed (op #%d), was read at offset %d (op #%d)",
						s.name(st, id), s.idx(v.retPos), v.off, s.idx(v.offPos))}
			})
		}
	}
	if !s.model.Sparse {
		slices.SortFunc(fillers, func(a, b int32) int { return cmp.Compare(st.vals.at(a).invT, st.vals.at(b).invT) })
	}
	reads := st.reads
	if !slices.IsSortedFunc(reads, byMaxOff) {
		reads = slices.Clone(reads)
		slices.SortStableFunc(reads, byMaxOff)
	}

	var (
		e     = int64(math.MinInt64) // E(o): the latest invocation so far
		eID   = int32(-1)            // the send that set it
		prev  = first - 1
		fi    int
		ri    int
		stuck bool // a gap nothing could fill: E is meaningless above it
	)
	checkReads := func(upTo int64) {
		for ; ri < len(reads) && reads[ri].maxOff <= upTo; ri++ {
			r := reads[ri]
			if stuck || eID < 0 || e <= r.retT {
				continue
			}
			ev := st.vals.at(eID)
			out.add(func() violation {
				return violation{ops: positions(r.pos, ev.invPos), value: eID, off: r.maxOff,
					msg: fmt.Sprintf("read op #%d returned offset %d at %s, but offset %s must hold %q, whose send (op #%d) began only at %s",
						s.idx(r.pos), r.maxOff, fmtTime(r.retT), s.offsetOf(st, eID), s.name(st, eID), s.idx(ev.invPos), fmtTime(ev.invT))}
			})
		}
	}
	st.offs.each(true, func(o int64, r *obsRef) bool {
		checkReads(o - 1)
		if !s.model.Sparse {
			if o < first {
				out.add(func() violation {
					return violation{ops: positions(r.pos), value: r.val - 1, off: o,
						msg: fmt.Sprintf("offset %d (op #%d) is below the log's first offset %d", o, s.idx(r.pos), first)}
				})
				return true
			}
			if gap := o - prev - 1; gap > 0 && !stuck {
				if gap > int64(len(fillers)-fi) {
					out.add(func() violation {
						return violation{ops: positions(r.pos), value: -1, off: prev + 1,
							msg: fmt.Sprintf("offsets %d to %d hold no value anyone saw, yet offset %d does (op #%d), and only %d send(s) with an unknown outcome could fill them",
								prev+1, o-1, o, s.idx(r.pos), len(fillers)-fi)}
					})
					stuck = true
				} else {
					fi += int(gap)
					f := fillers[fi-1]
					if fv := st.vals.at(f); fv.invT > e {
						e, eID = fv.invT, f
					}
				}
			}
		}
		prev = o
		id := r.val - 1
		v := st.vals.at(id)
		if v.state == notSent || v.state == sendFail {
			return true // reported above
		}
		if v.invT > e {
			e, eID = v.invT, id
		}
		if !stuck && v.state == sendOK && v.ackOff == o && e > v.retT {
			ev := st.vals.at(eID)
			out.add(func() violation {
				return violation{ops: positions(v.invPos, v.retPos, ev.invPos), value: id, off: o,
					msg: fmt.Sprintf("send of %q was acknowledged at offset %d (op #%d) at %s, before the send of %q at offset %s began (op #%d, at %s)",
						s.name(st, id), o, s.idx(v.retPos), fmtTime(v.retT), s.name(st, eID), s.offsetOf(st, eID), s.idx(ev.invPos), fmtTime(ev.invT))}
			})
		}
		return true
	})
	checkReads(math.MaxInt64)
	return out
}

// offsetOf is where value id sits, or "an unseen offset" for a filler.
func (s *linScan) offsetOf(st *lstream, id int32) string {
	if v := st.vals.at(id); v.off != noOffset {
		return fmt.Sprint(v.off)
	}
	return "(unseen)"
}

func byMaxOff(a, b lread) int { return cmp.Compare(a.maxOff, b.maxOff) }

// positions drops the missing (-1) and repeated positions from ps,
// keeping the order given: an example names each op once, in the order
// its message proves the anomaly in.
func positions(ps ...int32) []int32 {
	out := make([]int32, 0, len(ps))
	for _, p := range ps {
		if p >= 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
