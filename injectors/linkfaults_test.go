package injectors

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
)

// Each link fault acts on a live connection through link n2->n1 when it
// targets n1, and its heal gives a clean link back. Lower bounds on time
// come from the injected delays themselves; nothing asserts speed.
func TestLinkFaultsOnRealConnections(t *testing.T) {
	scope := Scope{Clients: true}
	tests := []struct {
		name  string
		fault Injector
		check func(t *testing.T, c *testCluster, conn net.Conn)
	}{
		{"latency", Latency{Scope: scope, Latency: 100 * time.Millisecond}, func(t *testing.T, c *testCluster, conn net.Conn) {
			start := time.Now()
			require.NoError(t, roundTrip(conn, "ping", 5*time.Second))
			require.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond, "100ms each way")
		}},
		{"bandwidth", Bandwidth{Scope: scope, Rate: 100}, func(t *testing.T, c *testCluster, conn net.Conn) {
			start := time.Now()
			require.NoError(t, roundTrip(conn, strings.Repeat("x", 20<<10), 10*time.Second))
			require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "20 KB at 100 KB/s, each way")
		}},
		{"reset-peer", ResetPeer{Scope: scope}, func(t *testing.T, c *testCluster, conn net.Conn) {
			err := roundTrip(conn, "ping", 5*time.Second)
			require.Error(t, err)
			require.False(t, isTimeout(err), "want a reset, got silence")
		}},
		{"slow-close", SlowClose{Scope: scope, Delay: 300 * time.Millisecond}, func(t *testing.T, c *testCluster, conn net.Conn) {
			start := time.Now()
			_, err := conn.Write([]byte("Q")) // the server closes
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = conn.Read(make([]byte, 1))
			require.ErrorIs(t, err, io.EOF)
			require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "the close is delayed")
		}},
		{"slicer", Slicer{Scope: scope, AverageSize: 10, Delay: 2 * time.Millisecond}, func(t *testing.T, c *testCluster, conn net.Conn) {
			before := c.servers["n1"].reads.Load()
			require.NoError(t, roundTrip(conn, strings.Repeat("s", 1000), 10*time.Second))
			require.GreaterOrEqual(t, c.servers["n1"].reads.Load()-before, int64(3), "1000 bytes in 10-byte slices 2ms apart")
		}},
		{"limit-data", LimitData{Scope: scope, Bytes: 100}, func(t *testing.T, c *testCluster, conn net.Conn) {
			before := c.servers["n1"].received.Load()
			err := roundTrip(conn, strings.Repeat("l", 200), 5*time.Second)
			require.Error(t, err)
			require.False(t, isTimeout(err), "want the connection closed, got silence")
			require.LessOrEqual(t, c.servers["n1"].received.Load()-before, int64(100))
		}},
		{"down", Down{Scope: scope}, func(t *testing.T, c *testCluster, conn net.Conn) {
			err := roundTrip(conn, "ping", 5*time.Second)
			require.Error(t, err)
			require.False(t, isTimeout(err), "want the connection closed, got silence")
			_, err = net.DialTimeout("tcp", c.link(t, "n2", "n1").Listen, time.Second)
			require.Error(t, err, "a down proxy refuses new connections")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCluster(t, 3)
			l := c.link(t, "n2", "n1")
			conn := dial(t, l)
			target := Target{ID: "f1", Nodes: []string{"n1"}}
			heal, err := tt.fault.Inject(context.Background(), c, target)
			require.NoError(t, err)
			tt.check(t, c, conn)
			require.NoError(t, heal(context.Background()))
			n, err := c.net.ActiveToxics()
			require.NoError(t, err)
			require.Zero(t, n, "toxics left after heal")
			fresh := dial(t, l)
			start := time.Now()
			require.NoError(t, roundTrip(fresh, strings.Repeat("y", 20<<10), 5*time.Second))
			require.Less(t, time.Since(start), 2*time.Second, "the healed link still carries the fault")
		})
	}
}

