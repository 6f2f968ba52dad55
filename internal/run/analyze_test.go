package run

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/internal/metrics"
	"github.com/riptidechaos/riptide/internal/progress"
	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/riptidechaos/riptide/reports"
)

// checkDir makes a run directory holding the test history name as its
// history.jsonl, and scenario (when not empty) as its scenario.yaml.
func checkDir(t *testing.T, name, scenario string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "histories", name))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644))
	if scenario != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(scenario), 0o644))
	}
	return dir
}

func readReport(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}

// A history checked without its scenario.yaml is judged with every kind
// allowed 0 and the checks' defaults, but none of the placeholder's
// defaults (3 nodes on process, seed 0, main phase 0s, stream riptide,
// 4 producers) is reported as a fact of the run: the reports say the
// scenario is unknown and what the history was judged against.
func TestCheckWithoutScenarioReportsItUnknown(t *testing.T) {
	dir := checkDir(t, "recorded-nats-smoke-ok.jsonl", "")
	r, err := Check(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, checkers.Valid, r.Verdict, r.Reason)
	assert.Contains(t, r.Scenario.Unknown, "no scenario.yaml in the run directory")
	assert.Contains(t, r.Scenario.Unknown, "every anomaly kind allowed 0")
	assert.Contains(t, r.Scenario.Unknown, "20 acknowledged sends needed before the first fault", "the default the checks used")
	assert.Equal(t, reports.Scenario{Name: "run", Unknown: r.Scenario.Unknown}, r.Scenario, "nothing but the name and the note")

	summary := readReport(t, dir, "summary.md")
	assert.Contains(t, summary, "Scenario unknown: no scenario.yaml in the run directory")
	assert.Contains(t, summary, "| unknown | unknown | unknown | 5,303 |", "seed, cluster and main phase")
	assert.NotContains(t, summary, "3 nodes")
	assert.NotContains(t, summary, "(process)")

	junit := readReport(t, dir, "junit.xml")
	assert.Contains(t, junit, `<property name="scenario" value="unknown: no scenario.yaml`)
	for _, invented := range []string{`name="seed"`, `name="nodes"`, `name="platform"`, `name="system"`} {
		assert.NotContains(t, junit, invented)
	}

	page := readReport(t, dir, "report.html")
	assert.Contains(t, page, "<b>Scenario unknown:</b> no scenario.yaml in the run directory")
	assert.Contains(t, page, "<dt>Seed</dt><dd>unknown</dd>")
	assert.Contains(t, page, "<dt>Main phase</dt><dd>unknown<small>the history spans 48.5s</small>")
	assert.Contains(t, page, "the history names n1, n2, n3", "the nodes its operations name")
	// The final drain is shaded from its first read in the history.
	assert.Contains(t, page, "final drain after 45.6s")
	for _, invented := range []string{"nodes on process", "<dd>0</dd>", "<dd>0s<small>", "stream: riptide", "producers: 4"} {
		assert.NotContains(t, page, invented)
	}
}

// A parent kind tolerated because every child found is allowed, and a
// child tolerated by its parent's allowance, pass with a count over their
// own allowance: every report says which allowance tolerates them.
func TestCheckNamesTheAllowanceThatToleratesAKind(t *testing.T) {
	scenario, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "nats-short.yaml"))
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		expect      string
		kind, other checkers.Kind
		tolerated   string
	}{
		"parent by its child": {"lost-postfix: allowed", checkers.Lost, checkers.LostPostfix, "tolerated: lost-postfix allowed"},
		"child by its parent": {"lost: 1", checkers.LostPostfix, checkers.Lost, "tolerated: lost allowed up to 1"},
	} {
		t.Run(name, func(t *testing.T) {
			sc := strings.Replace(string(scenario), "\n  lost: 0\n", "\n  "+tc.expect+"\n", 1)
			require.Contains(t, sc, tc.expect)
			dir := checkDir(t, "lost-bad.jsonl", sc)
			r, err := Check(context.Background(), dir)
			require.NoError(t, err)
			assert.Equal(t, checkers.Valid, r.Verdict, r.Reason)
			for _, e := range r.Expectations {
				switch e.Kind {
				case tc.kind:
					assert.Equal(t, reports.Expectation{Kind: tc.kind, Allowed: "0", Count: 1, Pass: true, Tolerated: tc.tolerated}, e)
				default:
					assert.Empty(t, e.Tolerated, "%s: within its own allowance, or none found", e.Kind)
				}
			}
			assert.Contains(t, readReport(t, dir, "summary.md"), "| `"+string(tc.kind)+"` | 0 | 1 | ✅ pass ("+tc.tolerated+") |")
			assert.Contains(t, readReport(t, dir, "junit.xml"), ": 1 found, 0 allowed; "+tc.tolerated+"</system-out>")
			assert.Contains(t, readReport(t, dir, "report.html"), `<span class="pill pass">pass</span> <small class="muted">`+tc.tolerated+`</small>`)
		})
	}
}

