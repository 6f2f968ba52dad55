// Package nats launches NATS JetStream clusters: real nats-server processes
// whose every client and route connection passes through a link proxy.
package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/process"
)

// Options configure a process-platform NATS cluster.
type Options struct {
	// Dir receives one directory per node: config, store and log.
	Dir string
	// Nodes is the number of servers (1 to 9).
	Nodes int
	// Binary is the nats-server to run.
	Binary string
	// SyncInterval is JetStream's sync_interval ("always", a duration, or "").
	SyncInterval string
	// Ready bounds the wait for a healthy cluster (default 60s).
	Ready time.Duration
}

// Host is the interface every node and proxy of the process platform uses.
const Host = "127.0.0.1"

// Cluster is a running NATS cluster on the process platform.
type Cluster struct {
	nodes []*Node
	net   *clusters.Net
	// phases is where the launch spent its time.
	phases clusters.Phases

	closeOnce sync.Once
	closeErr  error
}

// startStagger spaces the starts of a launch's nodes. Every node dials
// every other, and two nodes that dial each other at the same moment can
// each drop the other's connection as a duplicate: the route then waits
// for its next attempt, 1 s later, and JetStream's meta group waits for
// the route. Started together, 18 of 120 process launches took 1-6 s
// (median 0.3 s); started 25 ms apart, none of 120 took over 0.7 s and the
// median did not move. A later node finds the earlier ones listening.
const startStagger = 25 * time.Millisecond

// launchAttempts bounds the launches (and the restarts of one node) tried
// when a node loses one of its ports to another process before its bind.
const launchAttempts = 3

// Launch starts the proxies, then the nodes, and waits until every node is
// healthy and routed to every peer. On error nothing is left running.
//
// Ports are reserved by listening on them and released just before the
// nodes start, which leaves a window in which another process binding a
// port of its own can take one: then the node exits at once ("address
// already in use"), and the launch starts over on fresh ports and empty
// stores, a few times at most.
func Launch(ctx context.Context, opts Options) (*Cluster, error) {
	var err error
	for attempt := 1; attempt <= launchAttempts; attempt++ {
		var c *Cluster
		c, err = launch(ctx, opts)
		if err == nil || !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			return c, err
		}
		if rerr := resetNodeDirs(opts); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	return nil, err
}

// errPortTaken marks a launch that failed because a node could not bind a
// reserved port.
var errPortTaken = errors.New("a reserved port was taken by another process")

// portTaken reports whether a node's last words say it could not bind.
func portTaken(text string) bool { return strings.Contains(text, "address already in use") }

// noteInLog appends riptide's remark to a node's log, between its own lines.
func noteInLog(path, remark string) {
	if f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintln(f, "--- riptide: "+remark)
		f.Close()
	}
}

// resetNodeDirs empties the node directories of a failed launch, keeping
// the logs, so that the next attempt starts from empty stores.
func resetNodeDirs(opts Options) error {
	for i := range opts.Nodes {
		dir := filepath.Join(opts.Dir, fmt.Sprintf("n%d", i+1))
		if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
			return fmt.Errorf("launch nats: reset %s: %w", dir, err)
		}
		noteInLog(filepath.Join(dir, "node.log"), "a port was taken before the node bound it; launching again on new ports")
	}
	return nil
}

