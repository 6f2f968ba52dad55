package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// Charts are drawn as SVG paths in a viewBox chartWidth wide and as many
// units high as the chart has pixels; the SVG is stretched horizontally
// (preserveAspectRatio="none", non-scaling strokes) so that every track of
// the report shares one time axis in percent of the plot width, whatever
// the window size.
const chartWidth = 1000

// traffic is the run's throughput and send latency in fixed time buckets,
// computed from the history so that any run, old or new, gets its charts.
type traffic struct {
	Bucket time.Duration
	End    time.Duration
	// Per bucket: acknowledged sends, messages read, sends that failed or
	// ended unknown (all counts), and the latency percentiles of the
	// acknowledged sends (0 when none completed in the bucket).
	Acked, Reads, Failed []int64
	P50, P99             []time.Duration
}

// niceSteps are the bucket widths and axis steps a reader finds natural.
var niceSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// niceStep is the smallest nice step at least d.
func niceStep(d time.Duration) time.Duration {
	for _, s := range niceSteps {
		if s >= d {
			return s
		}
	}
	return niceSteps[len(niceSteps)-1]
}

// targetBuckets is about how many points a chart line has: enough to show a
// two-second partition in a one-minute run, few enough that consumers'
// batched reads do not turn the read rate into a comb.
const targetBuckets = 100

func computeTraffic(h []history.Op, end time.Duration) traffic {
	if end <= 0 {
		end = time.Second
	}
	t := traffic{End: end, Bucket: niceStep(end / targetBuckets)}
	n := int((end + t.Bucket - 1) / t.Bucket)
	t.Acked = make([]int64, n)
	t.Reads = make([]int64, n)
	t.Failed = make([]int64, n)
	t.P50 = make([]time.Duration, n)
	t.P99 = make([]time.Duration, n)
	lat := make([][]time.Duration, n)
	bucket := func(d time.Duration) int {
		b := int(d / t.Bucket)
		return min(max(b, 0), n-1)
	}
	// One op in flight per process: the open send's invoke time is enough
	// to pair it with its completion.
	invoked := make(map[int]time.Duration)
	for _, op := range h {
		switch {
		case op.F == history.Send && op.Type == history.Invoke:
			invoked[op.Process] = op.Time
		case op.F == history.Send && op.Completes():
			b := bucket(op.Time)
			if op.Type != history.OK {
				t.Failed[b]++
				break
			}
			t.Acked[b]++
			if start, ok := invoked[op.Process]; ok {
				lat[b] = append(lat[b], op.Time-start)
			}
			delete(invoked, op.Process)
		case (op.F == history.Poll || op.F == history.Drain) && op.Type == history.OK:
			t.Reads[bucket(op.Time)] += int64(len(op.Reads))
		}
	}
	for b, l := range lat {
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		t.P50[b] = percentile(l, 0.50)
		t.P99[b] = percentile(l, 0.99)
	}
	return t
}

// percentile is the nearest-rank percentile of sorted l.
func percentile(l []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(l)))) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// width is the length of bucket b that lies inside the run: the last bucket
// is usually partial, and dividing by its full width would draw a false drop.
func (t traffic) width(b int) time.Duration {
	start := time.Duration(b) * t.Bucket
	return min(t.Bucket, t.End-start)
}

func (t traffic) rate(counts []int64, b int) float64 {
	w := t.width(b)
	if w <= 0 {
		return 0
	}
	return float64(counts[b]) / w.Seconds()
}

// chart is one plot of the report.
type chart struct {
	ID     string
	Title  string
	Unit   string
	Height int
	YTicks []tick
	Lines  []line
}

// tick is an axis label; Pos is in percent along its axis (from the left
// for time, from the bottom for values).
type tick struct {
	Pos   string
	Label string
}

// line is one series: an SVG path in the chart's viewBox.
type line struct {
	Name  string
	Class string
	D     string
	// Area also fills under the line.
	Area string
	// Dots mark the points that no segment joins (a run that fits in
	// one bucket, a bucket between two gaps): a path of one point draws
	// nothing.
	Dots []dot
}

// dot is a point of a line, in percent of the plot from its bottom left.
// It is drawn in HTML, not in the stretched SVG, to stay round.
type dot struct {
	Left, Bottom string
}

