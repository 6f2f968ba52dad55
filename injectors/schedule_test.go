package injectors

import (
	"context"
	"errors"
	"github.com/riptidechaos/riptide/injectors/targets"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/history"
)

// nodeFault is a process fault that only remembers what it was asked.
type nodeFault struct {
	mu     *sync.Mutex
	log    *[]string
	panics bool
}

func (f nodeFault) Kind() string              { return "fake" }
func (f nodeFault) Params() map[string]string { return map[string]string{"p": "1"} }
func (f nodeFault) NodeFault()                {}
func (f nodeFault) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	return []Undo{{Action: UndoPause, Node: t.Nodes[0], PID: 42}}, nil
}
func (f nodeFault) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	if f.panics {
		panic("boom")
	}
	f.mu.Lock()
	*f.log = append(*f.log, "inject "+t.ID+" "+t.Nodes[0])
	f.mu.Unlock()
	t.note("detail", "yes")
	return func(context.Context) error {
		f.mu.Lock()
		*f.log = append(*f.log, "heal "+t.ID)
		f.mu.Unlock()
		return nil
	}, nil
}

type scheduleRun struct {
	sched *Schedule
	dir   string
	rec   *history.Recorder
	log   []string
	mu    sync.Mutex
}

func newScheduleRun(t *testing.T, c clusters.Cluster, steps []Step) *scheduleRun {
	t.Helper()
	dir := t.TempDir()
	rec, err := history.Create(filepath.Join(dir, "history.jsonl"), time.Now())
	require.NoError(t, err)
	j, err := CreateJournal(dir, "test")
	require.NoError(t, err)
	r := &scheduleRun{dir: dir, rec: rec}
	r.sched = &Schedule{Steps: steps, Cluster: c, Recorder: rec, Journal: j}
	return r
}

func (r *scheduleRun) fault() nodeFault { return nodeFault{mu: &r.mu, log: &r.log} }

// ops reads the nemesis operations of the history.
func (r *scheduleRun) ops(t *testing.T) []history.Op {
	t.Helper()
	require.NoError(t, r.rec.Close())
	h, _, err := history.ReadFile(filepath.Join(r.dir, "history.jsonl"))
	require.NoError(t, err)
	return h
}

func events(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := ReadJournal(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Event+" "+e.ID)
	}
	return out
}

func TestScheduleFiresHealsRecordsAndJournals(t *testing.T) {
	c := newTestCluster(t, 3)
	lat := Latency{Scope: Scope{Clients: true}, Latency: time.Millisecond}
	steps := []Step{
		{At: 10 * time.Millisecond, For: 30 * time.Millisecond, Target: Target{ID: "f1", Nodes: []string{"n1"}}, Injector: lat},
		{At: 20 * time.Millisecond, Target: Target{ID: "f2"}, Injector: lat}, // held until HealAll
	}
	r := newScheduleRun(t, c, steps)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.NoError(t, r.sched.Run(ctx, time.Now()))
	require.Equal(t, []string{"f2"}, r.sched.Active())
	ev := events(t, r.dir)
	require.ElementsMatch(t, []string{"begin ", "apply f1", "apply f2", "healed f1"}, ev)
	require.Less(t, slices.Index(ev, "apply f1"), slices.Index(ev, "healed f1"))
	require.NoError(t, r.sched.HealAll(context.Background()))
	require.Empty(t, r.sched.Active())
	n, err := c.net.ActiveToxics()
	require.NoError(t, err)
	require.Zero(t, n)
	require.NoError(t, r.sched.Journal.End())
	require.Equal(t, append(ev, "healed f2", "end "), events(t, r.dir))

	entries, err := ReadJournal(r.dir)
	require.NoError(t, err)
	require.Len(t, entries[1].Undo, 10, "f1: n1's client link and 4 node links, both ways, journalled before applied")
	require.Equal(t, UndoToxic, entries[1].Undo[0].Action)

	var got []string
	ops := r.ops(t)
	slices.SortStableFunc(ops, func(a, b history.Op) int { return strings.Compare(string(a.F)+a.Fault.ID, string(b.F)+b.Fault.ID) })
	for _, op := range ops {
		require.Equal(t, history.NemesisProcess, op.Process)
		require.Equal(t, history.OK, op.Type, op.Error)
		require.Equal(t, "latency", op.Fault.Kind)
		require.Equal(t, "1ms", op.Fault.Params["latency"])
		require.Positive(t, op.Fault.Actuation)
		got = append(got, string(op.F)+" "+op.Fault.ID)
	}
	require.Equal(t, []string{"fault-start f1", "fault-start f2", "fault-stop f1", "fault-stop f2"}, got)
}

