package injectors

import (
	"context"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Pause freezes the target nodes (SIGSTOP to the process group on the
// process platform, the cgroup freezer on docker); heal thaws them. It has
// no parameters to record: the mechanism is the platform's. A paused server keeps its sockets open and answers
// nothing: a long garbage-collection pause, a hung disk or a VM migration.
// When it wakes it may still believe it leads, which is what Jepsen's
// pause nemesis looks for.
type Pause struct{}

func (Pause) Kind() string              { return "pause" }
func (Pause) Params() map[string]string { return nil }
func (Pause) NodeFault()                {}

func (Pause) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	var out []Undo
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Undo{Action: UndoPause, Node: name, PID: pidOf(n)})
	}
	return out, nil
}

func (Pause) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	var heals []Heal
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return healAll(heals), err
		}
		p, ok := n.(clusters.Pauser)
		if !ok {
			return healAll(heals), fmt.Errorf("pause %s: this platform cannot pause nodes", name)
		}
		heals = append(heals, once(p.Resume))
		if err := p.Pause(ctx); err != nil {
			return healAll(heals), err
		}
	}
	return healAll(heals), nil
}