// dots lists the points of v that polyline joins to no other.
func dots(t traffic, v []float64, y func(float64) float64, has []bool, height int) []dot {
	drawn := func(b int) bool { return b >= 0 && b < len(v) && (has == nil || has[b]) }
	var out []dot
	for b := range v {
		if drawn(b) && !drawn(b-1) && !drawn(b+1) {
			out = append(out, dot{Left: pct(bucketX(t, b) / chartWidth * 100),
				Bottom: pct((1 - y(v[b])/float64(height)) * 100)})
		}
	}
	return out
}

// throughputChart draws acknowledged sends, reads and failed sends per
// second. The scale fits the sends of the main phase: consumers read in
// bursts (a catch-up after a partition, the final drain reading the whole
// stream) that would otherwise flatten the effect of the faults, so read
// peaks above the 95th percentile are clipped and named in the subtitle.
func throughputChart(t traffic, mainEnd time.Duration) chart {
	c := chart{ID: "throughput", Title: "Throughput", Unit: "per second", Height: 170}
	n := len(t.Acked)
	acked, reads, failed := make([]float64, n), make([]float64, n), make([]float64, n)
	var top, peak float64
	var mainReads []float64
	for b := range n {
		acked[b], reads[b], failed[b] = t.rate(t.Acked, b), t.rate(t.Reads, b), t.rate(t.Failed, b)
		peak = max(peak, acked[b], reads[b], failed[b])
		if mainEnd <= 0 || time.Duration(b)*t.Bucket < mainEnd {
			top = max(top, acked[b], failed[b])
			mainReads = append(mainReads, reads[b])
		}
	}
	if len(mainReads) > 0 {
		slices.Sort(mainReads)
		top = max(top, mainReads[int(math.Ceil(0.95*float64(len(mainReads))))-1])
	}
	if top > 0 && peak > top*1.2 {
		c.Unit = fmt.Sprintf("per second · read bursts up to %s/s clipped", formatCount(math.Round(peak)))
	} else {
		top = peak
	}
	top, step := niceCeil(top * 1.05)
	y := func(v float64) float64 { return float64(c.Height) * (1 - min(v, top)/top) }
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: pct(v / top * 100), Label: formatCount(v)})
	}
	c.Lines = []line{
		{Name: "acknowledged sends/s", Class: "acked", D: polyline(t, acked, y, nil), Area: area(t, acked, y, c.Height),
			Dots: dots(t, acked, y, nil, c.Height)},
		{Name: "reads/s incl. drain", Class: "reads", D: polyline(t, reads, y, nil), Dots: dots(t, reads, y, nil, c.Height)},
		{Name: "failed or unknown sends/s", Class: "failed", D: polyline(t, failed, y, nil), Dots: dots(t, failed, y, nil, c.Height)},
	}
	return c
}

// latencyChart draws p50 and p99 of acknowledged sends on a log scale: a
// timeout during a fault is three orders of magnitude above the usual
// latency, and a linear scale would flatten everything else.
func latencyChart(t traffic) chart {
	c := chart{ID: "latency", Title: "Send latency", Unit: "acknowledged sends, log scale", Height: 150}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	p50 := make([]float64, len(t.P50))
	p99 := make([]float64, len(t.P99))
	has := make([]bool, len(t.P50))
	for b := range t.P50 {
		if t.P99[b] <= 0 {
			continue
		}
		has[b] = true
		p50[b], p99[b] = float64(max(t.P50[b], time.Microsecond)), float64(max(t.P99[b], time.Microsecond))
		lo, hi = min(lo, t.P50[b]), max(hi, t.P99[b])
	}
	if hi == 0 {
		lo, hi = time.Millisecond, time.Second
	}
	// Lines are drawn at 1µs at the least: so is the axis.
	lo, hi = max(lo, time.Microsecond), max(hi, time.Microsecond)
	// Room below the lowest p50 and above the highest p99, so that neither
	// lies on an edge of the plot: latencies of exactly 1ms on a 1ms-1s
	// axis would be drawn on its bottom border, invisible.
	d0 := math.Floor(math.Log10(float64(lo) / 1.5))
	d1 := math.Ceil(math.Log10(float64(hi) * 1.5))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	y := func(v float64) float64 {
		return float64(c.Height) * (1 - (math.Log10(v)-d0)/(d1-d0))
	}
	for d := d0; d <= d1; d++ {
		c.YTicks = append(c.YTicks, tick{Pos: pct((d - d0) / (d1 - d0) * 100),
			Label: formatDuration(time.Duration(math.Pow(10, d)))})
	}
	c.Lines = []line{
		{Name: "p50", Class: "p50", D: polyline(t, p50, y, has), Dots: dots(t, p50, y, has, c.Height)},
		{Name: "p99", Class: "p99", D: polyline(t, p99, y, has), Dots: dots(t, p99, y, has, c.Height)},
	}
	return c
}

