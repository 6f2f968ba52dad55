package injectors

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
)

// drops lists a cut's dropped data directions as "a>b", sorted.
func (c cut) dropList() []string {
	var out []string
	for d := range c.drops {
		out = append(out, d[0]+">"+d[1])
	}
	slices.Sort(out)
	return out
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "n" + string(rune('1'+i))
	}
	return out
}

// both lists the two directions between each pair given as "a-b".
func both(pairs ...string) []string {
	var out []string
	for _, p := range pairs {
		a, b, _ := strings.Cut(p, "-")
		out = append(out, a+">"+b, b+">"+a)
	}
	slices.Sort(out)
	return out
}

func TestPartitionShapes(t *testing.T) {
	tests := []struct {
		name    string
		p       Partition
		nodes   int
		targets []string
		drops   []string
		clients string // nodes whose clients are cut
		sides   string
	}{
		{"isolate-one", Partition{Mode: "isolate-one", CutClients: true}, 3, []string{"n2"},
			both("n1-n2", "n2-n3"), "n2", "n2 | n1 n3"},
		{"isolate-one keeps clients", Partition{Mode: "isolate-one"}, 3, []string{"n2"},
			both("n1-n2", "n2-n3"), "", "n2 | n1 n3"},
		{"isolate two nodes each alone", Partition{Mode: "isolate-one", CutClients: true}, 5, []string{"n1", "n2"},
			both("n1-n2", "n1-n3", "n1-n4", "n1-n5", "n2-n3", "n2-n4", "n2-n5"), "n1 n2", "n1 | n2 | n3 n4 n5"},
		{"isolate-one, only data to it", Partition{Mode: "isolate-one", Direction: To}, 3, []string{"n1"},
			[]string{"n2>n1", "n3>n1"}, "", "n1 | n2 n3"},
		{"isolate-one, only data from it", Partition{Mode: "isolate-one", Direction: From, CutClients: true}, 3, []string{"n1"},
			[]string{"n1>n2", "n1>n3"}, "n1", "n1 | n2 n3"},
		{"halves of five", Partition{Mode: "halves", CutClients: true}, 5, []string{"n4", "n5"},
			both("n1-n4", "n1-n5", "n2-n4", "n2-n5", "n3-n4", "n3-n5"), "n4 n5", "n4 n5 | n1 n2 n3"},
		{"halves with the target on the majority side", Partition{Mode: "halves", CutClients: true}, 3, []string{"n1", "n2"},
			both("n1-n3", "n2-n3"), "n3", "n1 n2 | n3"},
		{"halves of four: clients stay with the untargeted half", Partition{Mode: "halves", CutClients: true}, 4, []string{"n1", "n2"},
			both("n1-n3", "n1-n4", "n2-n3", "n2-n4"), "n1 n2", "n1 n2 | n3 n4"},
		{"ring of five", Partition{Mode: "ring"}, 5, nil,
			both("n1-n3", "n1-n4", "n2-n4", "n2-n5", "n3-n5"), "", ""},
		{"bridge of three", Partition{Mode: "bridge"}, 3, []string{"n2"},
			both("n1-n3"), "", "n1 | n2 | n3"},
		{"bridge of five", Partition{Mode: "bridge"}, 5, []string{"n3"},
			both("n1-n4", "n1-n5", "n2-n4", "n2-n5"), "", "n1 n2 | n3 | n4 n5"},
		{"groups", Partition{Mode: "groups", CutClients: true, Groups: [][]string{{"n3"}, {"n1", "n2"}}}, 3, nil,
			both("n1-n3", "n2-n3"), "n3", "n3 | n1 n2"},
		{"three groups, one way from the first", Partition{Mode: "groups", Direction: From, Groups: [][]string{{"n1"}, {"n2"}, {"n3"}}}, 3, nil,
			[]string{"n1>n2", "n1>n3", "n2>n3", "n3>n2"}, "", "n1 | n2 | n3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.p.shape(names(tt.nodes), Target{ID: "f1", Nodes: tt.targets})
			require.NoError(t, err)
			require.Equal(t, tt.drops, c.dropList())
			var cut []string
			for n := range c.clients {
				cut = append(cut, n)
			}
			slices.Sort(cut)
			require.Equal(t, tt.clients, strings.Join(cut, " "))
			require.Equal(t, tt.sides, c.detail["sides"])
		})
	}
}

