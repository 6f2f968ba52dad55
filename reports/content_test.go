package reports_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
)

// writeAll writes every report file of r into a new directory and returns
// them by name.
func writeAll(t *testing.T, r *reports.Results, h []history.Op) map[string]string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, reports.Write(dir, r, h))
	files := map[string]string{}
	for _, name := range []string{"summary.md", "junit.xml", "report.html", "results.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		files[name] = string(b)
	}
	return files
}

// A history checked without its scenario: the reports say the scenario is
// unknown and show what the history itself tells (the nodes its operations
// name, its span, when the final drain began), never zeros or defaults as
// the run's seed, cluster or main phase.
func TestReportsOfAHistoryWithoutItsScenario(t *testing.T) {
	h := loadHistory(t, "recorded-nats-smoke-ok.jsonl")
	note := "no scenario.yaml in the run directory: the history was judged alone, every anomaly kind allowed 0"
	r := resultsFor(t, reports.Scenario{Name: "bare", Unknown: note}, h)
	files := writeAll(t, r, h)

	summary := files["summary.md"]
	assertHas(t, summary, "Scenario unknown: no scenario.yaml in the run directory")
	assertHas(t, summary, "| unknown | unknown | unknown | 5,303 | 5,293 |")
	assertAbsent(t, summary, "| 0 |", "no seed 0")
	assertAbsent(t, summary, "| , ", "no cluster made of a separator")

	junit := files["junit.xml"]
	assertHas(t, junit, `<property name="scenario" value="unknown: no scenario.yaml in the run directory`)
	for _, invented := range []string{`name="seed"`, `name="system"`, `name="nodes"`, `name="platform"`} {
		assertAbsent(t, junit, invented)
	}

	page := files["report.html"]
	assertHas(t, page, "<b>Scenario unknown:</b> "+note)
	assertHas(t, page, "<dt>Cluster</dt><dd>unknown<small>the history names n1, n2, n3</small>")
	assertHas(t, page, "<dt>Seed</dt><dd>unknown</dd>")
	assertHas(t, page, "<dt>Main phase</dt><dd>unknown<small>the history spans 48.5s</small>")
	// The final drain began with its first read, 45.6 s in: it is shaded
	// from there.
	assertHas(t, page, "final drain after 45.6s")
	assertHas(t, page, `<span class="swatch swatch-after"></span>final drain`)
	assertHas(t, page, "<p class=\"muted\">Unknown: "+note+".</p>", "no resolved scenario")
	for _, invented := range []string{"nodes on", "<dd>0s<small>", "<dd>0</dd>", "after 0s"} {
		assertAbsent(t, page, invented)
	}
}

// A parent kind tolerated through its child passes with a count over its
// own allowance of 0: every report says which allowance tolerates it.
func TestToleratedExpectationSaysWhy(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("tolerated"), h)
	r.Verdict, r.Reason = checkers.Valid, ""
	for i := range r.Checkers {
		r.Checkers[i].Verdict, r.Checkers[i].Reason = checkers.Valid, ""
	}
	for i, e := range r.Expectations {
		switch e.Kind {
		case checkers.Lost:
			r.Expectations[i].Pass, r.Expectations[i].Tolerated = true, "tolerated: lost-postfix allowed"
		case checkers.LostPostfix:
			r.Expectations[i].Pass, r.Expectations[i].Allowed = true, "allowed"
		}
	}
	files := writeAll(t, r, h)
	assertHas(t, files["summary.md"], "| `lost` | 0 | 1 | ✅ pass (tolerated: lost-postfix allowed) |")
	assertHas(t, files["summary.md"], "| `lost-postfix` | allowed | 1 | ✅ pass |")
	assertHas(t, files["junit.xml"], "1 found, 0 allowed; tolerated: lost-postfix allowed</system-out>")
	assertHas(t, files["results.json"], `"tolerated": "tolerated: lost-postfix allowed"`)
	page := files["report.html"]
	assertHas(t, page, `<span class="pill pass">pass</span> <small class="muted">tolerated: lost-postfix allowed</small>`, "the expectations table")
	assertHas(t, page, `<span class="pill pass">tolerated: lost-postfix allowed</span>`, "the lost section")
	assertAbsent(t, page, "allowed (0)")
}

// The report's read figures count different reads: each says which.
func TestReadFiguresSayWhatTheyCount(t *testing.T) {
	h := synthetic(2000, 10*time.Second)
	r := resultsFor(t, fixtureScenario("reads"), h)
	page := render(t, "", r, h)
	assertHas(t, page, "<dt>Messages read</dt>")
	assertHas(t, page, "by consumers and the final drain, not per-node reads</small>", "the Messages read figure")
	assertHas(t, page, `<span title="messages returned by every read: the consumers, the final drain and the per-node reads`, "the queue checker's reads")
	assertHas(t, page, "reads/s incl. drain", "the throughput chart's key")
	assertHas(t, page, `title="messages read by the consumers; the final drain and the per-node reads are left out">Consumer reads/s</th>`, "the availability windows")
	assertAbsent(t, page, "<small>consumers and drain</small>")
}
