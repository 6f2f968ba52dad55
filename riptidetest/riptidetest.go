// Package riptidetest runs a riptide chaos scenario as one more Go test:
//
//	func TestNATSSurvivesAKill(t *testing.T) {
//		riptidetest.Run(t, "catalog:nats-kill")
//	}
//
// Run loads and validates the scenario, skips the test with a reason when
// the platform cannot run here (no Docker engine, no server binary and no
// Go toolchain) or under go test -short unless the scenario is marked
// `short: true`, runs it, and fails the test with the verdict, the anomaly
// counts and their first examples when the verdict is not the expected one
// (valid unless [WithVerdict] says otherwise). The run directory is logged;
// it is removed when the test passes and kept when it fails, or always kept
// under [WithOutDir].
//
// Only the standard library's testing.TB is needed, no assertion library.
package riptidetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riptidechaos/riptide"
	"github.com/riptidechaos/riptide/scenarios"
)

// Option changes how Run runs a scenario.
type Option func(*config)

type config struct {
	image, toxiproxyImage string

	seed     int64
	duration time.Duration
	platform string
	outDir   string
	binary   string
	verdict  riptide.Verdict
}

// WithSeed overrides the scenario's seed, which draws every random choice
// (the nodes to kill, the fault schedule): one seed, one schedule.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithDuration overrides the length of the main phase. Faults scheduled
// after the new end make the scenario invalid, and the test fails.
func WithDuration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// WithPlatform overrides where the cluster runs: "process" or "docker".
func WithPlatform(p string) Option { return func(c *config) { c.platform = p } }

// WithOutDir keeps the run directory under dir, whatever the verdict, in a
// new directory named after the scenario; by default it goes to the
// system's temporary directory and is removed when the test passes.
func WithOutDir(dir string) Option { return func(c *config) { c.outDir = dir } }

// WithBinary runs an existing server binary (nats-server) instead of the
// scenario's cluster.binary or a build of its pinned version.
func WithBinary(path string) Option { return func(c *config) { c.binary = path } }

// WithImages names the docker platform's server and Toxiproxy images, for
// engines that cannot pull the official ones (an empty name keeps the
// default).
func WithImages(server, toxiproxy string) Option {
	return func(c *config) { c.image, c.toxiproxyImage = server, toxiproxy }
}

// WithVerdict sets the verdict the test expects (default [riptide.Valid]):
// a scenario that demonstrates a known bug expects [riptide.Invalid].
func WithVerdict(v riptide.Verdict) Option { return func(c *config) { c.verdict = v } }

// timeoutMargin is kept between the end of a run and the test's deadline
// (go test -timeout): an interrupted run still tears down, checks and
// reports what it has, whereas a blown deadline only dumps goroutines and
// leaves the run directory behind. With less time left the margin is a
// quarter of it.
const timeoutMargin = 30 * time.Second

// runContext bounds the run by the test's deadline less the margin. It
// fails the test at once when what is left cannot hold the main phase: the
// run could only be cut short.
func runContext(t testing.TB, sc *scenarios.Scenario) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx := t.Context()
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return ctx, func() {}
	}
	dl, ok := d.Deadline()
	if !ok {
		return ctx, func() {}
	}
	left := time.Until(dl)
	margin := min(timeoutMargin, left/4)
	if main := time.Duration(sc.Duration); left-margin < main {
		need := main + time.Duration(sc.Workload.Drain) + time.Minute
		t.Fatalf("riptide: scenario %s runs %s plus launch and drain, but the test deadline (go test -timeout) is %s away; give it -timeout %s or more",
			sc.Name, main, left.Round(time.Second), need.Truncate(time.Minute)+time.Minute)
	}
	return context.WithDeadline(ctx, dl.Add(-margin))
}

// Run runs the scenario at ref, a file path or "catalog:NAME" (see
// `riptide list`), as part of the test t. It returns the outcome for
// further checks; it does not return when the test is skipped, or when the
// scenario is invalid or could not be run (the test fails).
func Run(t testing.TB, ref string, opts ...Option) *riptide.Outcome {
	t.Helper()
	sc, err := riptide.Load(ref)
	if err != nil {
		t.Fatalf("riptide: %v", err)
	}
	return RunScenario(t, sc, opts...)
}

