package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// sends makes n acknowledged sends by four processes, one every step.
func sends(n int, step time.Duration) []history.Op {
	h := make([]history.Op, 0, 2*n)
	for i := 0; i < n; i++ {
		p := i % 4
		v := fmt.Sprintf("%d-%d", p, i)
		at := time.Duration(i) * step
		h = append(h,
			history.Op{Index: int64(len(h)), Process: p, Type: history.Invoke, F: history.Send, Value: v, Offset: history.NoOffset, Time: at},
			history.Op{Index: int64(len(h) + 1), Process: p, Type: history.OK, F: history.Send, Value: v, Offset: int64(i + 1), Time: at + step/2})
	}
	return h
}

func TestSampleKeepsWhatTheReportLinksTo(t *testing.T) {
	h := sends(50_000, time.Millisecond) // 100k ops
	h[70_001].Type, h[70_001].Error = history.Info, "timeout"
	h[40_000] = history.Op{Index: 40_000, Process: history.NemesisProcess, Type: history.OK, F: history.FaultStart,
		Offset: history.NoOffset, Fault: &history.Fault{ID: "f1", Kind: "kill"}}
	results := []checkers.Result{{Anomalies: map[checkers.Kind]checkers.Anomalies{
		checkers.Lost: {Count: 1, Examples: []checkers.Example{{Ops: []int64{12_345}, Message: "the drain (op #99998) reached the end"}}},
	}}}
	const budget = 2_000
	keep, examples := sample(h, positions(h), results, budget)

	assert.LessOrEqual(t, len(keep), budget+2*exampleContext+8, "about the budget")
	assert.Greater(t, len(keep), budget/2, "the budget is used")
	assert.True(t, slices.IsSorted(keep), "in history order")
	assert.Len(t, slices.Compact(slices.Clone(keep)), len(keep), "no duplicates")
	for _, want := range []int{
		12_345 - exampleContext, 12_345, 12_345 + exampleContext, // the example with its neighbours
		12_344,         // its invoke
		99_998,         // an op its message names
		40_000,         // the fault
		70_001, 70_000, // an unknown outcome and its invoke
		0, 1, sampleBlock - 1, // the first block of the even sample
	} {
		_, found := slices.BinarySearch(keep, want)
		assert.True(t, found, "op %d is embedded", want)
	}
	assert.True(t, examples[12_345])
	assert.True(t, examples[99_998])
	assert.False(t, examples[12_346])

	all, _ := sample(h[:budget], positions(h[:budget]), nil, budget)
	assert.Len(t, all, budget, "a history within the budget is embedded whole")
}

func TestAppendTableIsJSONThatCannotCloseTheScript(t *testing.T) {
	h := []history.Op{
		{Index: 0, Process: 1, Type: history.OK, F: history.Poll, Stream: "s", Offset: history.NoOffset,
			Node: "n1", Time: 1500 * time.Microsecond,
			Reads: []history.Read{{Offset: 1, Value: "a"}, {Offset: 2, Value: "</script>"}, {Offset: 3, Value: "c"}, {Offset: 4, Value: "d"}, {Offset: 5, Value: "e"}, {Offset: 6, Value: "f"}}},
		{Index: 1, Process: 0, Type: history.Info, F: history.Send, Value: "x\u2028<!--\xff&", Offset: history.NoOffset, Error: "e\"r"},
	}
	b := appendTable(nil, h, []int{0, 1}, map[int]bool{})
	for _, bad := range []string{"<", ">", "&", "\u2028"} {
		assert.NotContains(t, string(b), bad)
	}
	var rows [][]any
	require.NoError(t, json.Unmarshal(b, &rows))
	require.Len(t, rows, 2)
	assert.Equal(t, []any{0.0, 1.0, "ok", "poll", "s", "", -1.0, "n1", "", 1.5e6,
		[]any{6.0, []any{1.0, "a"}, []any{2.0, "</script>"}, []any{3.0, "c"}, []any{4.0, "d"}}}, rows[0],
		"a poll carries its read count and its first reads")
	assert.Equal(t, "x\u2028<!--\ufffd&", rows[1][5], "values round-trip; invalid UTF-8 becomes U+FFFD")
	assert.Equal(t, "e\"r", rows[1][8])

	withAll := appendTable(nil, h, []int{0}, map[int]bool{0: true})
	require.NoError(t, json.Unmarshal(withAll, &rows))
	assert.Len(t, rows[0][10], 7, "an example op carries all its reads")
}

