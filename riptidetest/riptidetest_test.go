package riptidetest_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide"
	"github.com/riptidechaos/riptide/riptidetest"
	"github.com/riptidechaos/riptide/scenarios"
)

// fakeT records what Run does to a test: the methods Run uses, with Fatal
// and Skip ending the goroutine as the real ones do.
type fakeT struct {
	testing.TB // not set: a method Run is not expected to call panics
	mu         sync.Mutex
	logs       []string
	errs       []string
	skip       string
	cleanups   []func()
	deadline   time.Time // go test -timeout's, when set
}

func (f *fakeT) Helper()                  {}
func (f *fakeT) Name() string             { return "TestFake" }
func (f *fakeT) Context() context.Context { return context.Background() }
func (f *fakeT) Log(args ...any)          { f.add(&f.logs, fmt.Sprint(args...)) }
func (f *fakeT) Logf(format string, args ...any) {
	f.add(&f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Errorf(format string, args ...any) { f.add(&f.errs, fmt.Sprintf(format, args...)) }
func (f *fakeT) Fatal(args ...any)                 { f.add(&f.errs, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.add(&f.errs, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeT) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skip = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeT) Deadline() (time.Time, bool) { return f.deadline, !f.deadline.IsZero() }
func (f *fakeT) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errs) > 0
}
func (f *fakeT) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeT) add(to *[]string, s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*to = append(*to, s)
}

// run calls fn as a test body would be called, then the cleanups.
func (f *fakeT) run(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// short is a Go-built scenario marked short.
func short() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:     "tiny",
		Duration: scenarios.Duration(3 * time.Second),
		Short:    true,
		Cluster:  scenarios.Cluster{System: "nats", Nodes: 1},
		Workload: scenarios.Workload{Kind: "queue", Producers: 1, Rate: 50, Drain: scenarios.Duration(10 * time.Second)},
	}
}

func setShort(t *testing.T, on bool) {
	t.Helper()
	was := testing.Short()
	require.NoError(t, flag.Set("test.short", fmt.Sprint(on)))
	t.Cleanup(func() { _ = flag.Set("test.short", fmt.Sprint(was)) })
}

func TestInvalidScenarioFailsTheTest(t *testing.T) {
	tests := []struct {
		name string
		body func(testing.TB)
		want string
	}{
		{"missing file", func(tb testing.TB) { riptidetest.Run(tb, filepath.Join(t.TempDir(), "missing.yaml")) }, "no such file"},
		{"unknown catalog name", func(tb testing.TB) { riptidetest.Run(tb, "catalog:no-such") }, "no such scenario in the catalog"},
		{"override breaks the schedule", func(tb testing.TB) {
			sc := short()
			sc.Faults = []scenarios.Fault{{Kind: "kill", At: scenarios.Duration(5 * time.Second)}}
			riptidetest.RunScenario(tb, sc, riptidetest.WithDuration(4*time.Second))
		}, "faults[0].at: must be before the end of the main phase (duration 4s), got 5s"},
		{"unknown platform", func(tb testing.TB) { riptidetest.RunScenario(tb, short(), riptidetest.WithPlatform("vm")) },
			`cluster.platform: unknown value "vm"; allowed: process, docker`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Under -short too: a broken scenario must not hide behind a skip.
			setShort(t, true)
			f := &fakeT{}
			f.run(tt.body)
			assert.Empty(t, f.skip)
			require.Len(t, f.errs, 1)
			assert.Contains(t, f.errs[0], tt.want)
		})
	}
}

// A deadline that cannot hold the main phase fails the test at once, with
// the -timeout to give, rather than a run bound to be cut short.
func TestDeadlineTooNearFailsAtOnce(t *testing.T) {
	sc := short()
	sc.Duration = scenarios.Duration(20 * time.Second)
	f := &fakeT{deadline: time.Now().Add(25 * time.Second)}
	f.run(func(tb testing.TB) { riptidetest.RunScenario(tb, sc, riptidetest.WithBinary("/bin/true")) })
	require.Len(t, f.errs, 1)
	assert.Regexp(t, `^riptide: scenario tiny runs 20s plus launch and drain, but the test deadline \(go test -timeout\) is 2\ds away; give it -timeout 2m0s or more$`, f.errs[0])
	assert.Empty(t, f.cleanups, "failed before a run directory was made")
}

