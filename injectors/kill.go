package injectors

import (
	"context"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Kill sends SIGKILL to the target nodes; heal starts them again on the same
// data. It is the crash of a machine whose disk survives: whatever the
// server acknowledged without syncing to disk is at risk.
type Kill struct{}

func (Kill) Kind() string              { return "kill" }
func (Kill) Params() map[string]string { return map[string]string{"signal": "SIGKILL"} }
func (Kill) NodeFault()                {}

func (Kill) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	return stoppedUndo(c, t, "killed")
}

func (Kill) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return downNodes(ctx, c, t, "kill", func(ctx context.Context, n clusters.Node) error {
		k, ok := n.(clusters.Killer)
		if !ok {
			return fmt.Errorf("kill %s: this platform cannot kill nodes", n.Name())
		}
		return k.Kill(ctx)
	})
}

// stoppedUndo journals the nodes a fault takes down, with their pids.
func stoppedUndo(c clusters.Cluster, t Target, note string) ([]Undo, error) {
	var out []Undo
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Undo{Action: UndoStopped, Node: name, PID: pidOf(n), Note: note})
	}
	return out, nil
}

// downNodes takes every target node down with stop and returns the heal
// that starts them again. The restart is registered before the node goes
// down: a fault that fails half way still leaves every node to start.
func downNodes(ctx context.Context, c clusters.Cluster, t Target, what string, stop func(context.Context, clusters.Node) error) (Heal, error) {
	var heals []Heal
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return healAll(heals), err
		}
		k, ok := n.(clusters.Killer)
		if !ok {
			return healAll(heals), fmt.Errorf("%s %s: this platform cannot start nodes again", what, name)
		}
		heals = append(heals, once(func(ctx context.Context) error { return k.Start(ctx) }))
		if err := stop(ctx, n); err != nil {
			return healAll(heals), err
		}
	}
	return healAll(heals), nil
}
