package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
)

func render(t *testing.T, dir string, r *reports.Results, h []history.Op) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, reports.RenderHTML(&buf, dir, r, h, reports.HTMLOptions{}))
	return buf.String()
}

func TestReportIsSelfContained(t *testing.T) {
	h := synthetic(2000, 10*time.Second)
	page := render(t, "", resultsFor(t, fixtureScenario("offline"), h), h)
	// Nothing is fetched: no external script, stylesheet, font or image.
	for _, re := range []string{`(?i)<script[^>]+src=`, `(?i)<link[^>]+href=`, `(?i)@import`, `(?i)url\(\s*['"]?https?:`, `(?i)<img`, `(?i)src=["']?https?:`} {
		assert.NotRegexp(t, regexp.MustCompile(re), page)
	}
	assertHas(t, page, "<svg", "charts are inline SVG")
}

func TestReportShowsTheRun(t *testing.T) {
	h := synthetic(4000, 20*time.Second)
	r := resultsFor(t, fixtureScenario("shown"), h)
	page := render(t, "", r, h)
	for _, want := range []string{
		`class="banner valid"`, "Every expectation held",
		"nats 2.12.1", "3 nodes on process", // scenario facts
		"f1 kill", "f2 partition isolate-one clients=cut", "f3 latency 50ms±10ms", // fault bars, main parameter first
		`class="band k0"`, "acknowledged sends/s", "p99", // charts with fault bands
		"heal and drain after 20s", // the phase after the main one
	} {
		assertHas(t, page, want)
	}
	// The lanes are the nodes, then the untargeted faults.
	lanes := regexp.MustCompile(`<div class="gutter" title="([^"]+)">`).FindAllStringSubmatch(page, -1)
	var names []string
	for _, l := range lanes {
		names = append(names, l[1])
	}
	assert.Equal(t, []string{"n1", "n2", "n3", "all links"}, names)
	assertHas(t, page, "Availability around each fault", "the availability checker's windows")
}

func TestReportRendersEveryKindTheCheckersList(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("kinds"), h)
	page := render(t, "", r, h)
	for _, k := range checkers.Kinds {
		assertHas(t, page, "<code>"+string(k.Kind)+"</code>", "kind %s", k.Kind)
	}
	assertHas(t, page, `id="kind-lost"`)
	assertHas(t, page, `class="banner invalid"`)
	assertHas(t, page, `href="#op-3"`, "example ops link into the table")
}

func TestReportRendersAvailabilityWindows(t *testing.T) {
	h := synthetic(2000, 10*time.Second)
	r := resultsFor(t, fixtureScenario("windows"), h)
	r.Checkers = append(r.Checkers, checkers.Result{Checker: "availability", Verdict: checkers.Valid,
		Windows: []checkers.FaultWindow{{ID: "f2", Kind: "partition", Targets: []string{"n2"},
			Start: 4 * time.Second, End: 5500 * time.Millisecond,
			Before: checkers.WindowStats{Acked: 300, AckedPerSec: 200, P50: 2 * time.Millisecond, P99: 9 * time.Millisecond},
			During: checkers.WindowStats{Acked: 15, AckedPerSec: 10, P50: 40 * time.Millisecond, P99: 3 * time.Second},
			After:  checkers.WindowStats{Acked: 290, AckedPerSec: 195, P50: 2 * time.Millisecond, P99: 11 * time.Millisecond}}}})
	page := render(t, "", r, h)
	assertHas(t, page, "Availability around each fault")
	assertHas(t, page, "200 → <b>10.0</b> → 195")
	assertHas(t, page, "9ms → <b>3s</b> → 11ms")
	assertHas(t, page, `<tr class="drop">`, "a fault that halved throughput is marked")
}

func TestReportLinksPorcupineFilesAndLogs(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("links"), h)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "porcupine-orders.html"), []byte("<html></html>"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", "n2"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", "n2", "node.log"),
		[]byte("[7] [INF] ready\n[7] [ERR] JetStream out of storage\n[7] [INF] bye\n"), 0o644))
	page := render(t, dir, r, h)
	assertHas(t, page, `<a href="porcupine-orders.html">stream <code>orders</code></a>`)
	assertHas(t, page, `<a href="nodes/n2/node.log">`)
	assertHas(t, page, "[7] [ERR] JetStream out of storage</pre>", "error lines are quoted")
	assert.Equal(t, 2, strings.Count(page, "no log"), "n1 and n3 have none")
}

