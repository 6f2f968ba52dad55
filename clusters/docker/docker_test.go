package docker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/images"
	"github.com/riptidechaos/riptide/internal/testenv"
)

// engineForTest connects to the engine and builds the local Toxiproxy
// image on first use, or skips where no engine is reachable.
func engineForTest(t *testing.T) *docker.Engine {
	t.Helper()
	return testenv.Docker(t, images.Toxiproxy())
}

// newRun creates a run that the test's cleanup closes.
func newRun(t *testing.T, eng *docker.Engine) *docker.Run {
	t.Helper()
	r, err := eng.NewRun(t.Context(), docker.RunOptions{Name: t.Name(), Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, r.Close(ctx))
	})
	return r
}

func TestConnectWithoutEngineSaysWhereItLookedInOneLine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := docker.Connect(t.Context())
	require.ErrorIs(t, err, docker.ErrNoEngine)
	assert.Contains(t, err.Error(), "DOCKER_HOST=unix:///nonexistent/docker.sock")
	assert.NotContains(t, err.Error(), "\n")
}

// leftovers lists the containers and networks labelled with run.
func leftovers(t *testing.T, eng *docker.Engine, label string) (containers, networks []string) {
	t.Helper()
	filter := client.Filters{}.Add("label", label)
	cs, err := eng.Client().ContainerList(t.Context(), client.ContainerListOptions{All: true, Filters: filter})
	require.NoError(t, err)
	for _, c := range cs.Items {
		containers = append(containers, strings.Join(c.Names, ","))
	}
	ns, err := eng.Client().NetworkList(t.Context(), client.NetworkListOptions{Filters: filter})
	require.NoError(t, err)
	for _, n := range ns.Items {
		networks = append(networks, n.Name)
	}
	return containers, networks
}

// TestContainerLifecycle kills, restarts and pauses a container, then
// closes the run while it is paused: nothing of the run is left.
func TestContainerLifecycle(t *testing.T) {
	eng := engineForTest(t)
	ctx := t.Context()
	r := newRun(t, eng)
	c, err := r.Start(ctx, docker.ContainerSpec{Name: "box", Image: images.Toxiproxy(),
		Cmd: []string{"-host=0.0.0.0"}, Publish: []string{"8474/tcp"}})
	require.NoError(t, err)
	version := func() error {
		addr, err := c.HostAddr("8474/tcp")
		if err != nil {
			return err
		}
		hc := &http.Client{Timeout: 5 * time.Second}
		for range 100 { // the server needs a moment after a start
			resp, err := hc.Get("http://" + addr + "/version")
			if err == nil {
				resp.Body.Close()
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("toxiproxy at %s does not answer", addr)
	}
	require.NoError(t, version())
	addr, err := c.HostAddr("8474/tcp")
	require.NoError(t, err)
	host, _, _ := net.SplitHostPort(addr)
	assert.Equal(t, "127.0.0.1", host, "ports are published on loopback only")

	require.NoError(t, c.Kill(ctx))
	st, err := c.State(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running)
	require.NoError(t, c.Kill(ctx), "killing a stopped container is not an error")
	_, err = c.HostAddr("8474/tcp")
	require.NoError(t, err, "the last start's ports are kept")

	require.NoError(t, c.Start(ctx))
	require.NoError(t, version())

	require.NoError(t, c.Pause(ctx))
	st, err = c.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Paused)
	assert.True(t, st.Running)

	require.NoError(t, r.Close(ctx))
	cs, ns := leftovers(t, eng, docker.LabelRun+"="+r.ID())
	assert.Empty(t, cs)
	assert.Empty(t, ns)
}

// TestRemoteProxyFaults drives a proxy of a Toxiproxy container through a
// clusters.Link: the proxy forwards to the container's own API, so an HTTP
// request through it shows whether the link carries data.
func TestRemoteProxyFaults(t *testing.T) {
	eng := engineForTest(t)
	r := newRun(t, eng)
	_, links, err := r.StartToxiproxy(t.Context(), images.Toxiproxy(), []docker.ProxySpec{
		{From: clusters.ClientSide, To: "api", Port: 10001, Upstream: "toxiproxy:8474", Publish: true},
		{From: "a", To: "b", Port: 20001, Upstream: "b:1"},
	}, t.TempDir())
	require.NoError(t, err)
	require.Len(t, links, 2)
	l, route := links[0], links[1]
	assert.Equal(t, "toxiproxy:20001", route.Listen, "route proxies are addressed on the run network")
	pnet := clusters.NewNetOf(links)

	get := func() error {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + l.Listen + "/version")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	require.NoError(t, get())

	// A blackhole: the request goes in and nothing comes back.
	require.NoError(t, l.AddToxic(clusters.Toxic{Name: "f1-cut", Type: "timeout", Stream: clusters.Forward,
		Attributes: map[string]any{"timeout": 0}}))
	names, err := l.ToxicNames()
	require.NoError(t, err)
	assert.Equal(t, []string{"f1-cut"}, names)
	var nerr net.Error
	require.ErrorAs(t, get(), &nerr)
	assert.True(t, nerr.Timeout(), "a blackholed request times out: %v", nerr)
	require.NoError(t, l.RemoveToxic("f1-cut"))
	require.NoError(t, l.RemoveToxic("f1-cut"), "removing a missing toxic is not an error")
	require.NoError(t, get())

	// Down: connections are refused or reset at once.
	require.NoError(t, l.Disable())
	on, err := l.Enabled()
	require.NoError(t, err)
	assert.False(t, on)
	err = get()
	require.Error(t, err)
	assert.False(t, errors.As(err, &nerr) && nerr.Timeout(), "a disabled proxy refuses, it does not blackhole: %v", err)

	// Heal removes every toxic and enables every proxy.
	require.NoError(t, route.AddToxic(clusters.Toxic{Name: "f2-slow", Type: "latency", Stream: clusters.Backward,
		Attributes: map[string]any{"latency": 100}}))
	n, err := pnet.ActiveToxics()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, pnet.Heal())
	n, err = pnet.ActiveToxics()
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, get())

	// Repointed at nothing, the proxy keeps its address and fails; back
	// at the API, it carries data again.
	require.NoError(t, l.SetUpstream("b:1"))
	require.Error(t, get())
	require.NoError(t, l.SetUpstream("toxiproxy:8474"))
	require.NoError(t, get())
}

