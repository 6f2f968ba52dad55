package run

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/images"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/internal/testenv"
	"github.com/riptidechaos/riptide/scenarios"
)

// dockerForTest connects to the engine and builds the local images on
// first use (the engine here cannot pull the official ones), or skips where
// no engine is reachable.
func dockerForTest(t *testing.T) (*docker.Engine, PlatformOptions) {
	t.Helper()
	opts := PlatformOptions{Image: images.NATSServer(nats.DefaultVersion), ToxiproxyImage: images.Toxiproxy()}
	return testenv.Docker(t, opts.Image, opts.ToxiproxyImage), opts
}

// runLeftovers lists the containers and networks of the run directory dir.
func runLeftovers(t *testing.T, eng *docker.Engine, dir string) (containers, networks []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	filter := client.Filters{}.Add("label", docker.LabelDir+"="+dir)
	cs, err := eng.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	require.NoError(t, err)
	for _, c := range cs.Items {
		containers = append(containers, strings.Join(c.Names, ",")+" ("+string(c.State)+")")
	}
	ns, err := eng.Client().NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	require.NoError(t, err)
	for _, n := range ns.Items {
		networks = append(networks, n.Name)
	}
	return containers, networks
}

// TestDockerCatalogScenarios runs the catalog's kill and partition
// scenarios on the docker platform, with the checks the process platform's
// runs get, and finds nothing of the runs left on the engine.
func TestDockerCatalogScenarios(t *testing.T) {
	eng, images := dockerForTest(t)
	for _, name := range []string{"nats-kill", "nats-partition"} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Open("catalog:" + name)
			require.NoError(t, err)
			sc.Cluster.Platform = "docker"
			if name == "nats-partition" {
				// An image of another version than the scenario names:
				// the report says what ran.
				sc.Cluster.Version = "2.11.10"
			}
			require.NoError(t, sc.Validate())
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := Run(ctx, sc, Options{Dir: dir, Log: dockerTestLog{t}, PlatformOptions: images})
			require.NoError(t, err)

			r := out.Results
			assert.Equal(t, checkers.Valid, r.Verdict, r.Reason)
			assert.Zero(t, r.Counts[checkers.Lost])
			assert.Greater(t, r.Acked, int64(100))
			assert.True(t, r.Drain.Complete)
			assert.Empty(t, r.HarnessErrors)
			assert.Len(t, r.Faults, 2*len(sc.Faults), "a start and a stop per fault")
			for _, f := range r.Faults {
				assert.Empty(t, f.Error, "fault %s %s", f.ID, f.F)
			}
			for _, file := range []string{"scenario.yaml", "history.jsonl", "results.json", "report.html",
				"nodes/n1/node.log", "nodes/n2/nats.conf", "nodes/toxiproxy.log"} {
				assert.FileExists(t, filepath.Join(dir, file))
			}
			b, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
			require.NoError(t, err)
			assert.Contains(t, string(b), "platform: docker")
			// The images ran are part of the run: its scenario.yaml runs
			// them again, and the reports name them.
			assert.Contains(t, string(b), "image: "+images.Image)
			assert.Contains(t, string(b), "toxiproxy_image: "+images.ToxiproxyImage)
			assert.Equal(t, images.Image, r.Scenario.Image)
			assert.Equal(t, images.ToxiproxyImage, r.Scenario.ToxiproxyImage)
			assert.Equal(t, nats.DefaultVersion, r.Scenario.ServerVersion, "what the servers report")
			assert.Equal(t, sc.Cluster.Version, r.Scenario.Version, "what the scenario names")
			page, err := os.ReadFile(filepath.Join(dir, "report.html"))
			require.NoError(t, err)
			assert.Contains(t, string(page), "nats "+nats.DefaultVersion+"<small>")
			if sc.Cluster.Version != nats.DefaultVersion {
				assert.Contains(t, string(page), "the scenario names "+sc.Cluster.Version)
			}
			cs, ns := runLeftovers(t, eng, dir)
			assert.Empty(t, cs, "containers left after the run")
			assert.Empty(t, ns, "networks left after the run")
		})
	}
}

// dockerHelperEnv makes this test binary a harness running one docker run
// (see TestDockerHelperHarness), for the tests that kill a harness.
const dockerHelperEnv = "RIPTIDE_TEST_DOCKER_HARNESS"

