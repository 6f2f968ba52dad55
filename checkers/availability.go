package checkers

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// Availability measures traffic before, during and after each fault: sends
// and acknowledgements, messages read by consumers, throughput and the
// latency of acknowledged sends. It judges one thing: a run whose first
// fault came before enough sends were acknowledged proves nothing about
// faults (unexercised, an unknown verdict), as etcd's robustness tests
// refuse to count a run with too little traffic before the failpoint.
type Availability struct {
	// MinAckedBeforeFault is how many sends must be acknowledged before the
	// first fault starts. 0 means DefaultMinAckedBeforeFault; a negative
	// value turns the floor off.
	MinAckedBeforeFault int
}

// DefaultMinAckedBeforeFault is small on purpose: a scenario's first fault
// often comes a few seconds in, and a slow durable cluster acknowledges a
// few hundred sends a second; twenty shows the cluster was taking writes.
const DefaultMinAckedBeforeFault = 20

func (Availability) Name() string { return "availability" }

// sendDone is one completed send, for the windows.
type sendDone struct {
	t       int64
	latency int64
	acked   bool
}

// pollDone is one completed consumer poll.
type pollDone struct {
	t     int64
	reads int64
}

// faultSpan is one fault from its start to its stop.
type faultSpan struct {
	id, kind   string
	targets    []string
	start, end int64
	startPos   int
	stopped    bool
}

func (c Availability) Check(ctx context.Context, h []history.Op) Result {
	var res Result
	floor := c.MinAckedBeforeFault
	if floor == 0 {
		floor = DefaultMinAckedBeforeFault
	}
	drainers := DrainProcesses(h)
	var (
		sends        []sendDone
		polls        []pollDone
		faults       []*faultSpan
		byID         = map[string]*faultSpan{}
		invokedAt    = map[int]int64{}
		trafficStart = int64(math.MaxInt64)
		trafficEnd   = int64(math.MinInt64)
	)
	for i := range h {
		if i&0xffff == 0 && ctx.Err() != nil {
			res.Error = fmt.Sprintf("availability checker stopped: %v", ctx.Err())
			return res
		}
		op := &h[i]
		t := int64(op.Time)
		if op.Process == history.NemesisProcess {
			if op.Fault == nil {
				continue
			}
			switch {
			case op.F == history.FaultStart && op.Type == history.OK:
				f := &faultSpan{id: op.Fault.ID, kind: op.Fault.Kind, targets: op.Fault.Targets, start: t, end: t, startPos: i}
				faults = append(faults, f)
				byID[f.id] = f
			case op.F == history.FaultStop:
				if f := byID[op.Fault.ID]; f != nil && !f.stopped {
					f.end, f.stopped = max(t, f.start), true
				}
			}
			continue
		}
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			invokedAt[op.Process] = t
			trafficStart = min(trafficStart, t)
		case op.F == history.Send:
			inv, ok := invokedAt[op.Process]
			if !ok {
				inv = t
			}
			delete(invokedAt, op.Process)
			sends = append(sends, sendDone{t: t, latency: t - inv, acked: op.Type == history.OK})
			trafficEnd = max(trafficEnd, t)
		case op.F == history.Poll && op.Type == history.OK && !drainers[op.Process]:
			polls = append(polls, pollDone{t: t, reads: int64(len(op.Reads))})
		}
	}
	// Ops are recorded in time order; sort anyway, a history may be merged.
	slices.SortStableFunc(sends, func(a, b sendDone) int { return cmp.Compare(a.t, b.t) })
	slices.SortStableFunc(polls, func(a, b pollDone) int { return cmp.Compare(a.t, b.t) })
	if trafficEnd < trafficStart {
		trafficStart, trafficEnd = 0, 0
	}
	for _, f := range faults {
		if !f.stopped {
			f.end = max(f.start, trafficEnd)
		}
	}
	slices.SortStableFunc(faults, func(a, b *faultSpan) int { return cmp.Compare(a.start, b.start) })

	var acked int64
	for _, s := range sends {
		if s.acked {
			acked++
		}
	}
	res.Stats = map[string]int64{"faults": int64(len(faults)), "acked": acked}
	all := stats(sends, polls, trafficStart, trafficEnd+1)
	res.Stats["acked-p50-ns"], res.Stats["acked-p99-ns"] = int64(all.P50), int64(all.P99)
	if len(faults) == 0 {
		return res
	}
	first := faults[0]
	before := stats(sends, polls, math.MinInt64, first.start)
	res.Stats["acked-before-first-fault"] = before.Acked
	if floor > 0 && before.Acked < int64(floor) {
		op := h[first.startPos]
		res.Add(Unexercised, Example{Ops: []int64{op.Index},
			Message: fmt.Sprintf("only %d send(s) were acknowledged before the first fault (%s %s, op #%d) started at %s; at least %d are needed to show the faults met traffic",
				before.Acked, first.id, first.kind, op.Index, fmtDuration(first.start), floor)})
	}
	for _, f := range faults {
		lo, hi := quietAround(f, faults, trafficStart, trafficEnd)
		res.Windows = append(res.Windows, FaultWindow{
			ID: f.id, Kind: f.kind, Targets: f.targets,
			Start: time.Duration(f.start), End: time.Duration(f.end),
			Before: stats(sends, polls, lo, f.start),
			During: stats(sends, polls, f.start, f.end),
			After:  stats(sends, polls, f.end, hi),
		})
	}
	return res
}

