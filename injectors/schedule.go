package injectors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/history"
)

// Step is one firing of a fault.
type Step struct {
	At time.Duration
	// For is how long the fault holds; 0 holds it until the end of the
	// main phase, when HealAll undoes it.
	For      time.Duration
	Target   Target
	Injector Injector
}

// Schedule fires steps at their times during the main phase, heals each when
// its time is up, and records every start and stop as an operation of the
// nemesis (process -1) with its actuation latency.
type Schedule struct {
	Steps    []Step
	Cluster  clusters.Cluster
	Recorder *history.Recorder
	// Logf, when set, receives one line per fault event.
	Logf func(format string, args ...any)

	mu     sync.Mutex
	active map[string]active
}

type active struct {
	step Step
	heal Heal
}

// Run fires the steps relative to start until ctx ends (the end of the main
// phase). Faults still active then stay active until HealAll.
func (s *Schedule) Run(ctx context.Context, start time.Time) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, st := range s.Steps {
		wg.Go(func() {
			if err := s.runStep(ctx, start, st); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Schedule) runStep(ctx context.Context, start time.Time, st Step) error {
	due := start.Add(st.At)
	if !sleepUntil(ctx, due) {
		return nil
	}
	heal, err := st.Injector.Inject(ctx, s.Cluster, st.Target)
	s.record(history.FaultStart, st, due, err)
	if err != nil {
		if heal != nil {
			_ = heal(context.WithoutCancel(ctx))
		}
		return fmt.Errorf("fault %s (%s): %w", st.Target.ID, st.Injector.Kind(), err)
	}
	s.mu.Lock()
	if s.active == nil {
		s.active = make(map[string]active)
	}
	s.active[st.Target.ID] = active{st, heal}
	s.mu.Unlock()
	if st.For <= 0 {
		return nil
	}
	if !sleepUntil(ctx, due.Add(st.For)) {
		return nil // HealAll takes over
	}
	return s.heal(context.WithoutCancel(ctx), st.Target.ID, due.Add(st.For))
}

// heal undoes one active fault and records its stop.
func (s *Schedule) heal(ctx context.Context, id string, due time.Time) error {
	s.mu.Lock()
	a, ok := s.active[id]
	delete(s.active, id)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	err := a.heal(ctx)
	s.record(history.FaultStop, a.step, due, err)
	if err != nil {
		return fmt.Errorf("heal %s (%s): %w", id, a.step.Injector.Kind(), err)
	}
	return nil
}

// HealAll undoes every fault still active, in the reverse order of their
// start, and records their stops.
func (s *Schedule) HealAll(ctx context.Context) error {
	now := time.Now()
	var errs []error
	for _, id := range s.Active() {
		errs = append(errs, s.heal(ctx, id, now))
	}
	return errors.Join(errs...)
}

// Active lists the ids of active faults, latest start first.
func (s *Schedule) Active() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.active))
	for id := range s.active {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		return s.active[ids[i]].step.At > s.active[ids[j]].step.At
	})
	return ids
}

func (s *Schedule) record(f history.F, st Step, due time.Time, err error) {
	actuation := time.Since(due)
	op := history.Op{
		Process: history.NemesisProcess, Type: history.OK, F: f, Offset: history.NoOffset,
		Fault: &history.Fault{
			ID: st.Target.ID, Kind: st.Injector.Kind(), Targets: st.Target.Nodes,
			Params: st.Injector.Params(), Actuation: actuation,
		},
	}
	if err != nil {
		op.Type = history.Fail
		op.Error = err.Error()
	}
	if s.Recorder != nil {
		_, _ = s.Recorder.Record(op)
	}
	if s.Logf != nil {
		targets := "all links"
		if len(st.Target.Nodes) > 0 {
			targets = fmt.Sprint(st.Target.Nodes)
		}
		status := "ok"
		if err != nil {
			status = "FAILED: " + err.Error()
		}
		s.Logf("%s %s %s on %s (%s after due) %s", f, st.Target.ID, st.Injector.Kind(), targets,
			actuation.Round(time.Microsecond), status)
	}
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
