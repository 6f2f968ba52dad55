package injectors

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// The actuation benchmarks measure what the history records as a fault's
// actuation: the time from when the schedule's timer was due until the
// fault was journalled and in effect on every live connection of its
// links (Toxiproxy adds a toxic to each open connection before AddToxic
// returns), or healed on all of them. They run the real Schedule against a
// 3-node cluster of echo servers with traffic on four connections per link
// (a small round trip every 10 ms on each of 36 connections, about the
// message rate of a NATS run on this machine), and report p50 and p99 in
// microseconds.
//
//	go test -run '^$' -bench Actuation ./injectors/

func BenchmarkActuationPartition(b *testing.B) {
	benchActuation(b, Partition{Mode: "isolate-one", CutClients: true}, []string{"n1"}, history.FaultStart, "apply")
}

func BenchmarkActuationLatency(b *testing.B) {
	benchActuation(b, Latency{Scope: Scope{Clients: true}, Latency: 50 * time.Millisecond}, nil, history.FaultStart, "apply")
}

func BenchmarkActuationHeal(b *testing.B) {
	benchActuation(b, Partition{Mode: "isolate-one", CutClients: true}, []string{"n1"}, history.FaultStop, "heal")
}

func benchActuation(b *testing.B, inj Injector, nodes []string, f history.F, what string) {
	c := newTestCluster(b, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, l := range c.net.Links() {
		for range 4 {
			conn := dial(b, l)
			wg.Go(func() { chatter(ctx, conn) })
		}
	}
	dir := b.TempDir()
	rec, err := history.Create(filepath.Join(dir, "history.jsonl"), time.Now())
	require.NoError(b, err)
	j, err := CreateJournal(dir, "bench")
	require.NoError(b, err)
	s := &Schedule{Cluster: c, Recorder: rec, Journal: j}

	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Steps = []Step{{At: time.Millisecond, For: time.Millisecond, Injector: inj,
			Target: Target{ID: "f" + itoa(i), Nodes: nodes}}}
		if err := s.Run(ctx, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, rec.Close())
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(b, err)
	var lat []time.Duration
	for _, op := range h {
		if op.F == f && op.Type == history.OK {
			lat = append(lat, op.Fault.Actuation)
		}
	}
	if len(lat) == 0 {
		b.Fatal("no faults recorded")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), what+"-p50-µs")
	b.ReportMetric(pct(0.99), what+"-p99-µs")
}

// chatter keeps a connection busy with small round trips until ctx ends;
// while a fault holds the link, its reads time out and it tries again.
func chatter(ctx context.Context, c net.Conn) {
	buf := make([]byte, 64)
	for ctx.Err() == nil {
		_ = c.SetDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Write([]byte("x")); err != nil && !isTimeout(err) {
			return
		}
		if _, err := c.Read(buf); err != nil && !isTimeout(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
