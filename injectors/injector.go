// Package injectors holds the faults: each kind in its own file, each an
// Injector that applies the fault and returns the Heal that undoes it, and
// the schedule that fires them on time and heals them all at the end.
package injectors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// Target is what one firing of a fault acts on.
type Target struct {
	// ID names the firing ("f1", "f2", ...); toxics carry it so that
	// overlapping faults on one link heal independently.
	ID string
	// Nodes are the node names the fault acts on. The schedule replaces
	// Leader by the current leader's name when the fault fires.
	Nodes []string
	// Details, when not nil, receives what the fault did that its
	// parameters do not say (files and offsets a bitflip changed, the nodes
	// of each side of a partition); the schedule records it with the fault.
	Details map[string]string
}

// note records a detail of one firing.
func (t Target) note(key, value string) {
	if t.Details != nil {
		t.Details[key] = value
	}
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

// Planner is an injector that can say, before it acts, what it will do that
// could outlive a crashed harness (toxics, links turned off, paused or
// killed pids). The schedule writes that to the heal journal first, so that
// `riptide clean` can undo it. Plan must not change anything.
type Planner interface {
	Plan(c clusters.Cluster, t Target) ([]Undo, error)
}

// Instant is an injector whose whole work is done when Inject returns
// (restart, disk corruption): there is nothing to hold, and its heal only
// makes sure that the nodes are running again.
type Instant interface {
	Instant()
}

// NodeFault is an injector that changes node processes (kill, stop, pause,
// restart, disk). Two of those on one node at once would undo each other's
// work, so the schedule leaves out nodes already held by another.
type NodeFault interface {
	NodeFault()
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

// pidOf is the node's pid on platforms that run nodes as local processes,
// else 0.
func pidOf(n clusters.Node) int {
	if l, ok := n.(clusters.Local); ok {
		return l.PID()
	}
	return 0
}

// ms writes a duration as Toxiproxy's whole milliseconds.
func ms(d time.Duration) int64 { return d.Milliseconds() }
