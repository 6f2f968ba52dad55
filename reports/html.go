package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// The report is one file: the template, its stylesheet and its script are
// embedded in the binary and inlined in the page, so that it opens from an
// artifact store or an e-mail with no network access.
var (
	//go:embed templates/report.html.tmpl
	reportHTML string
	//go:embed templates/report.css
	reportCSS string
	//go:embed templates/report.js
	reportJS string
)

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":   formatDuration,
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"lines": trimLines,
	"count": func(n any) string {
		switch n := n.(type) {
		case int:
			return formatInt(int64(n))
		case int64:
			return formatInt(n)
		}
		return fmt.Sprint(n)
	},
	"add":    func(a, b int) int { return a + b },
	"params": params,
}).Parse(reportHTML))

// HTMLOptions tune report.html.
type HTMLOptions struct {
	// TableRows bounds the operations embedded in the searchable table
	// (default DefaultTableRows). Anomaly examples are always embedded.
	TableRows int
	// Examples bounds the examples shown per anomaly kind (default 10;
	// results.json keeps up to checkers.MaxExamples).
	Examples int
	// TableBytes bounds the encoded table (default MaxTableBytes).
	TableBytes int
}

// RenderHTML writes report.html for r to w. h is the run's history (nil
// draws a report without charts or operation table); dir is the run
// directory, where node logs, scenario.yaml and porcupine-*.html are found
// (empty: none).
func RenderHTML(w io.Writer, dir string, r *Results, h []history.Op, opts HTMLOptions) error {
	if opts.TableRows <= 0 {
		opts.TableRows = DefaultTableRows
	}
	if opts.Examples <= 0 {
		opts.Examples = 10
	}
	if opts.TableBytes <= 0 {
		opts.TableBytes = MaxTableBytes
	}
	p := newPage(dir, r, h, opts)
	if err := reportTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

func writeHTML(dir string, r *Results, h []history.Op) error {
	var buf bytes.Buffer
	if err := RenderHTML(&buf, dir, r, h, HTMLOptions{}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "report.html"), buf.Bytes())
}

// page is everything the template draws, computed up front so that the
// template only lays it out. Every string in it is plain text that
// html/template escapes; only the two JSON blocks and the static stylesheet
// and script are trusted types, and the JSON is escaped by history.AppendJSONString.
type page struct {
	R        *Results
	Headline string
	Faults   int
	Streams  int

	End       time.Duration
	TimeTicks []tick
	Lanes     []lane
	Legend    []legendEntry
	Bands     []bar
	AfterMain *bar
	// AfterMainAt is where AfterMain begins: the end of the main phase,
	// or, when the scenario is unknown, the final drain's first operation
	// in the history; AfterMainLegend names it in the legend.
	AfterMainAt     time.Duration
	AfterMainLegend string
	// Span is the time of the history's last operation; HistoryNodes the
	// nodes its operations name: what a history without its scenario
	// tells of the run.
	Span         time.Duration
	HistoryNodes []string
	Charts       []chart
	Spans        []fault
	Windows      []windowRow
	Series       template.JS

	// Notable expectations get a table row (something was found, allowed
	// or failed); the quiet ones (none allowed, none found) a chip each.
	Expectations []expectationRow
	Notable      []expectationRow
	Quiet        []expectationRow
	Anomalies    []kindSection
	AnyAnomaly   bool // a kind that is not merely counted was found
	Clean        []string
	Checkers     []checkerRow
	Porcupine    []porcupineLink

	HasHistory bool
	Table      template.JS
	TableRows  int
	TableTotal int

	Logs []nodeLog
	// Schedule is the fault schedule as drawn from the seed, when the run
	// directory has one.
	Schedule *plannedSchedule
	YAML     string

	CSS template.CSS
	JS  template.JS
}

