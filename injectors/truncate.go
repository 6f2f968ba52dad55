package injectors

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/riptidechaos/riptide/clusters"
)

// Truncate cuts Bytes bytes off the end of every file matching Files in
// each target node's data directory, with the node down: a torn write, or
// a file system that lost the tail of a file in a crash.
type Truncate struct {
	Files string
	Bytes int64
	// Graceful shuts the node down cleanly (SIGTERM) instead of killing it.
	Graceful bool
}

func (tr Truncate) Kind() string { return "truncate" }
func (tr Truncate) Params() map[string]string {
	return map[string]string{"files": tr.Files, "bytes": strconv.FormatInt(tr.Bytes, 10), "stop": stopWord(tr.Graceful)}
}
func (Truncate) NodeFault() {}
func (Truncate) Instant()   {}

func (tr Truncate) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	return diskUndo(c, t, tr.Files)
}

func (tr Truncate) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return corrupt(ctx, c, t, "truncate", tr.Files, 0, tr.Graceful, tr.cut)
}

// cut shortens one file and says from what size to what size.
func (tr Truncate) cut(_ *rand.Rand, path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		return "", err
	}
	size := max(st.Size()-tr.Bytes, 0)
	if err := os.Truncate(path, size); err != nil {
		return "", fmt.Errorf("truncate %s: %w", path, err)
	}
	return fmt.Sprintf("%d->%d", st.Size(), size), nil
}
