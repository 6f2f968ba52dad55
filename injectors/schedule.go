package injectors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/history"
)

// Step is one firing of a fault.
type Step struct {
	At time.Duration
	// For is how long the fault holds; 0 holds it until the end of the
	// main phase, when HealAll undoes it. Instant faults ignore it.
	For      time.Duration
	Target   Target
	Injector Injector
}

// leaderTimeout bounds the search for the leader when a fault aimed at it
// fires: an election takes up to about 10 s on NATS.
const leaderTimeout = 15 * time.Second

// Schedule fires steps at their times during the main phase, heals each
// when its time is up, and records every start and stop as an operation of
// the nemesis (process -1) with its actuation latency: the time from when
// the step was due until it was in effect (or healed) everywhere. Before a
// fault is applied, what it will do is written to the heal journal.
type Schedule struct {
	Steps    []Step
	Cluster  clusters.Cluster
	Recorder *history.Recorder
	// Journal, when set, receives a line before each fault is applied and
	// one when it is undone.
	Journal *Journal
	// Leader names the stream's current leader, for steps whose target
	// holds Leader.
	Leader func(ctx context.Context) (string, error)
	// Logf, when set, receives one line per fault event.
	Logf func(format string, args ...any)
	// Parent, when set, is the run's context: a fault still at work when
	// the main phase ends (a rolling restart takes seconds) finishes under
	// it, so that only an interrupt cuts it short. Without it, the end of
	// the main phase does.
	Parent context.Context

	mu     sync.Mutex
	active map[string]active
	busy   map[string]string // node -> id of the node fault holding it
}

type active struct {
	step   Step
	target Target
	heal   Heal
}

// Run fires the steps relative to start until ctx ends (the end of the main
// phase). Faults still active then stay active until HealAll. A panic in a
// step is recovered and returned as an error, so that the runner still
// heals and reports.
func (s *Schedule) Run(ctx context.Context, start time.Time) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, st := range s.Steps {
		wg.Go(func() {
			err := s.runStepSafe(ctx, start, st)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Schedule) runStepSafe(ctx context.Context, start time.Time, st Step) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fault %s (%s) panicked: %v\n%s", st.Target.ID, st.Injector.Kind(), r, debug.Stack())
		}
	}()
	return s.runStep(ctx, start, st)
}

func (s *Schedule) runStep(ctx context.Context, start time.Time, st Step) error {
	due := start.Add(st.At)
	if !sleepUntil(ctx, due) {
		return nil
	}
	t := st.Target
	t.Nodes = slices.Clone(t.Nodes)
	t.Details = map[string]string{}
	if i := slices.Index(t.Nodes, Leader); i >= 0 {
		leader, err := s.findLeader(ctx)
		if err != nil {
			s.record(history.FaultStart, st, t, due, err)
			return fmt.Errorf("fault %s (%s): %w", t.ID, st.Injector.Kind(), err)
		}
		t.Nodes[i] = leader
		t.Nodes = slices.Compact(t.Nodes)
		t.Details["leader"] = leader
	}
	if _, ok := st.Injector.(NodeFault); ok {
		var skipped []string
		t.Nodes, skipped = s.claim(t.ID, t.Nodes)
		if len(skipped) > 0 {
			t.Details["skipped"] = strings.Join(skipped, " ")
		}
		if len(t.Nodes) == 0 {
			// Not a harness failure: an earlier fault still holds every
			// target (a random schedule drew the same node twice).
			s.record(history.FaultStart, st, t, due, errSkipped)
			return nil
		}
	}
	if err := s.journalApply(st, t); err != nil {
		s.release(t.ID)
		s.record(history.FaultStart, st, t, due, err)
		return fmt.Errorf("fault %s (%s): %w", t.ID, st.Injector.Kind(), err)
	}
	// Work and heals outlive the main phase but not an interrupt, which
	// leaves what is on to the teardown.
	work := context.WithoutCancel(ctx)
	if s.Parent != nil {
		work = s.Parent
	}
	heal, err := st.Injector.Inject(work, s.Cluster, t)
	s.record(history.FaultStart, st, t, due, err)
	if heal == nil {
		heal = func(context.Context) error { return nil }
	}
	s.mu.Lock()
	if s.active == nil {
		s.active = make(map[string]active)
	}
	s.active[t.ID] = active{st, t, heal}
	s.mu.Unlock()
	if err != nil {
		// Undo whatever part was applied, now rather than at the end.
		_ = s.heal(work, t.ID, time.Now())
		return fmt.Errorf("fault %s (%s): %w", t.ID, st.Injector.Kind(), err)
	}
	if _, ok := st.Injector.(Instant); ok {
		return s.heal(work, t.ID, time.Now())
	}
	if st.For <= 0 {
		return nil
	}
	if !sleepUntil(ctx, due.Add(st.For)) {
		return nil // HealAll takes over
	}
	return s.heal(work, t.ID, due.Add(st.For))
}

// errSkipped marks a firing left out because its nodes were busy.
var errSkipped = errors.New("skipped: every target node is held by an earlier fault")

