package injectors

import (
	"context"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Stop asks the target nodes to shut down cleanly (SIGTERM, then SIGKILL
// after a grace period); heal starts them again. Unlike kill, the server
// may flush, hand over leadership and say goodbye to its peers: an
// operator's restart, or an orchestrator moving a pod.
type Stop struct{}

func (Stop) Kind() string              { return "stop" }
func (Stop) Params() map[string]string { return map[string]string{"signal": "SIGTERM"} }
func (Stop) NodeFault()                {}

func (Stop) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	return stoppedUndo(c, t, "stopped")
}

func (Stop) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return downNodes(ctx, c, t, "stop", stopNode)
}

// stopNode stops a node cleanly.
func stopNode(ctx context.Context, n clusters.Node) error {
	s, ok := n.(clusters.Stopper)
	if !ok {
		return fmt.Errorf("stop %s: this platform cannot stop nodes", n.Name())
	}
	return s.Stop(ctx)
}
