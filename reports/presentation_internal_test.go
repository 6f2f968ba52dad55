package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

func TestLatencyAxisLeavesRoomAtBothEnds(t *testing.T) {
	// Every latency exactly 1ms (poll-skip-bad, unexercised-bad) sat on
	// the bottom border of a 1ms-10ms axis; every latency 1µs (lost-bad)
	// on that of a 1µs-10µs one.
	for _, tc := range []struct {
		lat   time.Duration
		ticks []string
	}{
		{time.Millisecond, []string{"100µs", "1ms", "10ms"}},
		{time.Microsecond, []string{"100ns", "1µs", "10µs"}},
		{500 * time.Nanosecond, []string{"100ns", "1µs", "10µs"}}, // shown as 1µs, the floor
	} {
		tr := traffic{Bucket: 10 * time.Millisecond, End: 50 * time.Millisecond,
			P50: make([]time.Duration, 5), P99: make([]time.Duration, 5)}
		for b := range tr.P50 {
			tr.P50[b], tr.P99[b] = tc.lat, tc.lat
		}
		c := latencyChart(tr)
		assert.Equal(t, tc.ticks, labels(c.YTicks), "axis of %s", tc.lat)
	}

	// A spread of latencies keeps its lowest above the bottom and its
	// highest below the top.
	tr := traffic{Bucket: time.Second, End: 3 * time.Second,
		P50: []time.Duration{2 * time.Millisecond, 3 * time.Millisecond, 0},
		P99: []time.Duration{9 * time.Millisecond, 2 * time.Second, 0}}
	c := latencyChart(tr)
	assert.Equal(t, "1ms", c.YTicks[0].Label)
	assert.Equal(t, "10s", c.YTicks[len(c.YTicks)-1].Label)
}

func TestALoneBucketIsDrawnAsADot(t *testing.T) {
	// lost-bad: a history 7µs long fits in one bucket; a path of one
	// point draws nothing.
	h := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: history.Send, Value: "0-1", Offset: history.NoOffset, Time: 1000},
		{Index: 1, Process: 0, Type: history.OK, F: history.Send, Value: "0-1", Offset: 1, Time: 2000},
		{Index: 2, Process: 1, Type: history.Invoke, F: history.Poll, Offset: history.NoOffset, Time: 3000},
		{Index: 3, Process: 1, Type: history.OK, F: history.Poll, Offset: history.NoOffset, Time: 4000,
			Reads: []history.Read{{Offset: 1, Value: "0-1"}}},
	}
	tr := computeTraffic(h, time.Millisecond)
	require.Len(t, tr.Acked, 1)
	for _, c := range []chart{throughputChart(tr, 0), latencyChart(tr)} {
		for _, l := range c.Lines {
			require.Len(t, l.Dots, 1, "%s: %s", c.ID, l.Name)
			assert.Equal(t, "50%", l.Dots[0].Left, "the bucket's centre")
		}
	}
	lat := latencyChart(tr)
	assert.Equal(t, "50%", lat.Lines[0].Dots[0].Bottom, "1µs in the middle of 100ns-10µs, not on an edge")

	// Points joined to a neighbour are the line's; a point between two
	// gaps gets a dot.
	tr = traffic{Bucket: time.Second, End: 5 * time.Second,
		P50: []time.Duration{time.Millisecond, 0, time.Millisecond, time.Millisecond, 0},
		P99: []time.Duration{time.Millisecond, 0, time.Millisecond, time.Millisecond, 0}}
	dots := latencyChart(tr).Lines[0].Dots
	require.Len(t, dots, 1)
	assert.Equal(t, "10%", dots[0].Left)
}

func TestFormatOpTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0s",
		999:                     "999ns",
		1100:                    "1.1µs", // lost-bad's op #1
		7001:                    "7.001µs",
		999_999:                 "999.999µs",
		1_234_567:               "1.235ms",
		12_345_678_901:          "12.345679s",
		62_500_000_000:          "1m2.5s",
		time.Hour + 400:         "1h0m0s",
		-1100:                   "-1.1µs",
		20*time.Second + 500000: "20.0005s",
	} {
		assert.Equal(t, want, formatOpTime(d), "%d ns", int64(d))
	}
}