// scopeOf lists what a scope resolves to, as "link/direction".
func scopeOf(t *testing.T, c *testCluster, s Scope, nodes ...string) []string {
	t.Helper()
	ps, err := s.placements(c, Target{ID: "f1", Nodes: nodes})
	require.NoError(t, err)
	var out []string
	for _, p := range ps {
		out = append(out, p.link.Name()+"/"+string(p.dir))
	}
	return out
}

func TestScopePlacements(t *testing.T) {
	c := newTestCluster(t, 3)
	up, down := "/"+string(clusters.Forward), "/"+string(clusters.Backward)
	require.Equal(t, []string{"n1->n2" + up, "n2->n1" + down},
		scopeOf(t, c, Scope{Links: []string{"n1-n2"}, Direction: To}), "data to n2")
	require.Equal(t, []string{"n1->n2" + down, "n2->n1" + up},
		scopeOf(t, c, Scope{Links: []string{"n1-n2"}, Direction: From}), "data from n2")
	require.Equal(t, []string{"client->n3" + up},
		scopeOf(t, c, Scope{Links: []string{"client-n3"}, Direction: To}), "requests of n3's clients")
	require.Equal(t, []string{"n1->n2" + up, "n1->n3" + up, "n2->n1" + down, "n3->n1" + down},
		scopeOf(t, c, Scope{Direction: From}, "n1"), "everything n1 sends to its peers")
	require.Equal(t, []string{"client->n1" + down, "n1->n2" + up, "n1->n3" + up, "n2->n1" + down, "n3->n1" + down},
		scopeOf(t, c, Scope{Direction: From, Clients: true}, "n1"), "and to its clients")
	all := scopeOf(t, c, Scope{})
	require.Len(t, all, 12, "6 node links, both ways")
	require.False(t, slices.ContainsFunc(all, func(s string) bool { return strings.HasPrefix(s, "client") }))
	require.Len(t, scopeOf(t, c, Scope{Clients: true}), 18)

	_, err := Scope{Direction: To}.placements(c, Target{})
	require.ErrorContains(t, err, "direction to needs target nodes or links")
	_, err = Scope{Links: []string{"n1-n9"}}.placements(c, Target{})
	require.ErrorContains(t, err, `link "n1-n9": no such link`)
}

// Two overlapping downs of one link: the link comes back only when both
// have healed.
func TestOverlappingDownsHealIndependently(t *testing.T) {
	c := newTestCluster(t, 2)
	l := c.link(t, "n1", "n2")
	d := Down{Scope: Scope{Links: []string{"n1-n2"}}}
	h1, err := d.Inject(context.Background(), c, Target{ID: "f1"})
	require.NoError(t, err)
	h2, err := d.Inject(context.Background(), c, Target{ID: "f2"})
	require.NoError(t, err)
	require.NoError(t, h1(context.Background()))
	on, err := l.Enabled()
	require.NoError(t, err)
	require.False(t, on, "f2 still holds the link down")
	require.NoError(t, h2(context.Background()))
	on, err = l.Enabled()
	require.NoError(t, err)
	require.True(t, on)
	dial(t, l)
}

func TestInjectErrorsNameTheProblem(t *testing.T) {
	c := newTestCluster(t, 2)
	_, err := Latency{Latency: time.Millisecond}.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n9"}})
	require.ErrorContains(t, err, `no node "n9"`)
	_, err = Pause{}.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}})
	require.ErrorContains(t, err, "pause n1: this platform cannot pause nodes")
	_, err = Kill{}.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}})
	require.ErrorContains(t, err, "kill n1: this platform cannot start nodes again")
	_, err = Bitflip{Files: "*"}.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}})
	require.True(t, err != nil && !errors.Is(err, context.Canceled))
	require.ErrorContains(t, err, "bitflip n1: this platform cannot reach a node's data files")
}
