package run

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/riptidechaos/riptide/reports"
)

// steadyScenario has no fault, so that operations are recorded every few
// milliseconds all through the main phase.
const steadyScenario = `name: steady
seed: 1
duration: 1m
cluster: {system: nats, nodes: 3, config: {sync_interval: always}}
workload: {kind: queue, producers: 2, consumers: 1, rate: 200, timeout: 2s}
`

// TestRealClusterHistorySurvivesSIGKILL kills a harness with SIGKILL in
// its main phase. The history on disk reaches to within a flush interval
// of the kill (history.FlushInterval; the margin here is for a loaded
// machine: TestRecorderFlushesWithinInterval pins the interval itself on
// a fake clock). riptide check reads it, torn last line or not, and calls
// the run interrupted, not valid; riptide clean then leaves nothing. While
// the harness runs, everything it and its nodes listen on is on loopback.
func TestRealClusterHistorySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	bin := testenv.Riptide(t)
	scenario := filepath.Join(t.TempDir(), "steady.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(steadyScenario), 0o644))
	dir := filepath.Join(t.TempDir(), "run")
	var out testenv.LockedBuffer
	cmd := exec.Command(bin, "run", scenario, "--out", dir, "--metrics", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The history's time zero is taken before the harness says "main
	// phase": the moment the test reads that line bounds it from above, so
	// that the kill's time on the history's clock is estimated short, never
	// long (and whatever the flushing does).
	path := filepath.Join(dir, "history.jsonl")
	var zero time.Time
	deadline := time.Now().Add(2 * time.Minute)
	for zero.IsZero() {
		if strings.Contains(out.String(), "riptide: main phase:") {
			zero = time.Now()
			break
		}
		require.True(t, time.Now().Before(deadline), "no main phase after 2 minutes:\n%s", out.String())
		select {
		case err := <-exited:
			t.Fatalf("the harness exited before its main phase: %v\n%s", err, out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	time.Sleep(2 * time.Second)

	pids := runPIDs(cmd.Process.Pid, dir)
	require.Len(t, pids, 4, "the harness and three nodes")
	assert.Empty(t, notLoopback(pids))
	// Nine link proxies and the metrics endpoint in the harness, three
	// ports per node: the check above looked at something.
	require.GreaterOrEqual(t, len(portsOf(pids)), 10+3*3)

	killed := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the harness survived SIGKILL for 10 s")
	}

	h, info, err := history.ReadFile(path)
	require.NoError(t, err, "the history of a killed harness reads")
	require.NotEmpty(t, h)
	atKill := killed.Sub(zero)
	last := h[len(h)-1].Time
	t.Logf("killed at %s or later on the history's clock; the last op on disk is at %s (%d ops, torn: %v)", atKill, last, len(h), info.Torn)
	assert.GreaterOrEqual(t, last, atKill-history.FlushInterval-time.Second,
		"the history lost more than a flush interval before the kill")

	code, _, stderr := runCLIBinary(t, bin, "check", dir)
	assert.Empty(t, stderr)
	assert.Equal(t, ExitHarness, code, "an interrupted run exits 3")
	r, err := reports.ReadJSON(dir)
	require.NoError(t, err)
	assert.True(t, r.Interrupted)
	assert.NotEqual(t, checkers.Valid, r.Verdict)
	assert.Equal(t, info.Torn, r.HistoryTorn)
	assert.Equal(t, int64(len(h)), r.Ops)

	code, stdout, stderr := runCLIBinary(t, bin, "clean", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "1 needed cleaning", "the journal of a killed harness is left open")
	requireNothingLeft(t, dir)
	entries, err := injectors.ReadJournal(dir)
	require.NoError(t, err)
	assert.True(t, injectors.Ended(entries))
}

// runCLIBinary runs the riptide binary and returns its exit code and output.
func runCLIBinary(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr testenv.LockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("riptide %v still running after 2 minutes", args)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
