package checkers

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/riptidechaos/riptide/history"
)

// Porcupine checks each stream's log with porcupine, the reference
// linearizability checker, on the same model as Linearizable. It searches
// for an order instead of reading it off the offsets, so it is exponential
// in the number of concurrent operations: it always runs under a deadline
// and a heap bound, and streams too large to try are skipped. Any of these
// leaves the result unknown (Error set), never a hang or an out-of-memory
// kill. It is the reference Linearizable is tested against, and an opt-in
// second opinion on small runs.
type Porcupine struct {
	Log LogModel
	// Timeout bounds the whole check (0: DefaultPorcupineTimeout); a
	// context deadline that comes sooner wins.
	Timeout time.Duration
	// MaxHeap bounds how far the heap may grow while porcupine runs, in
	// bytes (0: DefaultPorcupineMaxHeap).
	MaxHeap uint64
	// MaxOps skips streams with more operations than this (0:
	// DefaultPorcupineMaxOps).
	MaxOps int
}

const (
	DefaultPorcupineTimeout        = 30 * time.Second
	DefaultPorcupineMaxHeap uint64 = 1 << 30
	DefaultPorcupineMaxOps         = 20000
)

func (Porcupine) Name() string { return "porcupine" }

func (c Porcupine) withDefaults() Porcupine {
	if c.Timeout <= 0 {
		c.Timeout = DefaultPorcupineTimeout
	}
	if c.MaxHeap == 0 {
		c.MaxHeap = DefaultPorcupineMaxHeap
	}
	if c.MaxOps <= 0 {
		c.MaxOps = DefaultPorcupineMaxOps
	}
	return c
}

// errHeapBound and errTimeout say why porcupine gave no answer.
var (
	errHeapBound = errors.New("heap bound exceeded")
	errTimeout   = errors.New("deadline exceeded")
)

func (c Porcupine) Check(ctx context.Context, h []history.Op) Result {
	c = c.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var (
		res       Result
		undecided []string
		checked   int64
	)
	streams := porcupineHistories(h, c.Log)
	for _, ph := range streams {
		if len(ph.ops) > c.MaxOps {
			undecided = append(undecided, fmt.Sprintf("%s (%d ops, over the bound of %d)", ph.stream, len(ph.ops), c.MaxOps))
			continue
		}
		if ctx.Err() != nil {
			undecided = append(undecided, ph.stream+" (no time left)")
			continue
		}
		out, err := runPorcupine(ctx, ph, c.Log, c.MaxHeap)
		switch {
		case err != nil:
			undecided = append(undecided, fmt.Sprintf("%s (%v)", ph.stream, err))
		case out == porcupine.Illegal:
			checked++
			res.Add(Nonlinearizable, Example{Stream: ph.stream,
				Message: fmt.Sprintf("porcupine found no linearization of stream %s (%d ops) on a %s", ph.stream, len(ph.ops), c.Log)})
		default:
			checked++
		}
	}
	if len(undecided) > 0 {
		res.Error = "porcupine could not decide stream(s) " + strings.Join(undecided, ", ")
	}
	res.Stats = map[string]int64{"streams": int64(len(streams)), "decided": checked}
	return res
}

// runPorcupine checks one stream's history under ctx's deadline and a heap
// bound. A nil error comes with porcupine's Ok or Illegal.
func runPorcupine(ctx context.Context, ph porcupineHistory, m LogModel, maxHeap uint64) (porcupine.CheckResult, error) {
	timeout := time.Until(deadlineOf(ctx, time.Minute))
	if timeout <= 0 {
		return porcupine.Unknown, errTimeout
	}
	g := startGuard(ctx, maxHeap)
	// Not the verbose variant: the partial linearizations it keeps for a
	// visualization grow with the square of the history. VisualizeStream
	// asks for them, on a small part of one stream.
	out := porcupine.CheckOperationsTimeout(logModel(m, g), ph.ops, timeout)
	if err := g.stop(); err != nil {
		return porcupine.Unknown, err
	}
	if out == porcupine.Unknown {
		return out, errTimeout
	}
	return out, nil
}

func deadlineOf(ctx context.Context, otherwise time.Duration) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(otherwise)
}

// guard stops a porcupine search from outside: porcupine has a timeout but
// no memory bound and no context, so the model's Step consults the guard
// and fails every step once it trips, which unwinds the search quickly.
// The check's answer is then thrown away.
type guard struct {
	tripped atomic.Bool
	mu      sync.Mutex
	err     error
	done    chan struct{}
	wg      sync.WaitGroup
}

// heapSample is the metric the guard watches: bytes of live and not yet
// swept heap objects, updated as the program allocates.
const heapSample = "/memory/classes/heap/objects:bytes"

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapSample}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// guardInterval is how often the guard samples the heap: porcupine can
// allocate a few hundred MB in this time on a fast machine, which the
// default bound leaves room for.
const guardInterval = 2 * time.Millisecond

