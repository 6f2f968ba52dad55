package nats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/docker"
)

// DockerOptions configure a NATS cluster on the docker platform.
type DockerOptions struct {
	// Name is the scenario's name, the readable part of the run's id.
	Name string
	// Dir receives one directory per node (config, store, log), normally
	// RUN_DIR/nodes; containers mount their node's directory. Its parent
	// is recorded as the run directory in the containers' labels.
	Dir string
	// Nodes is the number of servers (1 to 9).
	Nodes int
	// Image is the nats-server image (default nats:DefaultVersion).
	Image string
	// ToxiproxyImage is the Toxiproxy image (default the official one).
	ToxiproxyImage string
	// SyncInterval is JetStream's sync_interval ("always", a duration, or "").
	SyncInterval string
	// Ready bounds the wait for a healthy cluster (default 60s).
	Ready time.Duration
	// Log receives progress lines (an image pull, a sweep of dead runs).
	Log io.Writer
}

// Default images of the docker platform: the official ones.
const (
	DefaultImage          = "nats:" + DefaultVersion
	DefaultToxiproxyImage = "ghcr.io/shopify/toxiproxy:2.12.0"
)

// Ports inside the pod: the nodes share the Toxiproxy container's network
// namespace, so node i (from 0) listens on base+i.
const (
	dockerClientPort  = 4222
	dockerClusterPort = 6222
	dockerMonitorPort = 8222
	// Toxiproxy listens on clientProxyBase+i for node i's clients and on
	// routeProxyBase+10*i+j for node i dialling node j (from 1).
	clientProxyBase = 10000
	routeProxyBase  = 20000
	// nodeMount is where a node's directory appears in its container.
	nodeMount = "/riptide"
)

// DockerCluster is a NATS cluster of containers in one pod: a Toxiproxy
// container on a private network, whose network namespace every node's
// container joins; every client and route connection goes through it.
type DockerCluster struct {
	eng   *docker.Engine
	run   *docker.Run
	toxi  *docker.Toxiproxy
	nodes []*DockerNode
	net   *clusters.Net
	dir   string
	// phases is where the launch spent its time.
	phases clusters.Phases

	closeOnce sync.Once
	closeErr  error
}

// Compile-time checks of the abilities faults rely on.
var (
	_ clusters.Killer       = (*DockerNode)(nil)
	_ clusters.Stopper      = (*DockerNode)(nil)
	_ clusters.Pauser       = (*DockerNode)(nil)
	_ clusters.DataDirs     = (*DockerNode)(nil)
	_ clusters.Running      = (*DockerNode)(nil)
	_ clusters.Cluster      = (*DockerCluster)(nil)
	_ clusters.HealthWaiter = (*DockerCluster)(nil)
)