// A node held by one process fault is left out of the next; a firing with
// no node left is recorded as skipped, which is not a harness error.
func TestScheduleSkipsBusyNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	r := newScheduleRun(t, c, nil)
	f := r.fault()
	r.sched.Steps = []Step{
		{At: 0, For: 300 * time.Millisecond, Target: Target{ID: "f1", Nodes: []string{"n2"}}, Injector: f},
		{At: 50 * time.Millisecond, For: 10 * time.Millisecond, Target: Target{ID: "f2", Nodes: []string{"n2"}}, Injector: f},
		{At: 600 * time.Millisecond, For: 10 * time.Millisecond, Target: Target{ID: "f3", Nodes: []string{"n2"}}, Injector: f},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.NoError(t, r.sched.Run(ctx, time.Now()))
	require.Equal(t, []string{"inject f1 n2", "heal f1", "inject f3 n2", "heal f3"}, r.log)
	var skipped []history.Op
	for _, op := range r.ops(t) {
		if op.Type == history.Fail {
			skipped = append(skipped, op)
		}
	}
	require.Len(t, skipped, 1)
	require.Equal(t, "f2", skipped[0].Fault.ID)
	require.Equal(t, "n2(f1)", skipped[0].Fault.Params["skipped"])
	require.Contains(t, skipped[0].Error, "skipped")
}

func TestScheduleResolvesTheLeaderWhenItFires(t *testing.T) {
	c := newTestCluster(t, 3)
	r := newScheduleRun(t, c, nil)
	f := r.fault()
	asked := 0
	r.sched.Leader = func(ctx context.Context) (string, error) {
		if asked++; asked < 3 {
			return "", errors.New("election under way")
		}
		return "n3", nil
	}
	r.sched.Steps = []Step{{Target: Target{ID: "f1", Nodes: []string{Leader}}, Injector: f}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.sched.Run(ctx, time.Now()))
	require.Equal(t, []string{"inject f1 n3"}, r.log)
	ops := r.ops(t)
	require.Equal(t, []string{"n3"}, ops[0].Fault.Targets)
	require.Equal(t, "n3", ops[0].Fault.Params["leader"])
	require.Equal(t, "yes", ops[0].Fault.Params["detail"], "what the fault noted is recorded")
}

func TestScheduleRecoversAPanickingFault(t *testing.T) {
	c := newTestCluster(t, 3)
	r := newScheduleRun(t, c, nil)
	f := r.fault()
	f.panics = true
	r.sched.Steps = []Step{{Target: Target{ID: "f1", Nodes: []string{"n1"}}, Injector: f}}
	err := r.sched.Run(context.Background(), time.Now())
	require.ErrorContains(t, err, "fault f1 (fake) panicked: boom")
	// The apply line was written before the panic: teardown closes it.
	require.Equal(t, []string{"f1"}, r.sched.Journal.Open())
	require.NoError(t, r.sched.TornDown("test"))
	require.Empty(t, r.sched.Journal.Open())
}

// TornDown records the stop of every fault still on and closes them in
// the journal, as the runner does on Ctrl-C.
func TestScheduleTornDown(t *testing.T) {
	c := newTestCluster(t, 3)
	r := newScheduleRun(t, c, nil)
	r.sched.Steps = []Step{{Target: Target{ID: "f1", Nodes: []string{"n1"}}, Injector: r.fault()}}
	require.NoError(t, r.sched.Run(context.Background(), time.Now()))
	require.NoError(t, r.sched.TornDown("interrupted"))
	require.NoError(t, r.sched.Journal.End())
	require.Equal(t, []string{"begin ", "apply f1", "torn-down f1", "end "}, events(t, r.dir))
	ops := r.ops(t)
	require.Len(t, ops, 2)
	require.Equal(t, history.FaultStop, ops[1].F)
	require.Equal(t, "teardown", ops[1].Fault.Params["healed_by"])
	require.Equal(t, []string{"inject f1 n1"}, r.log, "teardown does not heal")
}

// An instant fault (restart, disk) is healed, and its stop recorded, as
// soon as it has done its work.
func TestScheduleHealsInstantFaultsAtOnce(t *testing.T) {
	c := newTestCluster(t, 3)
	r := newScheduleRun(t, c, nil)
	r.sched.Steps = []Step{{Target: Target{ID: "f1", Nodes: []string{"n1"}}, Injector: instantFault{r.fault()}}}
	require.NoError(t, r.sched.Run(context.Background(), time.Now()))
	require.Empty(t, r.sched.Active())
	require.Equal(t, []string{"inject f1 n1", "heal f1"}, r.log)
}

type instantFault struct{ nodeFault }

func (instantFault) Instant() {}

