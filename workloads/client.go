// Package workloads drives clients against a cluster and records every
// operation: generators decide what to do and when, system clients (NATS, ...)
// do it and classify the outcome.
package workloads

import (
	"context"

	"github.com/riptidechaos/riptide/history"
)

// Client performs operations against the system. Invoke receives the
// recorded invoke and returns its completion: ok, fail (the operation
// definitely did not happen) or info (it may or may not have happened). It
// never panics and never returns an invoke.
type Client interface {
	Invoke(ctx context.Context, op history.Op) history.Op
	Close() error
}

// Queue opens the clients of a queue workload on one system.
type Queue interface {
	// Setup creates the stream (and whatever else the workload needs).
	Setup(ctx context.Context) error
	// Producer returns a client for Send operations of worker w.
	Producer(w int) (Client, error)
	// Consumer returns a client for Poll operations of worker w, reading
	// the stream as a shared queue.
	Consumer(w int) (Client, error)
	// Drainer returns a client that reads the stream from its start.
	Drainer() (Drainer, error)
}

// Drainer reads a whole stream after the faults.
type Drainer interface {
	// Invoke performs Poll operations, each returning the next batch.
	Client
	// Last is the stream's last offset as the drain starts: the drain is
	// complete once it has read that far.
	Last(ctx context.Context) (int64, error)
}

// complete fills the completion of inv.
func complete(inv history.Op, t history.Type) history.Op {
	out := inv
	out.Type = t
	return out
}

// OK, Fail and Info build the completion of an invoke.
func OK(inv history.Op) history.Op { return complete(inv, history.OK) }
func Fail(inv history.Op, err error) history.Op {
	out := complete(inv, history.Fail)
	out.Error = err.Error()
	return out
}
func Info(inv history.Op, err error) history.Op {
	out := complete(inv, history.Info)
	out.Error = err.Error()
	return out
}
