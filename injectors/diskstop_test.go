package injectors

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
)

// stoppableNode records how a disk fault took it down.
type stoppableNode struct {
	diskNode
	downs *[]string
}

func (n stoppableNode) Kill(context.Context) error { *n.downs = append(*n.downs, "kill"); return nil }
func (n stoppableNode) Stop(context.Context) error { *n.downs = append(*n.downs, "stop"); return nil }

func TestDiskFaultsGoDownTheWayAsked(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(data, "1.blk"), make([]byte, 4096), 0o644))
	var downs []string
	c := diskCluster{nodes: []clusters.Node{stoppableNode{diskNode{name: "n1", dir: data}, &downs}}}
	for _, f := range []Injector{
		Bitflip{Files: "*.blk", Flips: 1, Seed: 1},
		Bitflip{Files: "*.blk", Flips: 1, Seed: 1, Graceful: true},
		Truncate{Files: "*.blk", Bytes: 1, Graceful: true},
		Truncate{Files: "*.blk", Bytes: 1},
	} {
		_, err := f.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}, Details: map[string]string{}})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"kill", "stop", "stop", "kill"}, downs)
	require.Equal(t, "graceful", Truncate{Graceful: true}.Params()["stop"])

	// A platform that cannot stop a node cleanly says so instead of
	// crashing it behind the scenario's back.
	plain := diskCluster{nodes: []clusters.Node{diskNode{name: "n1", dir: data}}}
	_, err := Bitflip{Files: "*.blk", Flips: 1, Graceful: true}.Inject(context.Background(), plain,
		Target{ID: "f2", Nodes: []string{"n1"}, Details: map[string]string{}})
	require.ErrorContains(t, err, "cannot stop nodes cleanly")
}