// launch makes one attempt at Launch.
func launch(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Nodes < 1 {
		return nil, fmt.Errorf("launch nats: %d nodes", opts.Nodes)
	}
	if opts.Ready == 0 {
		opts.Ready = 60 * time.Second
	}
	syncInterval, err := ParseSyncInterval(opts.SyncInterval)
	if err != nil {
		return nil, err
	}
	watch := clusters.StartStopwatch()
	// The reservations stay open while this launch creates its own
	// proxies on ports of the kernel's choosing, so that none of them can
	// take a node's port.
	ports, release, err := reserve(3 * opts.Nodes)
	if err != nil {
		return nil, fmt.Errorf("launch nats: %w", err)
	}
	defer release()
	c = &Cluster{net: clusters.NewNet(Host)}
	defer func() {
		if err != nil {
			_ = c.Close(context.WithoutCancel(ctx))
		}
	}()
	names := make([]string, opts.Nodes)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	for i, name := range names {
		dir := filepath.Join(opts.Dir, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			return c, fmt.Errorf("launch nats: %w", err)
		}
		n := &Node{
			name:  name,
			dir:   dir,
			ports: nodePorts{client: ports[3*i], cluster: ports[3*i+1], monitor: ports[3*i+2]},
		}
		n.monitor = monitor{name: name, base: func() (string, error) { return n.MonitorURL(), nil }}
		n.client, err = c.net.Add(clusters.ClientSide, name, hostPort(n.ports.client))
		if err != nil {
			return c, fmt.Errorf("launch nats: %w", err)
		}
		c.nodes = append(c.nodes, n)
	}
	// Route proxies: node i dials node j through its own proxy i->j.
	for _, from := range c.nodes {
		for _, to := range c.nodes {
			if from == to {
				continue
			}
			l, err := c.net.Add(from.name, to.name, hostPort(to.ports.cluster))
			if err != nil {
				return c, fmt.Errorf("launch nats: %w", err)
			}
			from.routes = append(from.routes, l.Listen)
			to.inbound = append(to.inbound, l)
		}
	}
	release()
	watch.Lap("proxies")
	for i, n := range c.nodes {
		n.syncInterval = syncInterval
		if err := n.writeConfig(); err != nil {
			return c, fmt.Errorf("launch nats: %w", err)
		}
		n.proc = process.New(process.Spec{
			Name: n.name, Binary: opts.Binary, Args: []string{"-c", n.configPath()},
			Dir: n.dir, LogPath: n.LogPath(), PIDPath: filepath.Join(n.dir, "pid"),
		})
		if err := n.proc.Start(); err != nil {
			return c, fmt.Errorf("launch nats: %w", err)
		}
		if i < len(c.nodes)-1 {
			time.Sleep(startStagger)
		}
	}
	watch.Lap("nodes-start")
	rctx, cancel := context.WithTimeout(ctx, opts.Ready)
	defer cancel()
	if err := c.WaitHealthy(rctx); err != nil {
		if portTaken(err.Error()) {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return c, fmt.Errorf("launch nats: %w", err)
	}
	watch.Lap("healthy")
	c.phases = watch.Phases()
	return c, nil
}

// LaunchPhases says where the (last attempt of the) launch spent its time.
func (c *Cluster) LaunchPhases() clusters.Phases { return c.phases }

// Nodes lists the servers.
func (c *Cluster) Nodes() []clusters.Node { return clusters.AsNodes(c.nodes) }

// NATSNodes lists the servers with their NATS-specific abilities.
func (c *Cluster) NATSNodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Net is the link proxies.
func (c *Cluster) Net() *clusters.Net { return c.net }

// Close kills every node and stops every proxy.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		var errs []error
		for _, n := range c.nodes {
			if n.proc != nil {
				errs = append(errs, n.proc.Kill(ctx))
			}
		}
		c.net.Close()
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// WaitHealthy waits until every running node reports healthy JetStream and
// is routed to every other node.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	return waitHealthy(ctx, c.nodes)
}

// Node is one nats-server.
type Node struct {
	monitor
	name         string
	dir          string
	syncInterval string
	client       *clusters.Link
	routes       []string         // proxy addresses through which it dials its peers
	inbound      []*clusters.Link // route links through which its peers dial it
	proc         *process.Proc

	// mu guards ports, which change when a restart finds one taken.
	mu    sync.Mutex
	ports nodePorts
}

// nodePorts are the ports a server listens on.
type nodePorts struct{ client, cluster, monitor int }

func (n *Node) currentPorts() nodePorts {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ports
}

func (n *Node) configPath() string { return filepath.Join(n.dir, "nats.conf") }

