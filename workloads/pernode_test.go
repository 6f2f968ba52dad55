package workloads_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/images"
	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/riptidechaos/riptide/workloads"
)

// TestNodeReadsRealCluster proves on a real 3-node NATS cluster (process
// platform) that a per-node read returns the node's own replica: it holds
// one follower back (its route links down, its clients kept), writes on,
// and reads every node. The held-back replica's read returns what it holds
// (fewer messages than the leader's), which the checkers report as
// lost-on-node on that node alone; with the settle wait (what a run does)
// the same replica is not judged; once it is let go and has caught up,
// every node's read agrees and nothing is reported.
func TestNodeReadsRealCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("launches a real NATS cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	checkNodeReads(t, ctx, launchProcess(t, ctx))
}

// launchProcess launches a 3-node cluster on the process platform, closed
// when the test ends.
func launchProcess(t *testing.T, ctx context.Context) *nats.Cluster {
	t.Helper()
	bin, err := nats.Binary(ctx, nats.DefaultVersion, os.Stderr)
	require.NoError(t, err)
	c, err := nats.Launch(ctx, nats.Options{Dir: t.TempDir(), Nodes: 3, Binary: bin, SyncInterval: "always"})
	if c != nil {
		t.Cleanup(func() { _ = c.Close(context.Background()) })
	}
	require.NoError(t, err)
	return c
}

// TestNodeNamesAreTheStreamsMembers: the per-node reads read the nodes
// that hold a copy of the stream, not every node of the cluster (an R3
// stream on five nodes has three copies); when no node can say where the
// stream lives, every node, so that nothing is skipped unreported.
func TestNodeNamesAreTheStreamsMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("launches a real NATS cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := launchProcess(t, ctx)
	all := clusters.NodeNames(c.Nodes())
	for _, replicas := range []int{1, 2, 3} {
		stream := fmt.Sprintf("placed%d", replicas)
		q := &workloads.NATSQueue{Nodes: c.Nodes(), Stream: stream, Replicas: replicas, Timeout: 3 * time.Second, Net: c.Net()}
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		require.NoError(t, q.Setup(sctx))
		cancel()
		p, err := nats.StreamPlacementOf(ctx, c.Nodes(), stream)
		require.NoError(t, err)
		names := q.NodeNames(ctx)
		assert.Len(t, names, replicas, "R%d: %v", replicas, names)
		assert.ElementsMatch(t, p.Members(), names, "R%d", replicas)
		assert.True(t, slices.IsSorted(names), "in the cluster's order: %v", names)
		assert.Subset(t, all, names)
	}
	q := &workloads.NATSQueue{Nodes: c.Nodes(), Stream: "nosuch", Replicas: 1, Timeout: 3 * time.Second, Net: c.Net()}
	assert.Equal(t, all, q.NodeNames(ctx), "no stream, no placement: every node")
}

// TestNodeReadsDocker is the same on the docker platform: containers from
// the local images, Toxiproxy in its own container.
func TestNodeReadsDocker(t *testing.T) {
	natsImage, toxiImage := images.NATSServer(nats.DefaultVersion), images.Toxiproxy()
	testenv.Docker(t, natsImage, toxiImage)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: t.Name(), Dir: filepath.Join(t.TempDir(), "nodes"), Nodes: 3,
		Image: natsImage, ToxiproxyImage: toxiImage, SyncInterval: "always"})
	if c != nil {
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = c.Close(cctx)
		})
	}
	require.NoError(t, err)
	checkNodeReads(t, ctx, c)
}

const (
	nodeStream  = "pernode"
	before      = 200 // values every replica holds
	whileHeld   = 100 // values written while one follower is held back
	nodeBudget  = 30 * time.Second
	settleShort = 12 * time.Second // 4 s per node: half to settle
)