// TestToxiproxyReach: the host reaches a client proxy at the container's
// own address, with nothing but the API published, where it routes to the
// run network, and at a port published on loopback elsewhere. Both ways
// carry data.
func TestToxiproxyReach(t *testing.T) {
	eng := engineForTest(t)
	for _, routed := range []bool{true, false} {
		t.Run(fmt.Sprintf("routed=%v", routed), func(t *testing.T) {
			if !routed {
				t.Setenv(docker.PublishEnv, "1")
			}
			r := newRun(t, eng)
			if routed && !r.Routed() {
				t.Skipf("this host does not route to the engine's bridge networks (not a local Linux engine, or %s is set)", docker.PublishEnv)
			}
			assert.Equal(t, routed, r.Routed())
			toxi, links, err := r.StartToxiproxy(t.Context(), images.Toxiproxy(), []docker.ProxySpec{
				{From: clusters.ClientSide, To: "api", Port: 10001, Upstream: "127.0.0.1:8474", Publish: true},
			}, t.TempDir())
			require.NoError(t, err)
			host, port, err := net.SplitHostPort(links[0].Listen)
			require.NoError(t, err)
			if routed {
				st, err := toxi.Container().State(t.Context())
				require.NoError(t, err)
				assert.Equal(t, st.IP, host, "the proxy is reached at the container's address")
				assert.Equal(t, "10001", port, "and its own port: nothing is published for it")
			} else {
				assert.Equal(t, docker.Host, host, "the proxy is published on loopback")
				assert.NotEqual(t, "10001", port, "at a port the engine picked")
			}
			api, err := toxi.HostAddr(docker.ToxiproxyAPIPort)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(api, docker.Host+":"), "the API is always published on loopback: %s", api)
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + links[0].Listen + "/version")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

// deadRunLike makes the leftovers of a dead harness's run beside live: the
// same labels but the pid of an exited process, a paused container, a
// network and a volume. It returns the dead run's id.
func deadRunLike(t *testing.T, eng *docker.Engine, live *docker.Run) string {
	t.Helper()
	ctx := t.Context()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	dead := live.Labels()
	deadRun := live.ID() + "-dead"
	dead[docker.LabelRun] = deadRun
	dead[docker.LabelPID] = strconv.Itoa(cmd.Process.Pid)
	api := eng.Client()
	nw, err := api.NetworkCreate(ctx, deadRun, client.NetworkCreateOptions{Driver: "bridge", Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = api.NetworkRemove(context.Background(), nw.ID, client.NetworkRemoveOptions{}) })
	ctr, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: deadRun + "-node",
		Config: &container.Config{Image: images.Toxiproxy(), Labels: dead}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = api.ContainerRemove(context.Background(), ctr.ID, client.ContainerRemoveOptions{Force: true})
	})
	_, err = api.ContainerStart(ctx, ctr.ID, client.ContainerStartOptions{})
	require.NoError(t, err)
	_, err = api.ContainerPause(ctx, ctr.ID, client.ContainerPauseOptions{})
	require.NoError(t, err)
	vol, err := api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: deadRun + "-data", Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = api.VolumeRemove(context.Background(), vol.Volume.Name, client.VolumeRemoveOptions{}) })
	return deadRun
}

