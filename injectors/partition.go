package injectors

import (
	"context"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Partition cuts links with a blackhole: a Toxiproxy timeout toxic with
// timeout 0 on both directions. Data stops and connections stay open, as in
// a real partition; heal removes the toxics. Bytes sent into the blackhole
// are dropped, so connections that carried data usually close with a
// protocol error after the heal and are dialled again.
type Partition struct {
	// Mode is the shape of the cut; isolate-one cuts every link of each
	// target node from every other node.
	Mode string
	// CutClients also cuts the clients' links to the isolated nodes.
	// Jepsen cuts only node-to-node links (CutClients false).
	CutClients bool
}

func (p Partition) Kind() string { return "partition" }

func (p Partition) Params() map[string]string {
	clients := "keep"
	if p.CutClients {
		clients = "cut"
	}
	return map[string]string{"mode": p.Mode, "clients": clients}
}

func (p Partition) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	switch p.Mode {
	case "isolate-one":
	default:
		return nil, fmt.Errorf("partition: unknown mode %q", p.Mode)
	}
	var links []*clusters.Link
	for _, name := range t.Nodes {
		if _, err := node(c, name); err != nil {
			return nil, err
		}
		links = append(links, c.Net().Touching(name, p.CutClients)...)
	}
	return addToxics(links, t.ID, "timeout", map[string]any{"timeout": 0}, bothWays...)
}
