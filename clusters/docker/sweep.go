package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/moby/client"
)

// SweepOptions choose what a sweep removes.
type SweepOptions struct {
	// All removes the resources of every riptide run on the engine, live
	// ones and other hosts' included. By default only runs whose harness
	// process is gone from this host are removed.
	All bool
	// Dir limits the sweep to the runs of one run directory.
	Dir string
	// Own removes the runs of this very process, and only those: for a
	// harness that exits at once (a second Ctrl-C) without its teardown,
	// and has no time for other runs' leftovers.
	Own bool
}

// SweepReport says what a sweep found and did.
type SweepReport struct {
	// Runs are the ids of the runs whose resources were removed.
	Runs                          []string
	Containers, Networks, Volumes int
	// Kept are runs left alone, with the reason ("alive", "on another host").
	Kept map[string]string
}

// Removed counts removed resources.
func (r SweepReport) Removed() int { return r.Containers + r.Networks + r.Volumes }

func (r SweepReport) String() string {
	s := count(r.Containers, "container") + ", " + count(r.Networks, "network") + ", " + count(r.Volumes, "volume")
	if len(r.Runs) > 0 {
		s += " of runs " + strings.Join(r.Runs, ", ")
	}
	return s
}

// count writes "1 network", "2 networks".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Sweep connects to the engine and removes the leftovers of dead runs; see
// Engine.Sweep. Without a reachable engine it returns an error wrapping
// ErrNoEngine, which `riptide clean` reports as nothing to sweep.
func Sweep(ctx context.Context, opts SweepOptions) (SweepReport, error) {
	e, err := Connect(ctx)
	if err != nil {
		return SweepReport{}, err
	}
	defer e.Close()
	return e.Sweep(ctx, opts)
}

// Sweep removes every container, network and volume labelled by a riptide
// run whose harness is no longer running on this host (or, with All, of
// every run). Containers are thawed and their output copied to the log file
// their label names when its directory still exists, so that a crashed run
// keeps its node logs; then they are removed with their anonymous volumes,
// and then the networks and volumes. It goes on past errors and returns
// them joined.
func (e *Engine) Sweep(ctx context.Context, opts SweepOptions) (SweepReport, error) {
	rep := SweepReport{Kept: map[string]string{}}
	runs := map[string]bool{}
	dir := opts.Dir
	if abs, err := filepath.Abs(dir); err == nil && dir != "" {
		dir = abs
	}
	doomed := func(labels map[string]string) bool {
		run := labels[LabelRun]
		if dir != "" && labels[LabelDir] != dir {
			return false
		}
		if opts.All {
			runs[run] = true
			return true
		}
		o := ownerOf(labels)
		st := o.state(e.me)
		if opts.Own {
			if o != e.me {
				return false
			}
			st = ownerGone
		}
		if st != ownerGone {
			rep.Kept[run] = st.String()
			return false
		}
		runs[run] = true
		return true
	}
	filter := client.Filters{}.Add("label", LabelRun)
	var errs []error

	cs, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return rep, fmt.Errorf("sweep: list containers: %w", err)
	}
	for _, c := range cs.Items {
		if !doomed(c.Labels) {
			continue
		}
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		if path := c.Labels[LabelLog]; path != "" && dirExists(filepath.Dir(path)) {
			if _, err := os.Stat(path); err != nil { // teardown did not get to it
				_ = saveLogs(ctx, e.cli.Client, c.ID, path)
			}
		}
		if c.State == "paused" {
			if _, err := e.cli.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("sweep: unpause container %s: %w", name, err))
			}
		}
		if _, err := e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) && !beingRemoved(err) {
			errs = append(errs, fmt.Errorf("sweep: remove container %s: %w", name, err))
			continue
		}
		rep.Containers++
	}

	ns, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep: list networks: %w", err))
	} else {
		for _, n := range ns.Items {
			if !doomed(n.Labels) {
				continue
			}
			if _, err := e.cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("sweep: remove network %s: %w", n.Name, err))
				continue
			}
			rep.Networks++
		}
	}

	vs, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep: list volumes: %w", err))
	} else {
		for _, v := range vs.Items {
			if !doomed(v.Labels) {
				continue
			}
			if _, err := e.cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("sweep: remove volume %s: %w", v.Name, err))
				continue
			}
			rep.Volumes++
		}
	}

	for run := range runs {
		rep.Runs = append(rep.Runs, run)
		delete(rep.Kept, run)
	}
	sort.Strings(rep.Runs)
	return rep, errors.Join(errs...)
}

// beingRemoved recognises a removal already under way: two harnesses that
// start together sweep the same dead run.
func beingRemoved(err error) bool {
	return strings.Contains(err.Error(), "already in progress")
}

func dirExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// CleanRun is `riptide clean` for one run directory of the docker
// platform: it removes the containers (thawed first, their output saved as
// the node logs) and the network of the directory's runs whose harness is
// gone, and says what it did in one line.
func CleanRun(ctx context.Context, dir string) ([]string, error) {
	rep, err := Sweep(ctx, SweepOptions{Dir: dir})
	var lines []string
	if rep.Removed() > 0 {
		lines = append(lines, "removed "+rep.String()+" from the Docker engine")
	}
	for run, why := range rep.Kept {
		lines = append(lines, fmt.Sprintf("left docker run %s alone: its harness is %s", run, why))
	}
	return lines, err
}
