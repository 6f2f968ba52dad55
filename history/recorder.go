package history

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// FlushInterval bounds what a harness killed with SIGKILL can lose of its
// history: at most the operations of the last interval.
const FlushInterval = 100 * time.Millisecond

// Recorder appends operations to a JSONL file as the run goes. It stamps each
// operation with its index and its time since the start of the run, and keeps
// one operation in flight per process, as checkers assume.
type Recorder struct {
	mu      sync.Mutex
	start   time.Time
	f       *os.File
	w       *bufio.Writer
	buf     []byte
	next    int64
	open    map[int]bool // processes with an invoke and no completion yet
	err     error
	done    chan struct{}
	stopped chan struct{}
	counts  Counts
	closed  bool
	observe []func(Op)
}

var errClosed = errors.New("history recorder is closed")

// Counts are running totals, cheap to read while the run goes (progress line).
type Counts struct {
	Ops    int64
	Acked  int64 // ok sends
	Failed int64 // fail or info sends
	Reads  int64 // messages returned by ok polls and drains
}

// Create opens path (truncating it) and starts the periodic flush. start is
// the run's time zero; Time of each recorded op is measured from it.
func Create(path string, start time.Time) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	r := &Recorder{
		start:   start,
		f:       f,
		w:       bufio.NewWriterSize(f, 256<<10),
		open:    make(map[int]bool),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go r.flushLoop()
	return r, nil
}

// Start is the run's time zero.
func (r *Recorder) Start() time.Time { return r.start }

// Since is the current run time.
func (r *Recorder) Since() time.Duration { return time.Since(r.start) }

func (r *Recorder) flushLoop() {
	defer close(r.stopped)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.mu.Lock()
			if r.err == nil {
				r.err = r.w.Flush()
			}
			r.mu.Unlock()
		}
	}
}

// Record stamps op with its index and time, writes it and returns it.
// An invoke for a process that already has one in flight, or a completion
// without an invoke, is a bug in the caller and is returned as an error
// (the op is still written, so the checker sees what happened).
func (r *Recorder) Record(op Op) (Op, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Index = r.next
	r.next++
	op.Time = time.Since(r.start)
	var bug error
	if op.Process != NemesisProcess {
		switch {
		case op.Type == Invoke && r.open[op.Process]:
			bug = fmt.Errorf("process %d invoked %s with an operation in flight", op.Process, op.F)
		case op.Type == Invoke:
			r.open[op.Process] = true
		case !r.open[op.Process]:
			bug = fmt.Errorf("process %d completed %s without an invoke", op.Process, op.F)
		default:
			delete(r.open, op.Process)
		}
	}
	if r.closed {
		return op, errClosed
	}
	r.count(op)
	for _, f := range r.observe {
		f(op)
	}
	if r.err == nil {
		r.buf = AppendJSON(r.buf[:0], op)
		_, r.err = r.w.Write(r.buf)
	}
	if bug != nil {
		return op, bug
	}
	return op, r.err
}

func (r *Recorder) count(op Op) {
	r.counts.Ops++
	switch {
	case op.F == Send && op.Type == OK:
		r.counts.Acked++
	case op.F == Send && (op.Type == Fail || op.Type == Info):
		r.counts.Failed++
	case op.Type == OK:
		r.counts.Reads += int64(len(op.Reads))
	}
}

// Observe calls f with every operation as it is recorded, stamped, in the
// recorded order (under the recorder's lock: f must be quick and must not
// record). It is how live metrics follow the run.
func (r *Recorder) Observe(f func(Op)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe = append(r.observe, f)
}

// Counts returns the running totals.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// InFlight lists processes with an operation still open.
func (r *Recorder) InFlight() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := make([]int, 0, len(r.open))
	for p := range r.open {
		ps = append(ps, p)
	}
	return ps
}

// Close flushes and syncs the file. It is safe to call more than once.
func (r *Recorder) Close() error {
	r.mu.Lock()
	select {
	case <-r.done:
		r.mu.Unlock()
		return r.err
	default:
	}
	close(r.done)
	r.closed = true
	r.mu.Unlock()
	<-r.stopped

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.w.Flush()
	}
	if err := r.f.Sync(); r.err == nil {
		r.err = err
	}
	if err := r.f.Close(); r.err == nil {
		r.err = err
	}
	return r.err
}
