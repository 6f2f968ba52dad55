package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Host is the only host interface riptide publishes container ports on:
// nothing of a run is reachable from other machines.
const Host = "127.0.0.1"

// WaitTimeout bounds every wait for a container to change state.
const WaitTimeout = 10 * time.Second

// ContainerSpec says what one container runs.
type ContainerSpec struct {
	// Name is the container's name on the run network (its DNS alias);
	// the engine-wide container name is prefixed with the run id.
	Name  string
	Image string
	// Cmd is the argument list given to the image's entrypoint.
	Cmd []string
	// User runs the process as "uid:gid" (default: the image's user).
	User string
	// Mounts are bind mounts of host directories.
	Mounts []Mount
	// Publish lists container ports ("8222/tcp") to publish on Host at
	// ports the engine picks; HostAddr finds them.
	Publish []string
	// Reach lists container ports the host must reach. Where the host
	// routes to the run network (Run.Routed), HostAddr gives the
	// container's own address and nothing is published: each published
	// port costs the engine a userland proxy and start time
	// (docs/docker.md, "Launch time"). Elsewhere (Docker Desktop, a
	// remote or rootless engine) they are published like Publish.
	Reach []string
	// LogPath is where the container's output is copied on removal.
	LogPath string
	// Pod, when set, is a container of the run whose network namespace
	// this one joins instead of the run network, as the containers of a
	// Kubernetes pod share one: they reach each other on 127.0.0.1, and
	// the host reaches this one only through the ports of Pod. Pod
	// must exist when this one is created and run when it starts.
	Pod *Container
}

// Mount is a bind mount of a host path.
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// Container is one running container of a run.
type Container struct {
	run  *Run
	spec ContainerSpec
	id   string
	name string

	reach []network.Port // ports HostAddr may give at ip

	mu    sync.Mutex
	ports network.PortMap // published ports, read after each start
	ip    netip.Addr      // the address on the run network, likewise
}

// Start creates and starts a container on the run's network. On error the
// container, if it was created, is still removed by the run's Close.
func (r *Run) Start(ctx context.Context, spec ContainerSpec) (*Container, error) {
	c, err := r.Create(ctx, spec)
	if err != nil {
		return nil, err
	}
	return c, c.Start(ctx)
}

// Create creates a container on the run's network without starting it:
// creating is the slower half, so a cluster creates its containers in
// parallel and then starts them close together.
func (r *Run) Create(ctx context.Context, spec ContainerSpec) (*Container, error) {
	name := r.id + "-" + spec.Name
	labels := r.Labels()
	if spec.LogPath != "" {
		if abs, err := filepath.Abs(spec.LogPath); err == nil {
			spec.LogPath = abs
		}
		labels[LabelLog] = spec.LogPath
	}
	publish := spec.Publish
	// With no port listed, testcontainers-go publishes every port the
	// image exposes, on every interface: a container of its own network
	// then publishes what it must reach even where it need not.
	if !r.routed || (len(publish) == 0 && spec.Pod == nil) {
		publish = append(slices.Clone(publish), spec.Reach...)
	}
	bindings := network.PortMap{}
	for _, p := range publish {
		port, err := network.ParsePort(p)
		if err != nil {
			return nil, fmt.Errorf("create container %s: publish %q: %w", name, p, err)
		}
		bindings[port] = []network.PortBinding{{HostIP: netip.MustParseAddr(Host)}}
	}
	var reach []network.Port
	for _, p := range spec.Reach {
		port, err := network.ParsePort(p)
		if err != nil {
			return nil, fmt.Errorf("create container %s: reach %q: %w", name, p, err)
		}
		reach = append(reach, port)
	}
	networks, aliases := []string{r.Network()}, map[string][]string{r.Network(): {spec.Name}}
	if spec.Pod != nil {
		if len(spec.Publish)+len(spec.Reach) > 0 {
			return nil, fmt.Errorf("create container %s: a pod member has no ports of its own to publish or reach; its pod %s does", name, spec.Pod.name)
		}
		networks, aliases = nil, nil
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          spec.Image,
			Name:           name,
			Cmd:            spec.Cmd,
			Labels:         labels,
			Networks:       networks,
			NetworkAliases: aliases,
			// Listing the ports stops testcontainers-go from publishing
			// every port the image exposes, on every interface.
			ExposedPorts: publish,
			ConfigModifier: func(c *container.Config) {
				c.User = spec.User
			},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = bindings
				if spec.Pod != nil {
					hc.NetworkMode = container.NetworkMode("container:" + spec.Pod.id)
				}
				for _, m := range spec.Mounts {
					hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind,
						Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
				}
			},
		},
		Logger: tclog.NewNoopLogger(),
	}
	tc, err := testcontainers.GenericContainer(ctx, req)
	c := &Container{run: r, spec: spec, name: name, reach: reach}
	if tc != nil && tc.GetContainerID() != "" {
		c.id = tc.GetContainerID()
		r.mu.Lock()
		r.containers = append(r.containers, c)
		r.mu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("create container %s (image %s): %w", name, spec.Image, err)
	}
	return c, nil
}

