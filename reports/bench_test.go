package reports_test

import (
	"bytes"
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

// MaxReportSize is the size report.html must stay under, whatever the
// length of the run: the operation table is sampled to fit.
const MaxReportSize = 10 << 20

// bigRun is a history of n events with one lost send every 50,000, so that
// anomaly examples (and their links) are part of the work.
func bigRun(tb testing.TB, n int) (*reports.Results, []history.Op) {
	h := synthetic(n, 10*time.Minute)
	lost := map[string]bool{}
	for i := range h {
		if h[i].F == history.Send && h[i].Type == history.OK && i%50_000 < 2 {
			lost[h[i].Value] = true
		}
	}
	for i := range h {
		if len(h[i].Reads) == 0 {
			continue
		}
		reads := h[i].Reads[:0:0]
		for _, rd := range h[i].Reads {
			if !lost[rd.Value] {
				reads = append(reads, rd)
			}
		}
		h[i].Reads = reads
	}
	r := resultsFor(tb, fixtureScenario("big"), h)
	return r, h
}

// TestLongRunReportStaysSmall: the size bound holds for a long run, and
// every anomaly example is in the sampled table.
func TestLongRunReportStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("a 300k-op history: not in -short")
	}
	r, h := bigRun(t, 300_000)
	require.Equal(t, checkers.Invalid, r.Verdict, "the history loses sends")
	var buf bytes.Buffer
	require.NoError(t, reports.RenderHTML(&buf, "", r, h, reports.HTMLOptions{}))
	assert.Less(t, buf.Len(), MaxReportSize)
	assertHas(t, buf.String(), "A sample of ")
	rows := tableIndices(t, buf.String())
	assert.LessOrEqual(t, len(rows), reports.DefaultTableRows+200)
	for _, c := range r.Checkers {
		for _, a := range c.Anomalies {
			for _, ex := range a.Examples {
				for _, op := range ex.Ops {
					assert.True(t, rows[op], "example op #%d is in the table", op)
				}
			}
		}
	}
}

// BenchmarkReport1M renders the report of a one-million-event run: the
// goal is under 3 s and under 10 MB (reported as bytes/report).
func BenchmarkReport1M(b *testing.B) {
	r, h := bigRun(b, 1_000_000)
	var size int
	b.ResetTimer()
	for b.Loop() {
		var buf bytes.Buffer
		if err := reports.RenderHTML(&buf, "", r, h, reports.HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/report")
	if size >= MaxReportSize {
		b.Errorf("report.html is %d bytes, over %d", size, MaxReportSize)
	}
}

// BenchmarkWrite1M is the whole of Write for the same run: results.json,
// junit.xml, summary.md and report.html on disk.
func BenchmarkWrite1M(b *testing.B) {
	r, h := bigRun(b, 1_000_000)
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if err := reports.Write(dir, r, h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongValuesStayWithinTheSizeBound: long message bodies would make
// even the sampled table too large; the cells are cut, and the sample
// shrinks until the table fits its byte bound, keeping the examples.
func TestLongValuesStayWithinTheSizeBound(t *testing.T) {
	r, h := bigRun(t, 20_000)
	pad := strings.Repeat("x", 1024)
	for i := range h {
		if h[i].Value != "" {
			h[i].Value += pad
		}
		for j := range h[i].Reads {
			h[i].Reads[j].Value += pad
		}
	}
	const bound = 1 << 20
	var buf bytes.Buffer
	require.NoError(t, reports.RenderHTML(&buf, "", r, h, reports.HTMLOptions{TableBytes: bound}))
	page := buf.String()
	assertHas(t, page, "x…", "long values are cut in the table")
	m := regexp.MustCompile(`(?s)id="ops-data"[^>]*>(.*?)</script>`).FindStringSubmatch(page)
	require.NotNil(t, m)
	assert.LessOrEqual(t, len(m[1]), bound)
	rows := tableIndices(t, page)
	assert.Less(t, len(rows), len(h), "the table is a sample")
	assert.Greater(t, len(rows), 1000)
	for _, c := range r.Checkers {
		for _, a := range c.Anomalies {
			for _, ex := range a.Examples {
				for _, op := range ex.Ops {
					assert.True(t, rows[op], "example op #%d is in the table", op)
				}
			}
		}
	}
}
