package injectors

import (
	"context"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// Latency delays every byte on the target links by Latency ± Jitter, in each
// direction, so a round trip grows by about twice Latency. With no target
// nodes it acts on every link, clients' included.
type Latency struct {
	Latency, Jitter time.Duration
}

func (l Latency) Kind() string { return "latency" }

func (l Latency) Params() map[string]string {
	return map[string]string{"latency": l.Latency.String(), "jitter": l.Jitter.String()}
}

func (l Latency) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	links := c.Net().Links()
	if len(t.Nodes) > 0 {
		links = nil
		for _, name := range t.Nodes {
			if _, err := node(c, name); err != nil {
				return nil, err
			}
			links = append(links, c.Net().Touching(name, true)...)
		}
	}
	attrs := map[string]any{"latency": l.Latency.Milliseconds(), "jitter": l.Jitter.Milliseconds()}
	return addToxics(links, t.ID, "latency", attrs, bothWays...)
}