// Name is the container's name on the run network.
func (c *Container) Name() string { return c.spec.Name }

// ContainerName is the container's engine-wide name.
func (c *Container) ContainerName() string { return c.name }

// ID is the container's id.
func (c *Container) ID() string { return c.id }

func (c *Container) api() *client.Client { return c.run.eng.cli.Client }

// inspect reads the container's state.
func (c *Container) inspect(ctx context.Context) (container.InspectResponse, error) {
	res, err := c.api().ContainerInspect(ctx, c.id, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("inspect container %s: %w", c.name, err)
	}
	return res.Container, nil
}

// State is what the engine says of a container.
type State struct {
	Running bool // a paused container is running too
	Paused  bool
	// Pid is the main process's pid in the engine's pid namespace (0 when
	// not running).
	Pid int
	// IP is the container's address on the run network ("" when stopped).
	IP string
}

// State asks the engine for the container's state.
func (c *Container) State(ctx context.Context) (State, error) {
	in, err := c.inspect(ctx)
	if err != nil {
		return State{}, err
	}
	var st State
	if in.State != nil {
		st.Running, st.Paused, st.Pid = in.State.Running, in.State.Paused, in.State.Pid
	}
	if in.NetworkSettings != nil {
		if ep, ok := in.NetworkSettings.Networks[c.run.Network()]; ok && ep != nil && ep.IPAddress.IsValid() {
			st.IP = ep.IPAddress.String()
		}
	}
	return st, nil
}