func (s *Schedule) findLeader(ctx context.Context) (string, error) {
	if s.Leader == nil {
		return "", errors.New("target leader: this system cannot name its leader")
	}
	ctx, cancel := context.WithTimeout(ctx, leaderTimeout)
	defer cancel()
	for {
		leader, err := s.Leader(ctx)
		if err == nil {
			if _, ok := clusters.FindNode(s.Cluster, leader); !ok {
				return "", fmt.Errorf("target leader: %q is not a node of the cluster", leader)
			}
			return leader, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("target leader: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// claim marks nodes as held by fault id and returns those it got and
// those another fault holds.
func (s *Schedule) claim(id string, nodes []string) (got, skipped []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = map[string]string{}
	}
	for _, n := range nodes {
		if holder, ok := s.busy[n]; ok {
			skipped = append(skipped, n+"("+holder+")")
			continue
		}
		s.busy[n] = id
		got = append(got, n)
	}
	return got, skipped
}

func (s *Schedule) release(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.busy, func(_, holder string) bool { return holder == id })
}

func (s *Schedule) journalApply(st Step, t Target) error {
	if s.Journal == nil {
		return nil
	}
	var undo []Undo
	if p, ok := st.Injector.(Planner); ok {
		var err error
		if undo, err = p.Plan(s.Cluster, t); err != nil {
			return err
		}
	}
	return s.Journal.Apply(JournalEntry{ID: t.ID, Kind: st.Injector.Kind(), Targets: t.Nodes,
		Params: st.Injector.Params(), Undo: undo})
}

// heal undoes one active fault, records its stop and journals it.
func (s *Schedule) heal(ctx context.Context, id string, due time.Time) error {
	s.mu.Lock()
	a, ok := s.active[id]
	delete(s.active, id)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	err := a.heal(ctx)
	if err == nil {
		err = s.Journal.Healed(id)
	}
	s.release(id)
	s.record(history.FaultStop, a.step, a.target, due, err)
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

// TornDown records that the cluster was torn down with faults still
// active (Ctrl-C, an error, a panic): stopping every node and proxy undid
// them. It records their stops and journals them as torn down.
func (s *Schedule) TornDown(note string) error {
	now := time.Now()
	s.mu.Lock()
	actives := slices.Collect(maps.Values(s.active))
	clear(s.active)
	clear(s.busy)
	s.mu.Unlock()
	sort.Slice(actives, func(i, j int) bool { return actives[i].target.ID < actives[j].target.ID })
	for _, a := range actives {
		a.target.Details["healed_by"] = "teardown"
		s.record(history.FaultStop, a.step, a.target, now, nil)
	}
	return s.Journal.TornDown(note)
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
		a, b := s.active[ids[i]].step.At, s.active[ids[j]].step.At
		if a != b {
			return a > b
		}
		return ids[i] > ids[j]
	})
	return ids
}

// ActiveNames describes the active faults for a status line, latest start
// first: "f2 partition n1,n3" (no node names for faults on all links).
func (s *Schedule) ActiveNames() []string {
	ids := s.Active()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		a, ok := s.active[id]
		if !ok {
			continue
		}
		name := id + " " + a.step.Injector.Kind()
		if len(a.target.Nodes) > 0 {
			name += " " + strings.Join(a.target.Nodes, ",")
		}
		out = append(out, name)
	}
	return out
}

func (s *Schedule) record(f history.F, st Step, t Target, due time.Time, err error) {
	actuation := time.Since(due)
	params := st.Injector.Params()
	if params == nil {
		params = map[string]string{}
	}
	maps.Copy(params, t.Details)
	if len(params) == 0 {
		params = nil
	}
	op := history.Op{
		Process: history.NemesisProcess, Type: history.OK, F: f, Offset: history.NoOffset,
		Fault: &history.Fault{
			ID: t.ID, Kind: st.Injector.Kind(), Targets: t.Nodes,
			Params: params, Actuation: actuation,
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
		switch {
		case len(t.Nodes) > 0:
			targets = fmt.Sprint(t.Nodes)
		case params["sides"] != "":
			targets = "sides " + params["sides"]
		case params["ring"] != "":
			targets = "ring " + params["ring"]
		case params["links"] != "":
			targets = "links " + params["links"]
		}
		status := "ok"
		switch {
		case errors.Is(err, errSkipped):
			status = err.Error()
		case err != nil:
			status = "FAILED: " + err.Error()
		}
		when := actuation.Round(time.Microsecond).String() + " after due"
		if t.Details["healed_by"] == "teardown" {
			when = "undone by the teardown" // stopping the cluster undid it, not a due heal
		}
		s.Logf("%s %s %s on %s (%s) %s", f, t.ID, st.Injector.Kind(), targets, when, status)
	}
}

// spinWindow is how long before a fault is due the schedule stops
// sleeping and yields in a loop instead: a timer on a loaded 2-core VM
// fires 100-700 µs late, which would be most of a partition's actuation.
// The loop costs at most this much CPU per fault event.
const spinWindow = 500 * time.Microsecond

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	if d := time.Until(t) - spinWindow; d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
	for time.Now().Before(t) {
		if ctx.Err() != nil {
			return false
		}
		runtime.Gosched()
	}
	return ctx.Err() == nil
}