// TestDockerHelperHarness is not a test: run with dockerHelperEnv set to a
// run directory, it is a harness running testdata's nats-short scenario on
// the docker platform, to be killed by TestDockerHarnessSIGKILLThenClean.
func TestDockerHelperHarness(t *testing.T) {
	dir := os.Getenv(dockerHelperEnv)
	if dir == "" {
		t.Skip("helper process of TestDockerHarnessSIGKILLThenClean")
	}
	sc, err := scenarios.Load("../../testdata/scenarios/nats-short.yaml")
	require.NoError(t, err)
	sc.Cluster.Platform = "docker"
	sc.Duration = scenarios.Duration(time.Minute) // killed long before the end
	require.NoError(t, sc.Validate())
	_, err = Run(context.Background(), sc, Options{Dir: dir, Log: os.Stderr,
		PlatformOptions: PlatformOptions{Image: images.NATSServer(nats.DefaultVersion), ToxiproxyImage: images.Toxiproxy()}})
	require.NoError(t, err)
}

// TestDockerHarnessSIGKILLThenClean kills a harness with SIGKILL in the
// middle of a docker run, with one node paused: its containers and network
// outlive it. `riptide clean RUN_DIR` then leaves nothing of the run on the
// engine and saves the node logs into the run directory.
func TestDockerHarnessSIGKILLThenClean(t *testing.T) {
	eng, _ := dockerForTest(t)
	cli := testenv.Riptide(t)
	dir := filepath.Join(t.TempDir(), "run")

	harness := exec.Command(os.Args[0], "-test.run=^TestDockerHelperHarness$", "-test.v")
	harness.Env = append(os.Environ(), dockerHelperEnv+"="+dir)
	var out testenv.LockedBuffer // written by the harness's output copiers as it runs
	harness.Stdout, harness.Stderr = &out, &out
	require.NoError(t, harness.Start())
	exited := make(chan error, 1)
	go func() { exited <- harness.Wait() }()
	t.Cleanup(func() { // on a failed assertion below, do not leave the harness running
		_ = harness.Process.Kill()
		<-exited
	})

	waitMainPhase(t, dir, exited, &out)
	cs, ns := runLeftovers(t, eng, dir)
	require.Len(t, cs, 4, "three nodes and toxiproxy")
	require.Len(t, ns, 1)
	// A node frozen when the harness dies must not stay frozen.
	paused := strings.TrimPrefix(strings.Fields(cs[0])[0], "/")
	_, err := eng.Client().ContainerPause(t.Context(), paused, client.ContainerPauseOptions{})
	require.NoError(t, err)

	require.NoError(t, harness.Process.Signal(syscall.SIGKILL))
	select {
	case <-exited:
		exited <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("the harness survived SIGKILL for 30 s")
	}
	if !eng.Reaper {
		cs, ns = runLeftovers(t, eng, dir)
		require.Len(t, cs, 4, "a SIGKILLed harness cannot remove its containers")
		require.Len(t, ns, 1)
	}

	clean := exec.Command(cli, "clean", dir)
	cleanOut, err := clean.CombinedOutput()
	require.NoErrorf(t, err, "riptide clean:\n%s", cleanOut)
	t.Logf("riptide clean:\n%s", cleanOut)
	cs, ns = runLeftovers(t, eng, dir)
	assert.Empty(t, cs, "docker ps -a shows the run's containers")
	assert.Empty(t, ns, "docker network ls shows the run's network")
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", n, "node.log"))
		if assert.NoError(t, err, "the sweep saves the node logs") {
			assert.Contains(t, string(b), "Server is ready")
		}
	}
}

// waitMainPhase waits until the harness writing dir is in its main phase
// (the history grows once the cluster is up), failing the test if it
// exits first.
func waitMainPhase(t *testing.T, dir string, exited chan error, out *testenv.LockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if st, err := os.Stat(filepath.Join(dir, "history.jsonl")); err == nil && st.Size() > 5_000 {
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the harness ended before the main phase: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no main phase after 3 minutes:\n%s", out.String())
		}
	}
}

