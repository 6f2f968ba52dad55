package workloads

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// NodeReading is a Queue that can read each node's own copy of its stream.
// The final drain reads through whichever node serves it (in effect the
// leader's copy); the per-node reads after it catch a replica that lost or
// diverged in data while the leader's copy is complete (lost-on-node in
// docs/checkers.md).
type NodeReading interface {
	// NodeNames lists the nodes that hold a copy of the stream, in the
	// cluster's order.
	NodeNames(ctx context.Context) []string
	// NodeReader opens a reader of node's copy of the stream.
	NodeReader(node string) (NodeReader, error)
}

// NodeReader reads one node's own copy of the stream from its start.
type NodeReader interface {
	// Invoke performs ReadNode operations, each returning the next batch
	// of the node's log in offset order.
	Client
	// Settle waits until the node's copy holds the stream's last offset,
	// so that a replica still catching up after the heal is not taken for
	// one that lost data. It returns the node's last offset (also with an
	// error, when the node could say).
	Settle(ctx context.Context) (int64, error)
	// Bind makes every later read come from the node's own copy and from
	// nothing else, until release. Release undoes what Bind did even when
	// its context has ended; the context only bounds waiting for the
	// cluster to be whole again.
	Bind(ctx context.Context) (release func(context.Context) error, err error)
	// Done reports whether the reads have reached the end of the node's
	// log; a non-nil error says why reading cannot go on.
	Done() (bool, error)
}

// NodeReadOptions shape the per-node reads.
type NodeReadOptions struct {
	// NoSettle reads each copy as it is, without waiting for it to catch
	// up: a lagging replica is then judged as having lost what it lacks.
	// Tests use it to read a replica they hold back on purpose.
	NoSettle bool
}

// NodeReadResult says how far the per-node read of one node got.
type NodeReadResult struct {
	Node string
	// Complete: the read reached the end of the node's settled copy, and
	// the drain-node op is ok.
	Complete bool
	// Last is the node's last offset, Reached the highest offset read.
	Last, Reached int64
	Reads         int
	// Why says what cut the read short, when it is not complete.
	Why string
}

// ReadNodes reads every copy of the stream, one node after the other,
// after the drain: the nodes NodeNames lists. Each node gets an equal share of what is left of
// ctx's deadline: up to half of it to settle, the rest to read. Reads are
// recorded as ReadNode ops of process cfg.NodeWorker(i), closed by a
// DrainNode op: ok with the node's last offset when the copy had settled
// and the reader reached its end, info otherwise (not judged for
// lost-on-node). A queue that cannot read per node records nothing. The
// error is a recording error or a Bind that could not be undone: the
// harness's problem, not the system's.
func ReadNodes(ctx context.Context, q Queue, cfg QueueConfig, rec *history.Recorder, opts NodeReadOptions) ([]NodeReadResult, error) {
	nq, ok := q.(NodeReading)
	if !ok {
		return nil, nil
	}
	names := nq.NodeNames(ctx)
	if cfg.Nodes < len(names) {
		return nil, fmt.Errorf("per-node reads: the workload has %d node readers for %d nodes", cfg.Nodes, len(names))
	}
	var (
		out  []NodeReadResult
		errs []error
	)
	for i, name := range names {
		nctx, cancel := within(ctx, 1/float64(len(names)-i))
		res, err := readNode(nctx, nq, name, cfg.NodeWorker(i), cfg, rec, opts)
		cancel()
		out = append(out, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("per-node read of %s: %w", name, err))
		}
	}
	return out, errors.Join(errs...)
}

// readNode settles, binds, reads and releases one node and records its
// DrainNode op.
func readNode(ctx context.Context, nq NodeReading, name string, process int, cfg QueueConfig, rec *history.Recorder, opts NodeReadOptions) (NodeReadResult, error) {
	res := NodeReadResult{Node: name, Last: history.NoOffset}
	var (
		why     []string
		harness error
	)
	nr, err := nq.NodeReader(name)
	if err != nil {
		why = append(why, err.Error())
	} else {
		defer nr.Close()
		if !opts.NoSettle {
			sctx, cancel := within(ctx, 0.5)
			res.Last, err = nr.Settle(sctx)
			cancel()
			if err != nil {
				why = append(why, err.Error())
			}
		}
		var release func(context.Context) error
		if release, err = nr.Bind(ctx); err != nil {
			why = append(why, err.Error())
		} else {
			var rerr error
			process, rerr = readUntilDone(ctx, nr, name, process, cfg, rec, &res)
			if rerr != nil {
				why = append(why, rerr.Error())
			}
			harness = release(ctx)
			var recErr recordError
			if errors.As(rerr, &recErr) {
				return res, errors.Join(recErr.err, harness)
			}
		}
	}
	res.Complete = len(why) == 0
	end := history.Op{Process: process, Type: history.Invoke, F: history.DrainNode,
		Stream: cfg.Stream, Node: name, Offset: history.NoOffset}
	inv, err := rec.Record(end)
	if err != nil {
		return res, errors.Join(err, harness)
	}
	out := OK(inv)
	out.Offset = max(res.Last, res.Reached)
	if !res.Complete {
		res.Why = fmt.Sprintf("per-node read of %s incomplete (read up to offset %d): %s", name, res.Reached, strings.Join(why, "; "))
		out = Info(inv, errors.New(res.Why))
		out.Offset = res.Reached
	}
	_, err = rec.Record(out)
	return res, errors.Join(err, harness)
}

// recordError marks a failure to record, which ends the read at once.
type recordError struct{ err error }

func (e recordError) Error() string { return e.err.Error() }

// readUntilDone performs ReadNode ops until the reader reaches the end of
// the node's log, cannot go on, or ctx ends. It returns the process id to
// record the DrainNode op with, and why the read is not done.
func readUntilDone(ctx context.Context, nr NodeReader, name string, process int, cfg QueueConfig, rec *history.Recorder, res *NodeReadResult) (int, error) {
	var last error
	for {
		done, stuck := nr.Done()
		switch {
		case stuck != nil:
			return process, stuck
		case done:
			return process, nil
		case ctx.Err() != nil:
			if last != nil {
				return process, fmt.Errorf("out of time: %w", last)
			}
			return process, errors.New("out of time")
		}
		op := history.Op{Process: process, Type: history.Invoke, F: history.ReadNode,
			Stream: cfg.Stream, Node: name, Offset: history.NoOffset}
		out, p, err := invoke(ctx, rec, nr, op, cfg.workers())
		if err != nil {
			return process, recordError{err}
		}
		process = p
		for _, rd := range out.Reads {
			res.Reached = max(res.Reached, rd.Offset)
			res.Reads++
		}
		if out.Type != history.OK {
			last = errors.New(out.Error)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// within returns a context that ends once frac of the time left before
// ctx's deadline has passed (or with ctx, when it has no deadline).
func within(ctx context.Context, frac float64) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Duration(float64(time.Until(deadline))*frac))
}
