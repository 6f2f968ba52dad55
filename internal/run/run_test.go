package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/scenarios"
)

// nodePIDs reads the pid files of a running cluster.
func nodePIDs(t *testing.T, dir string) []int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "nodes", "*", "pid"))
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestRealClusterShortScenario runs kill, partition and latency against a
// real 3-node NATS cluster and checks the whole run directory.
func TestRealClusterShortScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster for about 40 s; skipped with -short")
	}
	sc, err := scenarios.Load("../../testdata/scenarios/nats-short.yaml")
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Note the node pids while the run goes, to prove they are gone after.
	var pids []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil && len(pids) < 3 {
			pids = nodePIDs(t, dir)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	out, err := Run(ctx, sc, Options{Dir: dir, Log: testLog{t}})
	require.NoError(t, err)
	<-done

	r := out.Results
	assert.Equal(t, checkers.Valid, r.Verdict, r.Reason)
	assert.Zero(t, r.Counts[checkers.Lost])
	assert.Greater(t, r.Acked, int64(100))
	assert.True(t, r.Drain.Complete)
	assert.Empty(t, r.HarnessErrors)
	assert.Equal(t, sc.Cluster.Version, r.Scenario.ServerVersion, "the servers report the pinned version")
	require.Len(t, r.Faults, 6, "three starts and three stops")
	for _, f := range r.Faults {
		assert.Empty(t, f.Error, "fault %s %s", f.ID, f.F)
	}
	for _, name := range []string{"scenario.yaml", "history.jsonl", "results.json", "report.html", "nodes/n1/node.log", "nodes/n3/nats.conf", "schedule.json"} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	// Every fault was journalled before it was applied and healed after.
	journal, err := injectors.ReadJournal(dir)
	require.NoError(t, err)
	assert.True(t, injectors.Ended(journal))
	assert.Empty(t, injectors.Unhealed(journal))
	var healed int
	for _, e := range journal {
		if e.Event == injectors.EventHealed {
			healed++
		}
	}
	assert.Equal(t, 3, healed)
	h, info, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	assert.False(t, info.Torn)
	assert.Equal(t, r.Ops, int64(len(h)))
	// After the drain, each node's own copy was read to its end.
	judged := map[string]bool{}
	for _, op := range h {
		if op.F == history.DrainNode && op.Type == history.OK {
			judged[op.Node] = true
		}
	}
	assert.Equal(t, map[string]bool{"n1": true, "n2": true, "n3": true}, judged, "nodes whose per-node read is complete")

	require.Len(t, pids, 3)
	for _, pid := range pids {
		assert.False(t, alive(pid), "node pid %d outlived the run", pid)
	}
}

// TestRealClusterInterruptStopsFast cancels a run in its main phase: it must
// return within 5 s, kill every node and leave a checked history.
func TestRealClusterInterruptStopsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	sc, err := scenarios.Load("../../testdata/scenarios/nats-short.yaml")
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var pids []int
	go func() {
		// Interrupt once the history has grown: the main phase is on.
		for ctx.Err() == nil {
			if st, err := os.Stat(filepath.Join(dir, "history.jsonl")); err == nil && st.Size() > 20_000 {
				pids = nodePIDs(t, dir)
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	out, err := Run(ctx, sc, Options{Dir: dir, Log: testLog{t}})
	require.NoError(t, err)
	r := out.Results
	assert.True(t, r.Interrupted)
	assert.Equal(t, ExitHarness, ExitCode(r))
	assert.NotEqual(t, checkers.Valid, r.Verdict, "an interrupted run is not valid")
	assert.False(t, r.Drain.Ran)
	require.Len(t, pids, 3)
	for _, pid := range pids {
		assert.False(t, alive(pid), "node pid %d outlived the run", pid)
	}
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	assert.NotEmpty(t, h)
	// Teardown undid whatever fault was on, and the journal says so.
	journal, err := injectors.ReadJournal(dir)
	require.NoError(t, err)
	assert.True(t, injectors.Ended(journal))
	assert.Empty(t, injectors.Unhealed(journal))
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// randomScenario draws a fault every 3 s from four kinds.
const randomScenario = `
name: random-short
seed: 11
duration: 14s
cluster: {system: nats, nodes: 3, config: {sync_interval: always}}
workload: {kind: queue, producers: 2, consumers: 1, rate: 100, timeout: 3s, drain: 20s}
faults:
  - {kind: random, at: 2s, every: 3s, duration: 1500ms, from: [kill, pause, partition, latency]}
`

// TestRealClusterRandomFaults runs a random schedule against a real
// cluster: the firings in the history are the ones schedule.json planned
// from the seed, every one applied and healed, and nothing is lost.
func TestRealClusterRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster for about 25 s; skipped with -short")
	}
	sc, err := scenarios.Parse("random-short.yaml", []byte(randomScenario))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := Run(ctx, sc, Options{Dir: dir, Log: testLog{t}})
	require.NoError(t, err)
	r := out.Results
	assert.Equal(t, checkers.Valid, r.Verdict, r.Reason)
	assert.True(t, r.Drain.Complete)

	b, err := os.ReadFile(filepath.Join(dir, "schedule.json"))
	require.NoError(t, err)
	var plan struct {
		Firings []struct{ ID, Kind string } `json:"firings"`
	}
	require.NoError(t, json.Unmarshal(b, &plan))
	require.GreaterOrEqual(t, len(plan.Firings), 4, "a firing every 3 s from 2 s to 14 s")
	var planned, started, stopped []string
	kinds := map[string]bool{}
	for _, f := range plan.Firings {
		planned = append(planned, f.ID+" "+f.Kind)
		kinds[f.Kind] = true
	}
	for _, f := range r.Faults {
		assert.Empty(t, f.Error, "%s %s %s", f.F, f.ID, f.Kind)
		switch f.F {
		case history.FaultStart:
			started = append(started, f.ID+" "+f.Kind)
		case history.FaultStop:
			stopped = append(stopped, f.ID)
		}
	}
	assert.Equal(t, planned, started, "what fired is what the seed planned")
	assert.Len(t, stopped, len(started), "every firing healed")
	assert.Greater(t, len(kinds), 1, "the seed drew more than one kind: %v", planned)
}
