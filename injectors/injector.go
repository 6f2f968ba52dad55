// Package injectors holds the faults: each kind in its own file, each an
// Injector that applies the fault and returns the Heal that undoes it, and
// the schedule that fires them on time and heals them all at the end.
package injectors

import (
	"context"
	"fmt"
	"sync"

	"github.com/riptidechaos/riptide/clusters"
)

// Target is what one firing of a fault acts on.
type Target struct {
	// ID names the firing ("f1", "f2", ...); toxics carry it so that
	// overlapping faults on one link heal independently.
	ID string
	// Nodes are the node names the fault acts on.
	Nodes []string
}

// Heal undoes a fault. It must be safe to call more than once.
type Heal func(ctx context.Context) error

// Injector applies one kind of fault.
type Injector interface {
	// Kind is the fault's name in scenarios ("kill", "partition", ...).
	Kind() string
	// Params describe the fault's settings for the history and the report.
	Params() map[string]string
	// Inject applies the fault to t and returns how to heal it. On error,
	// whatever part was applied is healed by the returned Heal (non-nil).
	Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error)
}

// once makes a heal idempotent.
func once(h Heal) Heal {
	var (
		mu   sync.Mutex
		done bool
		err  error
	)
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return err
		}
		err = h(ctx)
		done = err == nil
		return err
	}
}

// healAll runs every heal, returning the first error.
func healAll(heals []Heal) Heal {
	return func(ctx context.Context) error {
		var first error
		for i := len(heals) - 1; i >= 0; i-- {
			if err := heals[i](ctx); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}

// node looks a target node up.
func node(c clusters.Cluster, name string) (clusters.Node, error) {
	n, ok := clusters.FindNode(c, name)
	if !ok {
		return nil, fmt.Errorf("no node %q in the cluster", name)
	}
	return n, nil
}
