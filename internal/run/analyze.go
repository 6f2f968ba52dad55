package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

// CheckTimeout bounds the checkers of one run.
const CheckTimeout = 5 * time.Minute

// facts are what the runner knows about a run that the history does not say.
type facts struct {
	Duration      time.Duration
	Interrupted   bool
	HarnessErrors []string
	Nodes         []string
}

// analyze checks a history against the scenario's expectations.
func analyze(ctx context.Context, sc *scenarios.Scenario, h []history.Op, info history.ReadInfo, f facts) *reports.Results {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	results := checkers.Compose(ctx, h, checkers.Queue{})
	allowed := func(k checkers.Kind, n int) bool {
		a, ok := sc.Expect[string(k)]
		return ok && a.Allows(n)
	}
	sum := checkers.Judge(results, allowed)

	r := &reports.Results{
		Scenario:      scenarioSummary(sc),
		Verdict:       sum.Verdict,
		Reason:        sum.Reason,
		Counts:        sum.Counts,
		Checkers:      results,
		Kinds:         checkers.Kinds,
		Duration:      f.Duration,
		Interrupted:   f.Interrupted,
		HarnessErrors: f.HarnessErrors,
		HistoryTorn:   info.Torn,
		Nodes:         f.Nodes,
		Ops:           int64(len(h)),
	}
	for _, k := range checkers.Kinds {
		a := sc.Expect[string(k.Kind)]
		n := sum.Counts[k.Kind]
		r.Expectations = append(r.Expectations, reports.Expectation{
			Kind: k.Kind, Allowed: a.String(), Count: n, Pass: n == 0 || a.Allows(n),
		})
	}
	for _, op := range h {
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			r.Sends++
		case op.F == history.Send && op.Type == history.OK:
			r.Acked++
		case op.F == history.Poll && op.Type == history.OK:
			r.Reads += int64(len(op.Reads))
		case op.F == history.Drain && op.Completes():
			r.Drain = reports.Drain{Ran: true, Complete: op.Type == history.OK, Offset: op.Offset, Error: op.Error}
		case op.Fault != nil:
			r.Faults = append(r.Faults, reports.FaultEvent{
				Op: op.Index, F: op.F, ID: op.Fault.ID, Kind: op.Fault.Kind, Targets: op.Fault.Targets,
				Params: op.Fault.Params, Time: op.Time, Actuation: op.Fault.Actuation, Error: op.Error,
			})
		}
	}
	// An interrupted run proves nothing good: no heal, no drain. What it
	// already proved bad (invalid) stands.
	if f.Interrupted && r.Verdict == checkers.Valid {
		r.Verdict = checkers.Unknown
		r.Reason = "the run was interrupted before the heal and the final drain"
	}
	// The harness failing to do what the scenario says (a fault that could
	// not be applied or healed) leaves the run unproven.
	if len(f.HarnessErrors) > 0 && r.Verdict == checkers.Valid {
		r.Verdict = checkers.Unknown
		r.Reason = "the harness could not carry out the scenario: " + f.HarnessErrors[0]
	}
	if info.Torn {
		r.HarnessErrors = append(r.HarnessErrors, tornNote)
	}
	return r
}

func scenarioSummary(sc *scenarios.Scenario) reports.Scenario {
	s := reports.Scenario{
		Name: sc.Name, Description: sc.Description, Seed: sc.Seed,
		System: sc.Cluster.System, Version: sc.Cluster.Version, Nodes: sc.Cluster.Nodes,
		Platform: sc.Cluster.Platform, Duration: sc.Duration.D(),
	}
	if b, err := sc.Marshal(); err == nil {
		s.YAML = string(b)
	}
	return s
}

// writeReports writes every report file of a run directory.
func writeReports(dir string, r *reports.Results) error {
	if err := reports.WriteJSON(dir, r); err != nil {
		return err
	}
	return reports.WriteHTML(dir, r)
}

// Check re-analyses the history stored in a run directory and rewrites its
// results.json and report.html. The scenario comes from the directory's
// scenario.yaml; without one, every anomaly kind allows 0. What only the
// runner knew (interruption, harness errors, duration) is kept from an
// existing results.json.
func Check(ctx context.Context, dir string) (*reports.Results, error) {
	h, info, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return nil, err
	}
	sc, err := scenarios.Load(filepath.Join(dir, "scenario.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		sc = &scenarios.Scenario{Name: filepath.Base(filepath.Clean(dir))}
		sc.ApplyDefaults()
	} else if err != nil {
		return nil, fmt.Errorf("scenario of %s: %w", dir, err)
	}
	var f facts
	if prev, err := reports.ReadJSON(dir); err == nil {
		f = facts{Duration: prev.Duration, Interrupted: prev.Interrupted, Nodes: prev.Nodes}
		for _, e := range prev.HarnessErrors {
			if e != tornNote {
				f.HarnessErrors = append(f.HarnessErrors, e)
			}
		}
	} else {
		f.Nodes = nodeDirs(dir)
		if len(h) > 0 {
			f.Duration = h[len(h)-1].Time
		}
	}
	r := analyze(ctx, sc, h, info, f)
	return r, writeReports(dir, r)
}

const tornNote = "history.jsonl ended in a torn line (the harness was killed while writing); it was dropped"

// nodeDirs lists nodes/* of a run directory.
func nodeDirs(dir string) []string {
	entries, err := os.ReadDir(filepath.Join(dir, "nodes"))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}
