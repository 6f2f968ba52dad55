package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
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
	// Stopped is why a run stopped before its end on its own (its
	// journal's end line), when riptide check knows it.
	Stopped string
	// ServerVersion is what the servers reported (see reports.Scenario).
	ServerVersion string
	// NoScenario, when set, says that the scenario is not known (riptide
	// check of a directory without scenario.yaml) and what the history
	// was judged against instead.
	NoScenario string
}

// analyze checks a history against the scenario's expectations.
func analyze(ctx context.Context, sc *scenarios.Scenario, h []history.Op, info history.ReadInfo, f facts) *reports.Results {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	results := checkers.Compose(ctx, h, append(checkers.Default(checkOptions(sc)), checkersForTest...)...)
	allowed := func(k checkers.Kind, n int) bool {
		a, ok := sc.Expect[string(k)]
		return ok && a.Allows(n)
	}
	sum := checkers.Judge(results, allowed)

	summary := scenarioSummary(sc)
	summary.ServerVersion = f.ServerVersion
	if f.NoScenario != "" {
		// The placeholder's defaults set the checks; they are no facts of
		// the run and are not reported as such.
		summary = reports.Scenario{Name: sc.Name, Unknown: f.NoScenario}
	}
	r := reports.Assemble(summary, h, results, sum, func(k checkers.Kind) string {
		return sc.Expect[string(k)].String()
	})
	nameTolerations(r, sc.Expect)
	r.Duration, r.Interrupted, r.Nodes, r.Stopped = f.Duration, f.Interrupted, f.Nodes, f.Stopped
	r.HarnessErrors, r.HistoryTorn = f.HarnessErrors, info.Torn
	// An interrupted run proves nothing good: no heal, no drain. What it
	// already proved bad (invalid) stands.
	if f.Interrupted && r.Verdict == checkers.Valid {
		r.Verdict = checkers.Unknown
		r.Reason = "the run was interrupted before the heal and the final drain"
		if f.Stopped != "" {
			r.Reason = "the run could not go on: " + f.Stopped
		}
	}
	// The harness failing to do what the scenario says (a fault that could
	// not be applied or healed) leaves the run unproven.
	if len(f.HarnessErrors) > 0 && r.Verdict == checkers.Valid {
		r.Verdict = checkers.Unknown
		r.Reason = "the harness could not carry out the scenario: " + f.HarnessErrors[0]
	}
	// Nothing recorded proves nothing: a run stopped before its main
	// phase leaves an empty history.
	if len(h) == 0 && r.Verdict == checkers.Valid {
		r.Verdict = checkers.Unknown
		r.Reason = "the history holds no operations: nothing was checked"
	}
	if info.Torn {
		r.HarnessErrors = append(r.HarnessErrors, tornNote)
	}
	return r
}

// nameTolerations says, on each expectation that passes although its own
// allowance does not cover its count, whose allowance does: a parent
// tolerated because every child found is allowed ("lost: 0", 1 found, pass,
// tolerated: lost-postfix allowed), or a child covered by its parent's.
func nameTolerations(r *reports.Results, expect map[string]scenarios.Allowance) {
	for i := range r.Expectations {
		e := &r.Expectations[i]
		info, _ := checkers.KindInfoOf(e.Kind)
		if !e.Pass || e.Count == 0 || info.Counted || expect[string(e.Kind)].Allows(e.Count) {
			continue
		}
		var by []string
		if info.Parent != "" {
			by = append(by, allowanceText(info.Parent, expect[string(info.Parent)]))
		}
		for _, child := range checkers.Kinds {
			if child.Parent == e.Kind && r.Counts[child.Kind] > 0 {
				by = append(by, allowanceText(child.Kind, expect[string(child.Kind)]))
			}
		}
		if len(by) > 0 {
			e.Tolerated = "tolerated: " + strings.Join(by, ", ")
		}
	}
}

func allowanceText(k checkers.Kind, a scenarios.Allowance) string {
	if a.Any {
		return string(k) + " allowed"
	}
	return fmt.Sprintf("%s allowed up to %d", k, a.Max)
}

// checkersForTest run after the standard checkers: tests add one that
// panics.
var checkersForTest []checkers.Checker

// checkOptions are the checkers' settings for a scenario.
func checkOptions(sc *scenarios.Scenario) checkers.Options {
	return checkers.Options{
		MinAckedBeforeFault: sc.Checks.MinAckedBeforeFault,
		Porcupine:           sc.Checks.Porcupine,
	}
}

func scenarioSummary(sc *scenarios.Scenario) reports.Scenario {
	s := reports.Scenario{
		Name: sc.Name, Description: sc.Description, Seed: sc.Seed,
		System: sc.Cluster.System, Version: sc.Cluster.Version, Nodes: sc.Cluster.Nodes,
		Platform: sc.Cluster.Platform, Duration: sc.Duration.D(),
		Image: sc.Cluster.Image, ToxiproxyImage: sc.Cluster.ToxiproxyImage,
	}
	if b, err := sc.Marshal(); err == nil {
		s.YAML = string(b)
	}
	return s
}