func checkNodeReads(t *testing.T, ctx context.Context, c clusters.Cluster) {
	q := &workloads.NATSQueue{Nodes: c.Nodes(), Stream: nodeStream, Replicas: 3, Timeout: 3 * time.Second, Net: c.Net()}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	require.NoError(t, q.Setup(sctx))
	cancel()
	cfg := workloads.QueueConfig{Stream: nodeStream, Producers: 1, Nodes: len(c.Nodes())}
	start := time.Now()
	var held string // the follower held back

	// Every history starts with the sends: some that every replica holds,
	// then more while a follower is held back.
	sends := record(t, start, func(rec *history.Recorder) {
		leader, err := nats.StreamLeader(ctx, c.Nodes(), nodeStream)
		require.NoError(t, err)
		// The producer talks to the leader first, so that its sends go
		// on while the follower is held back.
		home := slices.IndexFunc(c.Nodes(), func(n clusters.Node) bool { return n.Name() == leader })
		p, err := q.Producer(home)
		require.NoError(t, err)
		defer p.Close()
		send(t, ctx, rec, p, 1, before)
		// A follower answers direct gets once it has caught up with a
		// leader (it checks every 2 s); a complete read of every node
		// (left out of the histories) shows that each does, before one
		// is held back.
		_, warm := readNodes(t, ctx, q, cfg, start, nodeBudget, workloads.NodeReadOptions{})
		for _, r := range warm {
			require.True(t, r.Complete, "%+v", r)
		}
		held = follower(c, leader)
		t.Logf("leader %s, holding back %s", leader, held)
		hold(t, c, held, true)
		send(t, ctx, rec, p, before+1, before+whileHeld)
	})
	asIs, asIsResults := readNodes(t, ctx, q, cfg, start, nodeBudget, workloads.NodeReadOptions{NoSettle: true})
	settled, settledResults := readNodes(t, ctx, q, cfg, start, settleShort, workloads.NodeReadOptions{})
	// Then as a run goes on: heal, wait until the cluster is healthy,
	// drain (the leader's copy), read every node.
	hold(t, c, held, false)
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, c.(clusters.HealthWaiter).WaitHealthy(hctx))
	drain := record(t, start, func(rec *history.Recorder) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		res, err := workloads.Drain(dctx, q, cfg, rec)
		require.NoError(t, err)
		require.True(t, res.Complete, "drain: %+v", res)
		require.EqualValues(t, before+whileHeld, res.Last)
	})
	healed, healedResults := readNodes(t, ctx, q, cfg, start, nodeBudget, workloads.NodeReadOptions{})

	t.Run("a held-back replica read as it is lacks what it missed", func(t *testing.T) {
		for _, r := range asIsResults {
			require.True(t, r.Complete, "%+v", r)
			want := before + whileHeld
			if r.Node == held {
				want = before
			}
			assert.Equal(t, want, r.Reads, "reads of %s", r.Node)
			assert.EqualValues(t, want, r.Reached, "reached on %s", r.Node)
		}
		h := join(sends, asIs, drain)
		assert.Equal(t, offsets(1, before), readOffsets(h, held), "the held-back node's read returns its own replica, not the leader's")
		sum, results := check(t, h)
		assert.Equal(t, checkers.Invalid, sum.Verdict)
		assert.Equal(t, map[checkers.Kind]int{checkers.LostOnNode: whileHeld}, nonzero(sum.Counts))
		for _, ex := range anomalies(results, checkers.LostOnNode) {
			assert.Equal(t, held, ex.Node)
		}
	})

	t.Run("with the settle wait a lagging replica is not judged", func(t *testing.T) {
		for _, r := range settledResults {
			if r.Node == held {
				assert.False(t, r.Complete, "%+v", r)
				assert.Contains(t, r.Why, "still catching up")
				continue
			}
			assert.True(t, r.Complete, "%+v", r)
			assert.Equal(t, before+whileHeld, r.Reads, "reads of %s", r.Node)
		}
		sum, _ := check(t, join(sends, settled, drain))
		assert.Equal(t, checkers.Valid, sum.Verdict, "%s", sum.Reason)
		assert.Empty(t, nonzero(sum.Counts))
	})

	t.Run("once caught up every replica agrees", func(t *testing.T) {
		for _, r := range healedResults {
			assert.True(t, r.Complete, "%+v", r)
			assert.Equal(t, before+whileHeld, r.Reads, "reads of %s", r.Node)
			assert.EqualValues(t, before+whileHeld, r.Last, "last offset of %s", r.Node)
		}
		h := join(sends, drain, healed)
		assert.Equal(t, offsets(1, before+whileHeld), readOffsets(h, held))
		sum, _ := check(t, h)
		assert.Equal(t, checkers.Valid, sum.Verdict, "%s", sum.Reason)
		assert.Empty(t, nonzero(sum.Counts))
		// Every cut was undone.
		for _, l := range c.Net().Links() {
			on, err := l.Enabled()
			require.NoError(t, err)
			assert.True(t, on, "link %s", l.Name())
		}
	})

	// A divergence that outlives the heal: the payload of one message is
	// damaged on a follower's disk while it is down. NATS 2.12.1 starts it
	// again counting every message, the follower is current, and it answers
	// 404 for the damaged one; the leader's copy is whole.
	t.Run("a replica that cannot load a message it counts is caught", func(t *testing.T) {
		const damaged = 150
		var victim clusters.Node
		for _, n := range c.Nodes() {
			if n.Name() == held {
				victim = n
			}
		}
		require.NoError(t, victim.(clusters.Stopper).Stop(ctx))
		blks, err := filepath.Glob(filepath.Join(victim.(clusters.DataDirs).DataDir(), "jetstream", "*", "streams", nodeStream, "msgs", "*.blk"))
		require.NoError(t, err)
		require.NotEmpty(t, blks)
		hit := false
		for _, blk := range blks {
			b, err := os.ReadFile(blk)
			require.NoError(t, err)
			if i := bytes.Index(b, []byte(fmt.Sprintf("0-%d", damaged))); i >= 0 {
				b[i+2] = 'X' // same length, wrong checksum
				require.NoError(t, os.WriteFile(blk, b, 0o644))
				hit = true
			}
		}
		require.True(t, hit, "value 0-%d in %v", damaged, blks)
		require.NoError(t, victim.(clusters.Killer).Start(ctx))
		hctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, c.(clusters.HealthWaiter).WaitHealthy(hctx))

		// Through the victim's client port alone, with its routes up, a
		// direct get is answered by any replica: the whole value from
		// the others, 404 from the victim (once it has caught up after
		// its restart and serves direct gets at all).
		got := map[string]int{}
		for deadline := time.Now().Add(30 * time.Second); got["404"] == 0 && time.Now().Before(deadline); {
			for k, n := range directGets(t, victim, damaged, 30) {
				got[k] += n
			}
		}
		t.Logf("direct gets of offset %d through %s, routes up: %v", damaged, victim.Name(), got)
		assert.Positive(t, got[fmt.Sprintf("0-%d", damaged)], "answers from other replicas")
		assert.Positive(t, got["404"], "answers from %s itself", victim.Name())

		damage, results := readNodes(t, ctx, q, cfg, start, nodeBudget, workloads.NodeReadOptions{})
		for _, r := range results {
			assert.True(t, r.Complete, "%+v", r)
			want := before + whileHeld
			if r.Node == victim.Name() {
				want--
			}
			assert.Equal(t, want, r.Reads, "reads of %s", r.Node)
		}
		sum, all := check(t, join(sends, drain, damage))
		assert.Equal(t, checkers.Invalid, sum.Verdict)
		assert.Equal(t, map[checkers.Kind]int{checkers.LostOnNode: 1}, nonzero(sum.Counts))
		for _, ex := range anomalies(all, checkers.LostOnNode) {
			assert.Equal(t, victim.Name(), ex.Node)
			assert.Equal(t, fmt.Sprintf("0-%d", damaged), ex.Value)
		}
	})
}

