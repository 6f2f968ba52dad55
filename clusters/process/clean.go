package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Leftover is a node process that outlived its harness.
type Leftover struct {
	Node   string
	PID    int
	Paused bool
}

// KillLeftovers kills the node processes that the pid files of a run
// directory name (RUN_DIR/nodes/*/pid) and that still run, paused ones
// included, and removes the pid files. A pid is only killed when the
// process's command line mentions the run directory: the kernel may have
// handed a dead node's pid to an unrelated program since.
func KillLeftovers(ctx context.Context, runDir string) ([]Leftover, error) {
	abs, err := filepath.Abs(runDir)
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", runDir, err)
	}
	files, err := filepath.Glob(filepath.Join(abs, "nodes", "*", "pid"))
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", runDir, err)
	}
	var (
		found []Leftover
		errs  []error
	)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("clean %s: %w", f, err))
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			errs = append(errs, fmt.Errorf("clean %s: not a pid: %q", f, b))
			continue
		}
		node := filepath.Base(filepath.Dir(f))
		paused, killed, err := KillIfOwned(ctx, pid, abs)
		if err != nil {
			errs = append(errs, fmt.Errorf("clean node %s: %w", node, err))
			continue
		}
		if killed {
			found = append(found, Leftover{Node: node, PID: pid, Paused: paused})
		}
		_ = os.Remove(f)
	}
	return found, errors.Join(errs...)
}

// KillIfOwned kills pid (SIGCONT, then SIGKILL to its process group) when it
// is alive and its command line mentions dir, and waits until it is gone.
// It reports whether the process was paused and whether it was killed.
func KillIfOwned(ctx context.Context, pid int, dir string) (paused, killed bool, err error) {
	state, ok := procState(pid)
	if !ok || state == 'Z' || state == 'X' {
		return false, false, nil // gone, or dead and waiting to be reaped
	}
	if !Owned(pid, dir) {
		return false, false, nil
	}
	paused = state == 'T' || state == 't'
	// A stopped process dies of SIGKILL too; the SIGCONT is for the
	// process-group members the kernel would otherwise leave frozen.
	for _, sig := range []syscall.Signal{syscall.SIGCONT, syscall.SIGKILL} {
		if err := syscall.Kill(-pid, sig); errors.Is(err, syscall.ESRCH) {
			// Not a group leader (started by another tool): the process alone.
			_ = syscall.Kill(pid, sig)
		}
	}
	return paused, true, waitGone(ctx, pid)
}

// Owned reports whether process pid's command line mentions dir, which
// every node riptide starts does (its configuration lives in the run
// directory).
func Owned(pid int, dir string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	dir = strings.TrimRight(filepath.Clean(dir), "/") + "/"
	args := bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})
	return bytes.Contains(args, []byte(dir))
}

// StartTime is when process pid started, in clock ticks since boot (field
// 22 of /proc/PID/stat). A pid and its start time name one process for
// good: a reused pid has another start time.
func StartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	// Fields after the command name start with the state, field 3.
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, false
	}
	t, err := strconv.ParseUint(fields[19], 10, 64)
	return t, err == nil
}

// Alive reports whether the process that had pid and start time still runs.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	t, ok := StartTime(pid)
	if !ok || t != start {
		return false
	}
	state, ok := procState(pid)
	return ok && state != 'Z' && state != 'X'
}

// State is the state letter of process pid as /proc/PID/stat shows it
// (R running, S sleeping, T stopped, Z zombie, ...); false when there is
// no such process.
func State(pid int) (byte, bool) { return procState(pid) }

// procState reads the state letter of /proc/PID/stat (R, S, T, Z, ...).
func procState(pid int) (byte, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may itself hold spaces or
	// parentheses: the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false
	}
	return b[i+2], true
}

// waitGone polls until pid no longer runs, bounded by WaitTimeout.
func waitGone(ctx context.Context, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	for {
		if state, ok := procState(pid); !ok || state == 'Z' || state == 'X' {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pid %d still running after SIGKILL: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
