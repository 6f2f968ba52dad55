package run

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/clusters/nats"
)

// liveCluster is what the runner needs of a launched cluster, whatever the
// platform.
type liveCluster interface {
	clusters.Cluster
	// WaitHealthy waits until every running node serves and is connected
	// to its peers.
	WaitHealthy(ctx context.Context) error
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
	default:
		return nil, fmt.Errorf("platform %q is not available in this build of riptide; use platform: process", sc.Cluster.Platform)
	}
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