// directGets asks n's client port, and nothing else, for the message at
// offset n times, and counts the answers by value (or status).
func directGets(t *testing.T, n clusters.Node, offset, times int) map[string]int {
	t.Helper()
	nc, err := natsgo.Connect("nats://"+n.ClientAddr(), natsgo.IgnoreDiscoveredServers(), natsgo.NoReconnect())
	require.NoError(t, err)
	defer nc.Close()
	got := map[string]int{}
	for range times {
		m, err := nc.Request("$JS.API.DIRECT.GET."+nodeStream, []byte(fmt.Sprintf(`{"seq":%d}`, offset)), 2*time.Second)
		require.NoError(t, err)
		if st := m.Header.Get("Status"); st != "" {
			got[st]++
		} else {
			got[string(m.Data)]++
		}
	}
	return got
}

// follower names a node other than the leader.
func follower(c clusters.Cluster, leader string) string {
	for _, n := range c.Nodes() {
		if n.Name() != leader {
			return n.Name()
		}
	}
	panic("no follower")
}

// hold cuts (or restores) node's route links on behalf of the test, as a
// partition with clients kept would; the per-node reads' own cuts hold the
// links under another name.
func hold(t *testing.T, c clusters.Cluster, node string, on bool) {
	t.Helper()
	for _, l := range c.Net().Touching(node, false) {
		if on {
			require.NoError(t, l.DisableFor("test"))
		} else {
			require.NoError(t, l.EnableFor("test"))
		}
	}
}

