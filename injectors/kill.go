package injectors

import (
	"context"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Kill sends SIGKILL to the target nodes; heal starts them again on the same
// data. It is the crash of a machine whose disk survives.
type Kill struct{}

func (Kill) Kind() string              { return "kill" }
func (Kill) Params() map[string]string { return nil }

func (Kill) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	var heals []Heal
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return healAll(heals), err
		}
		k, ok := n.(clusters.Killer)
		if !ok {
			return healAll(heals), fmt.Errorf("kill %s: this platform cannot kill nodes", name)
		}
		// Register the restart before the kill: a kill that fails half way
		// still leaves a node to start.
		heals = append(heals, once(func(ctx context.Context) error { return k.Start(ctx) }))
		if err := k.Kill(ctx); err != nil {
			return healAll(heals), err
		}
	}
	return healAll(heals), nil
}
