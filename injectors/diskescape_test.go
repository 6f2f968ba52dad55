package injectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
)

// diskNode is a node with a data directory and nothing running: what the
// disk faults need of a platform.
type diskNode struct{ name, dir string }

func (n diskNode) Name() string                    { return n.name }
func (n diskNode) ClientAddr() string              { return "127.0.0.1:1" }
func (n diskNode) DataDir() string                 { return n.dir }
func (n diskNode) Kill(ctx context.Context) error  { return nil }
func (n diskNode) Start(ctx context.Context) error { return nil }

type diskCluster struct{ nodes []clusters.Node }

func (c diskCluster) Nodes() []clusters.Node          { return c.nodes }
func (c diskCluster) Net() *clusters.Net              { return nil }
func (c diskCluster) Close(ctx context.Context) error { return nil }

// TestDiskFaultsStayInTheDataDirectory runs the real bitflip and truncate
// over a data directory that holds symbolic links out of it, to a file and
// to a directory, next to a block of its own: only the node's own file may
// change, whatever the glob. Validation refuses globs with '/', and the
// injectors match names only and never follow a link, so a scenario cannot
// name a path outside the run directory.
func TestDiskFaultsStayInTheDataDirectory(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "run", "nodes", "n1", "data")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(data, "jetstream"), filepath.Join(outside, "dir")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	content := []byte(strings.Repeat("riptide block ", 256))
	own := filepath.Join(data, "jetstream", "1.blk")
	secrets := []string{filepath.Join(outside, "secret.blk"), filepath.Join(outside, "dir", "2.blk")}
	for _, f := range append([]string{own}, secrets...) {
		require.NoError(t, os.WriteFile(f, content, 0o644))
	}
	require.NoError(t, os.Symlink(secrets[0], filepath.Join(data, "link.blk")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "dir"), filepath.Join(data, "linkdir")))
	require.NoError(t, os.Symlink(outside, filepath.Join(data, "jetstream", "up")))

	c := diskCluster{nodes: []clusters.Node{diskNode{name: "n1", dir: data}}}
	faults := []Injector{
		Bitflip{Files: "*.blk", Flips: 64, Seed: 1},
		Bitflip{Files: "*", Flips: 64, Seed: 2},
		Truncate{Files: "*", Bytes: 100},
		// Names never hold '/', so these match nothing (validation refuses them).
		Bitflip{Files: "../*", Flips: 64, Seed: 3},
		Truncate{Files: "../../outside/*", Bytes: 100},
	}
	for _, f := range faults {
		heal, err := f.Inject(context.Background(), c, Target{ID: "f1", Nodes: []string{"n1"}, Details: map[string]string{}})
		require.NoError(t, err, "%#v", f)
		require.NoError(t, heal(context.Background()))
	}
	for _, f := range secrets {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, content, b, "%s, outside the data directory, was changed", f)
	}
	b, err := os.ReadFile(own)
	require.NoError(t, err)
	require.NotEqual(t, content, b, "the node's own block was left alone: the test proves nothing")
	for _, l := range []string{"link.blk", "linkdir", "jetstream/up"} {
		st, err := os.Lstat(filepath.Join(data, l))
		require.NoError(t, err)
		require.NotZero(t, st.Mode()&os.ModeSymlink, "%s is still the link it was", l)
	}
}
