package metrics_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/internal/metrics"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
		why  string
	}{
		{"127.0.0.1:9090", true, ""},
		{"127.0.0.2:9090", true, ""},
		{"[::1]:9090", true, ""},
		{"localhost:0", true, ""},
		{"0.0.0.0:9090", false, "listens on every interface"},
		{":9090", false, "listens on every interface"},
		{"[::]:9090", false, "listens on every interface"},
		{"10.1.2.3:9090", false, "not a loopback address"},
		{"metrics.example.com:9090", false, "not a loopback address"},
		{"9090", false, "want HOST:PORT"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			err := metrics.CheckLoopback(tc.addr)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.why)
			assert.Contains(t, err.Error(), tc.addr, "the error names the address")
			if tc.why != "want HOST:PORT" {
				assert.Contains(t, err.Error(), "loopback only", "the error names the rule")
			}
		})
	}
}

func TestListenRefusesEveryInterface(t *testing.T) {
	ln, err := metrics.Listen("0.0.0.0:0")
	assert.Nil(t, ln)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loopback only")
}

// history of two sends (one acknowledged after 20 ms, one unknown after
// 3 s), a poll of three messages and a fault that starts and stops.
func sampleOps() []history.Op {
	ms := time.Millisecond
	return []history.Op{
		{Process: 0, Type: history.Invoke, F: history.Send, Value: "0-1", Time: 0},
		{Process: 1, Type: history.Invoke, F: history.Send, Value: "1-1", Time: 1 * ms},
		{Process: 0, Type: history.OK, F: history.Send, Value: "0-1", Offset: 1, Time: 20 * ms},
		{Process: -1, Type: history.OK, F: history.FaultStart, Time: 30 * ms,
			Fault: &history.Fault{ID: "f1", Kind: "partition", Targets: []string{"n1"}}},
		{Process: 2, Type: history.Invoke, F: history.Poll, Time: 40 * ms},
		{Process: 2, Type: history.OK, F: history.Poll, Time: 50 * ms,
			Reads: []history.Read{{Offset: 1, Value: "0-1"}, {Offset: 2, Value: "x"}, {Offset: 3, Value: "y"}}},
		{Process: 1, Type: history.Info, F: history.Send, Value: "1-1", Error: "timeout", Time: 3001 * ms},
	}
}

func TestObserveCountsWhatTheHistorySays(t *testing.T) {
	m := metrics.New()
	for _, op := range sampleOps() {
		m.Observe(op)
	}
	m.SetPhase("main")
	expected := `
# HELP riptide_active_faults Faults in effect, by kind.
# TYPE riptide_active_faults gauge
riptide_active_faults{kind="partition"} 1
# HELP riptide_messages_read_total Messages returned by successful polls and drains.
# TYPE riptide_messages_read_total counter
riptide_messages_read_total 3
# HELP riptide_ops_total Operations recorded in the history, by function (send, poll, drain, fault-start, ...) and type (invoke, ok, fail, info).
# TYPE riptide_ops_total counter
riptide_ops_total{f="fault-start",type="ok"} 1
riptide_ops_total{f="poll",type="invoke"} 1
riptide_ops_total{f="poll",type="ok"} 1
riptide_ops_total{f="send",type="info"} 1
riptide_ops_total{f="send",type="invoke"} 2
riptide_ops_total{f="send",type="ok"} 1
# HELP riptide_phase 1 for the phase the run is in (launch, main, heal, drain, check, report), 0 for phases it left.
# TYPE riptide_phase gauge
riptide_phase{phase="main"} 1
`
	assert.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(expected),
		"riptide_active_faults", "riptide_messages_read_total", "riptide_ops_total", "riptide_phase"))

	// The acknowledged send took 20 ms, the unknown one 3 s.
	assert.Equal(t, 2, testutil.CollectAndCount(m.Registry(), "riptide_send_latency_seconds"))
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	sums := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "riptide_send_latency_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			sums[metric.GetLabel()[0].GetValue()] = metric.GetHistogram().GetSampleSum()
		}
	}
	assert.InDelta(t, 0.020, sums["ok"], 1e-9)
	assert.InDelta(t, 3.000, sums["info"], 1e-9)

	m.Observe(history.Op{Process: -1, Type: history.OK, F: history.FaultStop, Time: time.Second,
		Fault: &history.Fault{ID: "f1", Kind: "partition"}})
	m.Observe(history.Op{Process: -1, Type: history.OK, F: history.FaultStop, Time: time.Second,
		Fault: &history.Fault{ID: "f1", Kind: "partition"}})
	m.SetPhase("heal")
	expected = `
# HELP riptide_active_faults Faults in effect, by kind.
# TYPE riptide_active_faults gauge
riptide_active_faults{kind="partition"} 0
# HELP riptide_phase 1 for the phase the run is in (launch, main, heal, drain, check, report), 0 for phases it left.
# TYPE riptide_phase gauge
riptide_phase{phase="heal"} 1
riptide_phase{phase="main"} 0
`
	assert.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(expected),
		"riptide_active_faults", "riptide_phase"), "a fault stopped twice is not negative")
}

func TestServeOnLoopbackUntilCancelled(t *testing.T) {
	m := metrics.New()
	for _, op := range sampleOps() {
		m.Observe(op)
	}
	ln, err := metrics.Listen("127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx, ln) }()

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `riptide_ops_total{f="send",type="ok"} 1`)
	assert.Contains(t, string(body), `riptide_send_latency_seconds_bucket{type="ok",le="0.032"} 1`)

	cancel()
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	_, err = client.Get("http://" + addr + "/metrics")
	assert.Error(t, err, "the listener is closed")
}
