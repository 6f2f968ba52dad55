package nats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/images"
)

// BenchmarkHealthyCluster measures the time from launch to a healthy
// 3-node cluster (every node's JetStream healthy and routed to both peers)
// on each platform, in the same run: the docker platform's cost over the
// process one. Teardown is not timed. The docker launch includes what a
// user waits for: reaching the engine, the image checks, the sweep of dead
// runs, the network and the Toxiproxy container. Besides the mean (ns/op)
// it reports the median launch (median-ms), which NATS's own slow launches
// (its route race, a late Raft election) sway less, and each launch phase's
// mean (NAME-ms/op), so that a change says which step it sped up.
//
// docker-floor is the engine's share alone, in the same run: the steps no
// docker launch of this wiring can skip (the run's network, the pod's
// container with its own network namespace, three node containers joining
// it), with servers that need no cluster to come up. A docker launch
// cannot take less than this plus the time NATS needs from start to
// healthy, which is most of the process launch.
func BenchmarkHealthyCluster(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	b.Run("process", func(b *testing.B) {
		bin, err := nats.Binary(ctx, nats.DefaultVersion, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		benchLaunches(ctx, b, func() (*nats.Cluster, error) {
			return nats.Launch(ctx, nats.Options{Dir: b.TempDir(), Nodes: 3, Binary: bin, SyncInterval: "always"})
		})
	})

	b.Run("docker", func(b *testing.B) {
		benchEngine(ctx, b).Close()
		natsImage, toxiImage := images.NATSServer(nats.DefaultVersion), images.Toxiproxy()
		benchLaunches(ctx, b, func() (*nats.DockerCluster, error) {
			return nats.LaunchDocker(ctx, nats.DockerOptions{Name: "bench", Dir: filepath.Join(b.TempDir(), "nodes"),
				Nodes: 3, Image: natsImage, ToxiproxyImage: toxiImage, SyncInterval: "always"})
		})
	})

	b.Run("docker-floor", func(b *testing.B) {
		eng := benchEngine(ctx, b)
		defer eng.Close()
		natsImage, toxiImage := images.NATSServer(nats.DefaultVersion), images.Toxiproxy()
		var phases phaseMeans
		for b.Loop() {
			watch := clusters.StartStopwatch()
			r, err := eng.NewRun(ctx, docker.RunOptions{Name: "floor", Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			watch.Lap("network")
			pod, err := r.Create(ctx, docker.ContainerSpec{Name: "pod", Image: toxiImage,
				Cmd: []string{"-host=0.0.0.0"}, Publish: []string{"8474/tcp"}})
			if err != nil {
				b.Fatal(err)
			}
			watch.Lap("pod-create")
			// As in the launch: the pod starts while the nodes are created.
			members := make([]*docker.Container, 3)
			errs := make([]error, len(members)+1)
			var wg sync.WaitGroup
			wg.Go(func() { errs[len(members)] = pod.Start(ctx) })
			for i := range members {
				wg.Go(func() {
					members[i], errs[i] = r.Create(ctx, docker.ContainerSpec{Name: fmt.Sprintf("n%d", i+1), Image: natsImage,
						Cmd: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(4222 + i)}, Pod: pod})
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
			watch.Lap("pod-start+nodes-create")
			for i, m := range members {
				wg.Go(func() { errs[i] = m.Start(ctx) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
			watch.Lap("nodes-start")
			b.StopTimer()
			phases.add(watch.Phases())
			_ = r.Close(ctx)
			b.StartTimer()
		}
		phases.report(b)
	})
}

// benchLaunches times launch once per b.Loop iteration; closing each
// cluster is not timed. It reports the phases the launches recorded.
func benchLaunches[C interface {
	LaunchPhases() clusters.Phases
	Close(context.Context) error
}](ctx context.Context, b *testing.B, launch func() (C, error)) {
	var phases phaseMeans
	for b.Loop() {
		c, err := launch()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		phases.add(c.LaunchPhases())
		_ = c.Close(ctx)
		b.StartTimer()
	}
	phases.report(b)
}

// benchEngine connects to the engine and builds the local images, or skips.
func benchEngine(ctx context.Context, b *testing.B) *docker.Engine {
	eng, err := docker.Connect(ctx)
	if errors.Is(err, docker.ErrNoEngine) {
		b.Skipf("needs a Docker engine: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, ref := range []string{images.NATSServer(nats.DefaultVersion), images.Toxiproxy()} {
		if err := images.Ensure(ctx, eng, ref, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	return eng
}

// phaseMeans sums launch phases by name, in the order first seen, and
// keeps each launch's total.
type phaseMeans struct {
	names  []string
	sums   map[string]time.Duration
	totals []time.Duration
}

func (m *phaseMeans) add(ps clusters.Phases) {
	if m.sums == nil {
		m.sums = map[string]time.Duration{}
	}
	m.totals = append(m.totals, ps.Total())
	for _, p := range ps {
		if _, seen := m.sums[p.Name]; !seen {
			m.names = append(m.names, p.Name)
		}
		m.sums[p.Name] += p.Took
	}
}

func (m *phaseMeans) report(b *testing.B) {
	if len(m.totals) == 0 {
		return
	}
	slices.Sort(m.totals)
	mid := m.totals[len(m.totals)/2]
	if len(m.totals)%2 == 0 {
		mid = (m.totals[len(m.totals)/2-1] + mid) / 2
	}
	b.ReportMetric(float64(mid.Microseconds())/1000, "median-ms")
	for _, name := range m.names {
		b.ReportMetric(float64(m.sums[name].Microseconds())/1000/float64(b.N), name+"-ms/op")
	}
}