// polyline is an SVG path through the bucket centres; a bucket where has
// is false breaks the line, so that a stall shows as a gap, not a slope.
func polyline(t traffic, v []float64, y func(float64) float64, has []bool) string {
	var sb strings.Builder
	pen := false
	for b := range v {
		if has != nil && !has[b] {
			pen = false
			continue
		}
		cmd := 'L'
		if !pen {
			cmd = 'M'
		}
		fmt.Fprintf(&sb, "%c%.1f %.1f", cmd, bucketX(t, b), y(v[b]))
		pen = true
	}
	return sb.String()
}

func area(t traffic, v []float64, y func(float64) float64, height int) string {
	if len(v) == 0 {
		return ""
	}
	return fmt.Sprintf("M%.1f %d", bucketX(t, 0), height) + "L" + polyline(t, v, y, nil)[1:] +
		fmt.Sprintf("L%.1f %dZ", bucketX(t, len(v)-1), height)
}

// bucketX is the x of a bucket's centre in the chart's viewBox.
func bucketX(t traffic, b int) float64 {
	mid := time.Duration(b)*t.Bucket + t.width(b)/2
	return float64(mid) / float64(t.End) * chartWidth
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten and returns
// it with a step that cuts it into four or five intervals.
func niceCeil(v float64) (top, step float64) {
	if v <= 0 {
		return 1, 0.25
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= v {
			top = m * mag
			break
		}
	}
	switch top / mag {
	case 2, 10:
		step = top / 4
	case 2.5, 5:
		step = top / 5
	default:
		step = top / 4
	}
	return top, step
}

// timeTicks labels the shared time axis.
func timeTicks(end time.Duration) []tick {
	step := niceStep(end / 8)
	var ticks []tick
	for t := time.Duration(0); t <= end; t += step {
		ticks = append(ticks, tick{Pos: pct(float64(t) / float64(end) * 100), Label: formatDuration(t)})
	}
	return ticks
}

// pct formats a percentage for a style attribute.
func pct(p float64) string {
	return strconvFloat(min(max(p, 0), 100)) + "%"
}

func strconvFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}

// formatCount writes a rate for people, to three significant digits: 1500
// as 1.5k, 384667 as 385k.
func formatCount(v float64) string {
	unit := ""
	switch {
	case v >= 1e6:
		v, unit = v/1e6, "M"
	case v >= 1e3:
		v, unit = v/1e3, "k"
	}
	if v != 0 {
		mag := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-2)
		v = math.Round(v/mag) * mag
	}
	return strconvFloat(v) + unit
}

// formatDuration writes a duration for people, to about three significant
// digits: 642.944µs as 643µs, 22.4189ms as 22.4ms, 2m0s as 2m.
func formatDuration(d time.Duration) string {
	steps := []struct{ above, round time.Duration }{
		{time.Minute, time.Second},
		{10 * time.Second, 100 * time.Millisecond},
		{time.Second, 10 * time.Millisecond},
		{100 * time.Millisecond, time.Millisecond},
		{10 * time.Millisecond, 100 * time.Microsecond},
		{time.Millisecond, 10 * time.Microsecond},
		{100 * time.Microsecond, time.Microsecond},
	}
	switch {
	case d == 0:
		return "0s"
	case d < 0:
		return "-" + formatDuration(-d)
	}
	for _, s := range steps {
		if d >= s.above {
			d = d.Round(s.round)
			break
		}
	}
	s := d.String() // "2m0s", "1h0m0s": drop the zeros
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// statValue formats a checker's measure for people: a name ending in -ns
// holds nanoseconds (acked-p50-ns) and is shown as a duration (3.32ms)
// under its name without the unit; any other is a count (3,318).
func statValue(name string, v int64) (label, value string) {
	if base, ok := strings.CutSuffix(name, "-ns"); ok && base != "" {
		return base, formatDuration(time.Duration(v))
	}
	return name, formatInt(v)
}

// formatOpTime writes an operation's time, the same in every table of the
// report (report.js's fmtOpTime mirrors it): to the nanosecond below a
// millisecond (a test history's 1.1µs), to the microsecond above
// (12.345678s), where rounding to three digits would give many operations
// one time.
func formatOpTime(d time.Duration) string {
	if d >= time.Millisecond || d <= -time.Millisecond {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}
