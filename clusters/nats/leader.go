package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/riptidechaos/riptide/clusters"
)

// leaderAskTimeout bounds one question to one node: a node cut off or paused
// must not hold up a fault aimed at the leader for longer than this.
const leaderAskTimeout = 2 * time.Second

// StreamLeader asks the cluster which node leads stream, through the nodes'
// client addresses (the link proxies) so that it works on every platform.
// It asks each node in turn and returns the first answer that names a
// leader: a node cut off from the leader cannot answer and is skipped.
func StreamLeader(ctx context.Context, nodes []clusters.Node, stream string) (string, error) {
	p, err := StreamPlacementOf(ctx, nodes, stream)
	return p.Leader, err
}

// StreamPlacement is where a clustered stream lives, as its leader says.
type StreamPlacement struct {
	Leader string
	// Replicas are the stream's other members, caught up or not.
	Replicas []string
}

// Members lists the nodes that hold a copy of the stream: the leader
// first, then the other replicas.
func (p StreamPlacement) Members() []string { return append([]string{p.Leader}, p.Replicas...) }

// StreamPlacementOf is StreamLeader with the stream's replicas: it asks
// each node in turn for the stream's info and returns the first answer
// that names a leader.
func StreamPlacementOf(ctx context.Context, nodes []clusters.Node, stream string) (StreamPlacement, error) {
	if len(nodes) == 0 {
		return StreamPlacement{}, fmt.Errorf("leader of stream %s: no nodes", stream)
	}
	var errs []error
	for _, n := range nodes {
		p, err := askPlacement(ctx, n, stream)
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("ask %s: %w", n.Name(), err))
		if ctx.Err() != nil {
			break
		}
	}
	return StreamPlacement{}, fmt.Errorf("leader of stream %s: %w", stream, errors.Join(errs...))
}

// askPlacement sends $JS.API.STREAM.INFO.<stream> through one node. The
// stream leader answers that request in a clustered JetStream, so the
// answer names a leader that was current a moment ago.
func askPlacement(ctx context.Context, n clusters.Node, stream string) (StreamPlacement, error) {
	ctx, cancel := context.WithTimeout(ctx, leaderAskTimeout)
	defer cancel()
	nc, err := natsgo.Connect("nats://"+n.ClientAddr(),
		natsgo.Name("riptide-leader"),
		// Never follow gossip to a node's real address: it would bypass
		// the proxies, and a partitioned node must stay partitioned.
		natsgo.IgnoreDiscoveredServers(),
		natsgo.NoReconnect(),
		natsgo.Timeout(leaderAskTimeout),
	)
	if err != nil {
		return StreamPlacement{}, err
	}
	defer nc.Close()
	msg, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO."+stream, nil)
	if err != nil {
		return StreamPlacement{}, err
	}
	var info struct {
		Cluster *struct {
			Leader   string `json:"leader"`
			Replicas []struct {
				Name string `json:"name"`
			} `json:"replicas"`
		} `json:"cluster"`
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		return StreamPlacement{}, fmt.Errorf("stream info: %w", err)
	}
	switch {
	case info.Error != nil:
		return StreamPlacement{}, fmt.Errorf("stream info: %s", info.Error.Description)
	case info.Cluster == nil || info.Cluster.Leader == "":
		return StreamPlacement{}, errors.New("stream info names no leader (an election may be under way)")
	}
	p := StreamPlacement{Leader: info.Cluster.Leader}
	for _, r := range info.Cluster.Replicas {
		p.Replicas = append(p.Replicas, r.Name)
	}
	return p, nil
}
