package nats

import (
	"context"
	"fmt"
	"net/url"
)

// StreamState is one node's copy of a stream, as its monitoring endpoint
// reports it: after a heal, every replica converges to the same state.
type StreamState struct {
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// StreamState reads the node's own replica of stream from /jsz. It does not
// go through the link proxies: it asks the node what is on its disk, which
// is the point when comparing replicas. Process and docker nodes alike.
func (m monitor) StreamState(ctx context.Context, stream string) (StreamState, error) {
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name  string      `json:"name"`
				State StreamState `json:"state"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	q := url.Values{"accounts": {"true"}, "streams": {"true"}}
	if err := m.getJSON(ctx, "/jsz?"+q.Encode(), &jsz); err != nil {
		return StreamState{}, fmt.Errorf("stream %s on %s: %w", stream, m.name, err)
	}
	for _, a := range jsz.Accounts {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.State, nil
			}
		}
	}
	return StreamState{}, fmt.Errorf("stream %s on %s: no replica", stream, m.name)
}
