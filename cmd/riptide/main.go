// Command riptide is a chaos harness for streaming systems: it runs a YAML
// scenario against a real cluster with faults injected, checks the recorded
// history and writes a report. The exit status is the verdict.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/internal/metrics"
	"github.com/riptidechaos/riptide/internal/progress"
	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

const usage = `riptide: chaos testing for streaming systems

Usage:
  riptide run SCENARIO [flags]   run a scenario against a real cluster; the exit
                                 status is the verdict
  riptide check RUN_DIR [flags]  re-analyse a stored history, rewrite the reports
  riptide validate SCENARIO...   load and validate scenarios, print every problem
  riptide list [-v] [NAME...]    the built-in catalog, or the files of NAME...
  riptide clean [RUN_DIR...]     undo what killed runs left (default: ./riptide-runs/*
                                 and every dead riptide container)
  riptide help COMMAND           the arguments and flags of COMMAND (or riptide COMMAND -h)

A SCENARIO is a file path or catalog:NAME, a built-in scenario.

Exit status: 0 valid, 1 invalid, 2 unknown, 3 the harness could not run
(bad arguments included) or was interrupted. With --fail-on invalid,
unknown exits 0.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return run.ExitHarness
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "clean":
		return cmdClean(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		return cmdHelp(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "riptide: unknown command %q; commands: %s (riptide help)\n", args[0], strings.Join(commands, ", "))
		return run.ExitHarness
	}
}

// commands are the subcommands, for riptide help COMMAND.
var commands = []string{"run", "check", "validate", "list", "clean"}

// cmdHelp prints the general usage, or with a command name that command's.
func cmdHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && slices.Contains([]string{"-h", "-help", "--help"}, args[0]):
		fmt.Fprint(stdout, usage)
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "riptide help: want one command, got %d; usage: riptide help COMMAND\n", len(args))
		return run.ExitHarness
	case !slices.Contains(commands, args[0]):
		fmt.Fprintf(stderr, "riptide help: unknown command %q; commands: %s\n", args[0], strings.Join(commands, ", "))
		return run.ExitHarness
	}
	// Every command parses its flags before anything else: -h prints its
	// usage and does nothing more.
	return realMain([]string{args[0], "-h"}, stdout, stderr)
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	c := newSubcommand("run", "riptide run SCENARIO [flags]", `
Run SCENARIO, a scenario file or catalog:NAME (riptide list), against a real
cluster with its faults injected, check the recorded history and write the
reports into a new run directory. The exit status is the verdict: 0 valid,
1 invalid, 2 unknown, 3 the harness could not run or was interrupted.`)
	fs := c.fs
	out := fs.String("out", "", "the run directory `DIR`, absent or empty (default: a new one under ./riptide-runs)")
	seed := fs.Int64("seed", 0, "override the scenario's seed with `N` (0: draw a new one)")
	duration := fs.Duration("duration", 0, "override the length of the main phase, e.g. 30s (at least 1s)")
	platform := fs.String("platform", "", "override the scenario's platform: `process|docker`")
	binary := fs.String("nats-server", "", "process platform: run the nats-server binary at `PATH` instead of building the pinned version")
	image := fs.String("image", "", "docker platform: the server `IMAGE` (default: the official image of the scenario's version)")
	toxiImage := fs.String("toxiproxy-image", "", "docker platform: the Toxiproxy `IMAGE` (default: ghcr.io/shopify/toxiproxy:2.12.0)")
	failOnFlag := fs.String("fail-on", "", "the least bad verdict that fails: `unknown|invalid` (default unknown: only valid passes)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this loopback `ADDRESS`, e.g. 127.0.0.1:9090")
	pos, status, done := c.parse(args, stdout, stderr)
	if done {
		return status
	}
	if len(pos) != 1 {
		return c.usageError(stderr, "want one scenario, got %d", len(pos))
	}
	failOn, err := reports.ParseFailOn(*failOnFlag)
	if err != nil {
		fmt.Fprintf(stderr, "riptide: %v\n", err)
		return run.ExitHarness
	}
	// Zero would read as "not set" to the scenario's validation.
	if given(fs, "duration") && *duration <= 0 {
		fmt.Fprintf(stderr, "riptide run: --duration: must be at least 1s, got %s\n", *duration)
		return run.ExitHarness
	}
	sc, err := scenarios.Open(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "riptide: invalid scenario:\n%v\n", err)
		return run.ExitHarness
	}
	// Overrides are written into the scenario, so that the run directory's
	// scenario.yaml says what actually ran; they are validated like the file.
	overridden := applyOverrides(sc, fs, *seed, *duration, *platform)
	if len(overridden) > 0 {
		if err := sc.Validate(); err != nil {
			fmt.Fprintf(stderr, "riptide: invalid scenario with %s:\n%v\n", strings.Join(overridden, ", "), annotateOverrides(err, overridden))
			return run.ExitHarness
		}
	}
	// Flags that do not fit the platform, and a binary that is not there,
	// are usage errors: caught before the run directory is made.
	if err := checkPlatformFlags(sc, *platform != "", *binary, *image, *toxiImage); err != nil {
		fmt.Fprintf(stderr, "riptide run: %v\n", err)
		return run.ExitHarness
	}

	// A second interrupt exits without the run's teardown: processes die
	// with the harness (parent-death signal), containers do not.
	var atExit func()
	if sc.Cluster.Platform == "docker" {
		atExit = func() { removeOwnContainers(stderr) }
	}
	ctx, stop := interruptible(stdout, stderr, atExit)
	defer stop()
	opts := run.Options{Dir: *out, Binary: *binary, Log: stdout,
		PlatformOptions: run.PlatformOptions{Image: *image, ToxiproxyImage: *toxiImage}}
	// An --out that cannot be the run directory is a usage error too,
	// found before the metrics endpoint starts.
	if *out != "" {
		if err := run.CheckRunDir(*out); err != nil {
			fmt.Fprintf(stderr, "riptide run: --out: %v\n", err)
			return run.ExitHarness
		}
	}
	if *metricsAddr != "" {
		// Listen before anything starts: a refused or busy address is a
		// usage error, not a half-run.
		ln, err := metrics.Listen(*metricsAddr)
		if err != nil {
			fmt.Fprintf(stderr, "riptide: --metrics: %v\n", err)
			return run.ExitHarness
		}
		opts.Metrics = metrics.New()
		// Served until riptide exits, not until the first Ctrl-C: a
		// scraper sees the teardown, the check and the report too.
		serveCtx, stopServing := context.WithCancel(context.Background())
		defer stopServing()
		go func() { _ = opts.Metrics.Serve(serveCtx, ln) }()
		fmt.Fprintf(stdout, "riptide: metrics on http://%s/metrics\n", ln.Addr())
	}
	outcome, err := run.Run(ctx, sc, opts)
	if err != nil {
		fmt.Fprintf(stderr, "riptide: %v\n", err)
		return run.ExitHarness
	}
	fmt.Fprintf(stdout, "\n%s\n", reports.Text(outcome.Results, outcome.Dir))
	return outcome.Results.ExitCode(failOn)
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM
// (or SIGHUP: the terminal closed); a second one exits at once (nodes die
// with the harness).
func interruptible(stdout, stderr io.Writer, atExit func()) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	// Under nohup, SIGHUP stays ignored.
	if !signal.Ignored(syscall.SIGHUP) {
		signal.Notify(sigs, syscall.SIGHUP)
	}
	// A reader of stdout that goes away (riptide run ... | head) must not
	// kill the harness mid-run, before its teardown: with SIGPIPE notified,
	// writes to the closed pipe fail and the run goes on to its end. The
	// channel is never read; a full one drops the signal.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		// The status line (on stdout, a terminal) is erased rather than
		// left behind with the ^C the terminal echoed; it is drawn again
		// below the message.
		if progress.Terminal(stdout) {
			fmt.Fprint(stdout, progress.ClearLine)
		}
		fmt.Fprintf(stderr, "riptide: %s: stopping (again to exit at once)\n", sig)
		cancel()
		if _, ok := <-sigs; ok {
			fmt.Fprintln(stderr, "riptide: exiting now")
			if atExit != nil {
				// A third interrupt kills the harness at once, as
				// without riptide's handler.
				signal.Reset(syscall.SIGINT, syscall.SIGTERM)
				atExit()
			}
			os.Exit(run.ExitHarness)
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		signal.Stop(pipe)
		close(sigs)
		cancel()
	}
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	c := newSubcommand("check", "riptide check RUN_DIR [flags]", `
Re-analyse the history stored in RUN_DIR, the run directory of an earlier
riptide run (or of a killed one), and rewrite its results.json and reports.
The exit status is the verdict, as for riptide run.`)
	failOnFlag := c.fs.String("fail-on", "", "the least bad verdict that fails: `unknown|invalid` (default unknown: only valid passes)")
	pos, status, done := c.parse(args, stdout, stderr)
	if done {
		return status
	}
	if len(pos) != 1 {
		return c.usageError(stderr, "want one run directory, got %d", len(pos))
	}
	failOn, err := reports.ParseFailOn(*failOnFlag)
	if err != nil {
		fmt.Fprintf(stderr, "riptide check: %v\n", err)
		return run.ExitHarness
	}
	res, err := run.Check(context.Background(), pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "riptide check: %v\n", err)
		return run.ExitHarness
	}
	fmt.Fprintf(stdout, "\n%s\n", reports.Text(res, pos[0]))
	return res.ExitCode(failOn)
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	c := newSubcommand("validate", "riptide validate SCENARIO...", `
Load and validate each SCENARIO, a scenario file or catalog:NAME, without
running anything: print "SCENARIO: ok", or every problem as
FILE:LINE:COLUMN: FIELD: MESSAGE. Exit status 0 when all are valid, else 3.`)
	paths, status, done := c.parse(args, stdout, stderr)
	if done {
		return status
	}
	if len(paths) == 0 {
		return c.usageError(stderr, "want one or more scenarios")
	}
	for _, path := range paths {
		if _, err := scenarios.Open(path); err != nil {
			fmt.Fprintln(stderr, err)
			status = run.ExitHarness
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", path)
	}
	return status
}

// exitSweepTimeout bounds the removal of a run's containers when the
// harness exits at once: a user who pressed Ctrl-C twice wants out.
const exitSweepTimeout = 10 * time.Second

// removeOwnContainers removes the containers and network of this
// harness's docker run (thawing a paused node first), for a harness about
// to exit without its teardown. What it cannot remove in time stays for
// riptide clean or the next docker run's sweep, and it says so.
func removeOwnContainers(stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), exitSweepTimeout)
	defer cancel()
	rep, err := docker.Sweep(ctx, docker.SweepOptions{Own: true})
	if err != nil {
		fmt.Fprintf(stderr, "riptide: %v; riptide clean RUN_DIR (or the next docker run) removes what is left\n", err)
		return
	}
	if rep.Removed() > 0 {
		fmt.Fprintf(stderr, "riptide: removed the run's %s\n", rep)
	}
}
