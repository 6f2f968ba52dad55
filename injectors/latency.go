package injectors

import (
	"context"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// Latency delays every byte on the chosen links by Latency ± Jitter, in
// each chosen direction, so a round trip through both grows by about twice
// Latency. With no target nodes and no links it acts on every link.
type Latency struct {
	Scope
	Latency, Jitter time.Duration
}

func (l Latency) Kind() string { return "latency" }

func (l Latency) Params() map[string]string {
	return l.params(map[string]string{"latency": l.Latency.String(), "jitter": l.Jitter.String()})
}

func (l Latency) toxic() toxicFault {
	return toxicFault{l.Scope, "latency", map[string]any{"latency": ms(l.Latency), "jitter": ms(l.Jitter)}}
}

func (l Latency) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return l.toxic().plan(c, t) }

func (l Latency) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return l.toxic().inject(c, t)
}
