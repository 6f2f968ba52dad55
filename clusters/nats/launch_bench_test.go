package nats_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/images"
)

// BenchmarkHealthyCluster measures the time from launch to a healthy
// 3-node cluster (every node's JetStream healthy and routed to both peers)
// on each platform, in the same run: the docker platform's cost over the
// process one. Teardown is not timed. The docker launch includes what a
// user waits for: reaching the engine, the image checks, the sweep of dead
// runs, the network and the Toxiproxy container.
func BenchmarkHealthyCluster(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	b.Run("process", func(b *testing.B) {
		bin, err := nats.Binary(ctx, nats.DefaultVersion, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			c, err := nats.Launch(ctx, nats.Options{Dir: b.TempDir(), Nodes: 3, Binary: bin, SyncInterval: "always"})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close(ctx)
			b.StartTimer()
		}
	})

	b.Run("docker", func(b *testing.B) {
		eng, err := docker.Connect(ctx)
		if errors.Is(err, docker.ErrNoEngine) {
			b.Skipf("needs a Docker engine: %v", err)
		}
		if err != nil {
			b.Fatal(err)
		}
		natsImage, toxiImage := images.NATSServer(nats.DefaultVersion), images.Toxiproxy()
		for _, ref := range []string{natsImage, toxiImage} {
			if err := images.Ensure(ctx, eng, ref, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		eng.Close()
		for b.Loop() {
			c, err := nats.LaunchDocker(ctx, nats.DockerOptions{Name: "bench", Dir: filepath.Join(b.TempDir(), "nodes"),
				Nodes: 3, Image: natsImage, ToxiproxyImage: toxiImage, SyncInterval: "always"})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close(ctx)
			b.StartTimer()
		}
	})
}
