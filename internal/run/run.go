// Package run is the runner: it takes a loaded scenario through the phases
// of a run (prepare, launch, main phase, heal, drain, check, report) and
// guarantees teardown on every path.
package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/internal/metrics"
	"github.com/riptidechaos/riptide/internal/progress"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
	"github.com/riptidechaos/riptide/workloads"
)

// Exit statuses of riptide run and riptide check (DESIGN.md).
const (
	ExitValid   = reports.ExitValid
	ExitInvalid = reports.ExitInvalid
	ExitUnknown = reports.ExitUnknown
	ExitHarness = reports.ExitHarness
)

// ExitCode maps results to the exit status under the default gate policy
// (every verdict but valid fails; an interrupted run exits 3).
func ExitCode(r *reports.Results) int { return r.ExitCode(reports.DefaultFailOn) }

// Options are the runner's settings that are not part of the scenario.
type Options struct {
	// Dir is the run directory; empty picks a new one under ./riptide-runs.
	Dir string
	// Binary overrides the scenario's server binary.
	Binary string
	// Log receives progress lines (default: discarded). On a terminal a
	// live status line is redrawn in place below them.
	Log io.Writer
	// Metrics, when set, follows the run (ops, latency, faults, phase) for
	// a Prometheus endpoint the caller serves.
	Metrics *metrics.Metrics
	// PlatformOptions name the docker platform's images (launch.go).
	PlatformOptions
}

// Outcome is a finished run.
type Outcome struct {
	Dir     string
	Results *reports.Results
}

// Timeouts of the phases around the main one.
const (
	launchTimeout = 2 * time.Minute
	setupTimeout  = time.Minute
	healTimeout   = time.Minute
	settleTimeout = 30 * time.Second
	stopTimeout   = 10 * time.Second
)

// Run carries out sc. The returned error means the harness could not run
// (exit 3); a run that was carried out returns its Outcome even when the
// verdict is invalid. When ctx is cancelled (Ctrl-C) the run stops at once:
// no heal and no drain, the cluster is torn down, and the history so far is
// checked and reported with Interrupted set.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (*Outcome, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	r := &runner{sc: sc, opts: opts, progress: progress.New(log)}
	r.log = r.progress
	defer r.progress.Close()
	defer r.stopPhase() // before the status line closes
	return r.runSafe(ctx)
}

// runSafe turns a panic of the runner into an error (exit 3) once the
// deferred teardown has stopped every node and proxy and closed the journal.
func (r *runner) runSafe(ctx context.Context) (out *Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("internal error (the cluster was torn down): %v\n%s", p, debug.Stack())
		}
	}()
	return r.run(ctx)
}

type runner struct {
	sc       *scenarios.Scenario
	opts     Options
	log      io.Writer // progress lines, through the status line
	progress *progress.Progress
	dir      string
	rec      *history.Recorder // the history, once the main phase begins

	mu       sync.Mutex
	problems []string        // harness errors, for results.json
	last     progress.Status // the latest status, carried into later phases
	// stopTicking stops the refresh of the current phase's status line
	// (heal, drain, ...), nil when none runs.
	stopTicking func()
	tearOnce    sync.Once
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "riptide: "+format+"\n", args...)
}

func (r *runner) problem(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	r.problems = append(r.problems, err.Error())
	r.mu.Unlock()
	r.logf("problem: %v", err)
}

