package injectors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// Restart stops the target nodes cleanly and starts them again, either one
// at a time (rolling, waiting for the cluster to be healthy before the next
// node, as an upgrade would) or all at once (a power cut to the rack, with
// clean shutdowns). Each node stays down for Down. It is instant: the
// schedule records its start and, once every node is back, its stop.
type Restart struct {
	// Mode is "rolling" or "all-at-once".
	Mode string
	Down time.Duration
}

// healthyTimeout bounds the wait for a healthy cluster between the nodes
// of a rolling restart; past it the restart goes on and says so.
const healthyTimeout = 30 * time.Second

func (r Restart) Kind() string { return "restart" }
func (r Restart) Params() map[string]string {
	return map[string]string{"mode": r.Mode, "down": r.Down.String()}
}
func (Restart) NodeFault() {}
func (Restart) Instant()   {}

func (r Restart) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	return stoppedUndo(c, t, "restarted")
}

func (r Restart) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	nodes := make([]clusters.Node, 0, len(t.Nodes))
	var heals []Heal
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return nil, err
		}
		k, ok := n.(clusters.Killer)
		if !ok {
			return nil, fmt.Errorf("restart %s: this platform cannot start nodes again", name)
		}
		nodes = append(nodes, n)
		heals = append(heals, once(func(ctx context.Context) error { return k.Start(ctx) }))
	}
	heal := healAll(heals)
	cycle := func(ctx context.Context, n clusters.Node) error {
		if err := stopNode(ctx, n); err != nil {
			return err
		}
		if !sleepCtx(ctx, r.Down) {
			return ctx.Err()
		}
		return n.(clusters.Killer).Start(ctx)
	}
	switch r.Mode {
	case "rolling", "":
		for i, n := range nodes {
			if err := cycle(ctx, n); err != nil {
				return heal, err
			}
			if h, ok := c.(clusters.HealthWaiter); ok && i < len(nodes)-1 {
				hctx, cancel := context.WithTimeout(ctx, healthyTimeout)
				err := h.WaitHealthy(hctx)
				cancel()
				if err != nil && ctx.Err() == nil {
					// Another fault may hold a node down: go on, and say so.
					t.note("unhealthy_after_"+n.Name(), err.Error())
				}
			}
		}
	case "all-at-once":
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for _, n := range nodes {
			wg.Go(func() {
				if err := cycle(ctx, n); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return heal, err
		}
	default:
		return nil, fmt.Errorf("restart: unknown mode %q (want rolling or all-at-once)", r.Mode)
	}
	return heal, nil
}

// sleepCtx waits for d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	return sleepUntil(ctx, time.Now().Add(d))
}
