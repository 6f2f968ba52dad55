package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
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

// wideRun is a run whose report has every wide table: faults, the planned
// schedule, availability windows, an anomaly with its operations, the
// checkers and the operation table.
func wideRun(t *testing.T) (dir string) {
	t.Helper()
	h := synthetic(3000, 20*time.Second)
	// Lose one acknowledged send: an anomaly example with an op table.
	loseALateSend(t, h)
	r := resultsFor(t, fixtureScenario("a-scenario-with-a-rather-long-name"), h)
	r.Checkers = append(r.Checkers, checkers.Result{Checker: "availability", Verdict: checkers.Valid,
		Stats: map[string]int64{"acked-p50-ns": 3_318_424, "acked-p99-ns": 217_795_527},
		Windows: []checkers.FaultWindow{{ID: "f2", Kind: "partition", Targets: []string{"n2"},
			Start: 8 * time.Second, End: 11 * time.Second,
			Before: checkers.WindowStats{Acked: 300, AckedPerSec: 200.5, ReadsPerSec: 1234.5, P50: 2 * time.Millisecond, P99: 9 * time.Millisecond},
			During: checkers.WindowStats{Acked: 15, AckedPerSec: 10.25, ReadsPerSec: 12.5, P50: 40 * time.Millisecond, P99: 3 * time.Second},
			After:  checkers.WindowStats{Acked: 290, AckedPerSec: 195.75, ReadsPerSec: 1100.25, P50: 2 * time.Millisecond, P99: 11 * time.Millisecond}}}})
	dir = t.TempDir()
	plan := `{"seed": 7, "duration": "20s", "firings": [
	  {"id": "f1", "at": "3s", "for": "2s", "kind": "kill", "targets": ["n1"], "params": {"signal": "SIGKILL"}},
	  {"id": "f2", "at": "8s", "for": "3s", "kind": "partition", "targets": ["n2"], "params": {"mode": "isolate-one", "clients": "cut", "direction": "both"}},
	  {"id": "f3", "at": "14s", "for": "2s", "kind": "latency", "params": {"latency": "50ms", "jitter": "10ms", "clients": "cut", "direction": "both"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "schedule.json"), []byte(plan), 0o644))
	require.NoError(t, reports.Write(dir, r, h))
	return dir
}

func TestWideTablesScrollInsideAWrapper(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(wideRun(t), "report.html"))
	require.NoError(t, err)
	page := string(b)
	tables := strings.Count(page, "<table")
	require.GreaterOrEqual(t, tables, 7, "expectations, faults, schedule, windows, an example's ops, checkers, operations")
	assert.Equal(t, tables, strings.Count(page, `<div class="tablewrap"><table`), "every table is in a scrolling wrapper")
	assert.Equal(t, tables, strings.Count(page, `</table></div>`))
}

// TestReportFitsAPhoneScreen loads the report 390 px wide (an iframe:
// headless chromium's window is at least 500 px) and measures it: the
// page must not scroll sideways, and nothing but a table wrapper's
// content may reach past the right edge.
func TestReportFitsAPhoneScreen(t *testing.T) {
	const width = 390
	bin := chromiumPath(t)
	dir := wideRun(t)
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	measure := `<script>window.addEventListener("load", function () {
  var W = document.documentElement.clientWidth, over = [];
  var all = document.querySelectorAll("body *");
  for (var i = 0; i < all.length; i++) {
    var e = all[i], r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 0.5 && !e.closest(".tablewrap")) {
      over.push(e.tagName.toLowerCase() + "." + e.className + " right=" + Math.round(r.right));
    }
  }
  parent.postMessage(JSON.stringify({width: W, scroll: document.documentElement.scrollWidth, over: over.slice(0, 20)}), "*");
});</script>`
	page := strings.Replace(string(b), "</body>", measure+"</body>", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "measured.html"), []byte(page), 0o644))
	frame := fmt.Sprintf(`<!DOCTYPE html><html><head></head><body style="margin:0">
