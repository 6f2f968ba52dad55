package checkers

import (
	"context"
	"fmt"
	"math"

	"github.com/riptidechaos/riptide/history"
)

// Queue checks each stream of a queue workload for the stream anomalies, in
// one pass over the history: lost (split by producer into prefix, middle and
// postfix), unseen, unexpected, duplicate, inconsistent-offset,
// aborted-read, nonmonotonic-send, nonmonotonic-poll, poll-skip,
// lost-on-node, and the recovered sends it counts. docs/checkers.md states
// the exact rule of each. Acknowledgements count as observations too: a send
// acknowledged at offset 5 and read at offset 7 is a duplicate.
type Queue struct{}

func (Queue) Name() string { return "queue" }

// sendState is what the history says about a value's send.
type sendState uint8

const (
	notSent     sendState = iota // no client invoked a send of the value
	sendPending                  // invoked, never completed (the run ended)
	sendOK
	sendFail
	sendInfo
)

// qvalue is everything the queue checker keeps about one value of a
// stream. It is 64 bytes: the checker keeps one per message.
type qvalue struct {
	invT, doneT int64
	// off is the first offset the value was seen at (ack or read), offPos
	// the op that showed it.
	off    int64
	ackOff int64
	// key is the value's valueKey, or noKey: reads compare keys to find
	// their value through the offset table instead of a map.
	key                      uint64
	offPos                   int32
	invPos, donePos, readPos int32 // positions in the history; -1 if none
	proc                     int32
	node                     int16 // node that served the send; -1 unknown
	state                    sendState
	read                     bool
}

// qstream is one stream's index.
type qstream struct {
	name string
	id   int32
	ids  valueIndex
	vals store[qvalue]
	offs offsetTable
	// names holds values first seen in a read: nothing else spells them.
	names     map[int32]string
	conflicts map[int64]*offsetConflict
	dups      map[int32]*valueOffsets
	bounds    producerBounds
	drain     drainState
	nodeDone  map[int]nodeDrain // per-node reads that reached the end
	readers   []*reader         // ordered readers, in order of first read
	backs     []back
	reads     int64
	// valNodes and offNodes have bit i set for the values and offsets a
	// per-node reader on node i returned. Per-node reads are rare, so
	// these live beside the hot records.
	valNodes map[int32]uint64
	offNodes map[int64]uint64
	// nodeReads lists, per node, the read-node completions in history
	// order: the examples of lost-on-node name the ones around a value.
	nodeReads map[int][]nodeRead
	// firstInfo is the position + 1 of the first read of the stream that
	// ended in info; 0 when none did.
	firstInfo int32
}

type drainState struct {
	ok     bool  // a drain reached the end of the stream
	cut    bool  // a drain was cut short
	pos    int32 // the drain op that decided it
	offset int64
}

type nodeDrain struct {
	pos    int32
	offset int64
}

// queueScan is one run of the queue checker.
type queueScan struct {
	h       []history.Op
	streams streamSet[qstream]
	procs   procTable
	// drainers are the processes that performed a drain op: their polls
	// are the drain's ordered reads. A drain op comes after its polls, so
	// the polls and drain ops are logged in later and judged as ordered
	// reads once the scan knows who drained.
	drainers map[int]bool
	later    []int32
	readers  map[readerKey]*reader
	nodes    nodeIDs
	keys     keyTable
}

func (Queue) Check(ctx context.Context, h []history.Op) Result {
	var res Result
	if len(h) >= math.MaxInt32 {
		res.Error = fmt.Sprintf("history of %d ops is too large for the queue checker (at most %d)", len(h), math.MaxInt32-1)
		return res
	}
	q := &queueScan{h: h, readers: map[readerKey]*reader{},
		drainers: map[int]bool{}}
	if err := q.scan(ctx); err != nil {
		res.Error = fmt.Sprintf("queue checker stopped: %v", err)
		return res
	}
	q.report(&res)
	return res
}

func (q *queueScan) stream(name string) *qstream { return q.streams.get(name, newQStream) }

func newQStream(name string, id int32) *qstream { return &qstream{name: name, id: id} }

func (q *queueScan) scan(ctx context.Context) error {
	h := q.h
	for i := range h {
		if i&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		op := &h[i]
		if op.Process == history.NemesisProcess {
			continue
		}
		pos := int32(i)
		switch op.F {
		case history.Send:
			q.send(op, pos)
		case history.Poll, ReadNode:
			q.poll(op, pos)
		case history.Drain, DrainNode:
			q.drainOp(op, pos)
		}
	}
	// Sends still open when the history ends stay pending: their outcome
	// is as unknown as an info's.
	q.replayDrains()
	return nil
}

// value returns the id and record of value s in st, creating both.
func (q *queueScan) value(st *qstream, s string) (int32, *qvalue, bool) {
	k, ok := valueKey(s)
	return q.valueKey(st, s, k, ok)
}

