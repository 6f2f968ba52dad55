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
	if len(nodes) == 0 {
		return "", fmt.Errorf("leader of stream %s: no nodes", stream)
	}
	var errs []error
	for _, n := range nodes {
		leader, err := askLeader(ctx, n, stream)
		if err == nil {
			return leader, nil
		}
		errs = append(errs, fmt.Errorf("ask %s: %w", n.Name(), err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("leader of stream %s: %w", stream, errors.Join(errs...))
}

// askLeader sends $JS.API.STREAM.INFO.<stream> through one node. The stream
// leader answers that request in a clustered JetStream, so the answer names
// a leader that was current a moment ago.
func askLeader(ctx context.Context, n clusters.Node, stream string) (string, error) {
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
		return "", err
	}
	defer nc.Close()
	msg, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO."+stream, nil)
	if err != nil {
		return "", err
	}
	var info struct {
		Cluster *struct {
			Leader string `json:"leader"`
		} `json:"cluster"`
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		return "", fmt.Errorf("stream info: %w", err)
	}
	switch {
	case info.Error != nil:
		return "", fmt.Errorf("stream info: %s", info.Error.Description)
	case info.Cluster == nil || info.Cluster.Leader == "":
		return "", errors.New("stream info names no leader (an election may be under way)")
	}
	return info.Cluster.Leader, nil
}
