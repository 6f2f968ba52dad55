package injectors

import (
	"context"
	"strconv"

	"github.com/riptidechaos/riptide/clusters"
)

// Bandwidth limits the chosen links to Rate KB/s in each chosen direction:
// a congested or far-away link, where big batches and catch-up traffic
// take seconds rather than milliseconds.
type Bandwidth struct {
	Scope
	// Rate is in KB per second, as Toxiproxy counts.
	Rate int64
}

func (b Bandwidth) Kind() string { return "bandwidth" }

func (b Bandwidth) Params() map[string]string {
	return b.params(map[string]string{"bandwidth": strconv.FormatInt(b.Rate, 10) + "KB/s"})
}

func (b Bandwidth) toxic() toxicFault {
	return toxicFault{b.Scope, "bandwidth", map[string]any{"rate": b.Rate}}
}

func (b Bandwidth) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return b.toxic().plan(c, t) }

func (b Bandwidth) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return b.toxic().inject(c, t)
}
