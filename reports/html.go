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
	"regexp"
	"slices"
	"sort"
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
	p := newPage(dir, r, h, opts)
	if err := reportTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// WriteHTML writes report.html into dir, reading the history from
// dir/history.jsonl when there is one.
//
// Deprecated: use Write, which takes the history the caller already holds.
func WriteHTML(dir string, r *Results) error {
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		h = nil
	}
	return writeHTML(dir, r, h)
}

func writeHTML(dir string, r *Results, h []history.Op) error {
	var buf bytes.Buffer
	if err := RenderHTML(&buf, dir, r, h, HTMLOptions{}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "report.html"), buf.Bytes())
}

// Headline says the verdict in one sentence.
func (r *Results) Headline() string {
	switch {
	case r.Interrupted:
		return "The run was interrupted before it finished: " + orElse(r.Reason, "nothing can be concluded") + "."
	case r.Verdict == checkers.Valid:
		return fmt.Sprintf("Every expectation held: %d acknowledged sends, %d faults injected, nothing lost, duplicated or corrupted.", r.Acked, r.faultsInjected())
	case r.Verdict == checkers.Invalid:
		return "A guarantee broke: " + sentence(orElse(r.why(), "a checker found an anomaly the scenario does not allow"))
	default:
		return "Nothing was proven wrong, but the run could not prove the guarantees held: " +
			sentence(orElse(r.why(), "the verdict is unknown"))
	}
}

// why says what made the verdict, naming the checkers: "the queue checker
// found 1 lost". Reason says the same in the form "queue: 1 lost", which reads
// well in a log but not in a sentence; a reason the runner set itself
// (harness problems) has no checker to name and is used as it is.
func (r *Results) why() string {
	var parts []string
	for _, c := range r.Checkers {
		switch {
		case c.Reason == "" || c.Verdict == checkers.Valid:
		case c.Error != "":
			parts = append(parts, c.Reason)
		default:
			parts = append(parts, "the "+c.Checker+" checker found "+c.Reason)
		}
	}
	own := r.Reason
	for _, c := range r.Checkers {
		if c.Reason != "" {
			own = strings.TrimPrefix(strings.TrimPrefix(own, c.Checker+": "+c.Reason), "; ")
		}
	}
	if own != "" {
		parts = append(parts, own)
	}
	return strings.Join(parts, "; ")
}

