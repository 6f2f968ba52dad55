package run

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/scenarios"
)

// liveCluster is what the runner needs of a launched cluster, whatever the
// platform.
type liveCluster interface {
	clusters.Cluster
	// WaitHealthy waits until every running node serves and is connected
	// to its peers.
	WaitHealthy(ctx context.Context) error
}

// PlatformOptions choose what the nodes run on the docker platform. The
// platform itself is the scenario's cluster.platform (the CLI's --platform
// overrides it in the scenario, so that the resolved scenario.yaml says
// where the run ran).
type PlatformOptions struct {
	// Image is the nats-server image (default: the official nats:VERSION
	// of the scenario's version). --image.
	Image string
	// ToxiproxyImage is the Toxiproxy image (default: the official
	// ghcr.io/shopify/toxiproxy:2.12.0). --toxiproxy-image.
	ToxiproxyImage string
}

// launch prepares what the nodes run and starts the cluster on the
// scenario's platform, bounded by launchTimeout. On error nothing is left
// running.
func (r *runner) launch(ctx context.Context) (liveCluster, error) {
	sc := r.sc
	switch sc.Cluster.Platform {
	case "process":
		bin, err := r.binary(ctx)
		if err != nil {
			return nil, err
		}
		r.logf("launching %d-node %s %s cluster on the process platform", sc.Cluster.Nodes, sc.Cluster.System, sc.Cluster.Version)
		lctx, cancel := context.WithTimeout(ctx, launchTimeout)
		defer cancel()
		return nats.Launch(lctx, nats.Options{
			Dir: filepath.Join(r.dir, "nodes"), Nodes: sc.Cluster.Nodes, Binary: bin,
			SyncInterval: sc.Cluster.Config["sync_interval"],
		})
	case "docker":
		// Resolved by run: the options, else the scenario, else the
		// official images.
		image, toxi := sc.Cluster.Image, sc.Cluster.ToxiproxyImage
		r.logf("launching %d-node %s cluster on the docker platform: image %s, toxiproxy %s", sc.Cluster.Nodes, sc.Cluster.System, image, toxi)
		lctx, cancel := context.WithTimeout(ctx, launchTimeout)
		defer cancel()
		c, err := nats.LaunchDocker(lctx, nats.DockerOptions{
			Name: sc.Name, Dir: filepath.Join(r.dir, "nodes"), Nodes: sc.Cluster.Nodes,
			Image: image, ToxiproxyImage: toxi, SyncInterval: sc.Cluster.Config["sync_interval"],
			Log: prefixed{r},
		})
		if errors.Is(err, docker.ErrNoEngine) {
			return nil, fmt.Errorf("platform docker: %w; start Docker or set DOCKER_HOST, or run on the process platform", err)
		}
		if err != nil {
			return nil, err
		}
		return c, nil
	default:
		return nil, fmt.Errorf("platform %q is not available in this build of riptide; use platform: process or docker", sc.Cluster.Platform)
	}
}

// checkPlatformOptions rejects options that do not apply to the scenario's
// platform. Run calls it before it makes the run directory: a mistake in
// the options leaves nothing behind.
func checkPlatformOptions(sc *scenarios.Scenario, opts Options) error {
	switch sc.Cluster.Platform {
	case "process":
		if opts.Image != "" || opts.ToxiproxyImage != "" {
			return fmt.Errorf("an image applies to the docker platform only; this scenario runs on the process platform (use --platform docker)")
		}
	case "docker":
		if opts.Binary != "" || sc.Cluster.Binary != "" {
			return fmt.Errorf("a server binary applies to the process platform only; on the docker platform name an image (--image)")
		}
	}
	return nil
}

// prefixed writes a platform's progress lines as the runner's own.
type prefixed struct{ r *runner }

func (p prefixed) Write(b []byte) (int, error) {
	p.r.logf("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// binary finds the server binary: the flag, the scenario, or a build of the
// pinned version.
func (r *runner) binary(ctx context.Context) (string, error) {
	for _, path := range []string{r.opts.Binary, r.sc.Cluster.Binary} {
		if path != "" {
			return path, nats.CheckBinary(path)
		}
	}
	return nats.Binary(ctx, r.sc.Cluster.Version, r.log)
}

// versionAsk bounds asking the servers their version after the launch.
const versionAsk = 5 * time.Second

// serverVersion asks the cluster's servers which version they run, and
// warns when it is not the one the scenario names (an image or binary of
// another version): the report then states what ran. "" when no node says.
func (r *runner) serverVersion(ctx context.Context, cluster liveCluster) string {
	ctx, cancel := context.WithTimeout(ctx, versionAsk)
	defer cancel()
	for _, n := range cluster.Nodes() {
		vn, ok := n.(interface {
			ServerVersion(context.Context) (string, error)
		})
		if !ok {
			continue
		}
		v, err := vn.ServerVersion(ctx)
		if err != nil {
			continue
		}
		if want := r.sc.Cluster.Version; v != want {
			r.logf("warning: the servers run %s %s, the scenario names %s; the report says %s", r.sc.Cluster.System, v, want, v)
		}
		return v
	}
	return ""
}
