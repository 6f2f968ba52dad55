package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// RunOptions describe one run's footprint on the engine.
type RunOptions struct {
	// Name is a readable prefix of the run id (the scenario's name).
	Name string
	// Dir is the run directory, recorded in a label so that a sweep can
	// find where a dead run kept its logs.
	Dir string
	// Logf receives one line per thing worth telling (sweeps, Ryuk).
	Logf func(format string, args ...any)
}

// Run is one run's network and containers. Close removes them all.
type Run struct {
	eng    *Engine
	id     string
	labels map[string]string
	netID  string
	logf   func(format string, args ...any)
	// routed says that this host routes to the run network: see Routed.
	routed bool

	mu         sync.Mutex
	containers []*Container
	closed     bool
}

var nameRE = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// NewRun sweeps what dead harnesses left on the engine while it creates the
// run's private network. The network is a plain bridge: containers reach
// each other by name through Docker's DNS, and the host reaches what a
// container publishes on 127.0.0.1, or, where it routes to the bridge
// (Routed), the container's own address.
func (e *Engine) NewRun(ctx context.Context, opts RunOptions) (*Run, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	// The sweep removes only what dead owners left: it can run alongside.
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		if rep, err := e.Sweep(ctx, SweepOptions{}); err != nil {
			logf("sweep of stale docker runs: %v", err)
		} else if rep.Removed() > 0 {
			logf("swept leftovers of dead runs: %s", rep)
		}
	}()
	defer func() { <-swept }()

	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	name := strings.Trim(nameRE.ReplaceAllString(opts.Name, "-"), "-.")
	if name == "" {
		name = "run"
	}
	if len(name) > 40 {
		name = name[:40]
	}
	id := "riptide-" + name + "-" + hex.EncodeToString(suffix[:])
	dir := opts.Dir
	if abs, err := filepath.Abs(dir); err == nil && dir != "" {
		dir = abs
	}
	labels := e.me.labels()
	labels[LabelRun] = id
	labels[LabelDir] = dir
	// testcontainers' session label lets Ryuk, when it runs, reap these too.
	maps.Copy(labels, testcontainers.GenericLabels())
	r := &Run{eng: e, id: id, labels: labels, logf: logf}

	res, err := e.cli.NetworkCreate(ctx, id, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("create network %s: %w", id, err)
	}
	r.netID = res.ID
	r.routed = os.Getenv(PublishEnv) == "" && e.routes(ctx, res.ID)
	return r, nil
}

// PublishEnv, when set to anything, makes every run publish the ports the
// host must reach even where the host routes to the run network: for a host
// whose firewall drops its own traffic to Docker's bridges.
const PublishEnv = "RIPTIDE_DOCKER_PUBLISH"

// Routed says whether this host routes to the run network: the engine is
// local (a Unix socket) and the network's gateway is an address of one of
// this host's interfaces, as with a Linux engine running beside the
// harness. Not so with Docker Desktop (the engine runs in a VM), a remote
// engine, a rootless one (its own network namespace) or a harness that
// runs in a container itself; nor where PublishEnv is set. The bridge is
// not reachable from other machines: the engine forwards to it only what
// is published.
func (r *Run) Routed() bool { return r.routed }

// routes tells whether this host has the gateway address of network id.
func (e *Engine) routes(ctx context.Context, id string) bool {
	if !strings.HasPrefix(e.cli.DaemonHost(), "unix://") {
		return false
	}
	in, err := e.cli.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if err != nil {
		return false // publishing works everywhere
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, cfg := range in.Network.IPAM.Config {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && cfg.Gateway.IsValid() && ipn.IP.Equal(net.IP(cfg.Gateway.AsSlice())) {
				return true
			}
		}
	}
	return false
}

// ID is the run's id: the name of its network, the prefix of its
// containers' names and the value of LabelRun.
func (r *Run) ID() string { return r.id }

// Network is the name of the run's network.
func (r *Run) Network() string { return r.id }

// Labels are the labels every resource of the run carries.
func (r *Run) Labels() map[string]string { return maps.Clone(r.labels) }

// Containers lists the run's containers in creation order.
func (r *Run) Containers() []*Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Container(nil), r.containers...)
}

// Close copies every container's output to its log file, then removes the
// containers (thawing paused ones first) and the network. It is safe on a
// half-created run and more than once; what it cannot remove (the context
// ran out) a later sweep removes.
func (r *Run) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cs := append([]*Container(nil), r.containers...)
	r.mu.Unlock()

	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = c.remove(ctx) })
	}
	wg.Wait()
	if r.netID != "" {
		if _, err := r.eng.cli.NetworkRemove(ctx, r.netID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", r.id, err))
		}
	}
	return errors.Join(errs...)
}