func (r *Results) faultsInjected() int {
	n := 0
	for _, f := range r.Faults {
		if f.F == history.FaultStart && f.Error == "" {
			n++
		}
	}
	return n
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// page is everything the template draws, computed up front so that the
// template only lays it out. Every string in it is plain text that
// html/template escapes; only the two JSON blocks and the static stylesheet
// and script are trusted types, and the JSON is escaped by appendJSONString.
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
	Charts    []chart
	Spans     []fault
	Windows   []windowRow
	Series    template.JS

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
	YAML string

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
	if d := r.Scenario.Duration; d > 0 && d < p.End {
		left := float64(d) / float64(p.End) * 100
		p.AfterMain = &bar{Left: pct(left), Width: pct(100 - left), Label: "heal and drain",
			Title: "after the main phase: every fault healed, then the final drain"}
	}

	pos := positions(h)
	if len(h) > 0 {
		p.HasHistory = true
		t := computeTraffic(h, p.End)
		p.Charts = []chart{throughputChart(t, r.Scenario.Duration), latencyChart(t)}
		p.Series = template.JS(seriesJSON(t, p.Spans))
		keep, examples := sample(h, pos, r.Checkers, opts.TableRows)
		p.Table = template.JS(appendTable(make([]byte, 0, len(keep)*96), h, keep, examples))
		p.TableRows, p.TableTotal = len(keep), len(h)
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
		b = appendJSONString(b, f.ID+" "+f.Kind+" on "+f.TargetList())
		b = append(b, `,"start_us":`...)
		b = strconv.AppendInt(b, int64(f.Start/time.Microsecond), 10)
		b = append(b, `,"stop_us":`...)
		b = strconv.AppendInt(b, int64(f.Stop/time.Microsecond), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// windowRow is one fault of the availability checker's windows.
type windowRow struct {
	ID, Kind, Targets, Span string
	Acked, Reads, P50, P99  [3]string
	// Drop is set when acknowledged throughput during the fault fell below
	// half of what it was before.
	Drop bool
}

func windowRows(results []checkers.Result) []windowRow {
	var out []windowRow
	for _, r := range results {
		for _, w := range r.Windows {
			row := windowRow{ID: w.ID, Kind: w.Kind, Targets: strings.Join(w.Targets, ", "),
				Span: formatDuration(w.Start) + " – " + formatDuration(w.End)}
			if row.Targets == "" {
				row.Targets = allLinks
			}
			for i, s := range []checkers.WindowStats{w.Before, w.During, w.After} {
				row.Acked[i] = formatRate(s.AckedPerSec)
				row.Reads[i] = formatRate(s.ReadsPerSec)
				row.P50[i] = formatLatency(s.P50, s.Acked)
				row.P99[i] = formatLatency(s.P99, s.Acked)
			}
			row.Drop = w.During.AckedPerSec < w.Before.AckedPerSec/2
			out = append(out, row)
		}
	}
	return out
}

func formatRate(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func formatLatency(d time.Duration, n int64) string {
	if n == 0 {
		return "–"
	}
	return formatDuration(d)
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

type expectationRow struct {
	Expectation
	Definition string
	// Proof false: failing it leaves the run unknown, not invalid.
	Proof bool
	// Child refines another kind (lost-middle of lost); Counted is a fact,
	// not an anomaly (recovered).
	Child, Counted bool
}

func expectationRows(r *Results) []expectationRow {
	out := make([]expectationRow, len(r.Expectations))
	for i, e := range r.Expectations {
		info := kindInfo(r, e.Kind)
		out[i] = expectationRow{Expectation: e, Definition: info.Definition, Proof: info.Proof,
			Child: info.Parent != "", Counted: info.Counted}
	}
	return out
}

// kindInfo looks a kind up in the checkers' current list, then in the one
// results.json was written with.
func kindInfo(r *Results, k checkers.Kind) checkers.KindInfo {
	if info, ok := checkers.KindInfoOf(k); ok {
		return info
	}
	for _, info := range r.Kinds {
		if info.Kind == k {
			return info
		}
	}
	return checkers.KindInfo{Kind: k, Proof: true}
}

// kindSection is every anomaly of one kind, over all checkers.
type kindSection struct {
	Kind       checkers.Kind
	Definition string
	Proof      bool
	Counted    bool
	Count      int
	Allowed    string
	Pass       bool
	// Children break the count down (lost into lost-prefix, -middle,
	// -postfix); their examples are the parent's, so they get no section.
	Children []childCount
	Examples []exampleView
	Hidden   int
}

type childCount struct {
	Kind       checkers.Kind
	Count      int
	Definition string
}

type exampleView struct {
	Checker  string
	Message  []textPart
	Stream   string
	Value    string
	Offset   string
	Producer string
	Node     string
	Ops      []opView
	// Missing are op indices the history does not hold.
	Missing []int64
}

// opView is one operation of an example, spelled out.
type opView struct {
	Index   int64
	Time    string
	Process string
	Type    string
	F       string
	Value   string
	Offset  string
	Node    string
	Error   string
	Reads   string
	// Match is set when the op holds the example's value (sent or read).
	Match bool
}

// kindOrder lists the kinds in report order: the checkers' list, then any
// kind an older results.json or a newer checker reported.
func kindOrder(r *Results) []checkers.Kind {
	var order []checkers.Kind
	seen := map[checkers.Kind]bool{}
	addKind := func(k checkers.Kind) {
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, info := range checkers.Kinds {
		addKind(info.Kind)
	}
	for _, info := range r.Kinds {
		addKind(info.Kind)
	}
	var extra []checkers.Kind
	for _, c := range r.Checkers {
		for k := range c.Anomalies {
			if !seen[k] {
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		addKind(k)
	}
	return order
}

func kindSections(r *Results, h []history.Op, pos func(int64) (int, bool), limit int) (found []kindSection, clean []string) {
	allowed := map[checkers.Kind]Expectation{}
	for _, e := range r.Expectations {
		allowed[e.Kind] = e
	}
	count := func(k checkers.Kind) int {
		n := 0
		for _, c := range r.Checkers {
			n += c.Anomalies[k].Count
		}
		return n
	}
	for _, k := range kindOrder(r) {
		info := kindInfo(r, k)
		s := kindSection{Kind: k, Definition: info.Definition, Proof: info.Proof, Counted: info.Counted,
			Pass: true, Allowed: "0", Count: count(k)}
		if s.Count == 0 {
			clean = append(clean, string(k))
			continue
		}
		if info.Parent != "" && count(info.Parent) > 0 {
			continue // shown in its parent's section
		}
		if e, ok := allowed[k]; ok {
			s.Allowed, s.Pass = e.Allowed, e.Pass
		}
		for _, child := range kindOrder(r) {
			if ci := kindInfo(r, child); ci.Parent == k {
				if n := count(child); n > 0 {
					s.Children = append(s.Children, childCount{Kind: child, Count: n, Definition: ci.Definition})
				}
			}
		}
		for _, c := range r.Checkers {
			for _, ex := range c.Anomalies[k].Examples {
				if len(s.Examples) < limit {
					s.Examples = append(s.Examples, newExampleView(c.Checker, ex, h, pos))
				}
			}
		}
		s.Hidden = s.Count - len(s.Examples)
		found = append(found, s)
	}
	// Facts that are not anomalies (recovered sends) come after them.
	slices.SortStableFunc(found, func(a, b kindSection) int {
		switch {
		case a.Counted == b.Counted:
			return 0
		case b.Counted:
			return -1
		}
		return 1
	})
	return found, clean
}

func newExampleView(checker string, ex checkers.Example, h []history.Op, pos func(int64) (int, bool)) exampleView {
	v := exampleView{Checker: checker, Message: linkOps(ex.Message, pos), Stream: ex.Stream, Value: ex.Value, Node: ex.Node}
	if ex.Offset != 0 {
		v.Offset = strconv.FormatInt(ex.Offset, 10)
	}
	if ex.Producer != nil {
		v.Producer = "process " + strconv.Itoa(*ex.Producer)
	}
	for _, idx := range ex.Ops {
		i, ok := pos(idx)
		if !ok {
			v.Missing = append(v.Missing, idx)
			continue
		}
		v.Ops = append(v.Ops, newOpView(h[i], ex.Value))
	}
	return v
}

func newOpView(op history.Op, value string) opView {
	v := opView{Index: op.Index, Time: formatDuration(op.Time), Process: processName(op.Process),
		Type: op.Type.String(), F: string(op.F), Value: op.Value, Node: op.Node, Error: op.Error,
		Match: value != "" && op.Value == value}
	if op.Offset != history.NoOffset {
		v.Offset = strconv.FormatInt(op.Offset, 10)
	}
	if op.Fault != nil {
		v.F += " " + op.Fault.ID + " " + op.Fault.Kind
		v.Node = strings.Join(op.Fault.Targets, ", ")
	}
	if len(op.Reads) > 0 {
		v.Reads = readsSummary(op.Reads, value)
		for _, r := range op.Reads {
			if value != "" && r.Value == value {
				v.Match = true
			}
		}
	}
	return v
}

// readsSummary describes a batch of reads, naming where value sits in it.
func readsSummary(reads []history.Read, value string) string {
	s := fmt.Sprintf("%d reads, offsets %d–%d", len(reads), reads[0].Offset, reads[len(reads)-1].Offset)
	if len(reads) == 1 {
		s = fmt.Sprintf("1 read: %s at offset %d", reads[0].Value, reads[0].Offset)
	}
	if value == "" || len(reads) == 1 {
		return s
	}
	var at []string
	for _, r := range reads {
		if r.Value == value {
			at = append(at, strconv.FormatInt(r.Offset, 10))
		}
	}
	if len(at) > 0 {
		s += "; " + value + " at offset " + strings.Join(at, ", ")
	}
	return s
}

// textPart is a piece of a checker's message: text, or a reference to an
// operation ("#123") that the report turns into a link.
type textPart struct {
	Text string
	Op   int64
	Link bool
}

var opRef = regexp.MustCompile(`#(\d+)`)

// linkOps splits a message so that every "#N" naming an operation of the
// history links to it in the operation table.
func linkOps(msg string, pos func(int64) (int, bool)) []textPart {
	var parts []textPart
	last := 0
	for _, m := range opRef.FindAllStringSubmatchIndex(msg, -1) {
		idx, err := strconv.ParseInt(msg[m[2]:m[3]], 10, 64)
		if _, ok := pos(idx); err != nil || !ok {
			continue
		}
		if m[0] > last {
			parts = append(parts, textPart{Text: msg[last:m[0]]})
		}
		parts = append(parts, textPart{Text: msg[m[0]:m[1]], Op: idx, Link: true})
		last = m[1]
	}
	if last < len(msg) {
		parts = append(parts, textPart{Text: msg[last:]})
	}
	return parts
}

func processName(p int) string {
	if p == history.NemesisProcess {
		return "nemesis"
	}
	return strconv.Itoa(p)
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
}

func checkerRows(results []checkers.Result) []checkerRow {
	out := make([]checkerRow, len(results))
	for i, r := range results {
		row := checkerRow{Name: r.Checker, Verdict: r.Verdict, Reason: r.Reason, Error: r.Error}
		for _, k := range slices.Sorted(maps.Keys(r.Stats)) {
			row.Stats = append(row.Stats, stat{Name: k, Value: formatInt(r.Stats[k])})
		}
		out[i] = row
	}
	return out
}

// porcupineLink is a linearizability visualization the checker wrote next
// to the report for a failing stream.
type porcupineLink struct {
	Stream string
	Href   string
}

func porcupineLinks(dir string) []porcupineLink {
	if dir == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "porcupine-*.html"))
	sort.Strings(paths)
	out := make([]porcupineLink, 0, len(paths))
	for _, p := range paths {
		name := filepath.Base(p)
		stream := strings.TrimSuffix(strings.TrimPrefix(name, "porcupine-"), ".html")
		out = append(out, porcupineLink{Stream: stream, Href: name})
	}
	return out
}