func TestTrafficPerBucket(t *testing.T) {
	ms := time.Millisecond
	var h []history.Op
	add := func(p int, typ history.Type, f history.F, at time.Duration, reads int) {
		op := history.Op{Index: int64(len(h)), Process: p, Type: typ, F: f, Offset: history.NoOffset, Time: at}
		for i := 0; i < reads; i++ {
			op.Reads = append(op.Reads, history.Read{Offset: int64(i), Value: "v"})
		}
		h = append(h, op)
	}
	// First second: 100 sends acknowledged after 1..100 ms.
	for i := 0; i < 100; i++ {
		at := time.Duration(i) * 5 * ms
		add(0, history.Invoke, history.Send, at, 0)
		add(0, history.OK, history.Send, at+time.Duration(i+1)*ms, 0)
	}
	// Second second: 3 sends fail or time out, a poll reads 40 messages.
	for i := 0; i < 3; i++ {
		add(1, history.Invoke, history.Send, 1100*ms, 0)
		add(1, history.Info, history.Send, 1200*ms, 0)
	}
	add(2, history.Invoke, history.Poll, 1500*ms, 0)
	add(2, history.OK, history.Poll, 1510*ms, 40)

	tr := computeTraffic(h, 2*time.Second)
	require.Equal(t, 20*ms, tr.Bucket, "2s over about %d buckets", targetBuckets)
	sum := func(c []int64) (n int64) {
		for _, x := range c {
			n += x
		}
		return n
	}
	assert.EqualValues(t, 100, sum(tr.Acked))
	assert.EqualValues(t, 3, sum(tr.Failed))
	assert.EqualValues(t, 40, sum(tr.Reads))
	assert.EqualValues(t, 3, tr.Failed[60], "in the bucket of 1.2 s")
	assert.InDelta(t, 40/0.020, tr.rate(tr.Reads, 75), 1e-6, "a rate is per second of the bucket")
	// The bucket [100ms,120ms) holds the sends invoked at 80, 85 and 90 ms
	// (latencies 17, 18, 19 ms: completions at 97, 103, 109 ms) — count
	// what the data says rather than trusting arithmetic in a comment.
	var lat []time.Duration
	for i := 0; i < 100; i++ {
		done := time.Duration(i)*5*ms + time.Duration(i+1)*ms
		if done >= 100*ms && done < 120*ms {
			lat = append(lat, time.Duration(i+1)*ms)
		}
	}
	require.NotEmpty(t, lat)
	assert.Equal(t, lat[(len(lat)-1)/2], tr.P50[5], "p50 is the nearest-rank median")
	assert.Equal(t, lat[len(lat)-1], tr.P99[5])
	assert.Zero(t, tr.P99[90], "no latency where nothing was acknowledged")
}

func TestPercentileIsNearestRank(t *testing.T) {
	l := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), percentile(l, 0.50))
	assert.Equal(t, time.Duration(10), percentile(l, 0.99))
	assert.Equal(t, time.Duration(7), percentile([]time.Duration{7}, 0.99))
}

func TestFaultSpansAndLanes(t *testing.T) {
	s := time.Second
	events := []FaultEvent{
		{F: history.FaultStart, ID: "f1", Kind: "kill", Targets: []string{"n2"}, Time: 2 * s, Actuation: 5 * time.Millisecond},
		{F: history.FaultStart, ID: "f2", Kind: "latency", Params: map[string]string{"latency": "50ms", "jitter": "5ms"}, Time: 3 * s},
		{F: history.FaultStop, ID: "f1", Kind: "kill", Targets: []string{"n2"}, Time: 4 * s, Actuation: 50 * time.Millisecond, Error: "restart n2: timeout"},
		{F: history.FaultStart, ID: "f3", Kind: "partition", Targets: []string{"n1", "n9"}, Time: 5 * s},
		{F: history.FaultStart, ID: "f4", Kind: "kill", Targets: []string{"n3"}, Time: 6 * s},
		{F: history.FaultStop, ID: "f2", Time: 7 * s},
	}
	spans := faultSpans(events, 10*s)
	require.Len(t, spans, 4)
	assert.Equal(t, []string{"f1", "f2", "f3", "f4"}, []string{spans[0].ID, spans[1].ID, spans[2].ID, spans[3].ID})
	assert.Equal(t, 4*s, spans[0].Stop)
	assert.True(t, spans[0].Stopped)
	assert.Equal(t, "heal: restart n2: timeout", spans[0].Error)
	assert.Equal(t, 10*s, spans[2].Stop, "never stopped: drawn to the end")
	assert.False(t, spans[2].Stopped)
	assert.Equal(t, spans[0].ColorSlot, spans[3].ColorSlot, "one colour per kind")
	assert.NotEqual(t, spans[0].ColorSlot, spans[1].ColorSlot)
	assert.Contains(t, spans[1].tooltip(), "latency=50ms jitter=5ms", "parameters in a stable order, the main ones first")
	assert.Contains(t, spans[0].tooltip(), "5ms to apply, 50ms to heal")

	ls := lanes(spans, []string{"n1", "n2", "n3"}, 10*s)
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	assert.Equal(t, []string{"n1", "n2", "n3", "n9", allLinks}, names, "nodes, other targets, then untargeted faults")
	assert.Len(t, ls[0].Bars, 1)
	assert.Equal(t, "20%", ls[1].Bars[0].Left)
	assert.Equal(t, "20%", ls[1].Bars[0].Width)
	assert.Contains(t, ls[1].Bars[0].Class, "errored")
	assert.Contains(t, ls[0].Bars[0].Class, "open")
}

