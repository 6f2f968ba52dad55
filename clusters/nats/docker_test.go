package nats_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
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
// docker platform: once the cluster is healthy, every node is routed to
// both peers, and every TCP connection a node's server holds (its sockets,
// found through /proc/PID/fd on the engine's host, in the pod's connection
// table) ends in a socket of the Toxiproxy server, never in another node.
// The nodes share Toxiproxy's network namespace, so addresses cannot tell
// the processes apart; socket inodes do.
func TestDockerClusterRoutesOnlyThroughToxiproxy(t *testing.T) {
	c := launchDockerForTest(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Give gossip time to try the direct dials it would make.
	time.Sleep(3 * time.Second)

	for _, n := range c.NATSNodes() {
		routes, err := n.Routes(ctx)
		require.NoError(t, err)
		peers := map[string]bool{}
		for _, r := range routes {
			peers[r.RemoteName] = true
		}
		assert.Lenf(t, peers, 2, "%s routed peers", n.Name())
	}

	// owner maps every established socket, as "local remote", to the
	// process (node name or "toxiproxy") that holds it.
	pids := map[string]int{}
	toxi, err := c.Toxiproxy().Container().State(ctx)
	require.NoError(t, err)
	pids["toxiproxy"] = toxi.Pid
	for _, n := range c.NATSNodes() {
		st, err := n.Container().State(ctx)
		require.NoError(t, err)
		pids[n.Name()] = st.Pid
	}
	conns, err := established(toxi.Pid)
	if err != nil {
		t.Skipf("cannot read the pod's sockets from this host (%v): the engine runs elsewhere", err)
	}
	owner := map[string]string{}
	inodeOwner := map[uint64]string{}
	for name, pid := range pids {
		inodes, err := socketInodes(pid)
		require.NoError(t, err, "sockets of %s", name)
		for _, ino := range inodes {
			inodeOwner[ino] = name
		}
	}
	for _, conn := range conns {
		if name, ok := inodeOwner[conn.inode]; ok {
			owner[conn.local+" "+conn.remote] = name
		}
	}

	for _, n := range c.NATSNodes() {
		monitorPort := n.MonitorPort()
		routeConns := 0
		for _, conn := range conns {
			if inodeOwner[conn.inode] != n.Name() || conn.localPort == monitorPort {
				continue // another process's socket, or the harness's monitoring requests
			}
			far, ok := owner[conn.remote+" "+conn.local] // the other end of the connection
			if assert.Truef(t, ok, "%s: connection %s -> %s ends in no process of the pod", n.Name(), conn.local, conn.remote) {
				assert.Equalf(t, "toxiproxy", far, "%s: connection %s -> %s ends in %s", n.Name(), conn.local, conn.remote, far)
			}
			routeConns++
		}
		// Routes to two peers, several connections each, both directions.
		assert.GreaterOrEqualf(t, routeConns, 4, "%s: too few connections to be routed", n.Name())
	}
}

// TestDockerNodeAbilities kills, stops and pauses nodes through their
// containers and brings them back; the cluster is healthy again each time.
// It runs with every port the host reaches published on loopback, the way
// riptide wires a run where the host does not route to the engine's
// bridges (Docker Desktop, remote engines); the other tests take the
// routed way where this host allows it.
func TestDockerNodeAbilities(t *testing.T) {
	t.Setenv(docker.PublishEnv, "1")
	dir := t.TempDir()
	c := launchDockerForTest(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := c.NATSNodes()
	assert.False(t, c.Run().Routed())
	for _, n := range nodes {
		assert.True(t, strings.HasPrefix(n.ClientAddr(), docker.Host+":"), "client proxy published on loopback: %s", n.ClientAddr())
		url, err := n.MonitorURL()
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(url, "http://"+docker.Host+":"), "monitoring published on loopback: %s", url)
		conn, err := net.DialTimeout("tcp", n.ClientAddr(), 5*time.Second)
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
		info := make([]byte, 5)
		_, err = io.ReadFull(conn, info)
		conn.Close()
		require.NoError(t, err)
		assert.Equal(t, "INFO ", string(info), "%s's client proxy reaches its server", n.Name())
	}

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

// TestDockerWrongToxiproxyImageSaysSo: an image that is no Toxiproxy
// server exits at once, and the nodes cannot join its pod; the launch
// fails with one line that says so, quoting the container's own error,
// and leaves nothing on the engine.
func TestDockerWrongToxiproxyImageSaysSo(t *testing.T) {
	natsImage := images.NATSServer(nats.DefaultVersion)
	eng := testenv.Docker(t, natsImage)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: t.Name(), Dir: filepath.Join(t.TempDir(), "nodes"), Nodes: 3,
		Image: natsImage, ToxiproxyImage: natsImage, Log: testWriter{t}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the Toxiproxy container exited at start (is "+natsImage+" a Toxiproxy server image?); its log says: ")
	assert.Contains(t, err.Error(), "flag provided but not defined", "nats-server's own words")
	assert.NotContains(t, err.Error(), "\n")
	require.NotNil(t, c)
	filter := client.Filters{}.Add("label", docker.LabelRun+"="+c.Run().ID())
	cs, err := eng.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	require.NoError(t, err)
	assert.Empty(t, cs.Items, "a failed launch removes its containers")
}

// TestDockerWrongServerImageSaysSo: a server image that is not nats-server
// (Toxiproxy's, which waits on after its own error) fails the launch within
// notNATSAfter, not after the whole health timeout, in one line.
func TestDockerWrongServerImageSaysSo(t *testing.T) {
	toxiImage := images.Toxiproxy()
	testenv.Docker(t, toxiImage)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	_, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: t.Name(), Dir: filepath.Join(t.TempDir(), "nodes"), Nodes: 3,
		Image: toxiImage, ToxiproxyImage: toxiImage, Log: testWriter{t}, Ready: time.Minute})
	require.Error(t, err)
	t.Logf("failed after %s: %v", time.Since(began).Round(time.Millisecond), err)
	assert.Contains(t, err.Error(), "does not run nats-server")
	assert.NotContains(t, err.Error(), "context deadline exceeded", "not the health timeout")
	assert.NotContains(t, err.Error(), "\n")
}