func TestSkips(t *testing.T) {
	long := short()
	long.Short = false
	tests := []struct {
		name  string
		short bool
		env   map[string]string
		sc    *scenarios.Scenario
		opts  []riptidetest.Option
		want  string
		// deadline, when set, is the time left before go test's deadline.
		deadline time.Duration
	}{
		{
			name: "long scenario under -short", short: true, sc: long,
			want: "riptide: scenario tiny runs 3s plus launch and drain; skipped with -short (it is not marked short: true)",
		},
		{
			// Past the -short check, it stops at the platform check.
			name: "short scenario under -short, no Docker engine", short: true, sc: short(),
			env:  map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
			opts: []riptidetest.Option{riptidetest.WithPlatform("docker")},
			want: "riptide: scenario tiny cannot run here: platform unavailable: docker: no engine answers at unix:///nonexistent/docker.sock",
		},
		{
			name: "no Go toolchain and no binary", sc: short(),
			env:  map[string]string{"PATH": "/nonexistent", "RIPTIDE_CACHE": "EMPTY"},
			want: "platform unavailable: process: build nats-server v2.12.1: the go command is not on PATH",
		},
		{
			// A short -timeout does not turn the skip into a failure.
			name: "no Docker engine and a deadline too near", sc: short(), deadline: 2 * time.Second,
			env:  map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
			opts: []riptidetest.Option{riptidetest.WithPlatform("docker")},
			want: "riptide: scenario tiny cannot run here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setShort(t, tt.short)
			for k, v := range tt.env {
				if v == "EMPTY" {
					v = t.TempDir()
				}
				t.Setenv(k, v)
			}
			f := &fakeT{}
			if tt.deadline > 0 {
				f.deadline = time.Now().Add(tt.deadline)
			}
			f.run(func(tb testing.TB) { riptidetest.RunScenario(tb, tt.sc, tt.opts...) })
			assert.Empty(t, f.errs)
			assert.Contains(t, f.skip, tt.want)
		})
	}
}

// A binary that is named but missing is a mistake to report, not a reason
// to skip.
func TestMissingBinaryFails(t *testing.T) {
	setShort(t, false)
	t.Setenv("PATH", "/nonexistent")
	missing := filepath.Join(t.TempDir(), "nats-server")
	out := t.TempDir()
	f := &fakeT{}
	f.run(func(tb testing.TB) {
		riptidetest.RunScenario(tb, short(), riptidetest.WithBinary(missing), riptidetest.WithOutDir(out))
	})
	assert.Empty(t, f.skip)
	require.Len(t, f.errs, 1)
	assert.Contains(t, f.errs[0], "riptide: scenario tiny could not run: ")
	assert.Contains(t, f.errs[0], "nats-server binary: stat "+missing)
	assert.Contains(t, f.errs[0], "run directory: "+out)
}

// TestRealClusterRunDirectory runs a one-node scenario twice: a verdict
// other than the expected one fails the test with the summary and keeps the
// run directory; a pass removes it.
func TestRealClusterRunDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real one-node cluster twice (about 20 s); skipped with -short")
	}
	out := t.TempDir()
	f := &fakeT{}
	f.run(func(tb testing.TB) {
		riptidetest.RunScenario(tb, short(), riptidetest.WithVerdict(riptide.Invalid),
			riptidetest.WithSeed(42), riptidetest.WithOutDir(out))
	})
	assert.Empty(t, f.skip)
	require.Len(t, f.errs, 1, "logs:\n%s", strings.Join(f.logs, "\n"))
	msg := f.errs[0]
	for _, want := range []string{"riptide: scenario tiny: verdict valid, want invalid\n", "verdict: VALID\n",
		"anomalies: none\n", "run directory: " + out + "/tiny-"} {
		assert.Contains(t, msg, want)
	}
	runs, err := filepath.Glob(filepath.Join(out, "tiny-*"))
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.FileExists(t, filepath.Join(runs[0], "report.html"), "a failed run keeps its directory")
	assert.Contains(t, strings.Join(f.logs, "\n"), "riptide: scenario tiny (seed 42), run directory "+runs[0])

	var dir string
	t.Run("passing run", func(t *testing.T) {
		o := riptidetest.RunScenario(t, short())
		require.NotNil(t, o)
		assert.Equal(t, riptide.Valid, o.Results.Verdict)
		assert.Positive(t, o.Results.Acked)
		dir = o.Dir
		assert.DirExists(t, dir)
	})
	require.NotEmpty(t, dir)
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "a passing run's directory is removed on cleanup")
}