// Halves fills a too-small target side (the leader alone on five nodes)
// with nodes drawn from the seed: the same seed, the same side.
func TestHalvesFillsFromTheSeed(t *testing.T) {
	side := func(seed uint64) string {
		c, err := Partition{Mode: "halves", Seed: seed}.shape(names(5), Target{Nodes: []string{"n3"}})
		require.NoError(t, err)
		return c.detail["sides"]
	}
	require.Equal(t, side(42), side(42))
	require.Contains(t, side(42), "n3")
	require.Len(t, strings.Fields(strings.Split(side(42), "|")[0]), 2)
	seen := map[string]bool{}
	for seed := range uint64(20) {
		seen[side(seed)] = true
	}
	require.Greater(t, len(seen), 1, "every seed drew the same companion")
}

func TestPartitionShapeErrors(t *testing.T) {
	_, err := Partition{Mode: "ring"}.shape(names(3), Target{})
	require.ErrorContains(t, err, "needs at least 4 nodes")
	_, err = Partition{Mode: "bridge"}.shape(names(3), Target{Nodes: []string{"n1", "n2"}})
	require.ErrorContains(t, err, "want one bridge node")
	_, err = Partition{Mode: "isolate-one"}.shape(names(3), Target{Nodes: []string{"n7"}})
	require.ErrorContains(t, err, `no node "n7"`)
	_, err = Partition{Mode: "wedge"}.shape(names(3), Target{})
	require.ErrorContains(t, err, `unknown mode "wedge"`)
}

// TestPartitionBlackholesRealConnections cuts n1 off on real TCP
// connections through the proxies: open connections go silent without
// closing, the rest of the cluster still talks, and after the heal new
// connections get through again.
func TestPartitionBlackholesRealConnections(t *testing.T) {
	c := newTestCluster(t, 3)
	cutOff := []*clusters.Link{c.link(t, "n1", "n2"), c.link(t, "n2", "n1"), c.link(t, "n3", "n1"), c.link(t, clusters.ClientSide, "n1")}
	kept := []*clusters.Link{c.link(t, "n2", "n3"), c.link(t, "n3", "n2"), c.link(t, clusters.ClientSide, "n2")}
	open := map[*clusters.Link]net.Conn{}
	for _, l := range append(slices.Clone(cutOff), kept...) {
		open[l] = dial(t, l)
	}

	p := Partition{Mode: "isolate-one", CutClients: true}
	target := Target{ID: "f1", Nodes: []string{"n1"}, Details: map[string]string{}}
	undo, err := p.Plan(c, target)
	require.NoError(t, err)
	require.Len(t, undo, 10, "4 node links and 1 client link, both ways")
	heal, err := p.Inject(context.Background(), c, target)
	require.NoError(t, err)
	require.Equal(t, "n1 | n2 n3", target.Details["sides"])
	n, err := c.net.ActiveToxics()
	require.NoError(t, err)
	require.Equal(t, 10, n)

	for _, l := range cutOff {
		err := roundTrip(open[l], "ping", silence)
		require.Truef(t, isTimeout(err), "%s: want silence, got %v", l.Name(), err)
	}
	for _, l := range kept {
		require.NoError(t, roundTrip(open[l], "ping", 2*time.Second), l.Name())
	}

	require.NoError(t, heal(context.Background()))
	require.NoError(t, heal(context.Background()), "heal twice")
	n, err = c.net.ActiveToxics()
	require.NoError(t, err)
	require.Zero(t, n)
	for _, l := range cutOff {
		dial(t, l) // a new connection gets through
	}
}

// TestOneWayPartition drops only one direction: with direction to, the
// isolated node hears nothing; with direction from, it hears everything
// but its answers are lost.
func TestOneWayPartition(t *testing.T) {
	for _, dir := range []string{To, From} {
		t.Run(dir, func(t *testing.T) {
			c := newTestCluster(t, 3)
			conn := dial(t, c.link(t, "n2", "n1"))
			before := c.servers["n1"].received.Load()
			heal, err := Partition{Mode: "isolate-one", Direction: dir}.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}})
			require.NoError(t, err)
			defer heal(context.Background())
			err = roundTrip(conn, "ping", silence)
			require.True(t, isTimeout(err), "want silence, got %v", err)
			got := c.servers["n1"].received.Load() - before
			if dir == To {
				require.Zero(t, got, "n1 received data sent to it")
			} else {
				require.Equal(t, int64(len("ping")), got, "n1 should hear the ping")
			}
		})
	}
}