// writeConfig writes the node's configuration for its current ports.
func (n *Node) writeConfig() error {
	p := n.currentPorts()
	cfg := nodeConfig{
		Name: n.name, ClusterName: "riptide", Host: Host,
		ClientPort: p.client, ClusterPort: p.cluster, MonitorPort: p.monitor,
		StoreDir: n.DataDir(), Routes: n.routes, SyncInterval: n.syncInterval,
	}
	if err := os.WriteFile(n.configPath(), []byte(cfg.render()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", n.configPath(), err)
	}
	return nil
}

func (n *Node) Name() string { return n.name }

// ClientAddr is the node's client proxy.
func (n *Node) ClientAddr() string { return n.client.Listen }

// DirectClientAddr is the node's own client port, bypassing the proxy; only
// tests use it, to look at the wiring.
func (n *Node) DirectClientAddr() string { return hostPort(n.currentPorts().client) }

// ClusterAddr is the node's own route port.
func (n *Node) ClusterAddr() string { return hostPort(n.currentPorts().cluster) }

// MonitorURL is the node's HTTP monitoring endpoint (loopback only).
func (n *Node) MonitorURL() string { return "http://" + hostPort(n.currentPorts().monitor) }

// DataDir is the JetStream store directory.
func (n *Node) DataDir() string { return filepath.Join(n.dir, "data") }

// LogPath is the node's log file.
func (n *Node) LogPath() string { return filepath.Join(n.dir, "node.log") }

// PID is the server's pid, 0 when it is not running.
func (n *Node) PID() int { return n.proc.PID() }

// Running reports whether the server process is alive.
func (n *Node) Running() bool { return n.proc.Running() }

// Kill sends SIGKILL to the server and waits for it to exit.
func (n *Node) Kill(ctx context.Context) error { return n.proc.Kill(ctx) }

// StopGrace is how long a stopped server may take to shut down cleanly
// before it is killed: nats-server flushes its stores and leaves Raft groups
// on SIGTERM, which takes about a second on loopback.
const StopGrace = 10 * time.Second

// Stop asks the server to shut down cleanly (SIGTERM, SIGKILL after
// StopGrace) and waits for it to exit; Start brings it back.
func (n *Node) Stop(ctx context.Context) error { return n.proc.Terminate(ctx, StopGrace) }

// Pause freezes the server with SIGSTOP: its sockets stay open and silent,
// as with a long garbage-collection pause or a hung disk.
func (n *Node) Pause(ctx context.Context) error { return n.proc.Pause() }

// Resume thaws a paused server with SIGCONT.
func (n *Node) Resume(ctx context.Context) error { return n.proc.Resume() }

// Paused reports whether the server is frozen.
func (n *Node) Paused() bool { return n.proc.Paused() }

// Start runs a stopped server again on the same store, and waits until it
// accepts connections. While it was down another process may have bound
// one of its ports (the kernel hands out the same range for outgoing
// connections): then it moves to new ports, repointing its proxies, whose
// own addresses do not change, so clients and peers see the same node.
func (n *Node) Start(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := n.start(ctx)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == launchAttempts {
			return err
		}
		if merr := n.movePorts(); merr != nil {
			return errors.Join(err, merr)
		}
	}
}

// movePorts gives the stopped node fresh ports: its configuration and the
// upstreams of its client and inbound route proxies follow.
func (n *Node) movePorts() error {
	ports, release, err := reserve(3)
	if err != nil {
		return fmt.Errorf("move %s to new ports: %w", n.name, err)
	}
	defer release()
	n.mu.Lock()
	n.ports = nodePorts{client: ports[0], cluster: ports[1], monitor: ports[2]}
	n.mu.Unlock()
	if err := n.writeConfig(); err != nil {
		return fmt.Errorf("move %s to new ports: %w", n.name, err)
	}
	if err := n.client.SetUpstream(hostPort(ports[0])); err != nil {
		return fmt.Errorf("move %s to new ports: %w", n.name, err)
	}
	for _, l := range n.inbound {
		if err := l.SetUpstream(hostPort(ports[1])); err != nil {
			return fmt.Errorf("move %s to new ports: %w", n.name, err)
		}
	}
	noteInLog(n.LogPath(), fmt.Sprintf("a port was taken while the node was down; moving to ports %d (client), %d (cluster), %d (monitor)",
		ports[0], ports[1], ports[2]))
	return nil
}

// start makes one attempt at Start.
func (n *Node) start(ctx context.Context) error {
	if n.proc.Running() {
		return nil
	}
	if err := n.proc.Start(); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := net.DialTimeout("tcp", n.DirectClientAddr(), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if !n.proc.Running() {
			tail := n.LogTail(5)
			if portTaken(tail) {
				return fmt.Errorf("start %s: %w: %s", n.name, errPortTaken, tail)
			}
			return fmt.Errorf("start %s: exited: %s", n.name, tail)
		}
		select {
		case <-sctx.Done():
			return fmt.Errorf("start %s: not listening: %w", n.name, sctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exited reports whether the server process has exited.
func (n *Node) exited(context.Context) error {
	if n.proc.Running() {
		return nil
	}
	return errors.New("the process is gone")
}

// LogTail returns the last lines of the node's log, for error messages.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.LogPath())
	if err != nil {
		return "(no log)"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func hostPort(port int) string { return net.JoinHostPort(Host, fmt.Sprint(port)) }

// reserve is reservePorts; a test makes it hand out a port that is taken.
var reserve = reservePorts

// reservePorts reserves n distinct free ports on Host by listening on them
// and returns the release that closes the listeners (safe to call twice).
// The nodes bind the ports after the release; the kernel does not hand a
// just-closed port to the next bind(0) on purpose, but it may.
func reservePorts(n int) ([]int, func(), error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	var once sync.Once
	release := func() {
		once.Do(func() {
			for _, l := range ls {
				l.Close()
			}
		})
	}
	for range n {
		l, err := net.Listen("tcp", Host+":0")
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("reserve port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, release, nil
}