func TestReportShowsThePlannedSchedule(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("schedule"), h)
	dir := t.TempDir()
	plan := `{"seed": 41, "duration": "1m0s", "firings": [
	  {"id": "f1", "at": "5s", "at_ms": 5000, "for": "10s", "kind": "pause", "targets": ["n2"], "params": {"signal": "SIGSTOP"}},
	  {"id": "f2", "at": "20s", "at_ms": 20000, "kind": "restart", "targets": ["n1", "n3"], "params": {"mode": "rolling"}},
	  {"id": "f3", "at": "30s", "at_ms": 30000, "for": "end of main phase", "kind": "partition", "params": {"mode": "isolate-leader"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "schedule.json"), []byte(plan), 0o644))
	require.NoError(t, reports.Write(dir, r, h))
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	page := string(b)
	assertHas(t, page, "drawn from seed 41", "the schedule names its seed")
	assertHas(t, page, "n1, n3", "targets drawn in advance")
	assertHas(t, page, "chosen when it fires", "targets drawn at firing time")
	assertHas(t, page, "end of main phase", "open-ended faults")

	// Without schedule.json (an older run) the section is left out.
	require.NoError(t, os.Remove(filepath.Join(dir, "schedule.json")))
	require.NoError(t, reports.Write(dir, r, h))
	b, err = os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "drawn from seed")
}

func TestHeadline(t *testing.T) {
	valid := &reports.Results{Verdict: checkers.Valid, Acked: 10,
		Faults:       []reports.FaultEvent{{F: history.FaultStart, ID: "f1"}, {F: history.FaultStop, ID: "f1"}},
		Expectations: []reports.Expectation{{Kind: checkers.Lost, Allowed: "0", Pass: true}}}
	assert.Equal(t, "Every expectation held: 10 acknowledged sends, 1 fault injected, nothing lost, duplicated or corrupted.", valid.Headline())
	valid.Expectations = append(valid.Expectations, reports.Expectation{Kind: checkers.Duplicate, Allowed: "allowed", Count: 3, Pass: true})
	assert.Equal(t, "Every expectation held: 10 acknowledged sends, 1 fault injected; found, within what the scenario allows: 3 duplicate.", valid.Headline())

	invalid := &reports.Results{Verdict: checkers.Invalid, Reason: "queue: 2 lost",
		Checkers: []checkers.Result{{Checker: "queue", Verdict: checkers.Invalid, Reason: "2 lost"}}}
	assert.Equal(t, "A guarantee broke: the queue checker found 2 lost.", invalid.Headline())

	unknown := &reports.Results{Verdict: checkers.Unknown, Reason: "the harness could not carry out the scenario: heal f2: timeout"}
	assert.Equal(t, "Nothing was proven wrong, but the run could not prove the guarantees held: the harness could not carry out the scenario: heal f2: timeout.", unknown.Headline())

	interrupted := &reports.Results{Verdict: checkers.Unknown, Interrupted: true, Reason: "the run was interrupted before the heal and the final drain"}
	assert.Equal(t, "The run was interrupted before the heal and the final drain, so nothing can be concluded.", interrupted.Headline())
	interrupted.Verdict, interrupted.Reason, interrupted.Checkers = checkers.Invalid, invalid.Reason, invalid.Checkers
	assert.Equal(t, "The run was interrupted, but a guarantee had already broken: the queue checker found 2 lost.", interrupted.Headline())
}

func TestPerNodeReadsAreSummarised(t *testing.T) {
	h := loadHistory(t, "lost-on-node-bad.jsonl")
	r := resultsFor(t, fixtureScenario("per-node"), h)
	require.Equal(t, []reports.NodeRead{
		{Node: "n1", Complete: true, Offset: 3, Reads: 3},
		{Node: "n2", Complete: true, Offset: 3, Reads: 2},
	}, r.NodeReads)
	text := reports.Text(r, "/runs/x")
	assert.Contains(t, text, "per-node reads: n1 3 to offset 3, n2 2 to offset 3")
	var buf bytes.Buffer
	require.NoError(t, reports.RenderHTML(&buf, t.TempDir(), r, h, reports.HTMLOptions{}))
	assertHas(t, buf.String(), "Per-node reads", "the facts list them")
}