// send records sends of values 0-from..0-to, each acknowledged.
func send(t *testing.T, ctx context.Context, rec *history.Recorder, p workloads.Client, from, to int) {
	t.Helper()
	for n := from; n <= to; n++ {
		inv, err := rec.Record(history.Op{Process: 0, Type: history.Invoke, F: history.Send, Stream: nodeStream,
			Value: fmt.Sprintf("0-%d", n), Offset: history.NoOffset})
		require.NoError(t, err)
		out := p.Invoke(ctx, inv)
		require.Equal(t, history.OK, out.Type, "send %s: %s", inv.Value, out.Error)
		_, err = rec.Record(out)
		require.NoError(t, err)
	}
}

// record runs f with a fresh recorder whose time zero is start and returns
// what it recorded.
func record(t *testing.T, start time.Time, f func(rec *history.Recorder)) []history.Op {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := history.Create(path, start)
	require.NoError(t, err)
	f(rec)
	require.NoError(t, rec.Close())
	h, _, err := history.ReadFile(path)
	require.NoError(t, err)
	return h
}

// readNodes runs the per-node reads under budget and returns what they
// recorded.
func readNodes(t *testing.T, ctx context.Context, q workloads.Queue, cfg workloads.QueueConfig, start time.Time,
	budget time.Duration, opts workloads.NodeReadOptions) ([]history.Op, []workloads.NodeReadResult) {
	t.Helper()
	var results []workloads.NodeReadResult
	began := time.Now()
	ops := record(t, start, func(rec *history.Recorder) {
		rctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		var err error
		results, err = workloads.ReadNodes(rctx, q, cfg, rec, opts)
		require.NoError(t, err)
	})
	t.Logf("per-node reads took %s: %+v", time.Since(began).Round(time.Millisecond), results)
	return ops, results
}

// join is one history of parts recorded one after the other.
func join(parts ...[]history.Op) []history.Op {
	var h []history.Op
	for _, p := range parts {
		h = append(h, p...)
	}
	for i := range h {
		h[i].Index = int64(i)
	}
	return h
}

// check runs the standard checkers.
func check(t *testing.T, h []history.Op) (checkers.Summary, []checkers.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := checkers.Compose(ctx, h, checkers.Default(checkers.Options{})...)
	sum := checkers.Judge(results, nil)
	for _, r := range results {
		for k, a := range r.Anomalies {
			if a.Count > 0 && len(a.Examples) > 0 {
				t.Logf("%s: %s x%d, e.g. %s", r.Checker, k, a.Count, a.Examples[0].Message)
			}
		}
	}
	return sum, results
}

func anomalies(results []checkers.Result, k checkers.Kind) []checkers.Example {
	var out []checkers.Example
	for _, r := range results {
		out = append(out, r.Anomalies[k].Examples...)
	}
	return out
}

func nonzero(counts map[checkers.Kind]int) map[checkers.Kind]int {
	out := map[checkers.Kind]int{}
	for k, n := range counts {
		if n > 0 {
			out[k] = n
		}
	}
	return out
}

// readOffsets lists the offsets the per-node reads of node returned, in order.
func readOffsets(h []history.Op, node string) []int64 {
	var out []int64
	for _, op := range h {
		if op.F == history.ReadNode && op.Type == history.OK && op.Node == node {
			for _, rd := range op.Reads {
				out = append(out, rd.Offset)
				if want := fmt.Sprintf("0-%d", rd.Offset); rd.Value != want {
					out = append(out, -1) // a value out of place shows as a wrong offset list
				}
			}
		}
	}
	return out
}

func offsets(from, to int) []int64 {
	var out []int64
	for o := from; o <= to; o++ {
		out = append(out, int64(o))
	}
	return out
}
