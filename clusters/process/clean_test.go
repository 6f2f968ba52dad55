package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startLoop starts a shell loop whose command line holds arg, in its own
// process group and without a parent-death signal, as a node orphaned by a
// crashed harness would be. The test reaps it.
func startLoop(t *testing.T, arg string) *exec.Cmd {
	t.Helper()
	// The shell blocks reading a pipe nobody writes to. It must not fork:
	// a SIGSTOP to the group can stop a vfork child before its exec and
	// leave the shell in uninterruptible sleep, never in the stopped state.
	stdin, hold, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { stdin.Close(); hold.Close() })
	cmd := exec.Command("/bin/sh", "-c", "read _", arg)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	waitCmdline(t, cmd.Process.Pid)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(WaitTimeout):
		}
	})
	return cmd
}

func writePID(t *testing.T, dir, node string, pid int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", node), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", node, "pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644))
}

// TestKillLeftovers kills a paused leftover of the run and spares a process
// whose pid is in a pid file but which belongs to nothing of the run (the
// kernel reused the pid).
func TestKillLeftovers(t *testing.T) {
	run := t.TempDir()
	node := startLoop(t, filepath.Join(run, "nodes", "n1", "nats.conf"))
	stranger := startLoop(t, filepath.Join(t.TempDir(), "elsewhere.conf"))
	require.NoError(t, syscall.Kill(-node.Process.Pid, syscall.SIGSTOP))
	// The stop takes effect when the kernel next schedules the process.
	require.Eventually(t, func() bool { st, ok := procState(node.Process.Pid); return ok && st == 'T' },
		5*time.Second, 5*time.Millisecond)
	writePID(t, run, "n1", node.Process.Pid)
	writePID(t, run, "n2", stranger.Process.Pid)
	writePID(t, run, "n3", 1<<22+7) // no such process

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	left, err := KillLeftovers(ctx, run)
	require.NoError(t, err)
	require.Equal(t, []Leftover{{Node: "n1", PID: node.Process.Pid, Paused: true}}, left)

	state, ok := procState(node.Process.Pid)
	require.True(t, !ok || state == 'Z', "leftover still running in state %c", state)
	state, ok = procState(stranger.Process.Pid)
	require.True(t, ok && state != 'Z', "an unrelated process was killed")
	for _, n := range []string{"n1", "n2", "n3"} {
		require.NoFileExists(t, filepath.Join(run, "nodes", n, "pid"))
	}

	// Nothing is left, so a second pass finds nothing.
	left, err = KillLeftovers(ctx, run)
	require.NoError(t, err)
	require.Empty(t, left)
}

func TestOwnedNeedsTheWholeDirectory(t *testing.T) {
	dir := t.TempDir()
	p := startLoop(t, dir+"2/nodes/n1/nats.conf") // a sibling whose name starts the same
	require.False(t, Owned(p.Process.Pid, dir))
	require.True(t, Owned(p.Process.Pid, dir+"2"))
}

func TestAliveKnowsAReusedPID(t *testing.T) {
	start, ok := StartTime(os.Getpid())
	require.True(t, ok)
	require.True(t, Alive(os.Getpid(), start))
	require.False(t, Alive(os.Getpid(), start+1), "same pid, another process")
	require.False(t, Alive(1<<22+7, start))
}

// waitCmdline waits until the kernel shows the new program's arguments:
// Start returns once exec has closed the close-on-exec descriptors, a moment
// before /proc/PID/cmdline is filled in.
func waitCmdline(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return err == nil && len(b) > 0
	}, 5*time.Second, time.Millisecond)
}