func (r *runner) run(ctx context.Context) (*Outcome, error) {
	sc := r.sc
	if sc.Seed == 0 {
		sc.Seed = time.Now().UnixNano()&(1<<53-1) | 1
	}
	if err := checkPlatformOptions(sc, r.opts); err != nil {
		return nil, err
	}
	if sc.Cluster.Platform == "docker" {
		// The images are part of what ran: scenario.yaml, results.json and
		// the report name them, and the run directory's scenario.yaml runs
		// the same images again.
		sc.Cluster.Image = cmp.Or(r.opts.Image, sc.Cluster.Image, "nats:"+sc.Cluster.Version)
		sc.Cluster.ToxiproxyImage = cmp.Or(r.opts.ToxiproxyImage, sc.Cluster.ToxiproxyImage, nats.DefaultToxiproxyImage)
	}
	dir, err := makeRunDir(r.opts.Dir, sc.Name)
	if err != nil {
		return nil, err
	}
	r.dir = dir
	yml, err := sc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("write resolved scenario: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), yml, 0o644); err != nil {
		return nil, fmt.Errorf("write resolved scenario: %w", err)
	}
	// The history exists, empty, from the start: a harness killed at any
	// moment, before the main phase too, leaves one that riptide check reads.
	if err := os.WriteFile(filepath.Join(dir, "history.jsonl"), nil, 0o644); err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	r.logf("scenario %s (seed %d), run directory %s", sc.Name, sc.Seed, dir)
	// The heal journal exists before anything is launched, so that
	// `riptide clean` finds every run that may have left something behind.
	journal, err := injectors.CreateJournal(dir, sc.Cluster.Platform)
	if err != nil {
		return nil, err
	}

	// Prepare and launch.
	r.phase("launch")
	began := time.Now()
	cluster, err := r.launch(ctx)
	if err != nil {
		_ = journal.EndBecause(interrupted(ctx, err).Error())
		return nil, interrupted(ctx, err)
	}
	// Teardown runs on every path from here, panics included: it stops
	// every node and proxy, which undoes any fault still on, and says so
	// in the history and the journal.
	var sched *injectors.Schedule
	defer func() { r.teardown(cluster, sched, journal) }()
	r.logf("cluster healthy in %s: %d link proxies", time.Since(began).Round(time.Millisecond), len(cluster.Net().Links()))
	ranVersion := r.serverVersion(ctx, cluster)

	queue := &workloads.NATSQueue{Nodes: cluster.Nodes(), Stream: sc.Workload.Stream,
		Replicas: sc.Workload.Replicas, Timeout: sc.Workload.Timeout.D(), Net: cluster.Net()}
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	err = queue.Setup(sctx)
	cancel()
	if err != nil {
		return nil, interrupted(ctx, fmt.Errorf("set up the workload: %w", err))
	}
	steps, err := plan(sc, clusters.NodeNames(cluster.Nodes()))
	if err != nil {
		return nil, err
	}
	if err := injectors.WriteSchedule(dir, injectors.Planned(sc.Seed, sc.Duration.D(), steps)); err != nil {
		return nil, err
	}
	cfg := workloads.QueueConfig{Stream: sc.Workload.Stream, Producers: sc.Workload.Producers,
		Consumers: sc.Workload.Consumers, Rate: sc.Workload.Rate, Nodes: len(cluster.Nodes())}
	clients, err := workloads.OpenQueue(queue, cfg)
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	defer clients.Close()

	// Main phase: the history's time zero is its start.
	rec, err := history.Create(filepath.Join(dir, "history.jsonl"), time.Now())
	if err != nil {
		return nil, err
	}
	defer rec.Close()
	r.rec = rec
	if r.opts.Metrics != nil {
		rec.Observe(r.opts.Metrics.Observe)
	}
	if observeForTest != nil {
		rec.Observe(observeForTest)
	}
	sched = &injectors.Schedule{Steps: steps, Cluster: cluster, Recorder: rec, Journal: journal, Parent: ctx,
		Leader: r.leader(cluster), Logf: func(format string, args ...any) { r.logf(format, args...) }}
	r.logf("main phase: %s, %d producers at %.0f sends/s, %d consumers, %d faults",
		sc.Duration.D(), cfg.Producers, cfg.Rate, cfg.Consumers, len(steps))
	r.phase("main")
	r.mainPhase(ctx, clients, sched, rec)

	stopped := ctx.Err() != nil
	if !stopped {
		r.phase("heal")
		r.heal(ctx, cluster, sched)
		r.phase("drain")
		r.drain(ctx, queue, cfg, rec)
		r.readNodes(ctx, queue, cfg, rec)
		// An interrupt during the heal or the drain cut them short: the
		// run did not reach its end either.
		stopped = ctx.Err() != nil
	} else {
		r.logf("interrupted: tearing down without heal or drain")
	}
	took := time.Since(began)
	// Teardown now rather than in the defer, on every path: the stops of
	// the faults it undid go in the history, nothing of the cluster runs
	// while the checkers do (minutes, on a long run), a second Ctrl-C
	// during the check leaves nothing behind, and the docker platform's
	// node logs are in the run directory for the report. The clients go
	// first, so that none complains of its server going away.
	r.phase("teardown")
	clients.Close()
	r.teardown(cluster, sched, journal)
	if err := rec.Close(); err != nil {
		return nil, fmt.Errorf("write history: %w", err)
	}

	// Check and report.
	r.phase("check")
	h, info, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	problems := append([]string(nil), r.problems...)
	r.mu.Unlock()
	res := analyze(context.WithoutCancel(ctx), sc, h, info, facts{
		Duration: took, Interrupted: stopped,
		HarnessErrors: problems, Nodes: clusters.NodeNames(cluster.Nodes()),
		ServerVersion: ranVersion,
	})
	r.phase("report")
	if err := writeReports(context.WithoutCancel(ctx), dir, sc, res, h); err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Results: res}, nil
}

