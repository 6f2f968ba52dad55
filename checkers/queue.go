package checkers

import (
	"context"
	"fmt"
	"sort"

	"github.com/riptidechaos/riptide/history"
)

// Queue checks each stream of a queue workload: every acknowledged send is
// read (lost / unseen), every read was sent (unexpected), every value sits
// at one offset (duplicate) and every offset holds one value
// (inconsistent-offset). Acknowledgements count as observations too: a send
// acknowledged at offset 5 and read at offset 7 is a duplicate.
type Queue struct{}

func (Queue) Name() string { return "queue" }

// send is what the history says about one value's send.
type send struct {
	process int
	invoke  int64
	done    int64 // index of the completion, -1 if none
	typ     history.Type
	offset  int64 // acknowledged offset, or NoOffset
}

// observation is where a value or offset was seen first.
type observation struct {
	value  string
	offset int64
	op     int64
}

type streamState struct {
	sends     map[string]*send
	order     []string // values in the order their sends were invoked
	valueAt   map[int64]observation
	offsetsOf map[string][]observation // distinct offsets per value
	read      map[string]bool
	drained   bool  // an ok drain reached the end of the stream
	drainOp   int64 // the drain that decided it
}

func newStreamState() *streamState {
	return &streamState{
		sends:     map[string]*send{},
		valueAt:   map[int64]observation{},
		offsetsOf: map[string][]observation{},
		read:      map[string]bool{},
		drainOp:   -1,
	}
}

func (Queue) Check(ctx context.Context, h []history.Op) Result {
	var res Result
	streams := map[string]*streamState{}
	get := func(name string) *streamState {
		st := streams[name]
		if st == nil {
			st = newStreamState()
			streams[name] = st
		}
		return st
	}
	pair := history.Pairs(h)
	for i, op := range h {
		if i&0xffff == 0 && ctx.Err() != nil {
			res.Error = ctx.Err().Error()
			return res
		}
		if op.Process == history.NemesisProcess {
			continue
		}
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			st := get(op.Stream)
			if _, dup := st.sends[op.Value]; !dup {
				st.order = append(st.order, op.Value)
			}
			s := &send{process: op.Process, invoke: op.Index, done: -1, typ: history.Invoke, offset: history.NoOffset}
			if j := pair[i]; j >= 0 {
				s.done, s.typ = h[j].Index, h[j].Type
			}
			st.sends[op.Value] = s
		case op.F == history.Send && op.Type == history.OK:
			st := get(op.Stream)
			if s := st.sends[op.Value]; s != nil {
				s.offset = op.Offset
			}
			st.observe(&res, op.Stream, op.Value, op.Offset, op.Index)
		case (op.F == history.Poll || op.F == history.Drain) && op.Type == history.OK:
			st := get(op.Stream)
			for _, r := range op.Reads {
				st.read[r.Value] = true
				st.observe(&res, op.Stream, r.Value, r.Offset, op.Index)
			}
			if op.F == history.Drain {
				st.drained, st.drainOp = true, op.Index
			}
		}
	}

	names := make([]string, 0, len(streams))
	for name := range streams {
		names = append(names, name)
	}
	sort.Strings(names)
	var acked, reads, recovered int64
	for _, name := range names {
		st := streams[name]
		reads += int64(len(st.read))
		for _, v := range st.order {
			s := st.sends[v]
			if s.typ == history.OK {
				acked++
			}
			if s.typ == history.Info && st.read[v] {
				recovered++
			}
		}
		st.checkSends(&res, name)
		st.checkReads(&res, name)
	}
	res.Stats = map[string]int64{"acked": acked, "distinct-reads": reads, "recovered": recovered}
	return res
}

// observe records value at offset, seen in op, and reports a second value
// at the same offset.
func (st *streamState) observe(res *Result, stream, value string, offset int64, op int64) {
	if offset == history.NoOffset {
		return
	}
	if prev, ok := st.valueAt[offset]; !ok {
		st.valueAt[offset] = observation{value, offset, op}
	} else if prev.value != value {
		res.Add(InconsistentOffset, Example{
			Stream: stream, Value: value, Offset: offset, Ops: []int64{prev.op, op},
			Message: fmt.Sprintf("offset %d holds %q (op #%d) and %q (op #%d)", offset, prev.value, prev.op, value, op),
		})
	}
	for _, o := range st.offsetsOf[value] {
		if o.offset == offset {
			return
		}
	}
	st.offsetsOf[value] = append(st.offsetsOf[value], observation{value, offset, op})
}

// checkSends reports acknowledged values that no read returned.
func (st *streamState) checkSends(res *Result, stream string) {
	for _, v := range st.order {
		s := st.sends[v]
		if s.typ != history.OK || st.read[v] {
			continue
		}
		p := s.process
		ex := Example{Stream: stream, Value: v, Offset: s.offset, Producer: &p, Ops: []int64{s.invoke, s.done}}
		if st.drained {
			ex.Message = fmt.Sprintf("value %q sent by process %d, acknowledged at offset %d (op #%d), was never read; the drain (op #%d) reached the end of the stream",
				v, p, s.offset, s.done, st.drainOp)
			res.Add(Lost, ex)
		} else {
			ex.Message = fmt.Sprintf("value %q sent by process %d, acknowledged at offset %d (op #%d), was not read before the drain was cut short",
				v, p, s.offset, s.done)
			res.Add(Unseen, ex)
		}
	}
}

// checkReads reports values read that were never sent, and values found at
// more than one offset.
func (st *streamState) checkReads(res *Result, stream string) {
	values := make([]string, 0, len(st.offsetsOf))
	for v := range st.offsetsOf {
		values = append(values, v)
	}
	sort.Strings(values)
	for _, v := range values {
		obs := st.offsetsOf[v]
		if _, sent := st.sends[v]; !sent {
			res.Add(Unexpected, Example{Stream: stream, Value: v, Offset: obs[0].offset, Ops: []int64{obs[0].op},
				Message: fmt.Sprintf("value %q read at offset %d (op #%d) was never sent", v, obs[0].offset, obs[0].op)})
		}
		if len(obs) > 1 {
			ops := make([]int64, len(obs))
			offsets := make([]int64, len(obs))
			for i, o := range obs {
				ops[i], offsets[i] = o.op, o.offset
			}
			ex := Example{Stream: stream, Value: v, Offset: obs[1].offset, Ops: ops,
				Message: fmt.Sprintf("value %q is at offsets %v", v, offsets)}
			if s := st.sends[v]; s != nil {
				p := s.process
				ex.Producer = &p
			}
			res.Add(Duplicate, ex)
		}
	}
}
