package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/internal/testenv"
)

// faultyScenario pauses n3 and isolates n1 one second into a long main
// phase, so that a harness stopped a few seconds in is mid-fault.
const faultyScenario = `name: mid-fault
seed: 3
duration: 2m
cluster: {system: nats, nodes: 3, config: {sync_interval: always}}
workload: {kind: queue, replicas: 3, producers: 1, consumers: 1, rate: 50}
faults:
  - {kind: pause, target: n3, at: 1s, duration: 100s}
  - {kind: partition, mode: isolate-one, target: n1, at: 1s, duration: 100s}
`

// startMidFault runs the faulty scenario with the built binary and returns
// once both faults are on: n3 frozen, n1 cut off.
func startMidFault(t *testing.T) (cmd *exec.Cmd, dir string, exited chan error, out *testenv.LockedBuffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real cluster; skipped with -short")
	}
	bin := testenv.Riptide(t)
	scenario := filepath.Join(t.TempDir(), "mid-fault.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(faultyScenario), 0o644))
	dir = filepath.Join(t.TempDir(), "run")
	out = &testenv.LockedBuffer{}
	cmd = exec.Command(bin, "run", scenario, "--out", dir)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	deadline := time.Now().Add(3 * time.Minute)
	for {
		// The fault-start lines are logged after the faults are applied.
		s := out.String()
		if bytes.Count([]byte(s), []byte("fault-start")) >= 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the faults never started:\n%s", s)
		select {
		case err := <-exited:
			t.Fatalf("riptide exited early: %v\n%s", err, s)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return cmd, dir, exited, out
}

// nodeGone reports whether pid no longer runs (gone, or a zombie nobody
// reaped yet).
func nodeGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func journalEvents(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := injectors.ReadJournal(dir)
	require.NoError(t, err)
	var ev []string
	for _, e := range entries {
		ev = append(ev, e.Event+" "+e.ID)
	}
	return ev
}

// TestRealClusterSIGKILLThenClean kills the harness with SIGKILL while a
// node is paused and another is cut off, then runs riptide clean on the
// run directory: no node process is left, paused or not, and the journal
// says every fault was cleaned.
func TestRealClusterSIGKILLThenClean(t *testing.T) {
	cmd, dir, exited, out := startMidFault(t)
	pids := pidsIn(t, dir)
	require.Len(t, pids, 3)
	require.ElementsMatch(t, []string{"begin ", "apply f1", "apply f2"}, journalEvents(t, dir), "mid-fault, nothing healed yet")

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("riptide survived SIGKILL:\n%s", out.String())
	}

	code, stdout, stderr := runCLI("clean", dir)
	require.Equal(t, 0, code, "%s\n%s", stdout, stderr)
	// Listed in the order the faults were applied, which the two faults
	// due at nearly the same moment may take either way.
	require.Regexp(t, `faults (f1, f2|f2, f1) marked cleaned`, stdout)
	for _, pid := range pids {
		require.Eventually(t, func() bool { return nodeGone(pid) }, 10*time.Second, 50*time.Millisecond,
			"nats-server %d survived the harness and riptide clean", pid)
	}
	entries, err := injectors.ReadJournal(dir)
	require.NoError(t, err)
	require.Empty(t, injectors.Unhealed(entries))
	require.True(t, injectors.Ended(entries))
	ev := journalEvents(t, dir)
	require.Subset(t, ev, []string{"cleaned f1", "cleaned f2"})
	// The pause was journalled with the pid it froze.
	i := slices.IndexFunc(entries, func(e injectors.JournalEntry) bool { return e.Kind == "pause" })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, injectors.UndoPause, entries[i].Undo[0].Action)
	require.True(t, slices.Contains(pids, entries[i].Undo[0].PID))

	// A second clean finds nothing to do.
	code, stdout, _ = runCLI("clean", dir)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "0 needed cleaning")
}

