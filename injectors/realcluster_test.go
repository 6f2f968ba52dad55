package injectors_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
)

// TestRealClusterFaults runs every fault kind once against one real 3-node
// NATS JetStream cluster (launched once, about 5 s), in turn: each subtest
// applies a fault, checks that it took effect on the live system, heals it
// and waits for the cluster to be healthy again before the next.

const stream = "faults"

type live struct {
	c   *nats.Cluster
	ctx context.Context
}

func launchLive(t *testing.T) *live { return launchLiveN(t, 3) }

// launchLiveN starts a real cluster of n nodes with the test stream
// replicated on three of them.
func launchLiveN(t *testing.T, nodes int) *live {
	t.Helper()
	if testing.Short() {
		t.Skip("launches a real NATS cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	bin, err := nats.Binary(ctx, nats.DefaultVersion, os.Stderr)
	require.NoError(t, err)
	c, err := nats.Launch(ctx, nats.Options{Dir: t.TempDir(), Nodes: nodes, Binary: bin, SyncInterval: "always"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	l := &live{c: c, ctx: ctx}
	js, nc := l.js(t, c.NATSNodes()[0])
	defer nc.Close()
	require.Eventually(t, func() bool {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := js.CreateOrUpdateStream(cctx, jetstream.StreamConfig{Name: stream, Subjects: []string{stream}, Replicas: 3, Storage: jetstream.FileStorage})
		return err == nil
	}, time.Minute, 250*time.Millisecond, "create stream")
	return l
}

// js connects to one node through its client proxy only.
func (l *live) js(t *testing.T, n clusters.Node) (jetstream.JetStream, *natsgo.Conn) {
	t.Helper()
	nc, err := natsgo.Connect("nats://"+n.ClientAddr(), natsgo.IgnoreDiscoveredServers(), natsgo.NoReconnect(), natsgo.Timeout(2*time.Second))
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js, nc
}

// publish sends one message through node n and waits up to wait for the ack.
func (l *live) publish(t *testing.T, n clusters.Node, wait time.Duration) error {
	t.Helper()
	nc, err := natsgo.Connect("nats://"+n.ClientAddr(), natsgo.IgnoreDiscoveredServers(), natsgo.NoReconnect(), natsgo.Timeout(wait))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(l.ctx, wait)
	defer cancel()
	_, err = js.Publish(ctx, stream, []byte("m"))
	return err
}

// publishEventually retries until a publish through n is acknowledged.
func (l *live) publishEventually(t *testing.T, n clusters.Node) {
	t.Helper()
	var err error
	require.Eventually(t, func() bool {
		err = l.publish(t, n, 2*time.Second)
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "publish through %s: %v", n.Name(), err)
}

func (l *live) node(name string) *nats.Node {
	for _, n := range l.c.NATSNodes() {
		if n.Name() == name {
			return n
		}
	}
	panic("no node " + name)
}

// healthy waits until the cluster is healthy and a write commits.
func (l *live) healthy(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(l.ctx, time.Minute)
	defer cancel()
	require.NoError(t, l.c.WaitHealthy(ctx))
	l.publishEventually(t, l.node("n1"))
}

// fire applies a fault through a Schedule, as a run does: one step due
// now, held until HealAll. It returns the fault-start op and the heal.
func (l *live) fire(t *testing.T, inj injectors.Injector, nodes ...string) (history.Op, func()) {
	t.Helper()
	dir := t.TempDir()
	rec, err := history.Create(filepath.Join(dir, "history.jsonl"), time.Now())
	require.NoError(t, err)
	j, err := injectors.CreateJournal(dir, "process")
	require.NoError(t, err)
	s := &injectors.Schedule{Cluster: l.c, Recorder: rec, Journal: j,
		Leader: func(ctx context.Context) (string, error) { return nats.StreamLeader(ctx, l.c.Nodes(), stream) },
		Steps:  []injectors.Step{{Injector: inj, Target: injectors.Target{ID: "f1", Nodes: nodes}}}}
	require.NoError(t, s.Run(l.ctx, time.Now()))
	healed := false
	heal := func() {
		healed = true
		require.NoError(t, s.HealAll(l.ctx))
		require.NoError(t, j.End())
		require.NoError(t, rec.Close())
		entries, err := injectors.ReadJournal(dir)
		require.NoError(t, err)
		require.Empty(t, injectors.Unhealed(entries))
	}
	// A failed check must not leave the fault on for the next subtest.
	t.Cleanup(func() {
		if !healed {
			_ = s.HealAll(context.Background())
		}
	})
	// Close to flush the start op; the stops HealAll records later are
	// refused by the closed recorder, which is fine here.
	require.NoError(t, rec.Close())
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, h)
	start := h[0]
	require.Equal(t, history.OK, start.Type, start.Error)
	return start, heal
}

func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	i := bytes.LastIndexByte(b, ')')
	return b[i+2]
}

func TestRealClusterFaults(t *testing.T) {
	l := launchLive(t)
	n1, n3 := l.node("n1"), l.node("n3")
	l.publishEventually(t, n1)

	// A halves partition cuts for real: the minority side cannot commit a
	// write, the majority can, and after the heal every node holds the
	// same stream.
	t.Run("halves partition is real", func(t *testing.T) {
		l.publishEventually(t, l.node("n1"))
		leader, err := nats.StreamLeader(l.ctx, l.c.Nodes(), stream)
		require.NoError(t, err)
		// The minority is a follower, so that the majority keeps its leader
		// and commits at once rather than after an election.
		minority := "n1"
		if leader == minority {
			minority = "n2"
		}
		// Clients keep their links (Jepsen's way), so that a client can try
		// the minority side and be refused by the cluster, not the network.
		op, heal := l.fire(t, injectors.Partition{Mode: "halves"}, minority)
		require.True(t, strings.HasPrefix(op.Fault.Params["sides"], minority+" | "), op.Fault.Params["sides"])

		require.Error(t, l.publish(t, l.node(minority), 2*time.Second), "the minority side committed a write")
		for _, n := range l.c.NATSNodes() {
			if n.Name() != minority {
				l.publishEventually(t, n)
			}
		}
		heal()

		// Every replica converges on the same stream.
		var states map[string]nats.StreamState
		require.Eventually(t, func() bool {
			states = map[string]nats.StreamState{}
			for _, n := range l.c.NATSNodes() {
				s, err := n.StreamState(l.ctx, stream)
				if err != nil {
					return false
				}
				states[n.Name()] = s
			}
			return states["n1"] == states["n2"] && states["n2"] == states["n3"] && states["n1"].Messages >= 3
		}, 30*time.Second, 200*time.Millisecond, "replicas differ: %+v", states)
	})

	t.Run("kill", func(t *testing.T) {
		pid := n3.PID()
		_, heal := l.fire(t, injectors.Kill{}, "n3")
		require.False(t, n3.Running())
		heal()
		require.NotEqual(t, pid, n3.PID())
		l.healthy(t)
	})
	t.Run("stop", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Stop{}, "n3")
		require.False(t, n3.Running())
		require.Contains(t, n3.LogTail(20), "Server Exiting", "a clean shutdown")
		heal()
		l.healthy(t)
	})
	t.Run("pause", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Pause{}, "n3")
		require.Equal(t, byte('T'), procState(t, n3.PID()))
		require.Error(t, l.publish(t, n3, time.Second), "a paused server answers nothing")
		heal()
		require.NotEqual(t, byte('T'), procState(t, n3.PID()))
		l.healthy(t)
	})
	t.Run("restart rolling", func(t *testing.T) {
		before := map[string]int{}
		for _, n := range l.c.NATSNodes() {
			before[n.Name()] = n.PID()
		}
		op, heal := l.fire(t, injectors.Restart{Mode: "rolling"}, "n1", "n2", "n3")
		heal()
		for _, n := range l.c.NATSNodes() {
			require.NotEqual(t, before[n.Name()], n.PID(), "%s was not restarted", n.Name())
		}
		require.Equal(t, "rolling", op.Fault.Params["mode"])
		l.healthy(t)
	})
	t.Run("restart all at once", func(t *testing.T) {
		pid := n1.PID()
		_, heal := l.fire(t, injectors.Restart{Mode: "all-at-once"}, "n1", "n2", "n3")
		heal()
		require.NotEqual(t, pid, n1.PID())
		l.healthy(t)
	})
	t.Run("partition isolate-leader", func(t *testing.T) {
		op, heal := l.fire(t, injectors.Partition{Mode: "isolate-leader", CutClients: true}, injectors.Leader)
		leader := op.Fault.Params["leader"]
		require.Equal(t, []string{leader}, op.Fault.Targets)
		require.Error(t, l.publish(t, l.node(leader), time.Second), "the isolated leader's clients are cut")
		heal()
		l.healthy(t)
	})
	t.Run("partition bridge", func(t *testing.T) {
		op, heal := l.fire(t, injectors.Partition{Mode: "bridge"}, "n2")
		require.Equal(t, "n1 | n2 | n3", op.Fault.Params["sides"])
		n, err := l.c.Net().ActiveToxics()
		require.NoError(t, err)
		require.Equal(t, 4, n, "n1->n3 and n3->n1, both ways")
		heal()
		l.healthy(t)
	})
	t.Run("partition groups", func(t *testing.T) {
		op, heal := l.fire(t, injectors.Partition{Mode: "groups", CutClients: true, Groups: [][]string{{"n1", "n2"}, {"n3"}}})
		require.Equal(t, "n3", op.Fault.Params["clients_cut"])
		require.Error(t, l.publish(t, n3, time.Second))
		heal()
		l.healthy(t)
	})
	scope := injectors.Scope{Clients: true}
	t.Run("latency", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Latency{Scope: scope, Latency: 200 * time.Millisecond}, "n1")
		start := time.Now()
		l.publishEventually(t, n1)
		require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "connect and publish cross the slow client link")
		heal()
	})
	t.Run("bandwidth", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Bandwidth{Scope: scope, Rate: 1}, "n1")
		// nats.go's connect handshake alone is over 1 KB: at 1 KB/s it
		// takes a second or more.
		start := time.Now()
		l.publishEventually(t, n1)
		require.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
		heal()
	})
	t.Run("reset-peer", func(t *testing.T) {
		_, heal := l.fire(t, injectors.ResetPeer{Scope: scope}, "n1")
		require.Error(t, l.publish(t, n1, 2*time.Second), "every connection to n1 is reset")
		heal()
		l.healthy(t)
	})
	t.Run("slow-close", func(t *testing.T) {
		_, heal := l.fire(t, injectors.SlowClose{Scope: scope, Delay: 500 * time.Millisecond}, "n1")
		l.publishEventually(t, n1) // data still flows
		heal()
	})
	t.Run("slicer", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Slicer{Scope: scope, AverageSize: 8, SizeVariation: 4, Delay: 100 * time.Microsecond}, "n1")
		l.publishEventually(t, n1) // the protocol survives data in small pieces
		heal()
	})
	t.Run("limit-data", func(t *testing.T) {
		_, heal := l.fire(t, injectors.LimitData{Scope: scope, Bytes: 64}, "n1")
		require.Error(t, l.publish(t, n1, 2*time.Second), "the connection dies within the handshake")
		heal()
		l.healthy(t)
	})
	t.Run("down", func(t *testing.T) {
		_, heal := l.fire(t, injectors.Down{Scope: scope}, "n1")
		require.Error(t, l.publish(t, n1, 2*time.Second), "n1's client proxy is off")
		heal()
		l.healthy(t)
	})
	t.Run("bitflip", func(t *testing.T) {
		pid := n3.PID()
		op, heal := l.fire(t, injectors.Bitflip{Files: "*.blk", Flips: 4, Seed: 1}, "n3")
		heal()
		require.NotEqual(t, pid, n3.PID(), "killed and started again")
		require.NotEqual(t, "0", op.Fault.Params["files_changed"], op.Fault.Params["changes"])
		require.Contains(t, op.Fault.Params["changes"], "n3:jetstream/")
		require.Contains(t, op.Fault.Params["changes"], ".blk @")
		l.healthy(t)
	})
	t.Run("truncate", func(t *testing.T) {
		op, heal := l.fire(t, injectors.Truncate{Files: "*.blk", Bytes: 100}, "n3")
		heal()
		require.True(t, n3.Running())
		require.Contains(t, op.Fault.Params["changes"], "->")
		l.healthy(t)
	})
}