func TestStatValueShowsNanosecondsAsDurations(t *testing.T) {
	name, v := statValue("acked-p50-ns", 3_318_424)
	assert.Equal(t, "acked-p50", name)
	assert.Equal(t, "3.32ms", v)
	name, v = statValue("acked-p99-ns", 217_795_527)
	assert.Equal(t, "acked-p99", name)
	assert.Equal(t, "218ms", v)
	name, v = statValue("acked", 7336)
	assert.Equal(t, "acked", name)
	assert.Equal(t, "7,336", v)
	assert.Equal(t, "acked-p50 1µs, faults 0, sends 3", statsText(map[string]int64{"acked-p50-ns": 1000, "faults": 0, "sends": 3}))
}

func TestFaultLabelsLeadWithTheMainParameter(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		params map[string]string
		label  string
		list   string
	}{
		{"latency", map[string]string{"latency": "50ms", "jitter": "10ms", "clients": "cut", "direction": "both"},
			"50ms±10ms clients=cut direction=both", "latency=50ms jitter=10ms clients=cut direction=both"},
		{"latency", map[string]string{"latency": "50ms", "jitter": "0s", "clients": "keep"}, "50ms clients=keep", "latency=50ms jitter=0s clients=keep"},
		{"kill", map[string]string{"signal": "SIGKILL"}, "SIGKILL", "signal=SIGKILL"},
		{"partition", map[string]string{"mode": "isolate-one", "clients": "cut", "direction": "both"},
			"isolate-one clients=cut direction=both", "mode=isolate-one clients=cut direction=both"},
		{"restart", map[string]string{"mode": "rolling", "down": "5s"}, "rolling down=5s", "mode=rolling down=5s"},
		{"limit-data", map[string]string{"bytes": "1000", "clients": "keep"}, "1000 bytes clients=keep", "bytes=1000 clients=keep"},
		{"bandwidth", map[string]string{"bandwidth": "64KB/s", "clients": "keep"}, "64KB/s clients=keep", "bandwidth=64KB/s clients=keep"},
		{"pause", nil, "", ""},
		{"new-kind", map[string]string{"b": "2", "a": "1"}, "a=1 b=2", "a=1 b=2"},
	} {
		assert.Equal(t, tc.label, paramsLabel(tc.kind, tc.params), tc.kind)
		assert.Equal(t, tc.list, params(tc.kind, tc.params), tc.kind)
	}
}

func TestScheduleTargetsSayWhatIsFixed(t *testing.T) {
	for _, tc := range []struct {
		f     plannedFiring
		fixed string
		drawn string
	}{
		{plannedFiring{Kind: "kill", Targets: []string{"n2"}}, "n2", ""},
		{plannedFiring{Kind: "latency", Params: map[string]string{"latency": "50ms"}}, "all links", ""},
		{plannedFiring{Kind: "latency", Params: map[string]string{"links": "n1-n2,n2-n3"}}, "links n1-n2, n2-n3", ""},
		{plannedFiring{Kind: "partition", Targets: []string{"leader"}, Params: map[string]string{"mode": "isolate-one"}},
			"", "the stream's leader, chosen when it fires"},
		{plannedFiring{Kind: "partition", Params: map[string]string{"mode": "isolate-leader"}}, "", "the stream's leader, chosen when it fires"},
		{plannedFiring{Kind: "partition", Params: map[string]string{"mode": "ring"}}, "every node, as mode ring arranges them", ""},
		{plannedFiring{Kind: "partition", Params: map[string]string{"mode": "groups", "groups": "n1 | n2 n3"}}, "groups n1 | n2 n3", ""},
		{plannedFiring{Kind: "kill", Targets: []string{"n1", "leader"}}, "n1", "the stream's leader, chosen when it fires"},
	} {
		got := tc.f.TargetText()
		assert.Equal(t, tc.fixed, got.Fixed, "%+v", tc.f)
		assert.Equal(t, tc.drawn, got.Drawn, "%+v", tc.f)
	}
}
