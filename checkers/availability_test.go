package checkers

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// steady sends one value every 10 ms from t (ms) for n sends, each
// acknowledged after lat ms, from producer p.
func steady(b *builder, p, from, n, lat int) *builder {
	for i := range n {
		v := fmt.Sprintf("%d-%d", p, from+i)
		b.at(from+10*i).send(p, v)
		b.at(from+10*i+lat).ack(p, v, int64(from+i), "n1")
	}
	return b
}

func TestAvailabilityWindows(t *testing.T) {
	b := steady(new(builder), 0, 0, 30, 2) // 0-300 ms, 2 ms latency
	b.at(300).fault(history.FaultStart, "f1", "kill", "n1")
	steady(b, 1, 301, 10, 50) // 301-400 ms: 10 sends at 50 ms
	b.at(401).fault(history.FaultStop, "f1", "kill", "n1")
	steady(b, 2, 402, 20, 3) // 402-600 ms
	b.at(500).add(history.Op{Process: 7, Type: history.Invoke, F: history.Poll, Offset: noOffset})
	b.at(510).add(history.Op{Process: 7, Type: history.OK, F: history.Poll, Offset: noOffset,
		Reads: []history.Read{{Offset: 1, Value: "0-0"}, {Offset: 2, Value: "0-1"}}})

	res := check(Availability{}, b.h)
	require.Empty(t, res.Error)
	assert.Empty(t, res.Anomalies)
	require.Len(t, res.Windows, 1)
	w := res.Windows[0]
	assert.Equal(t, "f1", w.ID)
	assert.Equal(t, "kill", w.Kind)
	assert.Equal(t, []string{"n1"}, w.Targets)
	assert.Equal(t, 300*time.Millisecond, w.Start)
	assert.Equal(t, 401*time.Millisecond, w.End)

	assert.Equal(t, int64(30), w.Before.Acked)
	assert.Equal(t, time.Duration(0), w.Before.Start, "before starts with the traffic")
	assert.Equal(t, 2*time.Millisecond, w.Before.P50)
	assert.InDelta(t, 100, w.Before.AckedPerSec, 0.1)

	// Half of the fault's sends are acknowledged after the stop.
	assert.Equal(t, int64(5), w.During.Acked)
	assert.Equal(t, 50*time.Millisecond, w.During.P99)

	assert.Equal(t, int64(25), w.After.Acked)
	assert.Equal(t, int64(2), w.After.Reads)
	assert.Equal(t, 401*time.Millisecond, w.After.Start)
	assert.Equal(t, 3*time.Millisecond, w.After.P50)
	assert.Equal(t, 50*time.Millisecond, w.After.P99)

	assert.Equal(t, int64(30), res.Stats["acked-before-first-fault"])
	assert.Equal(t, int64(60), res.Stats["acked"])
}

func TestAvailabilityFloor(t *testing.T) {
	few := func() []history.Op {
		b := steady(new(builder), 0, 0, 3, 1)
		b.at(100).fault(history.FaultStart, "f1", "partition", "n2")
		return steady(b, 1, 200, 30, 1).h
	}
	cases := []struct {
		name  string
		floor int
		want  int
	}{
		{name: "default floor", floor: 0, want: 1},
		{name: "low floor", floor: 3, want: 0},
		{name: "floor off", floor: -1, want: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := check(Availability{MinAckedBeforeFault: c.floor}, few())
			assert.Equal(t, c.want, res.Count(Unexercised))
			if c.want == 0 {
				return
			}
			ex := res.Anomalies[Unexercised].Examples[0]
			assert.Equal(t, []int64{6}, ex.Ops)
			assert.Equal(t, "only 3 send(s) were acknowledged before the first fault (f1 partition, op #6) started at 100ms; at least 20 are needed to show the faults met traffic", ex.Message)
			assert.Equal(t, Unknown, Judge([]Result{res}, nil).Verdict, "too little traffic proves nothing either way")
		})
	}
}

func TestAvailabilityWithoutFaults(t *testing.T) {
	res := check(Availability{}, steady(new(builder), 0, 0, 2, 1).h)
	assert.Empty(t, res.Anomalies)
	assert.Empty(t, res.Windows)
}

func TestAvailabilityOverlappingFaults(t *testing.T) {
	b := steady(new(builder), 0, 0, 30, 1)
	b.at(300).fault(history.FaultStart, "f1", "kill", "n1")
	b.at(350).fault(history.FaultStart, "f2", "latency")
	b.at(400).fault(history.FaultStop, "f1", "kill", "n1")
	b.at(450).fault(history.FaultStop, "f2", "latency")
	steady(b, 1, 460, 10, 1)
	res := check(Availability{}, b.h)
	require.Len(t, res.Windows, 2)
	f1, f2 := res.Windows[0], res.Windows[1]
	assert.Equal(t, f1.After.Start, f1.After.End, "f2 is in effect when f1 stops: no quiet time after f1")
	assert.Equal(t, f2.Before.Start, f2.Before.End, "f1 is in effect when f2 starts")
	assert.Equal(t, 450*time.Millisecond, f2.After.Start)
	assert.Equal(t, int64(10), f2.After.Acked)
}