func newPage(dir string, r *Results, h []history.Op, opts HTMLOptions) *page {
	p := &page{R: r, Headline: r.Headline(), Faults: r.faultsInjected(),
		CSS: template.CSS(reportCSS), JS: template.JS(reportJS)}

	p.End = max(r.Scenario.Duration, time.Millisecond)
	if len(h) > 0 {
		p.End = max(p.End, h[len(h)-1].Time)
	}
	for _, f := range r.Faults {
		p.End = max(p.End, f.Time)
	}
	p.TimeTicks = timeTicks(p.End)
	p.Spans = faultSpans(r.Faults, p.End)
	p.Lanes = lanes(p.Spans, r.Nodes, p.End)
	p.Legend = legend(p.Spans)
	p.Bands = bands(p.Spans, p.End)
	mainEnd := r.Scenario.Duration
	after := bar{Label: "heal and drain", Title: "after the main phase: every fault healed, then the final drain"}
	p.AfterMainLegend = "heal and final drain"
	if r.Scenario.Unknown != "" {
		// Without the scenario the main phase's length is unknown, but the
		// history tells when the final drain began.
		mainEnd = drainStart(h)
		after = bar{Label: "final drain", Title: "the final drain, from its first operation in the history (the main phase's length is unknown)"}
		p.AfterMainLegend = "final drain"
	}
	if d := mainEnd; d > 0 && d < p.End {
		left := float64(d) / float64(p.End) * 100
		after.Left, after.Width = pct(left), pct(100-left)
		p.AfterMain, p.AfterMainAt = &after, d
	}
	if len(h) > 0 {
		p.Span = h[len(h)-1].Time
	}
	p.HistoryNodes = historyNodes(h)

	pos := positions(h)
	if len(h) > 0 {
		p.HasHistory = true
		t := computeTraffic(h, p.End)
		p.Charts = []chart{throughputChart(t, mainEnd), latencyChart(t)}
		p.Series = template.JS(seriesJSON(t, p.Spans))
		for budget := opts.TableRows; ; budget /= 2 {
			keep, examples := sample(h, pos, r.Checkers, budget)
			table := appendTable(make([]byte, 0, len(keep)*96), h, keep, examples)
			p.Table = template.JS(table)
			p.TableRows, p.TableTotal = len(keep), len(h)
			if len(table) <= opts.TableBytes || budget < 1000 {
				break
			}
		}
		streams := map[string]bool{}
		for _, op := range h {
			if op.Stream != "" {
				streams[op.Stream] = true
			}
		}
		p.Streams = len(streams)
	}
	p.Windows = windowRows(r.Checkers)
	p.Expectations = expectationRows(r)
	for _, e := range p.Expectations {
		if e.Pass && e.Count == 0 && (e.Allowed == "0" || e.Counted) {
			p.Quiet = append(p.Quiet, e)
		} else {
			p.Notable = append(p.Notable, e)
		}
	}
	p.Anomalies, p.Clean = kindSections(r, h, pos, opts.Examples)
	for _, k := range p.Anomalies {
		p.AnyAnomaly = p.AnyAnomaly || !k.Counted
	}
	p.Checkers = checkerRows(r.Checkers)
	p.Porcupine = porcupineLinks(dir)
	p.Logs = readNodeLogs(dir, r.Nodes)
	p.Schedule = readSchedule(dir)
	p.YAML = r.Scenario.YAML
	if p.YAML == "" && dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "scenario.yaml")); err == nil {
			p.YAML = string(b)
		}
	}
	return p
}

// positions maps an op index to its position in h. Recorded histories
// number ops by position; a hand-made one may not, so the map is built only
// when needed.
func positions(h []history.Op) func(int64) (int, bool) {
	direct := true
	for i := range h {
		if h[i].Index != int64(i) {
			direct = false
			break
		}
	}
	if direct {
		return func(idx int64) (int, bool) { return int(idx), idx >= 0 && idx < int64(len(h)) }
	}
	m := make(map[int64]int, len(h))
	for i := range h {
		m[h[i].Index] = i
	}
	return func(idx int64) (int, bool) { i, ok := m[idx]; return i, ok }
}

// seriesJSON feeds the charts' hover readout: per bucket rates and
// latencies, and the fault spans.
func seriesJSON(t traffic, spans []fault) []byte {
	b := []byte(`{"bucket_us":`)
	b = strconv.AppendInt(b, int64(t.Bucket/time.Microsecond), 10)
	b = append(b, `,"end_us":`...)
	b = strconv.AppendInt(b, int64(t.End/time.Microsecond), 10)
	rates := func(name string, counts []int64) {
		b = append(b, `,"`+name+`":[`...)
		for i := range counts {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, t.rate(counts, i), 'f', 1, 64)
		}
		b = append(b, ']')
	}
	durs := func(name string, ds []time.Duration) {
		b = append(b, `,"`+name+`":[`...)
		for i, d := range ds {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d/time.Microsecond), 10)
		}
		b = append(b, ']')
	}
	rates("acked", t.Acked)
	rates("reads", t.Reads)
	rates("failed", t.Failed)
	durs("p50_us", t.P50)
	durs("p99_us", t.P99)
	b = append(b, `,"faults":[`...)
	for i, f := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"label":`...)
		b = history.AppendJSONString(b, f.ID+" "+f.Kind+" on "+f.TargetList())
		b = append(b, `,"start_us":`...)
		b = strconv.AppendInt(b, int64(f.Start/time.Microsecond), 10)
		b = append(b, `,"stop_us":`...)
		b = strconv.AppendInt(b, int64(f.Stop/time.Microsecond), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// formatInt writes 1234567 as 1,234,567.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

type checkerRow struct {
	Name    string
	Verdict checkers.Verdict
	Reason  string
	Error   string
	Stats   []stat
}

type stat struct {
	Name  string
	Value string
	// Title says what the measure counts, where its name alone reads like
	// another figure of the report.
	Title string
}

// statTitles explain measures, by "checker/name", whose name alone is
// ambiguous next to the report's other figures.
var statTitles = map[string]string{
	"queue/reads": "messages returned by every read: the consumers, the final drain and the per-node reads " +
		"(the Messages read figure above counts the consumers and the final drain only)",
	"queue/distinct-reads": "different values read, by any reader",
}

func checkerRows(results []checkers.Result) []checkerRow {
	out := make([]checkerRow, len(results))
	for i, r := range results {
		row := checkerRow{Name: r.Checker, Verdict: r.Verdict, Reason: r.Reason, Error: r.Error}
		for _, k := range slices.Sorted(maps.Keys(r.Stats)) {
			name, value := statValue(k, r.Stats[k])
			row.Stats = append(row.Stats, stat{Name: name, Value: value, Title: statTitles[r.Checker+"/"+k]})
		}
		out[i] = row
	}
	return out
}