// TestRealClusterSIGTERMLikeSIGINT stops a run mid-fault with SIGTERM: it
// behaves as Ctrl-C does (exit 3 within 5 s, every node gone) and its
// journal ends with every fault torn down, so nothing is left to clean.
func TestRealClusterSIGTERMLikeSIGINT(t *testing.T) {
	cmd, dir, exited, out := startMidFault(t)
	pids := pidsIn(t, dir)
	require.Len(t, pids, 3)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "exit: %v\n%s", err, out.String())
		require.Equal(t, 3, exit.ExitCode())
	case <-time.After(5 * time.Second):
		t.Fatalf("riptide still running 5 s after SIGTERM:\n%s", out.String())
	}
	for _, pid := range pids {
		require.True(t, nodeGone(pid), "nats-server %d survived", pid)
	}
	ev := journalEvents(t, dir)
	require.Equal(t, []string{"begin ", "apply f1", "apply f2", "end "}, []string{ev[0], sorted(ev[1:3])[0], sorted(ev[1:3])[1], ev[len(ev)-1]})
	require.ElementsMatch(t, []string{"torn-down f1", "torn-down f2"}, ev[3:len(ev)-1], "every fault ends torn down")
	code, stdout, _ := runCLI("clean", dir)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "0 needed cleaning")
}

// sorted returns a sorted copy: faults due at the same time are applied
// in either order.
func sorted(ev []string) []string { return slices.Sorted(slices.Values(ev)) }

// startOrphan starts a process that looks like a node of run dir (its
// command line names the run directory), as an orphaned node would, and
// writes its pid file.
func startOrphan(t *testing.T, dir, node string) *exec.Cmd {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", node), 0o755))
	// The shell blocks reading a pipe nobody writes to. It must not fork:
	// a SIGSTOP to the group can stop a vfork child before its exec and
	// leave the shell in uninterruptible sleep, never in the stopped state.
	stdin, hold, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { stdin.Close(); hold.Close() })
	cmd := exec.Command("/bin/sh", "-c", "read _", filepath.Join(dir, "nodes", node, "nats.conf"))
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	// Start returns a moment before the kernel shows the new arguments.
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		return err == nil && len(b) > 0
	}, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", node, "pid"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644))
	return cmd
}

// riptide clean leaves a run whose harness still runs alone, and kills the
// orphaned nodes of one whose harness is gone.
func TestCleanLeavesRunningRunsAlone(t *testing.T) {
	running := t.TempDir()
	j, err := injectors.CreateJournal(running, "process") // this test is the harness
	require.NoError(t, err)
	require.NoError(t, j.Apply(injectors.JournalEntry{ID: "f1", Kind: "pause"}))
	node := startOrphan(t, running, "n1")

	code, stdout, stderr := runCLI("clean", running)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "still running (riptide pid")
	require.Contains(t, stdout, "0 needed cleaning")
	require.False(t, nodeGone(node.Process.Pid), "a live run's node was killed")

	crashed := t.TempDir()
	begin := `{"time":"2026-01-01T00:00:00Z","event":"begin","platform":"process","harness_pid":4194311,"harness_start":1}` + "\n" +
		`{"time":"2026-01-01T00:00:01Z","event":"apply","id":"f1","kind":"pause","undo":[{"action":"pause","node":"n1","pid":4194312}]}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(crashed, injectors.JournalFile), []byte(begin), 0o644))
	orphan := startOrphan(t, crashed, "n1")
	require.NoError(t, syscall.Kill(-orphan.Process.Pid, syscall.SIGSTOP))
	// The stop takes effect when the kernel next schedules the process.
	require.Eventually(t, func() bool { return procStopped(orphan.Process.Pid) }, 5*time.Second, 5*time.Millisecond)
	code, stdout, stderr = runCLI("clean", crashed)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, fmt.Sprintf("killed leftover node n1 (pid %d, paused)", orphan.Process.Pid))
	require.Contains(t, stdout, "faults f1 marked cleaned")
	require.Eventually(t, func() bool { return nodeGone(orphan.Process.Pid) }, 10*time.Second, 20*time.Millisecond)
	entries, err := injectors.ReadJournal(crashed)
	require.NoError(t, err)
	require.Empty(t, injectors.Unhealed(entries))
	require.True(t, injectors.Ended(entries))
}

// procStopped reports whether /proc/PID/stat shows the process stopped (T).
func procStopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'T'
}
