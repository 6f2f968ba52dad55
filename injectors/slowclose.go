package injectors

import (
	"context"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// SlowClose delays the close of connections on the chosen links by Delay:
// the peer has gone but the socket lingers, which is when clients and
// servers that wait for a close instead of a timeout hang.
type SlowClose struct {
	Scope
	Delay time.Duration
}

func (s SlowClose) Kind() string { return "slow-close" }

func (s SlowClose) Params() map[string]string {
	return s.params(map[string]string{"delay": s.Delay.String()})
}

func (s SlowClose) toxic() toxicFault {
	return toxicFault{s.Scope, "slow_close", map[string]any{"delay": ms(s.Delay)}}
}

func (s SlowClose) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return s.toxic().plan(c, t) }

func (s SlowClose) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return s.toxic().inject(c, t)
}