// RunScenario is Run for a scenario built or loaded in Go. sc is not
// modified.
func RunScenario(t testing.TB, sc *scenarios.Scenario, opts ...Option) *riptide.Outcome {
	t.Helper()
	cfg := config{verdict: riptide.Valid}
	for _, o := range opts {
		o(&cfg)
	}
	if sc == nil {
		t.Fatal("riptide: nil scenario")
	}
	c := *sc
	c.Faults = slices.Clone(sc.Faults)
	if cfg.seed != 0 {
		c.Seed = cfg.seed
	}
	if cfg.duration != 0 {
		c.Duration = scenarios.Duration(cfg.duration)
	}
	if cfg.platform != "" {
		c.Cluster.Platform = cfg.platform
	}
	// Validate before deciding to skip: a broken scenario fails even
	// under -short, where it would otherwise go unnoticed.
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("riptide: invalid scenario %s:\n%v", c.Name, err)
	}
	if testing.Short() && !c.Short {
		t.Skipf("riptide: scenario %s runs %s plus launch and drain; skipped with -short (it is not marked short: true)", c.Name, c.Duration)
	}

	// A test that cannot run here is skipped before its deadline is
	// judged: a short -timeout does not turn a skip into a failure.
	if err := riptide.Available(t.Context(), &c, cfg.binary); err != nil {
		if errors.Is(err, riptide.ErrUnavailable) {
			t.Skipf("riptide: scenario %s cannot run here: %v", c.Name, err)
		}
		t.Fatalf("riptide: %v", err)
	}
	ctx, cancel := runContext(t, &c)
	defer cancel()

	dir, err := runDir(cfg.outDir, c.Name)
	if err != nil {
		t.Fatalf("riptide: %v", err)
	}
	// Registered before anything can fail, so that the directory is
	// cleaned up or reported on every path.
	t.Cleanup(func() {
		if cfg.outDir == "" && !t.Failed() {
			_ = os.RemoveAll(dir)
			return
		}
		t.Logf("riptide: run directory kept: %s", dir)
	})
	// The runner's first progress line names the run directory.
	log := &testLog{t: t}
	out, err := riptide.Run(ctx, &c, riptide.Options{Dir: dir, Binary: cfg.binary, Log: log,
		Image: cfg.image, ToxiproxyImage: cfg.toxiproxyImage})
	log.close()
	if err != nil {
		t.Fatalf("riptide: scenario %s could not run: %v\nrun directory: %s", c.Name, err, dir)
	}
	if out.Results.Interrupted {
		why := "cancelled"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && t.Context().Err() == nil {
			dl, _ := ctx.Deadline()
			why = fmt.Sprintf("stopped at %s, ahead of the test deadline (go test -timeout) so as to tear down and report; give the test a longer -timeout",
				dl.Format(time.TimeOnly))
		}
		t.Fatalf("riptide: scenario %s was interrupted: %s\n%s", c.Name, why, out.Summary())
	}
	if out.Results.Verdict != cfg.verdict {
		t.Errorf("riptide: scenario %s: verdict %s, want %s\n%s", c.Name, out.Results.Verdict, cfg.verdict, out.Summary())
	} else {
		t.Logf("riptide: scenario %s: verdict %s as expected", c.Name, out.Results.Verdict)
	}
	return out
}

// runDir creates an empty run directory: under outDir when given, else in
// the system's temporary directory.
func runDir(outDir, name string) (string, error) {
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return "", fmt.Errorf("create output directory: %w", err)
		}
	}
	pattern := name + "-" + time.Now().Format("20060102-150405") + "-*"
	if outDir == "" {
		pattern = "riptide-" + pattern
	}
	dir, err := os.MkdirTemp(outDir, pattern)
	if err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	return dir, nil
}

// testLog passes the runner's progress lines to t.Log, which shows them
// with -v or when the test fails. Lines written after close are dropped:
// t.Log panics once the test has ended.
type testLog struct {
	t      testing.TB
	mu     sync.Mutex
	buf    []byte
	closed bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// close flushes a last partial line and drops later writes.
func (l *testLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
	}
	l.buf, l.closed = nil, true
}