// quietAround finds the fault-free stretches next to fault f: before runs
// back to the end of the previous fault (or the start of traffic), after
// runs on to the start of the next one (or the end of traffic). Another
// fault in effect at f's edge leaves that stretch empty.
func quietAround(f *faultSpan, faults []*faultSpan, trafficStart, trafficEnd int64) (lo, hi int64) {
	// hi is exclusive: one past the last completion keeps it in.
	lo, hi = min(trafficStart, f.start), max(trafficEnd+1, f.end)
	for _, g := range faults {
		if g == f {
			continue
		}
		switch {
		case g.end <= f.start:
			lo = max(lo, g.end)
		case g.start <= f.start:
			lo = f.start // g is in effect when f starts
		}
		switch {
		case g.start >= f.end:
			hi = min(hi, g.start)
		case g.end >= f.end:
			hi = f.end
		}
	}
	return lo, max(hi, f.end)
}

// stats is the traffic of [lo, hi).
func stats(sends []sendDone, polls []pollDone, lo, hi int64) WindowStats {
	w := WindowStats{Start: time.Duration(max(lo, 0)), End: time.Duration(max(hi, 0))}
	if lo == math.MinInt64 {
		w.Start = 0
	}
	i := sort.Search(len(sends), func(i int) bool { return sends[i].t >= lo })
	var lat []int64
	for ; i < len(sends) && sends[i].t < hi; i++ {
		w.Sends++
		if sends[i].acked {
			w.Acked++
			lat = append(lat, sends[i].latency)
		}
	}
	j := sort.Search(len(polls), func(j int) bool { return polls[j].t >= lo })
	for ; j < len(polls) && polls[j].t < hi; j++ {
		w.Reads += polls[j].reads
	}
	if span := float64(w.End-w.Start) / float64(time.Second); span > 0 {
		w.AckedPerSec = float64(w.Acked) / span
		w.ReadsPerSec = float64(w.Reads) / span
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		w.P50 = time.Duration(percentile(lat, 0.50))
		w.P99 = time.Duration(percentile(lat, 0.99))
	}
	return w
}

// percentile is the nearest-rank percentile of sorted xs.
func percentile(xs []int64, p float64) int64 {
	k := int(math.Ceil(p*float64(len(xs)))) - 1
	return xs[min(max(k, 0), len(xs)-1)]
}

// DrainProcesses lists the processes that performed a final drain: their
// polls are the drain's, not consumer traffic.
func DrainProcesses(h []history.Op) map[int]bool {
	out := map[int]bool{}
	for i := range h {
		if h[i].F == history.Drain {
			out[h[i].Process] = true
		}
	}
	return out
}