// VisualizeTimeout bounds the porcupine visualization of each failing stream.
const VisualizeTimeout = 30 * time.Second

// writeReports writes every report file of a run directory: results.json,
// junit.xml, summary.md, report.html and, for each stream whose log is not
// linearizable, porcupine-STREAM.html, which the report links.
func writeReports(ctx context.Context, dir string, sc *scenarios.Scenario, r *reports.Results, h []history.Op) error {
	var errs []error
	for _, stream := range nonlinearizableStreams(r) {
		errs = append(errs, visualize(ctx, dir, sc, stream, h))
	}
	errs = append(errs, reports.Write(dir, r, h))
	return errors.Join(errs...)
}

// nonlinearizableStreams lists the streams the linearizability checker
// found a violation in.
func nonlinearizableStreams(r *reports.Results) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.Checkers {
		for _, ex := range c.Anomalies[checkers.Nonlinearizable].Examples {
			if ex.Stream != "" && !seen[ex.Stream] {
				seen[ex.Stream] = true
				out = append(out, ex.Stream)
			}
		}
	}
	sort.Strings(out)
	return out
}

func visualize(ctx context.Context, dir string, sc *scenarios.Scenario, stream string, h []history.Op) error {
	ctx, cancel := context.WithTimeout(ctx, VisualizeTimeout)
	defer cancel()
	var buf bytes.Buffer
	if err := checkers.VisualizeStream(ctx, h, stream, checkOptions(sc).Log, &buf); err != nil {
		return err
	}
	name := "porcupine-" + safeFileName(stream) + ".html"
	return os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
}

// safeFileName keeps a stream name to characters safe in a file name.
func safeFileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Check re-analyses the history stored in a run directory and rewrites its
// results.json and report.html. The scenario comes from the directory's
// scenario.yaml; without one, every anomaly kind allows 0, the checks take
// their defaults and the reports say that the scenario is unknown. What
// only the runner knew (interruption, harness errors, duration) is kept
// from an existing results.json.
func Check(ctx context.Context, dir string) (*reports.Results, error) {
	h, info, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return nil, err
	}
	var f facts
	sc, err := scenarios.Load(filepath.Join(dir, "scenario.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		sc = &scenarios.Scenario{Name: filepath.Base(filepath.Clean(dir))}
		sc.ApplyDefaults()
		f.NoScenario = noScenarioNote(sc)
	} else if err != nil {
		return nil, fmt.Errorf("scenario of %s: %w", dir, err)
	}
	if prev, err := reports.ReadJSON(dir); err == nil {
		f.Duration, f.Interrupted, f.Nodes = prev.Duration, prev.Interrupted, prev.Nodes
		f.ServerVersion = prev.Scenario.ServerVersion
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
		// A run directory (it has a heal journal) without results.json is
		// a run whose harness died before it reported: unless its history
		// reached the final drain, the run never got to its end, and what
		// it read so far must not pass for a verdict.
		if entries, err := injectors.ReadJournal(dir); err == nil && !drained(h) {
			f.Interrupted = true
			note := diedNote
			if _, running := injectors.Running(entries); running {
				note = runningNote
			} else if injectors.Ended(entries) && entries[len(entries)-1].Note != injectors.CleanedNote {
				// The harness wrote the end line itself: it tore down and
				// exited 3 without results (the cluster did not start, a
				// step failed), it was not killed. The end line says why,
				// which the reason then quotes; older runs' do not.
				// (Ended: the journal has lines, the last one the end.)
				if why := entries[len(entries)-1].Note; why != "" {
					note, f.Stopped = stoppedNote, why
				} else {
					note = stoppedNote + "; its output said why"
				}
			}
			f.HarnessErrors = append(f.HarnessErrors, note)
		}
	}
	r := analyze(ctx, sc, h, info, f)
	return r, writeReports(ctx, dir, sc, r, h)
}

// noScenarioNote says what a history without its scenario was judged
// against: no expect: block (every kind allows 0) and the checks' defaults.
func noScenarioNote(sc *scenarios.Scenario) string {
	note := "no scenario.yaml in the run directory: the history was judged alone, every anomaly kind allowed 0"
	if n := sc.Checks.MinAckedBeforeFault; n > 0 {
		note += fmt.Sprintf(", %d acknowledged sends needed before the first fault (the default)", n)
	}
	return note
}

const tornNote = "history.jsonl ended in a torn line (the harness was killed while writing); it was dropped"

const stoppedNote = "the run stopped before its end and wrote no results.json: it could not go on (the cluster did not start, or a step failed)"

const diedNote = "the harness stopped before the end of the run (killed?) and wrote no results.json: the history ends before the final drain"

const runningNote = "the run is still going on: this is the history so far, before the final drain"

// drained reports whether the history holds the final drain's completion.
func drained(h []history.Op) bool {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].F == history.Drain && h[i].Type != history.Invoke {
			return true
		}
	}
	return false
}

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