// TestDockerDoubleInterruptLeavesNothing: a second Ctrl-C exits at once,
// without the run's teardown, and still leaves no container (a paused one
// least of all) and no network: the CLI removes its own run's before it
// exits.
func TestDockerDoubleInterruptLeavesNothing(t *testing.T) {
	eng, opts := dockerForTest(t)
	cli := testenv.Riptide(t)
	dir := filepath.Join(t.TempDir(), "run")
	harness := exec.Command(cli, "run", "../../testdata/scenarios/nats-short.yaml", "--out", dir,
		"--platform", "docker", "--duration", "1m", "--image", opts.Image, "--toxiproxy-image", opts.ToxiproxyImage)
	var out testenv.LockedBuffer
	harness.Stdout, harness.Stderr = &out, &out
	require.NoError(t, harness.Start())
	exited := make(chan error, 1)
	go func() { exited <- harness.Wait() }()
	t.Cleanup(func() {
		_ = harness.Process.Kill()
		<-exited
		_, _ = exec.Command(cli, "clean", dir).CombinedOutput() // after a failed assertion
	})
	waitMainPhase(t, dir, exited, &out)
	cs, _ := runLeftovers(t, eng, dir)
	require.Len(t, cs, 4, "three nodes and toxiproxy")
	paused := strings.TrimPrefix(strings.Fields(cs[0])[0], "/")
	_, err := eng.Client().ContainerPause(t.Context(), paused, client.ContainerPauseOptions{})
	require.NoError(t, err)

	// The second as soon as the first is taken, long before the teardown
	// is done (two at once could merge into one pending signal).
	require.NoError(t, harness.Process.Signal(syscall.SIGINT))
	for !strings.Contains(out.String(), "stopping (again to exit at once)") {
		select {
		case err := <-exited:
			t.Fatalf("the harness exited after one interrupt: %v\n%s", err, out.String())
		case <-time.After(time.Millisecond):
		}
	}
	require.NoError(t, harness.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		exited <- err
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, out.String())
		assert.Equal(t, ExitHarness, exit.ExitCode())
	case <-time.After(30 * time.Second):
		t.Fatalf("the harness did not exit 30 s after a second interrupt:\n%s", out.String())
	}
	t.Logf("harness output ends:\n%s", tail(out.String(), 5))
	assert.Contains(t, out.String(), "riptide: exiting now", "the second interrupt was taken")
	cs, ns := runLeftovers(t, eng, dir)
	assert.Empty(t, cs, "docker ps -a shows the run's containers")
	assert.Empty(t, ns, "docker network ls shows the run's network")
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestDockerWithoutEngineExitsThreeInOneLine runs the CLI on a docker
// scenario with DOCKER_HOST naming nothing: exit status 3 and a one-line
// explanation on stderr, no stack trace.
func TestDockerWithoutEngineExitsThreeInOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the riptide command; skipped with -short")
	}
	cli := testenv.Riptide(t)
	tmp := t.TempDir()
	scenario := filepath.Join(tmp, "docker.yaml")
	b, err := os.ReadFile("../../testdata/scenarios/nats-short.yaml")
	require.NoError(t, err)
	yml := strings.Replace(string(b), "  nodes: 3\n", "  nodes: 3\n  platform: docker\n", 1)
	require.Contains(t, yml, "platform: docker")
	require.NoError(t, os.WriteFile(scenario, []byte(yml), 0o644))

	cmd := exec.Command(cli, "run", scenario, "--out", filepath.Join(tmp, "run"))
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///nonexistent/docker.sock")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
	assert.Equal(t, ExitHarness, exit.ExitCode())
	msg := strings.TrimRight(stderr.String(), "\n")
	assert.NotContains(t, msg, "\n", "one line")
	assert.Contains(t, msg, "no Docker engine reachable")
	assert.Contains(t, msg, "DOCKER_HOST=unix:///nonexistent/docker.sock")
	assert.NotContains(t, msg, "goroutine")

	// The run directory keeps why, for riptide check and a CI artifact.
	journal, err := injectors.ReadJournal(filepath.Join(tmp, "run"))
	require.NoError(t, err)
	require.True(t, injectors.Ended(journal))
	assert.Contains(t, journal[len(journal)-1].Note, "no Docker engine reachable")
	r, err := Check(context.Background(), filepath.Join(tmp, "run"))
	require.NoError(t, err)
	assert.Contains(t, r.Reason, "the run could not go on: platform docker: ")
}

type dockerTestLog struct{ t *testing.T }

func (l dockerTestLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
