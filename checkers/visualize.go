package checkers

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/riptidechaos/riptide/history"
)

// VisualizeStream writes porcupine's HTML visualization of one stream's
// log, within ctx's deadline (default one minute). When the witness finds
// the stream not linearizable, it shows the operations around the first
// violation (a busy stream is far too large to draw whole), checked on a
// sparse log, which a part of a history can be checked on soundly, and
// annotated with the witness's explanation; otherwise the whole stream if
// it has at most maxOps operations.
func VisualizeStream(ctx context.Context, h []history.Op, stream string, m LogModel, w io.Writer) error {
	const maxOps = 2000
	s := newLinScan(h, m)
	if err := s.scan(ctx); err != nil {
		return fmt.Errorf("visualize stream %s: %w", stream, err)
	}
	st := s.streams.byName[stream]
	if st == nil {
		return fmt.Errorf("visualize stream %s: no such stream in the history", stream)
	}
	all := porcupineHistories(h, m)
	var ph porcupineHistory
	for _, x := range all {
		if x.stream == stream {
			ph = x
		}
	}
	var notes []porcupine.Annotation
	model := m
	if vs := s.check(st).list; len(vs) > 0 {
		ph = around(h, ph, vs[0], maxOps)
		model.Sparse = true
		for _, v := range vs[:min(len(vs), 20)] {
			if len(v.ops) == 0 {
				continue
			}
			at := int64(h[v.ops[0]].Time)
			notes = append(notes, porcupine.Annotation{Tag: "riptide", Start: at, Description: "violation",
				Details: v.msg, BackgroundColor: "#ffd6d6"})
		}
	} else if len(ph.ops) > maxOps {
		return fmt.Errorf("visualize stream %s: it is linearizable and has %d operations, too many to draw (at most %d)", stream, len(ph.ops), maxOps)
	}
	timeout := time.Until(deadlineOf(ctx, time.Minute))
	if timeout <= 0 {
		return fmt.Errorf("visualize stream %s: %w", stream, errTimeout)
	}
	g := startGuard(ctx, DefaultPorcupineMaxHeap)
	_, info := porcupine.CheckOperationsVerbose(logModel(model, g), ph.ops, timeout)
	if err := g.stop(); err != nil {
		return fmt.Errorf("visualize stream %s: %w", stream, err)
	}
	info.AddAnnotations(notes)
	return visualize(logModel(model, nil), info, w)
}

// visualize writes the HTML, turning a panic in porcupine's replay into an
// error.
func visualize(model porcupine.Model, info porcupine.LinearizationInfo, w io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("porcupine visualization failed: %v", p)
		}
	}()
	return porcupine.Visualize(model, info, w)
}

// around keeps the operations of ph near violation v: those overlapping
// the time span of v's operations, at most limit of them, plus the sends
// whose values the kept reads returned; reads keep only the messages whose
// sends are kept. On a sparse log, a history cut this way that is not
// linearizable proves the whole one is not.
func around(h []history.Op, ph porcupineHistory, v violation, limit int) porcupineHistory {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, p := range v.ops {
		lo, hi = min(lo, int64(h[p].Time)), max(hi, int64(h[p].Time))
	}
	named := map[int32]bool{}
	for _, p := range v.ops {
		named[p] = true
	}
	keep := make([]bool, len(ph.ops))
	n := 0
	for i := range ph.ops {
		if named[ph.pos[i][0]] || named[ph.pos[i][1]] {
			keep[i] = true
			n++
		}
	}
	for i, op := range ph.ops {
		if !keep[i] && n < limit && op.Call <= hi && op.Return >= lo {
			keep[i] = true
			n++
		}
	}
	sent := map[string]int{}
	for i, op := range ph.ops {
		if in, ok := op.Input.(pSend); ok {
			sent[in.value] = i
		}
	}
	for i, op := range ph.ops {
		if !keep[i] {
			continue
		}
		if rs, ok := op.Output.([]history.Read); ok {
			for _, r := range rs {
				if j, ok := sent[r.Value]; ok && !keep[j] && n < limit {
					keep[j] = true
					n++
				}
			}
		}
	}
	out := porcupineHistory{stream: ph.stream}
	for i, op := range ph.ops {
		if !keep[i] {
			continue
		}
		if rs, ok := op.Output.([]history.Read); ok {
			var kept []history.Read
			for _, r := range rs {
				if j, ok := sent[r.Value]; !ok || keep[j] {
					kept = append(kept, r)
				}
			}
			op.Output = kept
		}
		out.ops = append(out.ops, op)
		out.pos = append(out.pos, ph.pos[i])
	}
	return out
}
