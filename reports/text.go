package reports

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// maxTextExamples is how many examples per anomaly kind Text shows; Text
// says how many more there are, and how many of them results.json lists.
const maxTextExamples = 3

// moreText says how many anomalies of a kind the text leaves out (more)
// and how many of them results.json lists (listed): it keeps at most
// checkers.MaxExamples examples per kind and checker, and counts the rest.
func moreText(more, listed int) string {
	switch {
	case more <= 0:
		return ""
	case listed >= more:
		return fmt.Sprintf("%d more in results.json", more)
	case listed <= 0:
		return fmt.Sprintf("%d more (counted, not listed in results.json)", more)
	}
	return fmt.Sprintf("%d more (%d of them listed in results.json)", more, listed)
}

// Text describes a run in a few lines for a terminal, a log or a test
// failure: the verdict and why, the anomaly counts with the first examples
// of each kind, counted facts, harness problems, the traffic and the run
// directory.
func Text(r *Results, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s\n", strings.ToUpper(string(r.Verdict)))
	if r.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", r.Reason)
	}
	if r.Interrupted && r.Stopped == "" { // a stopped run's reason says why
		b.WriteString("the run was interrupted: the history so far was checked, without heal or drain\n")
	}
	var counts, facts []string
	for _, k := range r.Kinds {
		n := r.Counts[k.Kind]
		switch {
		case n == 0:
		case k.Counted:
			facts = append(facts, fmt.Sprintf("%s %d", k.Kind, n))
		default:
			counts = append(counts, fmt.Sprintf("%s %d", k.Kind, n))
		}
	}
	if len(counts) == 0 {
		counts = []string{"none"}
	}
	fmt.Fprintf(&b, "anomalies: %s\n", strings.Join(counts, ", "))
	for _, c := range r.Checkers {
		for _, k := range r.Kinds {
			// A child kind's values (lost-postfix) are its parent's
			// (lost), listed once under the parent.
			if k.Counted || k.Parent != "" && len(c.Anomalies[k.Parent].Examples) > 0 {
				continue
			}
			a := c.Anomalies[k.Kind]
			shown := min(len(a.Examples), maxTextExamples)
			for _, ex := range a.Examples[:shown] {
				fmt.Fprintf(&b, "  %s: %s\n", k.Kind, ex.Message)
			}
			if more := moreText(a.Count-shown, len(a.Examples)-shown); more != "" {
				fmt.Fprintf(&b, "  %s: ... %s\n", k.Kind, more)
			}
		}
		if c.Error != "" {
			fmt.Fprintf(&b, "  checker %s: %s\n", c.Checker, firstLine(c.Error))
		}
	}
	if len(facts) > 0 {
		fmt.Fprintf(&b, "counted, not anomalies: %s\n", strings.Join(facts, ", "))
	}
	for _, e := range r.HarnessErrors {
		fmt.Fprintf(&b, "harness: %s\n", firstLine(e))
	}
	faults := 0
	for _, f := range r.Faults {
		if f.F == history.FaultStart && f.Error == "" {
			faults++
		}
	}
	if len(r.NodeReads) > 0 {
		var parts []string
		for _, n := range r.NodeReads {
			if n.Complete {
				parts = append(parts, fmt.Sprintf("%s %d to offset %d", n.Node, n.Reads, n.Offset))
			} else {
				parts = append(parts, fmt.Sprintf("%s unjudged (%s)", n.Node, firstLine(n.Error)))
			}
		}
		fmt.Fprintf(&b, "per-node reads: %s\n", strings.Join(parts, ", "))
	}
	// The seed replays the fault schedule: a failure is reproduced with it.
	seed := strconv.FormatInt(r.Scenario.Seed, 10)
	if r.Scenario.Unknown != "" {
		seed = "unknown"
	}
	fmt.Fprintf(&b, "sends %d, acknowledged %d, read %d (consumers and drain), faults %d, seed %s, took %s\n",
		r.Sends, r.Acked, r.Reads, faults, seed, r.Duration.Round(time.Second))
	files := "report.html, results.json, junit.xml, summary.md, history.jsonl"
	// porcupine's view of each nonlinearizable stream, when there is one.
	if views, _ := filepath.Glob(filepath.Join(dir, "porcupine-*.html")); len(views) > 0 {
		for _, v := range views {
			files += ", " + filepath.Base(v)
		}
	}
	fmt.Fprintf(&b, "run directory: %s (%s)", dir, files)
	return b.String()
}