// TestRealClusterRing cuts a 4-node cluster into a ring, where each node
// still reaches its two neighbours: only the two diagonals are cut, both
// ways, a write still commits (a leader and its neighbours are a
// majority), and after the heal every node is routed to every other.
func TestRealClusterRing(t *testing.T) {
	l := launchLiveN(t, 4)
	l.publishEventually(t, l.node("n1"))
	op, heal := l.fire(t, injectors.Partition{Mode: "ring"})
	require.Equal(t, "n1 n2 n3 n4", op.Fault.Params["ring"])
	n, err := l.c.Net().ActiveToxics()
	require.NoError(t, err)
	require.Equal(t, 8, n, "n1-n3 and n2-n4: two links each way per pair, a toxic per direction")
	for _, pair := range [][2]string{{"n1", "n3"}, {"n3", "n1"}, {"n2", "n4"}, {"n4", "n2"}} {
		link, ok := l.c.Net().Link(pair[0], pair[1])
		require.True(t, ok)
		names, err := link.ToxicNames()
		require.NoError(t, err)
		require.Len(t, names, 2, "%s->%s is cut both ways", pair[0], pair[1])
	}
	for _, pair := range [][2]string{{"n1", "n2"}, {"n2", "n3"}, {"n3", "n4"}, {"n4", "n1"}} {
		link, ok := l.c.Net().Link(pair[0], pair[1])
		require.True(t, ok)
		names, err := link.ToxicNames()
		require.NoError(t, err)
		require.Empty(t, names, "neighbours %s and %s stay connected", pair[0], pair[1])
	}
	l.publishEventually(t, l.node("n2"))
	heal()
	l.healthy(t)
}
