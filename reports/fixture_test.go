package reports_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
)

// loadHistory reads one of testdata/histories.
func loadHistory(t testing.TB, name string) []history.Op {
	t.Helper()
	h, _, err := history.ReadFile(filepath.Join("..", "testdata", "histories", name))
	require.NoError(t, err)
	return h
}

// assertAbsent fails if needle occurs in haystack, quoting only the
// surroundings: a whole report in a failure message hides the point.
func assertAbsent(t *testing.T, haystack, needle string, msgAndArgs ...any) {
	t.Helper()
	i := strings.Index(haystack, needle)
	if i < 0 {
		return
	}
	from, to := max(i-120, 0), min(i+len(needle)+120, len(haystack))
	assert.Fail(t, fmt.Sprintf("found %q in: …%s…", needle, haystack[from:to]), msgAndArgs...)
}

// assertHas fails if needle does not occur in haystack, without quoting a
// whole report.
func assertHas(t *testing.T, haystack, needle string, msgAndArgs ...any) {
	t.Helper()
	if !strings.Contains(haystack, needle) {
		assert.Fail(t, fmt.Sprintf("%q not found (in %d bytes)", needle, len(haystack)), msgAndArgs...)
	}
}

// fixtureScenario is a fixed scenario for reports of test histories.
func fixtureScenario(name string) reports.Scenario {
	return reports.Scenario{Name: name, Seed: 7, System: "nats", Version: "2.12.1", Nodes: 3,
		Platform: "process", Duration: 20 * time.Second,
		YAML: "name: " + name + "\nseed: 7\nduration: 20s\nexpect:\n  lost: 0\n"}
}

// resultsFor checks h the way the runner does and fills Results with
// fixed run facts, so that report files of a test history are
// reproducible.
func resultsFor(t testing.TB, sc reports.Scenario, h []history.Op) *reports.Results {
	t.Helper()
	results := checkers.Compose(context.Background(), h, checkers.Default(checkers.Options{})...)
	sum := checkers.Judge(results, nil)
	r := reports.Assemble(sc, h, results, sum, func(checkers.Kind) string { return "0" })
	r.Duration, r.Nodes = 22*time.Second, []string{"n1", "n2", "n3"}
	return r
}

// synthetic builds a history of n events shaped like a real run: four
// producers sending at a steady pace, two consumers polling batches, a
// final drain that reads the stream from the start, and faults that slow the sends down while they last.
func synthetic(n int, duration time.Duration) []history.Op {
	h := make([]history.Op, 0, n+64)
	add := func(op history.Op) {
		op.Index = int64(len(h))
		h = append(h, op)
	}
	faults := []struct {
		id, kind string
		targets  []string
		params   map[string]string
		from, to float64 // fractions of the run
	}{
		{"f1", "kill", []string{"n1"}, nil, 0.15, 0.25},
		{"f2", "partition", []string{"n2"}, map[string]string{"mode": "isolate-one", "clients": "cut"}, 0.40, 0.55},
		{"f3", "latency", nil, map[string]string{"latency": "50ms", "jitter": "10ms"}, 0.70, 0.80},
	}
	step := duration / time.Duration(n/2+1) // about two events a step
	var offset int64
	var unread, all []history.Read
	next := 0
	counters := [4]int{}
	fault := func(at float64) int {
		for i, f := range faults {
			if at >= f.from && at < f.to {
				return i
			}
		}
		return -1
	}
	for i := 0; len(h) < n-8; i++ {
		now := time.Duration(i) * step
		frac := float64(now) / float64(duration)
		for next < 2*len(faults) {
			f := faults[next/2]
			at := f.from
			kind := history.FaultStart
			if next%2 == 1 {
				at, kind = f.to, history.FaultStop
			}
			if frac < at {
				break
			}
			add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: kind, Offset: history.NoOffset,
				Time: now, Fault: &history.Fault{ID: f.id, Kind: f.kind, Targets: f.targets, Params: f.params,
					Actuation: 3 * time.Millisecond}})
			next++
		}
		p := i % 4
		counters[p]++
		value := fmt.Sprintf("%d-%d", p, counters[p])
		add(history.Op{Process: p, Type: history.Invoke, F: history.Send, Stream: "riptide", Value: value,
			Offset: history.NoOffset, Time: now})
		lat := 2*time.Millisecond + time.Duration(i%7)*300*time.Microsecond
		done := history.Op{Process: p, Type: history.OK, F: history.Send, Stream: "riptide", Value: value,
			Node: fmt.Sprintf("n%d", p%3+1), Time: now + lat}
		switch fault(frac) {
		case 0, 1:
			if i%3 == 0 {
				done.Type, done.Error, done.Time = history.Info, "nats: timeout", now+3*time.Second
			}
		case 2:
			done.Time = now + 50*time.Millisecond + lat
		}
		if done.Type == history.OK {
			offset++
			done.Offset = offset
			unread = append(unread, history.Read{Offset: offset, Value: value})
			all = append(all, history.Read{Offset: offset, Value: value})
		} else {
			done.Offset = history.NoOffset
		}
		add(done)
		if i%50 == 49 {
			c := 4 + (i/50)%2
			add(history.Op{Process: c, Type: history.Invoke, F: history.Poll, Stream: "riptide", Offset: history.NoOffset, Time: now})
			add(history.Op{Process: c, Type: history.OK, F: history.Poll, Stream: "riptide", Offset: history.NoOffset,
				Node: "n3", Reads: unread, Time: now + time.Millisecond})
			unread = nil
		}
	}
	end := duration + time.Second
	add(history.Op{Process: 6, Type: history.Invoke, F: history.Poll, Stream: "riptide", Offset: history.NoOffset, Time: end})
	add(history.Op{Process: 6, Type: history.OK, F: history.Poll, Stream: "riptide", Offset: history.NoOffset,
		Reads: all, Time: end + time.Millisecond})
	add(history.Op{Process: 6, Type: history.Invoke, F: history.Drain, Stream: "riptide", Offset: history.NoOffset, Time: end + 2*time.Millisecond})
	add(history.Op{Process: 6, Type: history.OK, F: history.Drain, Stream: "riptide", Offset: offset, Time: end + 3*time.Millisecond})
	return h
}

// loseALateSend drops from every read the value of the first send
// acknowledged after 12 s of h, so that the checkers find it lost; it
// returns that send's position in h.
func loseALateSend(t *testing.T, h []history.Op) int {
	t.Helper()
	lost := -1
	for i := range h {
		if h[i].F == history.Send && h[i].Type == history.OK && h[i].Time > 12*time.Second {
			lost = i
			break
		}
	}
	require.Positive(t, lost)
	for i := range h {
		reads := h[i].Reads[:0:0]
		for _, rd := range h[i].Reads {
			if rd.Value != h[lost].Value {
				reads = append(reads, rd)
			}
		}
		h[i].Reads = reads
	}
	return lost
}
