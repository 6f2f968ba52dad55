// Package process runs one node as a local child process: in its own process
// group, with a parent-death signal so that it dies with the harness even when
// the harness is killed with SIGKILL, and with a timeout on every wait.
package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Spec says how to run the node's program.
type Spec struct {
	Name   string
	Binary string
	Args   []string
	// Dir is the working directory; it must exist.
	Dir string
	// LogPath receives the program's stdout and stderr, appended across restarts.
	LogPath string
	// PIDPath, when set, holds the pid of the running program so that
	// `riptide clean` can find it after a harness crash.
	PIDPath string
}

// WaitTimeout bounds every wait for a process to exit: a reaped process has
// been seen to hang its waiter for minutes.
const WaitTimeout = 10 * time.Second

// Proc is a program that can be started, killed, stopped, paused and started
// again with the same spec.
type Proc struct {
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the current run has exited
	err    error         // exit status of the last run
	paused bool
}

// New prepares a process; Start runs it.
func New(spec Spec) *Proc { return &Proc{spec: spec} }

// Name is the node name.
func (p *Proc) Name() string { return p.spec.Name }

// Start runs the program. It is an error to start a running process.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return fmt.Errorf("start %s: already running (pid %d)", p.spec.Name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.spec.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", p.spec.Name, err)
	}
	defer logf.Close() // the child holds its own descriptor
	fmt.Fprintf(logf, "--- riptide: starting %s at %s\n", p.spec.Name, time.Now().Format(time.RFC3339Nano))

	cmd := exec.Command(p.spec.Binary, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// The kernel sends SIGKILL to the node when the harness dies, even
		// when the harness itself was killed with SIGKILL.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.err, p.paused = cmd, exited, nil, false
	if p.spec.PIDPath != "" {
		_ = os.WriteFile(p.spec.PIDPath, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// running reports whether the current run is alive; p.mu must be held.
func (p *Proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Running reports whether the program is alive (paused counts as alive).
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running()
}

// Paused reports whether the program is stopped with SIGSTOP.
func (p *Proc) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running() && p.paused
}

// PID is the pid of the current run, or 0.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exited is closed when the current run exits (nil if never started).
func (p *Proc) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// signal sends sig to the node's whole process group.
func (p *Proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return errNotRunning
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused = true
	case syscall.SIGCONT:
		p.paused = false
	}
	return nil
}

var errNotRunning = errors.New("not running")

// Kill sends SIGKILL and waits for the exit. Killing a node that is not
// running is not an error: heal and teardown may race with a crash.
func (p *Proc) Kill(ctx context.Context) error {
	if err := p.signal(syscall.SIGKILL); errors.Is(err, errNotRunning) {
		return nil
	} else if err != nil {
		return fmt.Errorf("kill %s: %w", p.spec.Name, err)
	}
	return p.wait(ctx, "kill")
}

// Terminate asks the program to exit with SIGTERM and kills it if it has not
// exited after grace.
func (p *Proc) Terminate(ctx context.Context, grace time.Duration) error {
	if err := p.signal(syscall.SIGCONT); errors.Is(err, errNotRunning) {
		return nil // a paused process cannot handle SIGTERM
	}
	if err := p.signal(syscall.SIGTERM); errors.Is(err, errNotRunning) {
		return nil
	} else if err != nil {
		return fmt.Errorf("terminate %s: %w", p.spec.Name, err)
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	if p.wait(gctx, "terminate") == nil {
		return nil
	}
	return p.Kill(ctx)
}

// Pause stops the process group with SIGSTOP.
func (p *Proc) Pause() error {
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause %s: %w", p.spec.Name, err)
	}
	return nil
}

// Resume continues a paused process group with SIGCONT.
func (p *Proc) Resume() error {
	if err := p.signal(syscall.SIGCONT); err != nil && !errors.Is(err, errNotRunning) {
		return fmt.Errorf("resume %s: %w", p.spec.Name, err)
	}
	return nil
}

func (p *Proc) wait(ctx context.Context, what string) error {
	exited := p.Exited()
	if exited == nil {
		return nil
	}
	t := time.NewTimer(WaitTimeout)
	defer t.Stop()
	select {
	case <-exited:
		if p.spec.PIDPath != "" {
			_ = os.Remove(p.spec.PIDPath)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s %s: wait for exit: %w", what, p.spec.Name, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%s %s: still running %s after the signal", what, p.spec.Name, WaitTimeout)
	}
}

// LogPath is where the program's output goes.
func (p *Proc) LogPath() string { return p.spec.LogPath }

// Dir is the working directory.
func (p *Proc) Dir() string { return filepath.Clean(p.spec.Dir) }