// TestDockerMissingImageHint: an image the engine has not and cannot pull
// fails the launch with the build command for that very version, which
// works outside any Go module.
func TestDockerMissingImageHint(t *testing.T) {
	toxiImage := images.Toxiproxy()
	testenv.Docker(t, toxiImage)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: t.Name(), Dir: filepath.Join(t.TempDir(), "nodes"), Nodes: 3,
		Image: "riptide/nats-server:2.11.99", ToxiproxyImage: toxiImage, Log: testWriter{t}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "go run github.com/riptidechaos/riptide/images/build@latest -nats 2.11.99")
	assert.Contains(t, err.Error(), "name riptide/nats-server:2.11.99 and riptide/toxiproxy:2.12.0")
}

type tcpConn struct {
	local, remote string // "ip:port"
	localPort     int
	inode         uint64
}

// established lists the established TCP connections in the network
// namespace of process pid, as seen from this host, with the inode of each
// socket. nats-server's listeners may be dual-stack, so tcp6 is read too.
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

// socketInodes lists the inodes of the sockets process pid holds.
func socketInodes(pid int) ([]uint64, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if s, ok := strings.CutPrefix(target, "socket:["); ok {
			if ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				out = append(out, ino)
			}
		}
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
		if len(fields) < 10 || fields[3] != "01" {
			continue
		}
		lip, lport, err := procAddr(fields[1])
		if err != nil {
			return nil, err
		}
		rip, rport, err := procAddr(fields[2])
		if err != nil {
			return nil, err
		}
		ino, err := strconv.ParseUint(fields[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: inode %q", path, fields[9])
		}
		out = append(out, tcpConn{local: net.JoinHostPort(lip, strconv.Itoa(lport)), remote: net.JoinHostPort(rip, strconv.Itoa(rport)),
			localPort: lport, inode: ino})
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