// LaunchDocker creates the run's network, the Toxiproxy container with one
// proxy per link, then one container per node, and waits until every node is
// healthy and routed to every peer. An unreachable engine is an error
// wrapping docker.ErrNoEngine. On error nothing is left on the engine.
func LaunchDocker(ctx context.Context, opts DockerOptions) (c *DockerCluster, err error) {
	if opts.Nodes < 1 || opts.Nodes > 9 {
		return nil, fmt.Errorf("launch nats on docker: %d nodes; want 1 to 9", opts.Nodes)
	}
	if opts.Ready == 0 {
		opts.Ready = 60 * time.Second
	}
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	if opts.ToxiproxyImage == "" {
		opts.ToxiproxyImage = DefaultToxiproxyImage
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	syncInterval, err := ParseSyncInterval(opts.SyncInterval)
	if err != nil {
		return nil, err
	}
	watch := clusters.StartStopwatch()
	eng, err := docker.Connect(ctx)
	if err != nil {
		return nil, err // says which engine could not be reached
	}
	watch.Lap("connect")
	c = &DockerCluster{eng: eng, dir: opts.Dir}
	defer func() {
		if err != nil {
			// Removal must happen even when ctx is what ran out.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = c.Close(cctx)
		}
	}()
	for _, img := range []string{opts.Image, opts.ToxiproxyImage} {
		if err := eng.EnsureImage(ctx, img, opts.Log); err != nil {
			// The hint serves the CLI, go test and the library alike: with
			// a version, go run builds from anywhere, in a module or not.
			v := imageVersion(opts.Image)
			return c, fmt.Errorf("launch nats on docker: %w (riptide can build local images: go run github.com/riptidechaos/riptide/images/build@latest -nats %s, or `make images` in its repository; "+
				"then name riptide/nats-server:%s and riptide/toxiproxy:2.12.0 with --image and --toxiproxy-image, riptidetest.WithImages or riptide.Options)", err, v, v)
		}
	}
	watch.Lap("images")
	c.run, err = eng.NewRun(ctx, docker.RunOptions{Name: opts.Name, Dir: filepath.Dir(opts.Dir),
		Logf: func(format string, args ...any) { fmt.Fprintf(opts.Log, "docker: "+format+"\n", args...) }})
	if err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	watch.Lap("sweep+network")

	names := make([]string, opts.Nodes)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	// Client proxies are reached from the host; route proxies serve only
	// the pod: node i dials node j through its own proxy i->j on 127.0.0.1.
	local := func(base, i int) string { return fmt.Sprintf("127.0.0.1:%d", base+i) }
	var specs []docker.ProxySpec
	for i, name := range names {
		specs = append(specs, docker.ProxySpec{From: clusters.ClientSide, To: name, Port: clientProxyBase + i + 1,
			Upstream: local(dockerClientPort, i), Publish: true})
	}
	for i, from := range names {
		for j, to := range names {
			if i != j {
				specs = append(specs, docker.ProxySpec{From: from, To: to, Port: routeProxyBase + 10*(i+1) + j + 1,
					Upstream: local(dockerClusterPort, j)})
			}
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	var monitors []int
	for i, name := range names {
		n := &DockerNode{name: name, dir: filepath.Join(opts.Dir, name), monitorPort: dockerMonitorPort + i}
		n.monitor = monitor{name: name, base: n.MonitorURL}
		monitors = append(monitors, n.monitorPort)
		// Client and route ports are reached only through Toxiproxy, on
		// the pod's loopback; the host reaches the monitoring endpoint
		// through the Toxiproxy container, for the health checks.
		cfg := nodeConfig{Name: name, ClusterName: "riptide", Host: "127.0.0.1", MonitorHost: "0.0.0.0",
			ClientPort: dockerClientPort + i, ClusterPort: dockerClusterPort + i, MonitorPort: n.monitorPort,
			StoreDir: nodeMount + "/data", SyncInterval: syncInterval}
		for _, s := range specs {
			if s.From == name {
				cfg.Routes = append(cfg.Routes, s.PodAddr())
			}
		}
		if err := os.MkdirAll(n.DataDir(), 0o755); err != nil {
			return c, fmt.Errorf("launch nats on docker: %w", err)
		}
		if err := os.WriteFile(filepath.Join(n.dir, "nats.conf"), []byte(cfg.render()), 0o644); err != nil {
			return c, fmt.Errorf("launch nats on docker: write config of %s: %w", name, err)
		}
		c.nodes = append(c.nodes, n)
	}
	watch.Lap("configs")

	// Starting a container costs this engine a third of a second or more,
	// most of it spent on the container's own network namespace
	// (docs/docker.md, "Launch time"): the nodes join Toxiproxy's instead,
	// as the containers of a Kubernetes pod do. Toxiproxy reads its
	// proxies from a file at boot, so that a node's first route dial finds
	// its proxy; it starts while the nodes' containers are being created,
	// and then the nodes start, startStagger apart (see there).
	c.toxi, err = c.run.CreateToxiproxy(ctx, opts.ToxiproxyImage, specs, opts.Dir, monitors)
	if err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	for _, n := range c.nodes {
		n.pod = c.toxi
	}
	watch.Lap("toxiproxy-create")
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes)+1)
	wg.Go(func() {
		if err := c.toxi.Container().Start(ctx); err != nil {
			errs[0] = fmt.Errorf("start toxiproxy: %w", err)
		}
	})
	for i, n := range c.nodes {
		wg.Go(func() {
			n.c, errs[i+1] = c.run.Create(ctx, docker.ContainerSpec{
				Name: n.name, Image: opts.Image,
				Cmd: []string{"--config", nodeMount + "/nats.conf"},
				// The node writes its store as the harness's user, so
				// that the harness can read, damage and delete it.
				User:    fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
				Mounts:  []docker.Mount{{Source: n.dir, Target: nodeMount}},
				Pod:     c.toxi.Container(),
				LogPath: n.LogPath(),
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	watch.Lap("toxiproxy-start+nodes-create")
	for i, n := range c.nodes {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * startStagger)
			errs[i] = n.c.Start(ctx)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// Nodes cannot join the pod of a Toxiproxy that exited: say that
		// once, with its own words, rather than each node's refusal.
		if st, serr := c.toxi.Container().State(ctx); serr == nil && !st.Running {
			return c, fmt.Errorf("launch nats on docker: the Toxiproxy container exited at start (is %s a Toxiproxy server image?); its log says: %s",
				opts.ToxiproxyImage, telling(c.toxi.Container().LogTail(200)))
		}
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	watch.Lap("nodes-start")
	links, err := c.toxi.Ready(ctx)
	if err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	watch.Lap("proxies")
	c.net = clusters.NewNetOf(links)
	for _, n := range c.nodes {
		n.client, _ = c.net.Link(clusters.ClientSide, n.name)
	}
	rctx, cancel := context.WithTimeout(ctx, opts.Ready)
	defer cancel()
	if err := c.WaitHealthy(rctx); err != nil {
		return c, fmt.Errorf("launch nats on docker: %w", err)
	}
	watch.Lap("healthy")
	c.phases = watch.Phases()
	fmt.Fprintf(opts.Log, "docker: launched in %s: %s\n", c.phases.Total().Round(time.Millisecond), c.phases)
	return c, nil
}

// LaunchPhases says where the launch spent its time.
func (c *DockerCluster) LaunchPhases() clusters.Phases { return c.phases }

// Nodes lists the servers.
func (c *DockerCluster) Nodes() []clusters.Node { return clusters.AsNodes(c.nodes) }

// NATSNodes lists the servers with their abilities.
func (c *DockerCluster) NATSNodes() []*DockerNode { return append([]*DockerNode(nil), c.nodes...) }

// Net is the link proxies.
func (c *DockerCluster) Net() *clusters.Net { return c.net }

// Run is the cluster's footprint on the engine (network, containers, labels).
func (c *DockerCluster) Run() *docker.Run { return c.run }

// Toxiproxy is the cluster's Toxiproxy container.
func (c *DockerCluster) Toxiproxy() *docker.Toxiproxy { return c.toxi }

// Close copies every container's output into the node directories, then
// removes the containers (paused ones thawed first) and the network. The
// proxies go with their container. Safe on a half-launched cluster and more
// than once.
func (c *DockerCluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		if c.run != nil {
			c.closeErr = c.run.Close(ctx)
		}
		c.eng.Close()
	})
	return c.closeErr
}

// WaitHealthy waits until every node's container runs, its JetStream is
// healthy and it is routed to every other node.
func (c *DockerCluster) WaitHealthy(ctx context.Context) error {
	return waitHealthy(ctx, c.nodes)
}

// DockerNode is one nats-server container.
type DockerNode struct {
	monitor
	name        string
	dir         string
	client      *clusters.Link
	c           *docker.Container
	pod         *docker.Toxiproxy // whose network namespace the node shares
	monitorPort int
}

func (n *DockerNode) Name() string { return n.name }

// ClientAddr is the node's client proxy, as the host reaches it.
func (n *DockerNode) ClientAddr() string { return n.client.Listen }

// DataDir is the JetStream store, a directory of the host mounted into the
// container.
func (n *DockerNode) DataDir() string { return filepath.Join(n.dir, "data") }

// LogPath is where the node's output is copied when the cluster closes.
func (n *DockerNode) LogPath() string { return filepath.Join(n.dir, "node.log") }

// Container is the node's container.
func (n *DockerNode) Container() *docker.Container { return n.c }

// Running reports whether the container runs (paused counts as running).
func (n *DockerNode) Running() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := n.c.State(ctx)
	return err == nil && st.Running
}

// Kill sends SIGKILL to the server and waits until its container is down.
func (n *DockerNode) Kill(ctx context.Context) error { return n.c.Kill(ctx) }

// Stop shuts the server down with SIGTERM, SIGKILL after 10 s.
func (n *DockerNode) Stop(ctx context.Context) error { return n.c.Stop(ctx, 10*time.Second) }

// Pause freezes the server with the cgroup freezer.
func (n *DockerNode) Pause(ctx context.Context) error { return n.c.Pause(ctx) }

// Resume thaws a paused server.
func (n *DockerNode) Resume(ctx context.Context) error { return n.c.Resume(ctx) }

// Start runs a stopped server's container again, on the same store and
// network name, and waits until the server answers. Starting a running
// node is not an error.
func (n *DockerNode) Start(ctx context.Context) error {
	if n.Running() {
		return nil
	}
	if err := n.c.Start(ctx); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		url, err := n.MonitorURL()
		if err == nil {
			if resp, err := monitorClient.Get(url + "/varz"); err == nil {
				resp.Body.Close()
				return nil
			}
		}
		if !n.Running() {
			return fmt.Errorf("start %s: exited: %s", n.name, n.LogTail(5))
		}
		select {
		case <-sctx.Done():
			return fmt.Errorf("start %s: not answering: %w", n.name, sctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// MonitorURL is the node's HTTP monitoring endpoint, reached through the
// Toxiproxy container, whose network the node shares (Toxiproxy.HostAddr):
// it stays where it is when the node restarts.
func (n *DockerNode) MonitorURL() (string, error) {
	addr, err := n.pod.HostAddr(n.monitorPort)
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// MonitorPort is the port of the node's monitoring endpoint inside the pod.
func (n *DockerNode) MonitorPort() int { return n.monitorPort }

// LogTail returns the last lines of the node's output, for error messages.
func (n *DockerNode) LogTail(lines int) string { return n.c.LogTail(lines) }

// exited reports whether the node's container has stopped.
func (n *DockerNode) exited(ctx context.Context) error {
	st, err := n.c.State(ctx)
	if err != nil {
		return nil // cannot tell yet: the health check will say more
	}
	if !st.Running {
		return errors.New("the container stopped")
	}
	return nil
}

// failureWords mark the line of a log that says why a program exited:
// what a usage text printed after it would bury.
var failureWords = regexp.MustCompile(`(?i)error|fatal|panic|not defined|invalid|cannot|can't|failed|denied|no such`)

// telling is the line of a short log that says why its program exited:
// the first with a failure word, else the last.
func telling(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for _, l := range lines {
		if failureWords.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// imageVersion is the nats-server version an image reference names by its
// tag (nats:2.11.10, riptide/nats-server:2.11.10), or DefaultVersion.
func imageVersion(ref string) string {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return DefaultVersion
	}
	v := strings.TrimPrefix(ref[i+1:], "v")
	if !versionTag.MatchString(v) {
		return DefaultVersion
	}
	return v
}

var versionTag = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