// mainPhase runs the workload and the fault schedule together for the
// scenario's duration, with a status line every few seconds. A panic in
// any of them ends the main phase early and is reported as a harness
// problem; the heal, the drain and the report still run.
func (r *runner) mainPhase(ctx context.Context, clients *workloads.QueueRun, sched *injectors.Schedule, rec *history.Recorder) {
	mctx, cancel := context.WithTimeout(ctx, r.sc.Duration.D())
	defer cancel()
	var wg sync.WaitGroup
	guard := func(what string, f func() error) func() {
		return func() {
			defer func() {
				if p := recover(); p != nil {
					r.problem(fmt.Errorf("%s panicked: %v\n%s", what, p, debug.Stack()))
					cancel()
				}
			}()
			r.problem(f())
		}
	}
	// The workload ends before the main phase only when it cannot go on
	// (a worker panicked): without traffic the rest of the main phase
	// would prove nothing.
	wg.Go(guard("the workload", func() error { defer cancel(); return clients.Run(mctx, rec) }))
	wg.Go(guard("the fault schedule", func() error { return sched.Run(mctx, rec.Start()) }))
	wg.Go(guard("the status line", func() error { r.status(mctx, rec, sched); return nil }))
	wg.Wait()
}

// teardown stops every node and proxy, records the faults that this undid
// and closes the heal journal. It runs on every path once the cluster is
// up, and more than once is fine.
func (r *runner) teardown(cluster liveCluster, sched *injectors.Schedule, journal *injectors.Journal) {
	r.tearOnce.Do(func() {
		cctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := cluster.Close(cctx); err != nil {
			r.logf("teardown: %v", err)
		}
		if sched != nil {
			if active := sched.Active(); len(active) > 0 {
				r.logf("teardown undid faults %v", active)
			}
			if err := sched.TornDown("the cluster was torn down: every node and proxy stopped"); err != nil {
				r.logf("teardown: %v", err)
			}
		}
		// Faults applied but never registered (a panic mid-apply) end here too.
		if err := journal.TornDown("the cluster was torn down: every node and proxy stopped"); err != nil {
			r.logf("teardown: %v", err)
		}
		if err := journal.End(); err != nil {
			r.logf("teardown: %v", err)
		}
	})
}

// leader names the workload stream's leader, for faults aimed at it.
func (r *runner) leader(cluster liveCluster) func(context.Context) (string, error) {
	switch r.sc.Cluster.System {
	case "nats":
		return func(ctx context.Context) (string, error) {
			return nats.StreamLeader(ctx, cluster.Nodes(), r.sc.Workload.Stream)
		}
	}
	return nil
}

// observeForTest, when set, sees every operation as it is recorded, on
// the recording goroutine: tests use it to panic in a workload goroutine.
var observeForTest func(history.Op)

// statusEvery is how often the live status is refreshed; liveCheckEvery
// how often the history so far is checked for anomalies on the way.
const (
	statusEvery    = 500 * time.Millisecond
	liveCheckEvery = 10 * time.Second
)

// status keeps the live status line (or, off a terminal, the periodic
// status lines) up to date during the main phase.
func (r *runner) status(ctx context.Context, rec *history.Recorder, sched *injectors.Schedule) {
	t := time.NewTicker(statusEvery)
	defer t.Stop()
	live := newLiveCheck(filepath.Join(r.dir, "history.jsonl"), liveCheckEvery)
	defer live.stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c := rec.Counts()
			elapsed := rec.Since()
			st := progress.Status{
				Phase: "main", Elapsed: elapsed, Remaining: max(r.sc.Duration.D()-elapsed, 0),
				Acked: c.Acked, Failed: c.Failed, ActiveFaults: sched.ActiveNames(),
				Anomalies: live.poll(ctx),
			}
			r.mu.Lock()
			r.last = st
			r.mu.Unlock()
			r.progress.Update(st)
		}
	}
}