// readAddrs records where the published ports are and the container's
// address: the engine picks new host ports, and may give a new address,
// each time a container starts.
func (c *Container) readAddrs(ctx context.Context) error {
	in, err := c.inspect(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ports, c.ip = nil, netip.Addr{}
	if in.NetworkSettings != nil {
		c.ports = in.NetworkSettings.Ports
		if ep := in.NetworkSettings.Networks[c.run.Network()]; ep != nil {
			c.ip = ep.IPAddress
		}
	}
	return nil
}

// HostAddr is where the host dials the container's port (e.g. "8222/tcp"),
// as of the last start: Host and the port it is published on, or, for a
// port of Reach that is not published, the container's own address.
func (c *Container) HostAddr(port string) (string, error) {
	p, err := network.ParsePort(port)
	if err != nil {
		return "", fmt.Errorf("container %s: port %q: %w", c.name, port, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.ports[p] {
		if b.HostPort != "" && b.HostPort != "0" {
			return net.JoinHostPort(Host, b.HostPort), nil
		}
	}
	if slices.Contains(c.reach, p) && c.ip.IsValid() {
		return net.JoinHostPort(c.ip.String(), p.Port()), nil
	}
	return "", fmt.Errorf("container %s: port %s is not published (is it running?)", c.name, port)
}

// Kill sends SIGKILL to the container's process and waits until it is down.
// Killing a stopped container is not an error: heal and teardown may race
// with a crash. A paused container is killed too (the engine delivers the
// signal on thaw) and is left stopped, not paused.
func (c *Container) Kill(ctx context.Context) error {
	if _, err := c.api().ContainerKill(ctx, c.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		if isNotRunning(err) {
			return nil
		}
		return fmt.Errorf("kill container %s: %w", c.name, err)
	}
	return c.waitDown(ctx, "kill")
}

// Stop asks the process to exit (SIGTERM) and kills it after grace. A
// paused container is thawed first: a frozen process cannot handle SIGTERM.
func (c *Container) Stop(ctx context.Context, grace time.Duration) error {
	if err := c.Resume(ctx); err != nil {
		return err
	}
	secs := max(int(grace.Round(time.Second)/time.Second), 1)
	sctx, cancel := context.WithTimeout(ctx, grace+WaitTimeout)
	defer cancel()
	if _, err := c.api().ContainerStop(sctx, c.id, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("stop container %s: %w", c.name, err)
	}
	return c.waitDown(ctx, "stop")
}

// Start starts a created or stopped container (same filesystem, mounts
// and network name) and reads where its ports are published. Starting a
// running container is not an error.
func (c *Container) Start(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	if _, err := c.api().ContainerStart(sctx, c.id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", c.name, err)
	}
	return c.readAddrs(sctx)
}

// Pause freezes every process of the container (cgroup freezer).
func (c *Container) Pause(ctx context.Context) error {
	if _, err := c.api().ContainerPause(ctx, c.id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause container %s: %w", c.name, err)
	}
	return nil
}

// Resume thaws a paused container; one that is not paused is left alone.
func (c *Container) Resume(ctx context.Context) error {
	st, err := c.State(ctx)
	if err != nil {
		return err
	}
	if !st.Paused {
		return nil
	}
	if _, err := c.api().ContainerUnpause(ctx, c.id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("resume container %s: %w", c.name, err)
	}
	return nil
}

// waitDown waits until the container is no longer running.
func (c *Container) waitDown(ctx context.Context, what string) error {
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	for {
		st, err := c.State(wctx)
		if err == nil && !st.Running {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("%s container %s: still running after %s", what, c.name, WaitTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Logs returns the container's output (stdout and stderr, in order of
// arrival within each), every start since creation. tail > 0 keeps only
// the last tail lines.
func (c *Container) Logs(ctx context.Context, tail int) ([]byte, error) {
	var buf bytes.Buffer
	if err := copyLogs(ctx, c.api(), c.id, &buf, tail); err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", c.name, err)
	}
	return buf.Bytes(), nil
}

// LogTail is the last lines of the container's output, for error messages.
func (c *Container) LogTail(lines int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.Logs(ctx, lines)
	if err != nil {
		return "(no log: " + oneLine(err) + ")"
	}
	return strings.TrimRight(string(b), "\n")
}

func copyLogs(ctx context.Context, api *client.Client, id string, w io.Writer, tail int) error {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	if tail > 0 {
		opts.Tail = fmt.Sprint(tail)
	}
	rc, err := api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	// Without a TTY the engine multiplexes stdout and stderr; both go to w.
	_, err = stdcopy.StdCopy(w, w, rc)
	return err
}

// saveLogs writes the container's output to path (its directory must exist).
func saveLogs(ctx context.Context, api *client.Client, id, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = copyLogs(ctx, api, id, f, 0)
	return errors.Join(err, f.Close())
}

// remove copies the output to the log file, then removes the container
// with its anonymous volumes. Paused containers are thawed first, so that
// none is ever left frozen whatever the engine does with a forced removal.
func (c *Container) remove(ctx context.Context) error {
	var errs []error
	if c.spec.LogPath != "" {
		if err := saveLogs(ctx, c.api(), c.id, c.spec.LogPath); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("copy logs of container %s: %w", c.name, err))
		}
	}
	if err := c.Resume(ctx); err != nil && !isNotFound(err) {
		errs = append(errs, err)
	}
	if _, err := c.api().ContainerRemove(ctx, c.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
		errs = append(errs, fmt.Errorf("remove container %s: %w", c.name, err))
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// isNotRunning recognises the engine's refusal to signal a stopped container.
func isNotRunning(err error) bool {
	return errdefs.IsConflict(err) || strings.Contains(err.Error(), "is not running")
}
