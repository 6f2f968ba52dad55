package injectors

import (
	"context"
	"strconv"

	"github.com/riptidechaos/riptide/clusters"
)

// LimitData closes each connection on the chosen links once Bytes bytes
// have passed in a chosen direction, new connections included: a
// connection that dies part way through a large message or a catch-up.
type LimitData struct {
	Scope
	Bytes int64
}

func (l LimitData) Kind() string { return "limit-data" }

func (l LimitData) Params() map[string]string {
	return l.params(map[string]string{"bytes": strconv.FormatInt(l.Bytes, 10)})
}

func (l LimitData) toxic() toxicFault {
	return toxicFault{l.Scope, "limit_data", map[string]any{"bytes": l.Bytes}}
}

func (l LimitData) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return l.toxic().plan(c, t) }

func (l LimitData) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return l.toxic().inject(c, t)
}