// TestSweepOwnTakesThisHarnessesRunsOnly: a harness exiting at once (a
// second Ctrl-C) sweeps its own run, and leaves a dead run's leftovers to
// riptide clean or the next run: it has no time for them.
func TestSweepOwnTakesThisHarnessesRunsOnly(t *testing.T) {
	eng := engineForTest(t)
	live := newRun(t, eng)
	_, err := live.Start(t.Context(), docker.ContainerSpec{Name: "live", Image: images.Toxiproxy()})
	require.NoError(t, err)
	deadRun := deadRunLike(t, eng, live)

	rep, err := eng.Sweep(t.Context(), docker.SweepOptions{Own: true, Dir: live.Labels()[docker.LabelDir]})
	require.NoError(t, err)
	assert.Equal(t, []string{live.ID()}, rep.Runs)
	cs, ns := leftovers(t, eng, docker.LabelRun+"="+live.ID())
	assert.Empty(t, cs)
	assert.Empty(t, ns)
	cs, _ = leftovers(t, eng, docker.LabelRun+"="+deadRun)
	assert.Len(t, cs, 1, "the dead run's container stays")
}

// TestSweepRemovesOnlyDeadRuns leaves a live run alone and removes a run
// whose owner has exited: its paused container, network and volume.
func TestSweepRemovesOnlyDeadRuns(t *testing.T) {
	eng := engineForTest(t)
	ctx := t.Context()
	live := newRun(t, eng)
	_, err := live.Start(ctx, docker.ContainerSpec{Name: "live", Image: images.Toxiproxy()})
	require.NoError(t, err)

	deadRun := deadRunLike(t, eng, live)
	api := eng.Client()

	rep, err := eng.Sweep(ctx, docker.SweepOptions{})
	require.NoError(t, err)
	assert.Contains(t, rep.Runs, deadRun)
	assert.NotContains(t, rep.Runs, live.ID())
	assert.Equal(t, "alive", rep.Kept[live.ID()])
	assert.GreaterOrEqual(t, rep.Containers, 1)
	assert.GreaterOrEqual(t, rep.Networks, 1)
	assert.GreaterOrEqual(t, rep.Volumes, 1)

	cs, ns := leftovers(t, eng, docker.LabelRun+"="+deadRun)
	assert.Empty(t, cs)
	assert.Empty(t, ns)
	vs, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", docker.LabelRun+"="+deadRun)})
	require.NoError(t, err)
	assert.Empty(t, vs.Items)
	cs, ns = leftovers(t, eng, docker.LabelRun+"="+live.ID())
	assert.Len(t, cs, 1, "the live run keeps its container")
	assert.Len(t, ns, 1, "the live run keeps its network")

	// All takes live runs too (limited to this test's run directory: other
	// tests' runs share the engine); the run's own Close then finds
	// nothing to do.
	rep, err = eng.Sweep(ctx, docker.SweepOptions{All: true, Dir: live.Labels()[docker.LabelDir]})
	require.NoError(t, err)
	assert.Contains(t, rep.Runs, live.ID())
	cs, ns = leftovers(t, eng, docker.LabelRun+"="+live.ID())
	assert.Empty(t, cs)
	assert.Empty(t, ns)
}
