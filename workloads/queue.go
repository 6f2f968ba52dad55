package workloads

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// QueueConfig shapes the queue workload.
type QueueConfig struct {
	Stream    string
	Producers int
	Consumers int
	// Rate is the target of sends per second over all producers.
	Rate float64
	// Nodes is the number of per-node readers (ReadNodes): one per node.
	Nodes int
}

// workers is the number of client workers; process ids are worker +
// k*workers: a worker whose operation ended in info takes a new process id,
// because that operation may still be in flight (as in Jepsen).
func (c QueueConfig) workers() int { return c.Producers + c.Consumers + 1 + c.Nodes }

// DrainWorker is the worker id of the final drain.
func (c QueueConfig) DrainWorker() int { return c.Producers + c.Consumers }

// NodeWorker is the worker id of the per-node reader of the i-th node.
func (c QueueConfig) NodeWorker(i int) int { return c.Producers + c.Consumers + 1 + i }

// QueueRun is a started queue workload: its clients are open and it runs
// until the context of Run ends.
type QueueRun struct {
	cfg       QueueConfig
	producers []Client
	consumers []Client
}

// OpenQueue opens every client, so that the main phase starts with all of
// them connected.
func OpenQueue(q Queue, cfg QueueConfig) (*QueueRun, error) {
	r := &QueueRun{cfg: cfg}
	for w := range cfg.Producers {
		c, err := q.Producer(w)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("open producer %d: %w", w, err)
		}
		r.producers = append(r.producers, c)
	}
	for i := range cfg.Consumers {
		c, err := q.Consumer(cfg.Producers + i)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("open consumer %d: %w", i, err)
		}
		r.consumers = append(r.consumers, c)
	}
	return r, nil
}

// Close closes every client.
func (r *QueueRun) Close() {
	for _, c := range append(r.producers, r.consumers...) {
		_ = c.Close()
	}
}

// Run drives producers and consumers until ctx ends, recording into rec. It
// returns the first recording error (a bug), after every worker has stopped.
// A worker that panics stops the others at once and its panic comes back
// as the error: a panic here must not take the harness down before it
// heals, drains and reports.
func (r *QueueRun) Run(ctx context.Context, rec *history.Recorder) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if first == nil {
			first = err
		}
	}
	worker := func(who string, work func() error) func() {
		return func() {
			defer func() {
				if p := recover(); p != nil {
					fail(fmt.Errorf("%s panicked: %v\n%s", who, p, debug.Stack()))
					cancel()
				}
			}()
			if err := work(); err != nil {
				fail(err)
			}
		}
	}
	interval := time.Duration(float64(time.Second) * float64(r.cfg.Producers) / r.cfg.Rate)
	for w, c := range r.producers {
		wg.Go(worker(fmt.Sprintf("producer %d", w), func() error { return r.produce(ctx, rec, w, c, interval) }))
	}
	for i, c := range r.consumers {
		wg.Go(worker(fmt.Sprintf("consumer %d", i), func() error { return r.consume(ctx, rec, r.cfg.Producers+i, c) }))
	}
	wg.Wait()
	return first
}

// invoke records op's invoke, performs it and records the completion.
// It returns the completion and the process id to use next.
func invoke(ctx context.Context, rec *history.Recorder, c Client, op history.Op, workers int) (history.Op, int, error) {
	inv, err := rec.Record(op)
	if err != nil {
		return inv, op.Process, err
	}
	done := c.Invoke(ctx, inv)
	if done.Type == history.Invoke || done.Type == 0 {
		done = Info(inv, errors.New("client returned no outcome"))
	}
	done, err = rec.Record(done)
	next := op.Process
	if done.Type == history.Info {
		next += workers
	}
	return done, next, err
}

func (r *QueueRun) produce(ctx context.Context, rec *history.Recorder, w int, c Client, interval time.Duration) error {
	process := w
	next := time.Now()
	prefix := strconv.Itoa(w) + "-"
	for n := 1; ; n++ {
		if wait := time.Until(next); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		// Pace to the rate without bursting to catch up after a stall.
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		op := history.Op{Process: process, Type: history.Invoke, F: history.Send,
			Stream: r.cfg.Stream, Value: prefix + strconv.Itoa(n), Offset: history.NoOffset}
		var err error
		if _, process, err = invoke(ctx, rec, c, op, r.cfg.workers()); err != nil {
			return err
		}
	}
}

func (r *QueueRun) consume(ctx context.Context, rec *history.Recorder, w int, c Client) error {
	process := w
	for ctx.Err() == nil {
		op := history.Op{Process: process, Type: history.Invoke, F: history.Poll,
			Stream: r.cfg.Stream, Offset: history.NoOffset}
		done, p, err := invoke(ctx, rec, c, op, r.cfg.workers())
		if err != nil {
			return err
		}
		process = p
		if done.Type != history.OK {
			// Do not spin while the cluster is unreachable.
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// DrainResult says how far the final drain got.
type DrainResult struct {
	Complete bool
	// Last is the offset the drain had to reach, Reached how far it got.
	Last, Reached int64
	Reads         int
}

// Drain reads the stream from its start until it has read the last offset
// the stream reports, or ctx ends. It records every batch as a poll and
// closes with a drain operation: ok when complete, info when cut short.
func Drain(ctx context.Context, q Queue, cfg QueueConfig, rec *history.Recorder) (DrainResult, error) {
	var res DrainResult
	d, err := q.Drainer()
	if err != nil {
		return res, err
	}
	defer d.Close()
	process := cfg.DrainWorker()
	var lastErr error
	known := false
	for ctx.Err() == nil && !known {
		if res.Last, lastErr = d.Last(ctx); lastErr == nil {
			known = true
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	for known && res.Reached < res.Last && ctx.Err() == nil {
		op := history.Op{Process: process, Type: history.Invoke, F: history.Poll,
			Stream: cfg.Stream, Offset: history.NoOffset}
		done, p, err := invoke(ctx, rec, d, op, cfg.workers())
		if err != nil {
			return res, err
		}
		process = p
		for _, rd := range done.Reads {
			res.Reached = max(res.Reached, rd.Offset)
			res.Reads++
		}
		if done.Type != history.OK {
			lastErr = errors.New(done.Error)
		}
	}
	res.Complete = known && res.Reached >= res.Last
	end := history.Op{Process: process, Type: history.Invoke, F: history.Drain,
		Stream: cfg.Stream, Offset: history.NoOffset}
	inv, err := rec.Record(end)
	if err != nil {
		return res, err
	}
	out := OK(inv)
	out.Offset = res.Last
	if !res.Complete {
		why := fmt.Sprintf("drain cut short at offset %d of %d", res.Reached, res.Last)
		if !known {
			why = "drain could not learn the stream's last offset"
		}
		if lastErr != nil {
			why += ": " + lastErr.Error()
		}
		out = Info(inv, errors.New(why))
		out.Offset = res.Reached
	}
	_, err = rec.Record(out)
	return res, err
}
