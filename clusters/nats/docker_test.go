package nats_test

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

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/images"
	"github.com/riptidechaos/riptide/internal/testenv"
)

// launchDockerForTest starts a real 3-node cluster of containers from the
// local images (built on first use), or skips where no engine is reachable.
func launchDockerForTest(t *testing.T, dir string) *nats.DockerCluster {
	t.Helper()
	natsImage, toxiImage := images.NATSServer(nats.DefaultVersion), images.Toxiproxy()
	testenv.Docker(t, natsImage, toxiImage)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: t.Name(), Dir: filepath.Join(dir, "nodes"), Nodes: 3,
		Image: natsImage, ToxiproxyImage: toxiImage, SyncInterval: "always", Log: testWriter{t}})
	if c != nil {
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = c.Close(cctx)
		})
	}
	require.NoError(t, err)
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestDockerClusterRoutesOnlyThroughToxiproxy proves the wiring on the
// docker platform: once the cluster is healthy, every route of every node,
// as the node itself reports it, has the Toxiproxy container at its far
// end; and every TCP connection in each node's network namespace (read from
// /proc on the engine's host) goes to the Toxiproxy container, never to
// another node.
func TestDockerClusterRoutesOnlyThroughToxiproxy(t *testing.T) {
	c := launchDockerForTest(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Give gossip time to try the direct dials it would make.
	time.Sleep(3 * time.Second)

	toxi, err := c.Toxiproxy().Container().State(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, toxi.IP)
	nodeIPs := map[string]string{}
	for _, n := range c.NATSNodes() {
		st, err := n.Container().State(ctx)
		require.NoError(t, err)
		nodeIPs[st.IP] = n.Name()
	}

	for _, n := range c.NATSNodes() {
		routes, err := n.Routes(ctx)
		require.NoError(t, err)
		peers := map[string]bool{}
		for _, r := range routes {
			assert.Equalf(t, toxi.IP, r.IP, "%s: route to %s from %s:%d does not go through toxiproxy", n.Name(), r.RemoteName, r.IP, r.Port)
			peers[r.RemoteName] = true
		}
		assert.Lenf(t, peers, 2, "%s routed peers", n.Name())

		st, err := n.Container().State(ctx)
		require.NoError(t, err)
		conns, err := established(st.Pid)
		if err != nil {
			t.Logf("%s: cannot read the node's sockets from this host (%v); relying on /routez", n.Name(), err)
			continue
		}
		routeConns := 0
		for _, conn := range conns {
			if conn.localPort == 8222 {
				continue // the harness's own monitoring requests
			}
			if peer, ok := nodeIPs[conn.remoteIP]; ok {
				t.Errorf("%s holds a direct connection to %s (%s:%d)", n.Name(), peer, conn.remoteIP, conn.remotePort)
			}
			assert.Equalf(t, toxi.IP, conn.remoteIP, "%s: connection to %s:%d does not end in toxiproxy", n.Name(), conn.remoteIP, conn.remotePort)
			routeConns++
		}
		// Routes to two peers, several connections each, both directions.
		assert.GreaterOrEqualf(t, routeConns, 4, "%s: too few connections to be routed", n.Name())
	}
}

// TestDockerNodeAbilities kills, stops and pauses nodes through their
// containers and brings them back; the cluster is healthy again each time.
func TestDockerNodeAbilities(t *testing.T) {
	dir := t.TempDir()
	c := launchDockerForTest(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := c.NATSNodes()

	require.NoError(t, nodes[1].Kill(ctx))
	assert.False(t, nodes[1].Running())
	require.NoError(t, nodes[1].Kill(ctx), "killing a dead node is not an error")
	require.NoError(t, nodes[1].Start(ctx))
	require.NoError(t, c.WaitHealthy(ctx))

	require.NoError(t, nodes[0].Stop(ctx))
	assert.False(t, nodes[0].Running())
	require.NoError(t, nodes[0].Start(ctx))
	require.NoError(t, c.WaitHealthy(ctx))

	require.NoError(t, nodes[2].Pause(ctx))
	st, err := nodes[2].Container().State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Paused)
	assert.True(t, nodes[2].Running(), "a paused node is still running")
	require.NoError(t, nodes[2].Resume(ctx))
	require.NoError(t, nodes[2].Resume(ctx), "resuming a running node is not an error")
	require.NoError(t, c.WaitHealthy(ctx))

	// The store is on the host, written as the harness's user.
	entries, err := os.ReadDir(filepath.Join(nodes[0].DataDir(), "jetstream"))
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}

// TestDockerCloseRemovesEverything closes a cluster with a paused node and
// finds nothing of the run left on the engine, and the logs in the node
// directories.
func TestDockerCloseRemovesEverything(t *testing.T) {
	dir := t.TempDir()
	c := launchDockerForTest(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, c.NATSNodes()[0].Pause(ctx))
	run := c.Run().ID()
	require.NoError(t, c.Close(ctx))
	require.NoError(t, c.Close(ctx), "a second close is not an error")

	eng, err := docker.Connect(ctx)
	require.NoError(t, err)
	defer eng.Close()
	filter := client.Filters{}.Add("label", docker.LabelRun+"="+run)
	cs, err := eng.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	require.NoError(t, err)
	assert.Empty(t, cs.Items, "containers of run %s left", run)
	ns, err := eng.Client().NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	require.NoError(t, err)
	assert.Empty(t, ns.Items, "networks of run %s left", run)

	for _, name := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", name, "node.log"))
		require.NoError(t, err)
		assert.Contains(t, string(b), "Server is ready", "log of %s", name)
		assert.FileExists(t, filepath.Join(dir, "nodes", name, "nats.conf"))
	}
	assert.FileExists(t, filepath.Join(dir, "nodes", "toxiproxy.log"))
}

type tcpConn struct {
	remoteIP              string
	localPort, remotePort int
}

// established lists the established TCP connections in the network
// namespace of process pid, as seen from this host. nats-server listens on
// 0.0.0.0 with a dual-stack socket, so accepted connections appear in tcp6
// with IPv4-mapped addresses.
func established(pid int) ([]tcpConn, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("no pid")
	}
	var out []tcpConn
	for _, table := range []string{"tcp", "tcp6"} {
		conns, err := readTCP(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		out = append(out, conns...)
	}
	return out, nil
}

func readTCP(path string) ([]tcpConn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []tcpConn
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "01" {
			continue
		}
		_, lport, err := procAddr(fields[1])
		if err != nil {
			return nil, err
		}
		rip, rport, err := procAddr(fields[2])
		if err != nil {
			return nil, err
		}
		out = append(out, tcpConn{remoteIP: rip, localPort: lport, remotePort: rport})
	}
	return out, sc.Err()
}

// procAddr turns "0100007F:1F90" into 127.0.0.1 and 8080. The address is
// in 32-bit words of host (little-endian) order; an IPv4-mapped IPv6
// address comes back as plain IPv4.
func procAddr(s string) (string, int, error) {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	b, err := hex.DecodeString(hexIP)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return "", 0, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", 0, fmt.Errorf("address %q", s)
	}
	ip := net.IP(b)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return ip.String(), int(port), nil
}
