package injectors

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"

	"github.com/riptidechaos/riptide/clusters"
)

// Disk faults are Jepsen's file-corruption nemesis: the node is killed
// (SIGKILL, a crash) or shut down cleanly (SIGTERM), files of its data
// directory matching a glob are changed, and the node is started again on
// them. The way down matters: a store may re-check its files after a crash
// and trust them after a clean shutdown. What changed is drawn
// from the firing's seed and recorded with the fault, file by file.

// maxDetails bounds the changes listed in a fault's record; the count of
// the rest follows.
const maxDetails = 16

// corruptFile changes one file and describes what it did.
type corruptFile func(rng *rand.Rand, path string) (string, error)

// stopWord names the way a disk fault takes a node down.
func stopWord(graceful bool) string {
	if graceful {
		return "graceful"
	}
	return "kill"
}

// corrupt takes each target node down (killed, or stopped cleanly when
// graceful), applies change to every file of its data directory whose name
// matches glob, and starts it again.
func corrupt(ctx context.Context, c clusters.Cluster, t Target, kind, glob string, seed uint64, graceful bool, change corruptFile) (Heal, error) {
	var heals []Heal
	var changes []string
	for _, name := range t.Nodes {
		n, err := node(c, name)
		if err != nil {
			return healAll(heals), err
		}
		k, ok := n.(clusters.Killer)
		d, ok2 := n.(clusters.DataDirs)
		if !ok || !ok2 {
			return healAll(heals), fmt.Errorf("%s %s: this platform cannot reach a node's data files", kind, name)
		}
		down := k.Kill
		if graceful {
			st, ok := n.(clusters.Stopper)
			if !ok {
				return healAll(heals), fmt.Errorf("%s %s: this platform cannot stop nodes cleanly", kind, name)
			}
			down = st.Stop
		}
		start := once(func(ctx context.Context) error { return k.Start(ctx) })
		heals = append(heals, start)
		if err := down(ctx); err != nil {
			return healAll(heals), fmt.Errorf("%s %s: %w", kind, name, err)
		}
		files, err := matching(d.DataDir(), glob)
		if err != nil {
			return healAll(heals), fmt.Errorf("%s %s: %w", kind, name, err)
		}
		// One stream of draws per node, so that a node's changes do not
		// depend on how many files the others had.
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		for _, f := range files {
			what, err := change(rng, f)
			if err != nil {
				return healAll(heals), fmt.Errorf("%s %s: %w", kind, name, err)
			}
			if what != "" {
				rel, _ := filepath.Rel(d.DataDir(), f)
				changes = append(changes, name+":"+rel+" "+what)
			}
		}
		if err := start(ctx); err != nil {
			return healAll(heals), fmt.Errorf("%s %s: start again: %w", kind, name, err)
		}
	}
	t.note("files_changed", fmt.Sprint(len(changes)))
	if len(changes) > maxDetails {
		changes = append(changes[:maxDetails], fmt.Sprintf("... %d more", len(changes)-maxDetails))
	}
	if len(changes) == 0 {
		changes = []string{"no file matched " + glob}
	}
	t.note("changes", strings.Join(changes, "; "))
	return healAll(heals), nil
}

// matching lists the regular files under dir whose name matches glob, in
// lexical order so that the draws are the same every run.
func matching(dir, glob string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		ok, err := filepath.Match(glob, e.Name())
		if err != nil {
			return fmt.Errorf("files %q: %w", glob, err)
		}
		if ok {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// diskUndo journals the nodes a disk fault takes down.
func diskUndo(c clusters.Cluster, t Target, glob string) ([]Undo, error) {
	out, err := stoppedUndo(c, t, "killed for a disk fault")
	for _, name := range t.Nodes {
		out = append(out, Undo{Action: UndoFiles, Node: name, Note: glob})
	}
	return out, err
}
