// Command riptide is a chaos harness for streaming systems: it runs a YAML
// scenario against a real cluster with faults injected, checks the recorded
// history and writes a report. The exit status is the verdict.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/riptidechaos/riptide/internal/metrics"
	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

const usage = `riptide: chaos testing for streaming systems

Usage:
  riptide run SCENARIO.yaml [--out DIR] [--seed N] [--duration D] [--platform process|docker]
                             [--nats-server PATH] [--image IMAGE] [--toxiproxy-image IMAGE]
                             [--fail-on unknown|invalid] [--metrics 127.0.0.1:PORT]
  riptide check RUN_DIR [--fail-on unknown|invalid]
                             re-analyse a stored history, rewrite the reports
  riptide validate SCENARIO... load and validate scenarios, print every problem
  riptide list [-v] [NAME...]  the built-in catalog, or the files of NAME...
  riptide clean [RUN_DIR...]   undo what killed runs left (default: ./riptide-runs/*)

A SCENARIO is a file path or catalog:NAME, a built-in scenario.

Exit status: 0 valid, 1 invalid, 2 unknown, 3 the harness could not run or
was interrupted. With --fail-on invalid, unknown exits 0.
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
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "riptide: unknown command %q\n\n%s", args[0], usage)
		return run.ExitHarness
	}
}

// parse parses flags wherever they appear among the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "run directory (default: a new one under ./riptide-runs)")
	seed := fs.Int64("seed", 0, "override the scenario's seed")
	duration := fs.Duration("duration", 0, "override the length of the main phase")
	platform := fs.String("platform", "", "override the scenario's platform: process or docker")
	binary := fs.String("nats-server", "", "process platform: run this nats-server binary instead of building the pinned version")
	image := fs.String("image", "", "docker platform: the server image (default: the official image of the scenario's version)")
	toxiImage := fs.String("toxiproxy-image", "", "docker platform: the Toxiproxy image (default: ghcr.io/shopify/toxiproxy:2.12.0)")
	failOnFlag := fs.String("fail-on", "", "the least bad verdict that fails: unknown (default) or invalid")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this loopback address, e.g. 127.0.0.1:9090")
	pos, err := parse(fs, args)
	if err != nil {
		return run.ExitHarness
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "riptide run: want one scenario file, got %d\n", len(pos))
		return run.ExitHarness
	}
	failOn, err := reports.ParseFailOn(*failOnFlag)
	if err != nil {
		fmt.Fprintf(stderr, "riptide: %v\n", err)
		return run.ExitHarness
	}
	sc, err := scenarios.Open(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "riptide: invalid scenario:\n%v\n", err)
		return run.ExitHarness
	}
	// Overrides are written into the scenario, so that the run directory's
	// scenario.yaml says what actually ran; they are validated like the file.
	var overridden []string
	if *seed != 0 {
		sc.Seed = *seed
	}
	if *duration != 0 {
		sc.Duration = scenarios.Duration(*duration)
		overridden = append(overridden, "--duration")
	}
	if *platform != "" {
		sc.Cluster.Platform = *platform
		overridden = append(overridden, "--platform")
	}
	if len(overridden) > 0 {
		if err := sc.Validate(); err != nil {
			fmt.Fprintf(stderr, "riptide: with %s: %v\n", strings.Join(overridden, ", "), err)
			return run.ExitHarness
		}
	}

	ctx, stop := interruptible(stderr)
	defer stop()
	opts := run.Options{Dir: *out, Binary: *binary, Log: stdout,
		PlatformOptions: run.PlatformOptions{Image: *image, ToxiproxyImage: *toxiImage}}
	if *metricsAddr != "" {
		// Listen before anything starts: a refused or busy address is a
		// usage error, not a half-run.
		ln, err := metrics.Listen(*metricsAddr)
		if err != nil {
			fmt.Fprintf(stderr, "riptide: --metrics: %v\n", err)
			return run.ExitHarness
		}
		opts.Metrics = metrics.New()
		go func() { _ = opts.Metrics.Serve(ctx, ln) }()
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
func interruptible(stderr io.Writer) (context.Context, func()) {
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
		fmt.Fprintf(stderr, "\nriptide: %s: stopping (again to exit at once)\n", sig)
		cancel()
		if _, ok := <-sigs; ok {
			fmt.Fprintln(stderr, "riptide: exiting now")
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
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	failOnFlag := fs.String("fail-on", "", "the least bad verdict that fails: unknown (default) or invalid")
	pos, err := parse(fs, args)
	if err != nil {
		return run.ExitHarness
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "riptide check: want one run directory, got %d\n", len(pos))
		return run.ExitHarness
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
	if len(args) == 0 {
		fmt.Fprintln(stderr, "riptide validate: want one or more scenario files")
		return run.ExitHarness
	}
	status := 0
	for _, path := range args {
		if _, err := scenarios.Open(path); err != nil {
			fmt.Fprintln(stderr, err)
			status = run.ExitHarness
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", path)
	}
	return status
}