func startGuard(ctx context.Context, maxHeap uint64) *guard {
	g := &guard{done: make(chan struct{})}
	base := heapBytes()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		t := time.NewTicker(guardInterval)
		defer t.Stop()
		for {
			select {
			case <-g.done:
				return
			case <-ctx.Done():
				g.trip(errTimeout)
				return
			case <-t.C:
				if now := heapBytes(); now > base && now-base > maxHeap {
					g.trip(fmt.Errorf("%w: the heap grew by %d MiB, over the bound of %d MiB", errHeapBound, (now-base)>>20, maxHeap>>20))
					return
				}
			}
		}
	}()
	return g
}

func (g *guard) trip(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
	g.tripped.Store(true)
}

// stop ends the watcher and says whether the guard tripped.
func (g *guard) stop() error {
	close(g.done)
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// The model: the state is the log, a persistent list so that a step
// allocates one node and states share their past.
type plog struct {
	prev *plog
	val  string
	off  int64
	n    int
	hash uint64
}

var hashSeed = maphash.MakeSeed()

func (l *plog) push(val string, off int64) *plog {
	n := &plog{prev: l, val: val, off: off, n: 1}
	h := maphash.String(hashSeed, val) ^ uint64(off)*0x9e3779b97f4a7c15
	if l != nil {
		n.n = l.n + 1
		h ^= l.hash*31 + 1
	}
	n.hash = h
	return n
}

func (l *plog) length() int {
	if l == nil {
		return 0
	}
	return l.n
}

// at finds the value at offset o: offsets grow along the list.
func (l *plog) at(o int64) (string, bool) {
	for x := l; x != nil; x = x.prev {
		if x.off == o {
			return x.val, true
		}
		if x.off < o {
			break
		}
	}
	return "", false
}

func equalLogs(a, b *plog) bool {
	for a != b {
		if a == nil || b == nil || a.n != b.n || a.hash != b.hash || a.val != b.val || a.off != b.off {
			return false
		}
		a, b = a.prev, b.prev
	}
	return true
}

// pSend is the input of a send: the value, and for a send of unknown
// outcome the offset reads saw its value at (sparse logs), or noOffset.
type pSend struct {
	value string
	hint  int64
}

// pSendOut is a send's output: the acknowledged offset, or unknown.
type pSendOut struct {
	ok     bool
	offset int64
}

// pRead is a read's input; its output is the []history.Read it returned.
type pRead struct{}

// logModel is the porcupine model of a stream's log under m. g may be nil.
func logModel(m LogModel, g *guard) porcupine.Model {
	first := m.first()
	step := func(state, input, output any) (ok bool, next any) {
		if g != nil && g.tripped.Load() {
			return false, state
		}
		defer func() {
			// A panic in porcupine's goroutines would kill the harness.
			if p := recover(); p != nil {
				if g != nil {
					g.trip(fmt.Errorf("model panicked: %v", p))
				}
				ok, next = false, state
			}
		}()
		l := state.(*plog)
		switch in := input.(type) {
		case pSend:
			out := output.(pSendOut)
			if !m.Sparse {
				off := first + int64(l.length())
				if out.ok && out.offset != off {
					return false, l
				}
				return true, l.push(in.value, off)
			}
			off := out.offset
			if !out.ok {
				if in.hint == noOffset {
					return true, l // it may never take effect: nothing saw it
				}
				off = in.hint
			}
			if l != nil && off <= l.off {
				return false, l
			}
			return true, l.push(in.value, off)
		case pRead:
			for _, r := range output.([]history.Read) {
				if v, found := l.at(r.Offset); !found || v != r.Value {
					return false, l
				}
			}
			return true, l
		}
		return false, l
	}
	return porcupine.Model{
		Init:  func() any { return (*plog)(nil) },
		Step:  step,
		Equal: func(a, b any) bool { return equalLogs(a.(*plog), b.(*plog)) },
		Hash: func(s any) uint64 {
			if l := s.(*plog); l != nil {
				return l.hash
			}
			return 0
		},
		DescribeOperation: func(input, output any) string {
			switch in := input.(type) {
			case pSend:
				out := output.(pSendOut)
				if out.ok {
					return fmt.Sprintf("send(%s) -> %d", in.value, out.offset)
				}
				return fmt.Sprintf("send(%s) -> ?", in.value)
			case pRead:
				return "read -> " + describeReads(output.([]history.Read))
			}
			return fmt.Sprint(input, output)
		},
		DescribeState: func(s any) string {
			l := s.(*plog)
			var tail []string
			for x := l; x != nil && len(tail) < 3; x = x.prev {
				tail = append(tail, fmt.Sprintf("%d:%s", x.off, x.val))
			}
			for i, j := 0, len(tail)-1; i < j; i, j = i+1, j-1 {
				tail[i], tail[j] = tail[j], tail[i]
			}
			if l.length() > len(tail) {
				tail = append([]string{"…"}, tail...)
			}
			return fmt.Sprintf("%d messages [%s]", l.length(), strings.Join(tail, " "))
		},
		DescribeOperationMetadata: func(md any) string {
			if md == nil {
				return ""
			}
			return fmt.Sprint(md)
		},
	}
}

func describeReads(rs []history.Read) string {
	if len(rs) == 0 {
		return "[]"
	}
	parts := make([]string, 0, min(len(rs), 4))
	for i, r := range rs {
		if i == 3 && len(rs) > 4 {
			parts = append(parts, fmt.Sprintf("… %d more", len(rs)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%d:%s", r.Offset, r.Value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// porcupineHistory is one stream's operations in porcupine's form, with
// the history positions of each (invoke, completion).
type porcupineHistory struct {
	stream string
	ops    []porcupine.Operation
	pos    [][2]int32
}

// porcupineHistories converts h, per stream in name order, into the
// operations porcupine checks: sends (fail ones never happened and are
// left out; info and pending ones return at infinity with an unknown
// output) and reads that returned messages.
func porcupineHistories(h []history.Op, m LogModel) []porcupineHistory {
	// Where reads saw each value: a sparse log needs it to place sends of
	// unknown outcome.
	seen := map[[2]string]int64{}
	for i := range h {
		op := &h[i]
		if op.Type != history.OK || (op.F != history.Poll && op.F != ReadNode) {
			continue
		}
		for _, r := range op.Reads {
			k := [2]string{op.Stream, r.Value}
			if _, ok := seen[k]; !ok {
				seen[k] = r.Offset
			}
		}
	}
	byStream := map[string]*porcupineHistory{}
	var order []string
	clients := map[int]int{}
	open := map[int]int32{}
	add := func(stream string, op porcupine.Operation, inv, done int32) {
		ph := byStream[stream]
		if ph == nil {
			ph = &porcupineHistory{stream: stream}
			byStream[stream] = ph
			order = append(order, stream)
		}
		ph.ops = append(ph.ops, op)
		ph.pos = append(ph.pos, [2]int32{inv, done})
	}
	// porcupine numbers its lanes by client id, densely from 0; each
	// operation's metadata names riptide's process, which the report uses.
	client := func(p int) int {
		if c, ok := clients[p]; ok {
			return c
		}
		clients[p] = len(clients)
		return clients[p]
	}
	sendOp := func(inv *history.Op, done *history.Op, invPos, donePos int32) {
		in := pSend{value: inv.Value, hint: noOffset}
		op := porcupine.Operation{ClientId: client(inv.Process), Input: in, Call: int64(inv.Time), Return: math.MaxInt64,
			Metadata: fmt.Sprintf("process %d, op #%d", inv.Process, inv.Index)}
		if done != nil && done.Type == history.OK && done.Offset != noOffset {
			op.Output, op.Return = pSendOut{ok: true, offset: done.Offset}, int64(done.Time)
			op.Metadata = fmt.Sprintf("process %d, ops #%d, #%d", inv.Process, inv.Index, done.Index)
		} else {
			if o, ok := seen[[2]string{inv.Stream, inv.Value}]; ok && m.Sparse {
				in.hint = o
				op.Input = in
			}
			op.Output = pSendOut{}
		}
		add(inv.Stream, op, invPos, donePos)
	}
	for i := range h {
		op := &h[i]
		if op.Process == history.NemesisProcess || (op.F != history.Send && op.F != history.Poll && op.F != ReadNode) {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = int32(i) + 1
			continue
		}
		j, paired := open[op.Process]
		delete(open, op.Process)
		inv := op
		invPos := int32(i)
		if paired {
			inv, invPos = &h[j-1], j-1
		}
		switch {
		case op.F == history.Send && op.Type == history.Fail:
		case op.F == history.Send:
			sendOp(inv, op, invPos, int32(i))
		case op.Type == history.OK && len(op.Reads) > 0:
			add(op.Stream, porcupine.Operation{ClientId: client(op.Process), Input: pRead{}, Call: int64(inv.Time),
				Output: op.Reads, Return: int64(op.Time), Metadata: fmt.Sprintf("process %d, ops #%d, #%d", op.Process, inv.Index, op.Index)}, invPos, int32(i))
		}
	}
	// Sends still open at the end may yet take effect.
	pending := make([]int32, 0, len(open))
	for _, j := range open {
		pending = append(pending, j-1)
	}
	slices.Sort(pending)
	for _, j := range pending {
		if h[j].F == history.Send {
			sendOp(&h[j], nil, j, -1)
		}
	}
	out := make([]porcupineHistory, 0, len(order))
	slices.Sort(order)
	for _, name := range order {
		out = append(out, *byStream[name])
	}
	return out
}
