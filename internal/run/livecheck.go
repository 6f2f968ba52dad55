package run

import (
	"context"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// liveKinds are the anomalies a partial history can already prove: the
// others (lost, unseen, nonlinearizable, ...) need the drain or the whole
// history before they mean anything.
var liveKinds = []checkers.Kind{
	checkers.Unexpected, checkers.Duplicate, checkers.InconsistentOffset,
	checkers.AbortedRead, checkers.NonmonotonicSend,
}

// liveCheck counts anomalies in the history written so far, every so often
// and in the background, so that the status line can say "anomalies 3"
// long before the run ends. It reads the file the recorder flushes rather
// than holding the history in memory twice.
type liveCheck struct {
	path  string
	every time.Duration

	mu      sync.Mutex
	found   int
	last    time.Time
	running bool
	wg      sync.WaitGroup
}

func newLiveCheck(path string, every time.Duration) *liveCheck {
	return &liveCheck{path: path, every: every, found: -1, last: time.Now()}
}

// poll returns the latest count (-1 before the first check) and starts a
// new check when one is due and none is running.
func (l *liveCheck) poll(ctx context.Context) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running && time.Since(l.last) >= l.every {
		l.running = true
		l.wg.Go(func() {
			n := countLive(ctx, l.path)
			l.mu.Lock()
			defer l.mu.Unlock()
			if n >= 0 {
				l.found = n
			}
			l.last, l.running = time.Now(), false
		})
	}
	return l.found
}

// stop waits for a check in progress.
func (l *liveCheck) stop() { l.wg.Wait() }

// countLive checks the history at path as it stands; -1 if it cannot.
func countLive(ctx context.Context, path string) int {
	h, _, err := history.ReadFile(path)
	if err != nil {
		return -1
	}
	res := checkers.Safe(ctx, checkers.Queue{}, h)
	if res.Error != "" {
		return -1
	}
	n := 0
	for _, k := range liveKinds {
		n += res.Count(k)
	}
	return n
}