// The status lines of the phases after the main one show the counts as
// they are when the phase begins, not the main phase's last 500 ms
// snapshot, and no send rate: nothing is being sent any more.
func TestLaterPhasesShowFreshCountsAndNoRate(t *testing.T) {
	var out bytes.Buffer
	rec, err := history.Create(filepath.Join(t.TempDir(), "history.jsonl"), time.Now().Add(-45*time.Second))
	require.NoError(t, err)
	defer rec.Close()
	r := &runner{progress: progress.New(&out, progress.WithInterval(time.Second)), rec: rec}
	// The main phase's status line, as status() leaves it: 280 acked at
	// 200/s, 44.4 s in.
	for _, st := range []progress.Status{
		{Phase: "main", Elapsed: 43 * time.Second, Remaining: 2 * time.Second, Anomalies: 0},
		{Phase: "main", Elapsed: 44400 * time.Millisecond, Remaining: 600 * time.Millisecond, Acked: 280, Anomalies: 0},
	} {
		r.last = st
		r.progress.Update(st)
	}
	require.Contains(t, out.String(), "acked 280 (200/s)")
	// Sends in flight complete after that snapshot: 400 acked in all.
	for i := range 400 {
		_, err := rec.Record(history.Op{Process: i % 4, Type: history.Invoke, F: history.Send, Value: "v"})
		require.NoError(t, err)
		_, err = rec.Record(history.Op{Process: i % 4, Type: history.OK, F: history.Send, Value: "v", Offset: int64(i + 1)})
		require.NoError(t, err)
	}
	out.Reset()
	r.phase("heal")
	r.phase("drain")
	r.stopPhase()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	assert.Equal(t, "riptide: heal 45s, acked 400, no active fault, anomalies 0", lines[0])
	assert.Equal(t, "riptide: drain 45s, acked 400, no active fault, anomalies 0", lines[1])
}

// A long phase after the main one (a drain of minutes) keeps its status
// line counting, and off a terminal a plain line still comes every
// interval: a job log that falls silent looks hung.
func TestALongPhaseKeepsCounting(t *testing.T) {
	var out testenv.LockedBuffer
	rec, err := history.Create(filepath.Join(t.TempDir(), "history.jsonl"), time.Now())
	require.NoError(t, err)
	defer rec.Close()
	r := &runner{progress: progress.New(&out, progress.WithInterval(100*time.Millisecond)), rec: rec}
	r.last = progress.Status{Phase: "main", Anomalies: 0}
	r.phase("drain")
	for i := range 50 {
		_, err := rec.Record(history.Op{Process: 0, Type: history.Invoke, F: history.Send, Value: "v"})
		require.NoError(t, err)
		_, err = rec.Record(history.Op{Process: 0, Type: history.OK, F: history.Send, Value: "v", Offset: int64(i + 1)})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "drain 1s, acked 50") },
		30*time.Second, 50*time.Millisecond, "the drain's line goes on:\n%s", out.String())
	r.stopPhase()
}

// The metrics follow the phases after the main one too, teardown among
// them: a scraper sees where a run (an interrupted one too) is.
func TestPhasesReachTheMetrics(t *testing.T) {
	m := metrics.New()
	r := &runner{progress: progress.New(io.Discard), opts: Options{Metrics: m}}
	for _, phase := range []string{"main", "teardown"} {
		r.phase(phase)
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		assert.Contains(t, rec.Body.String(), `riptide_phase{phase="`+phase+`"} 1`)
	}
	r.stopPhase()
}
