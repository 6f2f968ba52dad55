package checkers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// synthetic builds a clean queue history of about n ops over streams
// streams and producers producers: up to one send in flight per producer
// (acknowledged in completion order, 1% with an unknown outcome of which
// half took effect, 0.5% failed), 16 consumers polling batches of up to 8,
// then a drain reading every stream in batches of 64.
func synthetic(n, streams, producers int, seed uint64) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 0))
	const consumers = 16
	h := make([]history.Op, 0, n+n/8)
	now := time.Duration(0)
	add := func(op history.Op) {
		now += time.Microsecond
		op.Index, op.Time = int64(len(h)), now
		h = append(h, op)
	}
	names := make([]string, streams)
	for i := range names {
		names[i] = "stream-" + strconv.Itoa(i)
	}
	logs := make([][]history.Read, streams) // what each stream holds
	consumed := make([]int, streams)        // next index the consumers read
	type open struct {
		active bool
		stream int
		value  string
		proc   int
	}
	prod := make([]open, producers)
	cons := make([]open, consumers)
	counter := make([]int, producers)
	for p := range prod {
		prod[p].proc = p
	}
	for c := range cons {
		cons[c].proc = producers + c
	}
	workers := producers + consumers + 1
	for len(h) < n {
		if rng.IntN(8) != 0 {
			p := &prod[rng.IntN(producers)]
			w := p.proc % workers
			if !p.active {
				counter[w]++
				*p = open{active: true, stream: rng.IntN(streams), proc: p.proc,
					value: strconv.Itoa(w) + "-" + strconv.Itoa(counter[w])}
				add(history.Op{Process: p.proc, Type: history.Invoke, F: history.Send, Stream: names[p.stream], Value: p.value, Offset: noOffset})
				continue
			}
			p.active = false
			op := history.Op{Process: p.proc, Type: history.OK, F: history.Send, Stream: names[p.stream], Value: p.value, Node: "n1"}
			switch r := rng.IntN(200); {
			case r == 0:
				op.Type, op.Offset, op.Error = history.Fail, noOffset, "no responders"
			case r < 3:
				op.Type, op.Offset, op.Error = history.Info, noOffset, "timeout"
				if r == 1 { // it took effect after all
					logs[p.stream] = append(logs[p.stream], history.Read{Offset: int64(len(logs[p.stream]) + 1), Value: p.value})
				}
				p.proc += workers
			default:
				logs[p.stream] = append(logs[p.stream], history.Read{Offset: int64(len(logs[p.stream]) + 1), Value: p.value})
				op.Offset = int64(len(logs[p.stream]))
			}
			add(op)
			continue
		}
		c := &cons[rng.IntN(consumers)]
		if !c.active {
			c.active, c.stream = true, rng.IntN(streams)
			add(history.Op{Process: c.proc, Type: history.Invoke, F: history.Poll, Stream: names[c.stream], Offset: noOffset})
			continue
		}
		c.active = false
		s := c.stream
		k := min(len(logs[s])-consumed[s], 1+rng.IntN(8))
		add(history.Op{Process: c.proc, Type: history.OK, F: history.Poll, Stream: names[s], Offset: noOffset, Node: "n2",
			Reads: decoded(logs[s][consumed[s] : consumed[s]+k])})
		consumed[s] += k
	}
	// Sends still open stay pending, as when a run ends.
	drainer := producers + consumers
	for s, log := range logs {
		for i := 0; i < len(log); i += 64 {
			add(history.Op{Process: drainer, Type: history.Invoke, F: history.Poll, Stream: names[s], Offset: noOffset})
			add(history.Op{Process: drainer, Type: history.OK, F: history.Poll, Stream: names[s], Offset: noOffset,
				Reads: decoded(log[i:min(i+64, len(log))])})
		}
		add(history.Op{Process: drainer, Type: history.Invoke, F: history.Drain, Stream: names[s], Offset: noOffset})
		add(history.Op{Process: drainer, Type: history.OK, F: history.Drain, Stream: names[s], Offset: int64(len(log))})
	}
	return h
}

// decoded copies reads the way decoding a history file makes them: each
// op holds its own reads and strings, near each other in memory, not the
// send's string.
func decoded(reads []history.Read) []history.Read {
	out := make([]history.Read, len(reads))
	for i, r := range reads {
		out[i] = history.Read{Offset: r.Offset, Value: strings.Clone(r.Value)}
	}
	return out
}

var (
	synthMu    sync.Mutex
	synthCache = map[int][]history.Op{}
)

// benchHistory builds the synthetic history of n ops once per process.
func benchHistory(n int) []history.Op {
	synthMu.Lock()
	defer synthMu.Unlock()
	if h, ok := synthCache[n]; ok {
		return h
	}
	h := synthetic(n, 64, 32, 1)
	synthCache[n] = h
	return h
}

// TestSyntheticHistoryIsClean keeps the benchmarks honest: they measure
// the checkers on a history they pass.
func TestSyntheticHistoryIsClean(t *testing.T) {
	h := synthetic(200_000, 64, 32, 7)
	sum := Judge(Compose(context.Background(), h, Default(Options{})...), nil)
	if sum.Verdict != Valid {
		t.Fatalf("synthetic history: %s: %s", sum.Verdict, sum.Reason)
	}
	if sum.Counts[Recovered] == 0 {
		t.Fatal("the synthetic history should hold recovered sends")
	}
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// benchCheck runs c over the history of n ops and reports history ops per
// second and bytes allocated per history op.
func benchCheck(b *testing.B, c Checker, n int) {
	h := benchHistory(n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		res := c.Check(context.Background(), h)
		if res.Error != "" {
			b.Fatal(res.Error)
		}
		if len(res.Anomalies) > 0 && c.Name() != "queue" {
			b.Fatalf("%s found anomalies in a clean history: %v", c.Name(), res.Anomalies)
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	runtime.ReadMemStats(&after)
	ops := float64(len(h)) * float64(b.N)
	b.ReportMetric(ops/elapsed.Seconds(), "hist-ops/s")
	// On a shared machine wall time says more about the neighbours than
	// the code: ops per second of this process's CPU (GC included) does not.
	b.ReportMetric(ops/cpu.Seconds(), "hist-ops/cpu-s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/ops, "B/hist-op")
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchSizes = []int{1_000_000, 10_000_000}

// BenchmarkAnomalyPass is the queue checker: every stream anomaly kind.
func BenchmarkAnomalyPass(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) { benchCheck(b, Queue{}, n) })
	}
}

// BenchmarkWitnessPass is the witness linearizability checker.
func BenchmarkWitnessPass(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) { benchCheck(b, Linearizable{}, n) })
	}
}

// BenchmarkPorcupine runs plain porcupine on the 1M history for
// comparison, bounded by a minute and 4 GiB of heap; it reports how many
// of the 64 streams it decided and the history ops per second it got
// through.
func BenchmarkPorcupine(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(sizeName(n), func(b *testing.B) {
			h := benchHistory(n)
			c := Porcupine{Timeout: time.Minute, MaxHeap: 4 << 30, MaxOps: 1 << 30}
			b.ResetTimer()
			start := time.Now()
			var decided int64
			for range b.N {
				res := c.Check(context.Background(), h)
				decided = res.Stats["decided"]
				if res.Count(Nonlinearizable) > 0 {
					b.Fatalf("porcupine found a clean history not linearizable: %v", res.Anomalies)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(len(h))*float64(b.N)/elapsed.Seconds(), "hist-ops/s")
			b.ReportMetric(float64(decided), "streams-decided")
		})
	}
}
