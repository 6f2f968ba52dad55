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
	"time"

	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

const usage = `riptide: chaos testing for streaming systems

Usage:
  riptide run SCENARIO.yaml [--out DIR] [--seed N] [--duration D] [--nats-server PATH]
  riptide check RUN_DIR        re-analyse a stored history, rewrite the reports
  riptide validate SCENARIO... load and validate scenarios, print every problem
  riptide list [-v] [NAME...]  the built-in catalog, or the files of NAME...
  riptide clean [RUN_DIR...]   undo what killed runs left (default: ./riptide-runs/*)

A SCENARIO is a file path or catalog:NAME, a built-in scenario.

Exit status: 0 valid, 1 invalid, 2 unknown, 3 the harness could not run.
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
	binary := fs.String("nats-server", "", "run this nats-server binary instead of building the pinned version")
	pos, err := parse(fs, args)
	if err != nil {
		return run.ExitHarness
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "riptide run: want one scenario file, got %d\n", len(pos))
		return run.ExitHarness
	}
	sc, err := scenarios.Open(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "riptide: invalid scenario:\n%v\n", err)
		return run.ExitHarness
	}
	if *seed != 0 {
		sc.Seed = *seed
	}
	if *duration != 0 {
		sc.Duration = scenarios.Duration(*duration)
		if err := sc.Validate(); err != nil {
			fmt.Fprintf(stderr, "riptide: --duration %s: %v\n", *duration, err)
			return run.ExitHarness
		}
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	outcome, err := run.Run(ctx, sc, run.Options{Dir: *out, Binary: *binary, Log: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "riptide: %v\n", err)
		return run.ExitHarness
	}
	summarize(stdout, outcome.Dir, outcome.Results)
	return run.ExitCode(outcome.Results)
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM;
// a second one exits at once (nodes die with the harness).
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
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
		close(sigs)
		cancel()
	}
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return run.ExitHarness
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "riptide check: want one run directory, got %d\n", len(pos))
		return run.ExitHarness
	}
	res, err := run.Check(context.Background(), pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "riptide check: %v\n", err)
		return run.ExitHarness
	}
	summarize(stdout, pos[0], res)
	return run.ExitCode(res)
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

// summarize prints the verdict, the counts and where the run directory is.
func summarize(w io.Writer, dir string, r *reports.Results) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "verdict: %s\n", strings.ToUpper(string(r.Verdict)))
	if r.Reason != "" {
		fmt.Fprintf(w, "reason:  %s\n", r.Reason)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "the run was interrupted: the history so far was checked, without heal or drain")
	}
	fmt.Fprintf(w, "sends %d, acknowledged %d, read %d (consumers and drain), faults %d, took %s\n",
		r.Sends, r.Acked, r.Reads, countStarts(r), r.Duration.Round(time.Second))
	var parts []string
	for _, k := range r.Kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k.Kind, r.Counts[k.Kind]))
	}
	fmt.Fprintf(w, "anomalies: %s\n", strings.Join(parts, ", "))
	for _, c := range r.Checkers {
		for _, k := range r.Kinds {
			a := c.Anomalies[k.Kind]
			for i, ex := range a.Examples {
				if i == 3 {
					fmt.Fprintf(w, "  %s: ... %d more in results.json\n", k.Kind, a.Count-3)
					break
				}
				fmt.Fprintf(w, "  %s: %s\n", k.Kind, ex.Message)
			}
		}
	}
	for _, e := range r.HarnessErrors {
		fmt.Fprintf(w, "harness: %s\n", e)
	}
	fmt.Fprintf(w, "run directory: %s (report.html, results.json, history.jsonl)\n", dir)
}

func countStarts(r *reports.Results) int {
	n := 0
	for _, f := range r.Faults {
		if f.F == "fault-start" && f.Error == "" {
			n++
		}
	}
	return n
}
