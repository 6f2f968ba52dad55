// Package riptide runs chaos scenarios from Go, for programs that build or
// generate scenarios rather than write YAML; the riptide command and
// package riptidetest are built on it.
//
// A scenario is a [scenarios.Scenario]: load one from a file or the built-in
// catalog with [Load], or fill the struct in Go. [Run] applies the defaults,
// validates it, launches the cluster, runs the workload and the faults,
// checks the history and writes the run directory, exactly as
// `riptide run` does.
package riptide

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

// Verdict is the outcome of a run's checks.
type Verdict = checkers.Verdict

// The verdicts, from best to worst.
const (
	// Valid: every expectation of the scenario held.
	Valid = checkers.Valid
	// Unknown: nothing was proven wrong, but the run could not prove the
	// expectations either (a drain cut short, a fault that failed to apply).
	Unknown = checkers.Unknown
	// Invalid: an anomaly beyond what the scenario allows was found.
	Invalid = checkers.Invalid
)

// Options are the settings of a run that are not part of the scenario.
type Options struct {
	// Dir is the run directory; it must be empty or absent. Empty picks a
	// new one under ./riptide-runs.
	Dir string
	// Binary is an existing server binary (nats-server) to run instead of
	// the scenario's cluster.binary or a build of its pinned version.
	Binary string
	// Log receives progress lines as the run goes; nil discards them.
	Log io.Writer
	// Image and ToxiproxyImage name the images of the docker platform
	// (default: the official nats:VERSION and ghcr.io/shopify/toxiproxy).
	Image, ToxiproxyImage string
}

// Outcome is a run that was carried out, whatever its verdict.
type Outcome struct {
	// Dir is the run directory: history.jsonl, results.json, report.html,
	// the resolved scenario.yaml and the nodes' logs.
	Dir string
	// Results are the verdict, the anomalies with examples, the faults
	// and the traffic, as written to results.json.
	Results *reports.Results
}

// Load reads a scenario from a file, or from the built-in catalog when ref
// is "catalog:NAME" (see [scenarios.Catalog]). Every problem comes back at
// once as a *[scenarios.Problems], each with its file:line:column.
func Load(ref string) (*scenarios.Scenario, error) {
	return scenarios.Open(ref)
}

// Run carries out the scenario. It works on a copy of sc with defaults
// applied, so sc is left as it was; the seed a run picked for a zero Seed
// is in the outcome's Results.Scenario.Seed.
//
// An invalid scenario is an error wrapping *[scenarios.Problems] (for a
// scenario built in Go each problem names its field), and nothing is
// launched; so is a platform that cannot run here, which wraps
// [ErrUnavailable]. Any other error means the harness could not carry the
// run out (exit status 3 of `riptide run`). A run that was carried out
// returns its Outcome with a nil error even when the verdict is invalid.
//
// Cancelling ctx stops the run at once: no heal and no drain, the cluster
// torn down, the history so far checked, and Results.Interrupted set.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (*Outcome, error) {
	c, err := prepare(sc)
	if err != nil {
		return nil, err
	}
	if err := available(ctx, c, opts.Binary); err != nil {
		return nil, err
	}
	out, err := run.Run(ctx, c, run.Options{Dir: opts.Dir, Binary: opts.Binary, Log: opts.Log,
		PlatformOptions: run.PlatformOptions{Image: opts.Image, ToxiproxyImage: opts.ToxiproxyImage}})
	if err != nil {
		return nil, fmt.Errorf("run scenario %s: %w", c.Name, err)
	}
	return &Outcome{Dir: out.Dir, Results: out.Results}, nil
}

// prepare copies sc, applies the defaults and validates the copy.
func prepare(sc *scenarios.Scenario) (*scenarios.Scenario, error) {
	if sc == nil {
		return nil, errors.New("run scenario: nil scenario")
	}
	c := *sc
	c.Faults = slices.Clone(sc.Faults) // ApplyDefaults fills in faults
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid scenario %s:\n%w", c.Name, err)
	}
	return &c, nil
}

// ExitCode is the exit status `riptide run` gives this outcome: 0 valid,
// 1 invalid, 2 unknown, 3 interrupted.
func (o *Outcome) ExitCode() int { return run.ExitCode(o.Results) }

// Summary describes the outcome in a few lines for a log or a test failure:
// the verdict and why, the anomaly counts with the first examples of each
// kind, harness problems, the traffic and the run directory.
func (o *Outcome) Summary() string { return reports.Text(o.Results, o.Dir) }
