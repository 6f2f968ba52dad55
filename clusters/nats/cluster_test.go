package nats

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// launchForTest starts a real 3-node cluster, building nats-server if needed.
func launchForTest(t *testing.T, nodes int) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := Binary(ctx, DefaultVersion, os.Stderr)
	require.NoError(t, err)
	c, err := Launch(ctx, Options{Dir: t.TempDir(), Nodes: nodes, Binary: bin, SyncInterval: "always"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// TestRealClusterRoutesOnlyThroughProxies proves the wiring: once the cluster
// is healthy (every node routed to every peer), every TCP connection a
// nats-server holds has its other end in this process, that is in a link
// proxy; none goes straight to another node's cluster or client port.
func TestRealClusterRoutesOnlyThroughProxies(t *testing.T) {
	c := launchForTest(t, 3)
	// Give gossip time to try the direct dials it would make.
	time.Sleep(3 * time.Second)

	mine := socketInodes(t, os.Getpid())
	conns := tcpTable(t)
	byLocal := map[string]tcpConn{}
	for _, conn := range conns {
		byLocal[conn.local] = conn
	}
	nodePorts := map[string]string{}
	for _, n := range c.NATSNodes() {
		nodePorts[n.ClusterAddr()] = n.Name() + " cluster port"
		nodePorts[n.DirectClientAddr()] = n.Name() + " client port"
	}

	for _, n := range c.NATSNodes() {
		established := 0
		for inode := range socketInodes(t, n.PID()) {
			conn, ok := conns[inode]
			if !ok || conn.state != tcpEstablished {
				continue
			}
			established++
			if what, ok := nodePorts[conn.remote]; ok {
				t.Errorf("%s holds a direct connection %s -> %s (%s)", n.Name(), conn.local, conn.remote, what)
			}
			peer, ok := byLocal[conn.remote]
			require.Truef(t, ok, "%s: no socket for the far end %s", n.Name(), conn.remote)
			require.Truef(t, mine[peer.inode], "%s: connection %s -> %s does not end in the harness's proxies", n.Name(), conn.local, conn.remote)
		}
		// Each node has routes to two peers (several connections each).
		require.GreaterOrEqualf(t, established, 4, "%s: too few connections to be routed", n.Name())
		peers, err := n.RoutedPeers(context.Background())
		require.NoError(t, err)
		require.Lenf(t, peers, 2, "%s routed peers", n.Name())
	}
}

// TestRealClusterNodeRestart kills a node and starts it again on the same
// ports and store; the cluster becomes healthy again.
func TestRealClusterNodeRestart(t *testing.T) {
	c := launchForTest(t, 3)
	n := c.NATSNodes()[1]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pid := n.PID()
	require.NoError(t, n.Kill(ctx))
	require.False(t, n.Running())
	require.Error(t, syscallKill0(pid), "killed process %d still exists", pid)
	require.NoError(t, n.Start(ctx))
	require.NoError(t, c.WaitHealthy(ctx))
	require.NotEqual(t, pid, n.PID())
}

func TestConfigAdvertisesDeadAddress(t *testing.T) {
	cfg := nodeConfig{Name: "n1", ClusterName: "riptide", Host: Host, ClientPort: 1001,
		ClusterPort: 1002, MonitorPort: 1003, StoreDir: "/tmp/x y", Routes: []string{"127.0.0.1:2001"}, SyncInterval: "always"}
	out := cfg.render()
	require.Contains(t, out, `advertise: "`+DeadAddr+`"`)
	require.Contains(t, out, `"nats-route://127.0.0.1:2001"`)
	require.Contains(t, out, `store_dir: "/tmp/x y"`)
	require.Contains(t, out, "sync_interval: always")
	single := nodeConfig{Name: "n1", Host: Host, StoreDir: "/tmp/s"}.render()
	require.NotContains(t, single, "cluster {")
}

func syscallKill0(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(syscallSignal0)
}

const tcpEstablished = "01"

type tcpConn struct {
	local, remote, state, inode string
}

// tcpTable reads /proc/net/tcp: every IPv4 TCP socket of the machine by inode.
func tcpTable(t *testing.T) map[string]tcpConn {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]tcpConn{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		c := tcpConn{local: procAddr(t, fields[1]), remote: procAddr(t, fields[2]), state: fields[3], inode: fields[9]}
		out[c.inode] = c
	}
	return out
}

// procAddr turns "0100007F:1F90" into "127.0.0.1:8080".
func procAddr(t *testing.T, s string) string {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	b, err := hex.DecodeString(hexIP)
	require.NoError(t, err)
	port, err := strconv.ParseUint(hexPort, 16, 16)
	require.NoError(t, err)
	ip := net.IPv4(b[3], b[2], b[1], b[0])
	return net.JoinHostPort(ip.String(), fmt.Sprint(port))
}

// socketInodes lists the socket inodes open in process pid.
func socketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]bool{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if strings.HasPrefix(target, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	return out
}

// TestRealClusterLaunchSurvivesATakenPort hands the first launch attempt a
// monitor port that another listener holds, as a process binding port 0
// between the reservation and the node's bind would: the node exits, and
// the launch starts over on fresh ports and comes up healthy.
func TestRealClusterLaunchSurvivesATakenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("launches a real cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := Binary(ctx, DefaultVersion, os.Stderr)
	require.NoError(t, err)

	thief, err := net.Listen("tcp", Host+":0")
	require.NoError(t, err)
	defer thief.Close()
	attempts := 0
	reserve = func(n int) ([]int, func(), error) {
		attempts++
		ports, release, err := reservePorts(n)
		if attempts == 1 && err == nil {
			ports[2] = thief.Addr().(*net.TCPAddr).Port // n1's monitor port
		}
		return ports, release, err
	}
	t.Cleanup(func() { reserve = reservePorts })

	dir := t.TempDir()
	c, err := Launch(ctx, Options{Dir: dir, Nodes: 3, Binary: bin, SyncInterval: "always"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	require.Equal(t, 2, attempts)
	log, err := os.ReadFile(filepath.Join(dir, "n1", "node.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "address already in use")
	require.Contains(t, string(log), "launching again on new ports")
}

// TestRealClusterRestartMovesOffATakenPort kills a node and, while it is
// down, binds its cluster port elsewhere, as an outgoing connection given
// the same port by the kernel would: the restarted node cannot bind it,
// moves to new ports, and its proxies follow, so the cluster heals and a
// client dialling the node's unchanged proxy address reaches it.
func TestRealClusterRestartMovesOffATakenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("launches a real cluster; skipped with -short")
	}
	c := launchForTest(t, 3)
	n := c.NATSNodes()[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clusterAddr, proxyAddr := n.ClusterAddr(), n.ClientAddr()
	require.NoError(t, n.Kill(ctx))
	thief, err := net.Listen("tcp", clusterAddr)
	require.NoError(t, err, "take %s's cluster port", n.Name())
	defer thief.Close()

	require.NoError(t, n.Start(ctx))
	require.NotEqual(t, clusterAddr, n.ClusterAddr(), "the node should have moved")
	require.Equal(t, proxyAddr, n.ClientAddr(), "clients keep dialling the same proxy")
	require.NoError(t, c.WaitHealthy(ctx))

	// The client proxy leads to the moved node: its INFO names it.
	conn, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	info, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, info, `"server_name":"`+n.Name()+`"`)

	log, err := os.ReadFile(n.LogPath())
	require.NoError(t, err)
	require.Contains(t, string(log), "address already in use")
	require.Contains(t, string(log), "moving to ports")
}