<iframe src="measured.html" style="border:0;width:%dpx;height:2000px"></iframe>
<script>window.addEventListener("message", function (e) {
  var p = document.createElement("pre"); p.id = "measure"; p.textContent = e.data; document.body.appendChild(p);
});</script></body></html>`, width)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "frame.html"), []byte(frame), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--disable-background-networking", "--disable-extensions", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--window-size=800,2200",
		"--dump-dom", "file://"+filepath.Join(dir, "frame.html"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, ctx.Err(), "chromium did not finish loading the page: %s", stderr.String())
	require.NoError(t, err, "chromium: %s", stderr.String())
	m := regexp.MustCompile(`(?s)<pre id="measure">(.*?)</pre>`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "the page reported its size")
	var got struct {
		Width, Scroll int
		Over          []string
	}
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(m[1])), &got))
	assert.Equal(t, width, got.Width)
	assert.LessOrEqual(t, got.Scroll, width, "the page does not scroll sideways")
	assert.Empty(t, got.Over, "elements past the right edge outside a table wrapper")
}

func TestShortHistoriesStillDrawTheirCharts(t *testing.T) {
	// lost-bad is 7µs long: one bucket, drawn as dots, and its 1µs
	// latencies in the middle of the axis.
	h := loadHistory(t, "lost-bad.jsonl")
	sc := fixtureScenario("short")
	sc.Duration = 0 // as riptide check gives it: the history's own length
	page := render(t, "", resultsFor(t, sc, h), h)
	assertHas(t, page, `<span class="dot acked" style="left:50%;bottom:`)
	assertHas(t, page, `<span class="dot p50" style="left:50%;bottom:50%"></span>`)
	assertHas(t, page, `<span class="ytick" style="bottom:0%">100ns</span>`)

	// poll-skip-bad: every latency exactly 1ms, no longer on the axis's
	// bottom border.
	h = loadHistory(t, "poll-skip-bad.jsonl")
	page = render(t, "", resultsFor(t, fixtureScenario("flat"), h), h)
	dots := regexp.MustCompile(`<span class="dot p50" style="left:[^;]+;bottom:([^"]+)">`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, dots, "lone latency points are drawn")
	for _, d := range dots {
		assert.Equal(t, "50%", d[1], "1ms on a 100µs-10ms axis")
	}
}

func TestOpTimesAreWrittenOneWay(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	page := render(t, "", resultsFor(t, fixtureScenario("times"), h), h)
	assertHas(t, page, `<td class="num">1.1µs</td>`, "op #1 in the anomaly section, to the nanosecond")
	assertAbsent(t, page, `<td class="num">1µs</td>`)
}

// TestOperationTableWritesTimesAsTheAnomalySectionsDo: the table is built
// by the page's script; its times must read as Go's formatOpTime writes
// them in the anomaly sections.
func TestOperationTableWritesTimesAsTheAnomalySectionsDo(t *testing.T) {
	times := []time.Duration{0, 999, 1100, 7001, 999_999, 1_234_567, 999_999_600, 12_345_678_901,
		62_500_000_000, time.Hour + 400, 2*time.Hour + 3*time.Minute + 4_000_005_000}
	var h []history.Op
	for i, d := range times {
		h = append(h, history.Op{Index: int64(i), Process: i, Type: history.Invoke, F: history.Send, Stream: "s",
			Value: fmt.Sprintf("%d-1", i), Offset: history.NoOffset, Time: d})
	}
	dir := t.TempDir()
	require.NoError(t, reports.Write(dir, resultsFor(t, fixtureScenario("op-times"), h), h))
	dom, console := browse(t, filepath.Join(dir, "report.html"), "")
	assert.Empty(t, console)
	cells := regexp.MustCompile(`<tr[^>]*><td>#(\d+)</td><td class="num">([^<]*)</td>`).FindAllStringSubmatch(dom, -1)
	require.Len(t, cells, len(times))
	for i, c := range cells {
		assert.Equal(t, fmt.Sprint(i), c[1])
		assert.Equal(t, reports.FormatOpTime(times[i]), c[2], "op #%d at %d ns", i, int64(times[i]))
	}
	// lost-bad's op #1, the example of the issue: 1.1µs in both places.
	h = loadHistory(t, "lost-bad.jsonl")
	require.NoError(t, reports.Write(dir, resultsFor(t, fixtureScenario("op-times"), h), h))
	dom, _ = browse(t, filepath.Join(dir, "report.html"), "")
	assert.Regexp(t, `<tr[^>]*><td>#1</td><td class="num">1\.1µs</td>`, dom)
}

