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

// Killer is a node that can be killed abruptly (SIGKILL) and started again.
type Killer interface {
	Kill(ctx context.Context) error
	Start(ctx context.Context) error
}

// Running is a node that can tell whether its server is up.
type Running interface {
	Running() bool
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