func (q *queueScan) valueKey(st *qstream, s string, k uint64, ok bool) (int32, *qvalue, bool) {
	id, created := q.keys.intern(&st.ids, st.id, s, k, ok, st.vals.len())
	if created {
		if !ok {
			k = noKey
		}
		st.vals.add(qvalue{off: noOffset, ackOff: noOffset, key: k, offPos: -1, invPos: -1, donePos: -1,
			readPos: -1, proc: -1, node: -1})
	}
	return id, st.vals.at(id), created
}

// readValue finds the value a read returned. Most reads return the value
// acknowledged (or first read) at their offset: comparing keys there
// avoids a map lookup per message.
func (q *queueScan) readValue(st *qstream, rd history.Read) (int32, *qvalue, bool) {
	k, ok := valueKey(rd.Value)
	if ok {
		if r := st.offs.ref(rd.Offset, false); r != nil && r.val != 0 {
			if v := st.vals.at(r.val - 1); v.key == k {
				return r.val - 1, v, false
			}
		}
	}
	id, v, created := q.valueKey(st, rd.Value, k, ok)
	if created {
		if st.names == nil {
			st.names = map[int32]string{}
		}
		st.names[id] = rd.Value
	}
	return id, v, created
}

func (q *queueScan) send(op *history.Op, pos int32) {
	if op.Type == history.Invoke {
		st := q.stream(op.Stream)
		id, v, _ := q.value(st, op.Value)
		open := q.procs.invoke(op.Process, pos)
		open.stream = st.id
		if v.state == notSent && v.invPos < 0 {
			v.invPos, v.invT, v.proc, v.state = pos, int64(op.Time), int32(op.Process), sendPending
			open.val = id
		}
		return
	}
	var (
		st *qstream
		id int32
		v  *qvalue
	)
	switch open := q.procs.complete(op.Process); {
	case open.pos != 0 && open.val < 0:
		return // a second send of one value: ignored
	case open.pos != 0:
		st, id = q.streams.list[open.stream], open.val
		v = st.vals.at(id)
	default:
		// A completion without its invoke (a history cut at the start):
		// take it at face value.
		st = q.stream(op.Stream)
		id, v, _ = q.value(st, op.Value)
		if v.state != notSent {
			return
		}
		v.invT, v.proc = int64(op.Time), int32(op.Process)
	}
	v.donePos, v.doneT = pos, int64(op.Time)
	if op.Node != "" {
		v.node = int16(q.nodes.id(op.Node))
	}
	switch op.Type {
	case history.OK:
		v.state = sendOK
		v.ackOff = op.Offset
		st.observe(op.Offset, id, v, pos, false)
	case history.Fail:
		v.state = sendFail
	default:
		v.state = sendInfo
	}
}

func (q *queueScan) poll(op *history.Op, pos int32) {
	if op.Type == history.Invoke {
		q.procs.invoke(op.Process, pos)
		return
	}
	q.procs.complete(op.Process)
	if op.Type == history.Info {
		if st := q.stream(op.Stream); st.firstInfo == 0 {
			st.firstInfo = pos + 1
		}
	}
	var r *reader
	if op.F == ReadNode {
		r = q.reader(op, pos)
		if op.Node != "" {
			q.stream(op.Stream).noteNodeRead(q.nodes.id(op.Node), op, pos)
		}
	} else {
		q.later = append(q.later, pos)
	}
	if op.Type != history.OK {
		if r != nil {
			r.resubscribe()
		}
		return
	}
	if len(op.Reads) == 0 {
		return
	}
	st := q.stream(op.Stream)
	var nodeBit uint64
	if op.F == ReadNode && op.Node != "" {
		if n := q.nodes.id(op.Node); n < 64 {
			nodeBit = 1 << n
		}
	}
	for _, rd := range op.Reads {
		id, v, _ := q.readValue(st, rd)
		st.observe(rd.Offset, id, v, pos, true)
		if nodeBit != 0 {
			st.noteNode(id, rd.Offset, nodeBit)
		}
		if !v.read {
			v.read, v.readPos = true, pos
			if v.state != notSent {
				st.bounds.note(producerOf(rd.Value, v))
			}
		}
		if r != nil {
			r.read(st, rd.Offset, pos)
		}
	}
	st.reads += int64(len(op.Reads))
}