func TestCheckerMeasuresInNanosecondsAreDurations(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("stats"), h)
	r.Checkers = append(r.Checkers, checkers.Result{Checker: "latency", Verdict: checkers.Valid,
		Stats: map[string]int64{"acked-p50-ns": 3_318_424, "acked-p99-ns": 217_795_527, "acked": 7336}})
	page := render(t, "", r, h)
	assertHas(t, page, "acked-p50 <b>3.32ms</b>")
	assertHas(t, page, "acked-p99 <b>218ms</b>")
	assertHas(t, page, "acked <b>7,336</b>", "counts stay counts")
	assertAbsent(t, page, "-ns <b>")

	x, err := reports.RenderJUnit(r)
	require.NoError(t, err)
	assertHas(t, string(x), "<system-out>acked 7336, acked-p50 3.32ms, acked-p99 218ms</system-out>")
	assertAbsent(t, string(x), "-ns ")
}

func TestJUnitSaysHowManyExamplesItQuotes(t *testing.T) {
	var examples []checkers.Example
	for i := range 20 {
		examples = append(examples, checkers.Example{Message: fmt.Sprintf("value 0-%d was lost", i), Ops: []int64{int64(i)}})
	}
	r := &reports.Results{Verdict: checkers.Invalid, Reason: "queue: 27 lost",
		Counts:       map[checkers.Kind]int{checkers.Lost: 27},
		Expectations: []reports.Expectation{{Kind: checkers.Lost, Allowed: "0", Count: 27}},
		Checkers: []checkers.Result{{Checker: "queue", Verdict: checkers.Invalid, Reason: "27 lost",
			Anomalies: map[checkers.Kind]checkers.Anomalies{checkers.Lost: {Count: 27, Examples: examples}}}}}
	x, err := reports.RenderJUnit(r)
	require.NoError(t, err)
	assert.Equal(t, 5, strings.Count(string(x), "was lost (ops #"), "five examples quoted")
	assertHas(t, string(x), "5 of 27 shown")

	// All of them quoted: nothing to say.
	r.Checkers[0].Anomalies[checkers.Lost] = checkers.Anomalies{Count: 3, Examples: examples[:3]}
	r.Expectations[0].Count = 3
	x, err = reports.RenderJUnit(r)
	require.NoError(t, err)
	assertAbsent(t, string(x), " shown")
}

func TestExampleSubtitleHasNoStraySeparator(t *testing.T) {
	h := loadHistory(t, "unexercised-bad.jsonl")
	page := render(t, "", resultsFor(t, fixtureScenario("unexercised"), h), h)
	assertHas(t, page, `<p class="meta"><span class="muted">availability checker</span></p>`)
	assertAbsent(t, page, `<p class="meta"> · `)

	h = loadHistory(t, "lost-bad.jsonl")
	page = render(t, "", resultsFor(t, fixtureScenario("lost"), h), h)
	assertHas(t, page, `<p class="meta">value <code>1-1</code> · offset 2 · stream <code>s</code> · sent by worker 1 · node n2 · <span class="muted">queue checker</span></p>`)
}

func TestScheduleSaysWhichTargetsAreFixed(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("schedule-targets"), h)
	dir := t.TempDir()
	plan := `{"seed": 41, "duration": "1m0s", "firings": [
	  {"id": "f1", "at": "5s", "for": "10s", "kind": "partition", "targets": ["leader"], "params": {"mode": "isolate-one"}},
	  {"id": "f2", "at": "20s", "for": "5s", "kind": "latency", "params": {"latency": "50ms", "jitter": "10ms", "clients": "cut"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "schedule.json"), []byte(plan), 0o644))
	page := render(t, dir, r, h)
	assertHas(t, page, `<td><span class="muted">the stream&#39;s leader, chosen when it fires</span></td>`)
	assertHas(t, page, "<td>all links</td>\n      <td><code>latency=50ms jitter=10ms clients=cut</code></td>",
		"a fixed target is said as such, parameters main first")
	assert.Equal(t, 1, strings.Count(page, "chosen when it fires</span>"), "only the leader is chosen when it fires")
}
