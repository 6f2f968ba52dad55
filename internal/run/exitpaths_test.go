package run

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/scenarios"
)

// chaosScenario is testdata's short scenario with a node paused and
// another cut off early in the main phase, its main phase set to d.
func chaosScenario(t *testing.T, d time.Duration) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("../../testdata/scenarios/nats-chaos.yaml")
	require.NoError(t, err)
	sc.Duration = scenarios.Duration(d)
	require.NoError(t, sc.Validate())
	return sc
}

// requireNothingLeft checks, from outside, that a finished run left no
// process and no open fault behind.
func requireNothingLeft(t *testing.T, dir string) {
	t.Helper()
	assert.Empty(t, procsGone(dir, 10*time.Second), "processes of the run outlived it")
	assert.Empty(t, stillListening(confPorts(dir), dir, 10*time.Second), "ports of the run still listen")
	assert.Empty(t, journalLeft(dir), "the heal journal")
}

// panicky is a checker that panics.
type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Check(context.Context, []history.Op) checkers.Result {
	panic("checker boom")
}

// TestRealClusterPanicsAreContained makes a workload goroutine panic early
// in a long main phase, and a checker panic in the check: the run is still
// carried out (the main phase ends at once, then heal, drain, check and
// report), the verdict is unknown and says why, and nothing is left.
func TestRealClusterPanicsAreContained(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	const mainPhase = time.Minute
	sc := chaosScenario(t, mainPhase)
	var once sync.Once
	observeForTest = func(op history.Op) {
		// A producer recording its 20th acknowledgement panics (the
		// recorder calls observers on the recording goroutine).
		if op.Process >= 0 && op.F == history.Send && op.Type == history.OK && op.Index > 40 {
			once.Do(func() { panic("workload boom") })
		}
	}
	checkersForTest = []checkers.Checker{panicky{}}
	t.Cleanup(func() { observeForTest, checkersForTest = nil, nil })

	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := Run(ctx, sc, Options{Dir: dir, Log: testLog{t}})
	require.NoError(t, err)
	r := out.Results

	assert.Equal(t, checkers.Unknown, r.Verdict, r.Reason)
	assert.False(t, r.Interrupted)
	assert.Contains(t, strings.Join(r.HarnessErrors, "\n"), "panicked: workload boom")
	var checkerErr string
	for _, c := range r.Checkers {
		if c.Checker == "panicky" {
			checkerErr = c.Error
		}
	}
	assert.Contains(t, checkerErr, "checker panicky panicked: checker boom", "the checker's panic is in results.json")
	assert.True(t, r.Drain.Ran, "heal and drain still ran")

	// The main phase ended when the workload did, not a minute later: the
	// drain began long before the main phase's end.
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	var drainAt time.Duration = -1
	for _, op := range h {
		if op.F == history.Drain || (op.F == history.Poll && op.Process == 3) {
			drainAt = op.Time
			break
		}
	}
	require.GreaterOrEqual(t, drainAt, time.Duration(0), "the history holds the drain")
	assert.Less(t, drainAt, mainPhase/2, "the main phase went on without a workload")
	requireNothingLeft(t, dir)
}

// TestRealClusterRunDeadline gives a run a context that ends in its main
// phase, as riptidetest does 30 s before a test's deadline: the run stops
// as on Ctrl-C (no heal, no drain, the cluster torn down, the history so
// far checked) and leaves nothing behind.
func TestRealClusterRunDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	sc := chaosScenario(t, time.Minute)
	dir := filepath.Join(t.TempDir(), "run")
	// Launch takes well under 10 s; the main phase a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	out, err := Run(ctx, sc, Options{Dir: dir, Log: testLog{t}})
	took := time.Since(began)
	if err != nil {
		// A launch slower than the deadline is cut short too, and says so.
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.True(t, errors.Is(err, context.DeadlineExceeded) && strings.HasPrefix(err.Error(), "interrupted"), "%v", err)
	} else {
		assert.True(t, out.Results.Interrupted)
		assert.Equal(t, ExitHarness, ExitCode(out.Results))
		assert.False(t, out.Results.Drain.Ran)
	}
	// Teardown and the check of a few seconds of history are quick: the
	// deadline bounds the run, not the main phase's minute.
	assert.Less(t, took, 40*time.Second)
	requireNothingLeft(t, dir)
}
