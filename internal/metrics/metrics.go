// Package metrics exposes a running run to Prometheus: operations by
// function and outcome, the latency of sends, the faults in effect and the
// run's phase, served on /metrics at a loopback address only.
//
// Everything is derived from the history's operations as they are recorded
// (Observe), so the numbers on a dashboard are the numbers the checkers
// later read.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/riptidechaos/riptide/history"
)

// Metrics holds a run's Prometheus metrics in a registry of its own, so
// that two runs in one process (tests) never share counters.
type Metrics struct {
	reg     *prometheus.Registry
	ops     *prometheus.CounterVec
	reads   prometheus.Counter
	latency *prometheus.HistogramVec
	faults  *prometheus.GaugeVec
	phase   *prometheus.GaugeVec

	mu      sync.Mutex
	invoked map[int]time.Duration // process -> time of its open send
	active  map[string]string     // fault ID -> kind
	current string                // phase
}

// New creates the metrics of one run.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_ops_total",
			Help: "Operations recorded in the history, by function (send, poll, drain, fault-start, ...) and type (invoke, ok, fail, info).",
		}, []string{"f", "type"}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_messages_read_total",
			Help: "Messages returned by successful polls and drains.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "riptide_send_latency_seconds",
			Help: "Time from a send's invoke to its completion, by outcome (ok, fail, info).",
			// 0.5 ms to about 33 s: a loopback ack at the bottom, the
			// longest client timeout at the top.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 17),
		}, []string{"type"}),
		faults: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_active_faults",
			Help: "Faults in effect, by kind.",
		}, []string{"kind"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_phase",
			Help: "1 for the phase the run is in (launch, main, heal, drain, check, report), 0 for phases it left.",
		}, []string{"phase"}),
		invoked: map[int]time.Duration{},
		active:  map[string]string{},
	}
	m.reg.MustRegister(m.ops, m.reads, m.latency, m.faults, m.phase)
	return m
}

// Registry is where the metrics are registered, for tests and for callers
// that serve them themselves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe accounts for one operation as it is recorded. It is safe for
// concurrent use; ops of one process must come in their recorded order (one
// op in flight per process, as the recorder guarantees).
func (m *Metrics) Observe(op history.Op) {
	m.ops.WithLabelValues(string(op.F), op.Type.String()).Inc()
	switch {
	case op.F == history.Send:
		m.observeSend(op)
	case (op.F == history.Poll || op.F == history.Drain) && op.Type == history.OK:
		m.reads.Add(float64(len(op.Reads)))
	case op.Fault != nil:
		m.observeFault(op)
	}
}

func (m *Metrics) observeSend(op history.Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op.Type == history.Invoke {
		m.invoked[op.Process] = op.Time
		return
	}
	start, ok := m.invoked[op.Process]
	if !ok {
		return
	}
	delete(m.invoked, op.Process)
	m.latency.WithLabelValues(op.Type.String()).Observe((op.Time - start).Seconds())
}

func (m *Metrics) observeFault(op history.Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, kind := op.Fault.ID, op.Fault.Kind
	switch op.F {
	case history.FaultStart:
		if _, dup := m.active[id]; dup || op.Type != history.OK {
			return
		}
		m.active[id] = kind
		m.faults.WithLabelValues(kind).Inc()
	case history.FaultStop:
		if k, ok := m.active[id]; ok {
			delete(m.active, id)
			m.faults.WithLabelValues(k).Dec()
		}
	}
}

// SetPhase marks the phase the run is in.
func (m *Metrics) SetPhase(phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current != "" {
		m.phase.WithLabelValues(m.current).Set(0)
	}
	m.current = phase
	m.phase.WithLabelValues(phase).Set(1)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// CheckLoopback refuses an address that is not on loopback. /metrics shows
// what a run does to a cluster, and the control APIs of riptide listen on
// loopback only (DESIGN.md): a scrape from elsewhere goes through a proxy
// or an SSH tunnel the user sets up on purpose.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics address %q: want HOST:PORT on loopback, e.g. 127.0.0.1:9090: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	why := "not a loopback address"
	if host == "" || host == "0.0.0.0" || host == "::" {
		why = "it listens on every interface"
	}
	return fmt.Errorf("metrics address %q: %s; riptide serves /metrics on loopback only (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)", addr, why)
}

// Listen opens addr for Serve after checking it is on loopback. Listening
// before the run starts lets the CLI report a bad or busy address at once
// rather than after the cluster is up.
func Listen(addr string) (net.Listener, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// shutdownTimeout bounds how long Serve waits for a scrape in progress
// when ctx ends.
const shutdownTimeout = 2 * time.Second

// Serve serves /metrics on ln until ctx is done, then shuts down and
// closes ln. It returns nil after a shutdown caused by ctx.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "riptide: metrics at /metrics")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // a scrape outlived the timeout: cut it
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// ListenAndServe is Listen then Serve.
func (m *Metrics) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return m.Serve(ctx, ln)
}
