// Package clusters holds what a run launches: a Cluster of Nodes, and the Net
// of link proxies that every client and node-to-node connection goes through.
// Platforms (process, docker) and systems (nats, ...) live in subpackages.
package clusters

import "context"

// Node is one server of the cluster.
type Node interface {
	Name() string
	// ClientAddr is the host:port clients dial: the node's client proxy.
	ClientAddr() string
}

// The abilities below are optional: a platform's nodes implement those it
// supports, and a fault that needs one the node lacks fails with a clear
// error instead of pretending.

// Killer is a node that can be killed abruptly (SIGKILL) and started again
// on the same data.
type Killer interface {
	Kill(ctx context.Context) error
	Start(ctx context.Context) error
}

// Stopper is a node that can be asked to shut down cleanly (SIGTERM, then
// SIGKILL after a grace period); Killer.Start brings it back.
type Stopper interface {
	Stop(ctx context.Context) error
}

// Pauser is a node that can be frozen (SIGSTOP, cgroup freezer) and thawed.
type Pauser interface {
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// DataDirs is a node whose data directory the harness can reach, for disk
// faults (while the node is stopped) and for keeping data after a run.
type DataDirs interface {
	DataDir() string
}

// Running is a node that can tell whether its server is up.
type Running interface {
	Running() bool
}

// Local is a node that runs as a process of this machine. Faults journal its
// pid so that `riptide clean` can find a paused or orphaned server after the
// harness itself was killed.
type Local interface {
	// PID is the server's pid, 0 when it is not running.
	PID() int
}

// HealthWaiter is a cluster that can wait until every running node serves
// and is connected to its peers; a rolling restart waits for it between
// nodes, as a careful operator would.
type HealthWaiter interface {
	WaitHealthy(ctx context.Context) error
}

// Cluster is a launched system under test.
type Cluster interface {
	Nodes() []Node
	// Net is the link proxies between clients and nodes and between nodes.
	Net() *Net
	// Close stops every node and every proxy. It must be safe to call on
	// a half-launched cluster and more than once.
	Close(ctx context.Context) error
}

// AsNodes lists a platform's nodes as Nodes.
func AsNodes[N Node](nodes []N) []Node {
	out := make([]Node, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}

// NodeNames lists the names of nodes.
func NodeNames(nodes []Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name()
	}
	return names
}

// FindNode returns the node called name.
func FindNode(c Cluster, name string) (Node, bool) {
	for _, n := range c.Nodes() {
		if n.Name() == name {
			return n, true
		}
	}
	return nil, false
}