func TestNodeLogExcerpt(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 1; i <= 100; i++ {
		switch i {
		case 10:
			lines = append(lines, "[1] [ERR] route connection refused")
		case 50:
			lines = append(lines, "level=error msg=\"raft: lost quorum\"")
		case 90:
			lines = append(lines, "panic: runtime error: index out of range")
		default:
			lines = append(lines, fmt.Sprintf("[1] [INF] line %d   ", i))
		}
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", "n1"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", "n1", "node.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	logs := readNodeLogs(dir, []string{"n1", "n2"})
	require.Len(t, logs, 2)
	l := logs[0]
	assert.Equal(t, 100, l.Lines)
	assert.True(t, l.Panicked)
	assert.Equal(t, 3, l.ProblemsTotal)
	assert.Equal(t, lines[9], l.Problems[0])
	assert.Equal(t, lines[49], l.Problems[1])
	assert.Equal(t, lines[89:], l.Problems[2:], "a panic is kept with the lines after it (its stack)")
	assert.Equal(t, lines[100-logTailLines:], l.Tail)
	assert.Equal(t, "nodes/n1/node.log", l.Path)
	assert.True(t, logs[1].Missing)
}

func TestLinkOps(t *testing.T) {
	pos := positions(sends(10, time.Millisecond)) // ops #0..#19
	parts := linkOps("sent at #3, read at #12 and #99; #x", pos)
	assert.Equal(t, []textPart{
		{Text: "sent at "}, {Text: "#3", Op: 3, Link: true}, {Text: ", read at "},
		{Text: "#12", Op: 12, Link: true}, {Text: " and #99; #x"},
	}, parts, "only operations of the history become links")
}

func TestPositionsWithoutDenseIndices(t *testing.T) {
	h := []history.Op{{Index: 10}, {Index: 12}, {Index: 13}}
	pos := positions(h)
	i, ok := pos(12)
	assert.True(t, ok)
	assert.Equal(t, 1, i)
	_, ok = pos(11)
	assert.False(t, ok)
}

func TestNiceScales(t *testing.T) {
	for _, tc := range []struct{ v, top, step float64 }{
		{0, 1, 0.25}, {7, 10, 2.5}, {180, 200, 50}, {230, 250, 50}, {4100, 5000, 1000}, {1000, 1000, 250},
	} {
		top, step := niceCeil(tc.v)
		assert.Equal(t, tc.top, top, "top of %v", tc.v)
		assert.Equal(t, tc.step, step, "step of %v", tc.v)
	}
	assert.Equal(t, 500*time.Millisecond, niceStep(300*time.Millisecond))
	assert.Equal(t, []string{"0s", "5s", "10s", "15s", "20s"}, labels(timeTicks(22*time.Second)))
	assert.Equal(t, "1m30s", formatDuration(90*time.Second))
	assert.Equal(t, "2m", formatDuration(2*time.Minute))
	for d, want := range map[time.Duration]string{
		642944 * time.Nanosecond: "643µs", 1441379 * time.Nanosecond: "1.44ms", 22418900 * time.Nanosecond: "22.4ms",
		253730000 * time.Nanosecond: "254ms", 5052899435 * time.Nanosecond: "5.05s", 21968296241 * time.Nanosecond: "22s",
		1500 * time.Nanosecond: "1.5µs",
	} {
		assert.Equal(t, want, formatDuration(d), "%d ns", int64(d))
	}
	assert.Equal(t, "1,234,567", formatInt(1234567))
}

func labels(ts []tick) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Label
	}
	return out
}