func (q *queueScan) drainOp(op *history.Op, pos int32) {
	if op.Type == history.Invoke {
		q.procs.invoke(op.Process, pos)
		return
	}
	q.procs.complete(op.Process)
	st := q.stream(op.Stream)
	if op.F == DrainNode {
		if op.Type == history.OK && op.Node != "" {
			n := q.nodes.id(op.Node)
			if st.nodeDone == nil {
				st.nodeDone = map[int]nodeDrain{}
			}
			st.nodeDone[n] = nodeDrain{pos: pos, offset: op.Offset}
			if r := q.readers[readerKey{process: op.Process, stream: st.id, node: n}]; r != nil {
				r.finish(op.Offset, pos)
			}
		}
		return
	}
	q.drainers[op.Process] = true
	if op.Type == history.OK && op.Offset != noOffset {
		q.later = append(q.later, pos)
	}
	switch {
	case op.Type == history.OK && !st.drain.ok:
		st.drain = drainState{ok: true, pos: pos, offset: op.Offset}
	case op.Type != history.OK && !st.drain.ok:
		st.drain = drainState{cut: true, pos: pos, offset: op.Offset}
	}
}

// observe records that value id sits at offset o, as op pos showed, and
// notes a second value at one offset or a second offset for one value.
func (st *qstream) observe(o int64, id int32, v *qvalue, pos int32, read bool) {
	if o == noOffset {
		return
	}
	r := st.offs.ref(o, true)
	switch r.val {
	case 0:
		r.val, r.pos = id+1, pos
		st.offs.note(o)
	case id + 1:
	default:
		st.conflict(o, r, id, pos)
	}
	if read {
		if r.readPos == 0 {
			r.readPos = pos + 1
		}
	}
	switch v.off {
	case noOffset:
		v.off, v.offPos = o, pos
	case o:
	default:
		st.duplicate(id, v, o, pos)
	}
}

// noteNode records that a per-node reader on the node of nodeBit returned
// value id at offset o.
func (st *qstream) noteNode(id int32, o int64, nodeBit uint64) {
	if st.valNodes == nil {
		st.valNodes, st.offNodes = map[int32]uint64{}, map[int64]uint64{}
	}
	st.valNodes[id] |= nodeBit
	st.offNodes[o] |= nodeBit
}

// name spells value id of st.
func (q *queueScan) name(st *qstream, id int32) string {
	v := st.vals.at(id)
	return spell(q.h, st.names, id, v.invPos, v.donePos)
}

// idx is the op index of the op at position pos.
func (q *queueScan) idx(pos int32) int64 { return opIndex(q.h, pos) }

// ops lists the op indices of the given positions in the order given,
// skipping missing ones and repeats: an example names each op once.
func (q *queueScan) ops(pos ...int32) []int64 {
	return opIndices(q.h, pos...)
}

// nodeName is the name of node id n ("" if unknown).
func (q *queueScan) nodeName(n int) string {
	if n < 0 || n >= len(q.nodes.names) {
		return ""
	}
	return q.nodes.names[n]
}

// example starts an example about value id of st.
func (q *queueScan) example(st *qstream, id int32) Example {
	v := st.vals.at(id)
	ex := Example{Stream: st.name, Value: q.name(st, id), Offset: v.off}
	if v.ackOff != noOffset {
		ex.Offset = v.ackOff
	}
	if v.proc >= 0 && v.state != notSent {
		p := producerID(ex.Value, int(v.proc))
		ex.Producer = &p
	}
	ex.Node = q.nodeName(int(v.node))
	return ex
}

// producerID is who sent value, as Example.Producer names it: the worker
// W of a value "W-N" (what its name says: a worker keeps it when it goes on
// as a new process after an info), else the sending process proc.
func producerID(value string, proc int) int {
	if k, ok := valueKey(value); ok {
		return int(k >> 32)
	}
	return proc
}

// sender spells who sent value as process proc: "process 10", or
// "process 10 (worker 3)" when the value's name gives another producer.
func sender(value string, proc int32) string {
	s := fmt.Sprintf("process %d", proc)
	if w := producerID(value, int(proc)); w != int(proc) {
		s += fmt.Sprintf(" (worker %d)", w)
	}
	return s
}

func (q *queueScan) report(res *Result) {
	order := q.streams.sorted()
	var c counts
	for _, st := range order {
		q.reportValues(res, st, &c)
		q.reportConflicts(res, st)
		q.reportSendOrder(res, st)
		q.reportReaders(res, st)
		c.reads += st.reads
		c.readers += int64(len(st.readers))
	}
	res.Stats = map[string]int64{
		"streams":         int64(len(q.streams.list)),
		"sends":           c.sends,
		"acked":           c.acked,
		"failed":          c.failed,
		"indeterminate":   c.indeterminate,
		"reads":           c.reads,
		"distinct-reads":  c.distinctReads,
		"recovered":       c.recovered,
		"ordered-readers": c.readers,
	}
}

// counts are the totals that go into Stats.
type counts struct {
	sends, acked, failed, indeterminate, reads, distinctReads, recovered, readers int64
}

func fmtTime(t int64) string {
	if t == infinity {
		return "never"
	}
	return fmtDuration(t)
}
