package injectors

import (
	"context"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// ResetPeer resets connections on the chosen links with a TCP RST, Delay
// after data first flows on them, for as long as the fault holds: new
// connections are reset too. It is a crashing middlebox or a peer that
// dies mid-request, where a partition is a cable pulled out.
type ResetPeer struct {
	Scope
	Delay time.Duration
}

func (r ResetPeer) Kind() string { return "reset-peer" }

func (r ResetPeer) Params() map[string]string {
	return r.params(map[string]string{"delay": r.Delay.String()})
}

func (r ResetPeer) toxic() toxicFault {
	return toxicFault{r.Scope, "reset_peer", map[string]any{"timeout": ms(r.Delay)}}
}

func (r ResetPeer) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return r.toxic().plan(c, t) }

func (r ResetPeer) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return r.toxic().inject(c, t)
}
