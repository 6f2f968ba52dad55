package injectors

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/riptidechaos/riptide/clusters"
)

// Bitflip flips Flips random bits in every file matching Files in each
// target node's data directory, with the node down: silent corruption
// that a checksum should catch and a replica should repair.
type Bitflip struct {
	Files string
	Flips int
	Seed  uint64
	// Graceful shuts the node down cleanly (SIGTERM) instead of killing it.
	Graceful bool
}

func (b Bitflip) Kind() string { return "bitflip" }
func (b Bitflip) Params() map[string]string {
	return map[string]string{"files": b.Files, "flips": strconv.Itoa(b.Flips), "stop": stopWord(b.Graceful)}
}
func (Bitflip) NodeFault() {}
func (Bitflip) Instant()   {}

func (b Bitflip) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return diskUndo(c, t, b.Files) }

func (b Bitflip) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return corrupt(ctx, c, t, "bitflip", b.Files, b.Seed, b.Graceful, b.flip)
}

// flip flips b.Flips bits of one file and lists them as offset^bit.
func (b Bitflip) flip(rng *rand.Rand, path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return "", err
	}
	var flips []string
	buf := make([]byte, 1)
	for range b.Flips {
		off, bit := rng.Int64N(st.Size()), rng.IntN(8)
		if _, err := f.ReadAt(buf, off); err != nil {
			return "", fmt.Errorf("bitflip %s: %w", path, err)
		}
		buf[0] ^= 1 << bit
		if _, err := f.WriteAt(buf, off); err != nil {
			return "", fmt.Errorf("bitflip %s: %w", path, err)
		}
		flips = append(flips, fmt.Sprintf("%d^%d", off, bit))
	}
	return "@" + strings.Join(flips, ","), f.Close()
}