// phase marks the phase the run is in, for the status line and metrics.
// Phases before the main one have their own log lines and no traffic yet;
// later ones show the counts as they are when the phase begins (the last
// status line of the main phase is up to half a second old, and sends
// still in flight complete after it), and no send rate: the workload has
// stopped sending.
func (r *runner) phase(name string) {
	if r.opts.Metrics != nil {
		r.opts.Metrics.SetPhase(name)
	}
	r.mu.Lock()
	st := r.last
	if r.stopTicking != nil {
		r.stopTicking()
		r.stopTicking = nil
	}
	r.mu.Unlock()
	if st.Phase == "" || r.rec == nil {
		return
	}
	st.Phase, st.Remaining, st.ActiveFaults, st.SendsStopped = name, 0, nil, true
	update := func() {
		c := r.rec.Counts()
		st.Elapsed, st.Acked, st.Failed = r.rec.Since(), c.Acked, c.Failed
		r.progress.Update(st)
	}
	update()
	// A drain or a check can take minutes: the line keeps counting (and,
	// off a terminal, a plain line still comes every few seconds).
	done := make(chan struct{})
	ticking := make(chan struct{})
	go func() {
		defer close(ticking)
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				update()
			}
		}
	}()
	r.mu.Lock()
	r.stopTicking = func() { close(done); <-ticking }
	r.mu.Unlock()
}

// stopPhase stops the status line's ticking at the end of a run.
func (r *runner) stopPhase() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopTicking != nil {
		r.stopTicking()
		r.stopTicking = nil
	}
}

// heal undoes every fault still active and waits for the cluster to settle.
func (r *runner) heal(ctx context.Context, cluster liveCluster, sched *injectors.Schedule) {
	hctx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	r.problem(sched.HealAll(hctx))
	// Belt and braces: whatever the schedule healed, no toxic stays.
	r.problem(cluster.Net().Heal())
	sctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := cluster.WaitHealthy(sctx); err != nil {
		r.logf("cluster not healthy after heal (the drain goes on): %v", err)
	}
}

func (r *runner) drain(ctx context.Context, q workloads.Queue, cfg workloads.QueueConfig, rec *history.Recorder) {
	dctx, cancel := context.WithTimeout(ctx, r.sc.Workload.Drain.D())
	defer cancel()
	res, err := workloads.Drain(dctx, q, cfg, rec)
	r.problem(err)
	if res.Complete {
		r.logf("drain complete: read %d messages up to offset %d", res.Reads, res.Last)
	} else {
		r.logf("drain cut short at offset %d of %d", res.Reached, res.Last)
	}
}

// readNodes reads each node's own copy of the stream after the drain
// (lost-on-node), within a time of its own as long as the drain's, split
// between the nodes.
func (r *runner) readNodes(ctx context.Context, q workloads.Queue, cfg workloads.QueueConfig, rec *history.Recorder) {
	if ctx.Err() != nil {
		return
	}
	nctx, cancel := context.WithTimeout(ctx, r.sc.Workload.Drain.D())
	defer cancel()
	results, err := workloads.ReadNodes(nctx, q, cfg, rec, workloads.NodeReadOptions{})
	r.problem(err)
	for _, res := range results {
		if res.Complete {
			r.logf("per-node read of %s complete: %d messages up to offset %d", res.Node, res.Reads, max(res.Last, res.Reached))
		} else {
			r.logf("%s (not judged for lost-on-node)", res.Why)
		}
	}
}

// interrupted names a cancellation as such rather than as the failure of
// whatever step it cut short.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", errors.Join(ctx.Err(), err))
	}
	return err
}

// makeRunDir creates the run directory: dir if given (it must be empty or
// absent), else a new one under ./riptide-runs.
// CheckRunDir says whether dir can become a run directory: an empty
// directory, or a path that can be created. The CLI asks before it starts
// anything (the metrics endpoint), Run again when it makes it.
func CheckRunDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("run directory %s is a file, not a directory: choose another with --out", dir)
	case err == nil:
		if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
			return fmt.Errorf("run directory %s is not empty: choose another with --out", dir)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("create run directory: %w", err)
	}
	// Absent: the nearest existing parent must be a directory.
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			return fmt.Errorf("create run directory %s: %s is a file", dir, p)
		case err == nil:
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("create run directory: %w", err)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

func makeRunDir(dir, name string) (string, error) {
	if dir == "" {
		base := filepath.Join("riptide-runs", name+"-"+time.Now().Format("20060102-150405"))
		dir = base
		for i := 2; ; i++ {
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				break
			}
			dir = fmt.Sprintf("%s-%d", base, i)
		}
	}
	if err := CheckRunDir(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir, nil
	}
	return abs, nil
}