func TestJournalReadsTornLinesAndMarksCleaned(t *testing.T) {
	dir := t.TempDir()
	j, err := CreateJournal(dir, "process")
	require.NoError(t, err)
	require.NoError(t, j.Apply(JournalEntry{ID: "f1", Kind: "pause", Undo: []Undo{{Action: UndoPause, Node: "n1", PID: 7}}}))
	require.NoError(t, j.Apply(JournalEntry{ID: "f2", Kind: "latency"}))
	require.NoError(t, j.Healed("f2"))
	require.NoError(t, j.Apply(JournalEntry{ID: "f3", Kind: "kill"}))
	// The harness dies while writing a line.
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-01-01T00:00:00Z","event":"hea`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	entries, err := ReadJournal(dir)
	require.NoError(t, err)
	require.False(t, Ended(entries))
	var open []string
	for _, e := range Unhealed(entries) {
		open = append(open, e.ID)
	}
	require.Equal(t, []string{"f1", "f3"}, open)
	require.Equal(t, 7, Unhealed(entries)[0].Undo[0].PID)

	require.NoError(t, MarkCleaned(dir, open, "test"))
	entries, err = ReadJournal(dir)
	require.NoError(t, err)
	require.True(t, Ended(entries))
	require.Empty(t, Unhealed(entries))
	require.Equal(t, []string{"begin ", "apply f1", "apply f2", "healed f2", "apply f3", "cleaned f1", "cleaned f3", "end "}, events(t, dir))
}

func TestJournalEndReportsOpenFaults(t *testing.T) {
	j, err := CreateJournal(t.TempDir(), "process")
	require.NoError(t, err)
	require.NoError(t, j.Apply(JournalEntry{ID: "f1"}))
	require.ErrorContains(t, j.End(), "faults [f1] still open")
	var nilJournal *Journal
	require.NoError(t, nilJournal.Apply(JournalEntry{ID: "f1"}))
	require.NoError(t, nilJournal.End())
}

func TestResolveTarget(t *testing.T) {
	nodes := names(5)
	tests := []struct {
		spec string
		want []string
	}{
		{"one", []string{"n1"}},
		{"minority", []string{"n1", "n2"}},
		{"majority", []string{"n1", "n2", "n3"}},
		{"all", nodes},
		{"leader", []string{Leader}},
		{"all-links", nil},
		{"n4", []string{"n4"}},
	}
	for _, tt := range tests {
		got, err := ResolveTarget(tt.spec, nodes, nil)
		require.NoError(t, err, tt.spec)
		require.Equal(t, tt.want, got, tt.spec)
	}
	for spec, size := range map[string]int{"random-one": 1, "random-minority": 2, "random-majority": 3} {
		rng := func() []string {
			got, err := ResolveTarget(spec, nodes, randFor(9))
			require.NoError(t, err)
			return got
		}
		got := rng()
		require.Len(t, got, size, spec)
		require.Equal(t, got, rng(), "%s: the same seed draws the same nodes", spec)
		require.True(t, slices.IsSortedFunc(got, func(a, b string) int { return slices.Index(nodes, a) - slices.Index(nodes, b) }), "%s: cluster order", spec)
	}
	_, err := ResolveTarget("minority", names(2), nil)
	require.ErrorContains(t, err, "a cluster of 2 nodes has no such nodes")
	_, err = ResolveTarget("n7", nodes, nil)
	require.ErrorContains(t, err, `target "n7"`)
	require.Equal(t, []int{0, 1, 1, 2, 2}, []int{targets.Minority(1), targets.Minority(3), targets.Minority(4), targets.Minority(5), targets.Minority(6)})
	require.Equal(t, []int{1, 2, 3, 3, 4}, []int{targets.Majority(1), targets.Majority(3), targets.Majority(4), targets.Majority(5), targets.Majority(6)})
}

func randFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// slowFault takes a while, as a rolling restart does, and gives up when
// its context ends.
type slowFault struct{ nodeFault }

func (slowFault) Instant() {}
func (f slowFault) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(200 * time.Millisecond):
		return f.nodeFault.Inject(ctx, c, t)
	}
}

// A fault at work when the main phase ends finishes; only the end of the
// run's context (an interrupt) cuts it short.
func TestScheduleLetsAFaultAtWorkFinish(t *testing.T) {
	c := newTestCluster(t, 3)
	for _, interrupted := range []bool{false, true} {
		r := newScheduleRun(t, c, nil)
		r.sched.Steps = []Step{{Target: Target{ID: "f1", Nodes: []string{"n1"}}, Injector: slowFault{r.fault()}}}
		parent, stop := context.WithCancel(context.Background())
		r.sched.Parent = parent
		main, cancel := context.WithTimeout(parent, 50*time.Millisecond)
		if interrupted {
			time.AfterFunc(50*time.Millisecond, stop)
		}
		err := r.sched.Run(main, time.Now())
		cancel()
		stop()
		if interrupted {
			require.ErrorIs(t, err, context.Canceled)
		} else {
			require.NoError(t, err)
			require.Equal(t, []string{"inject f1 n1", "heal f1"}, r.log)
		}
	}
}
