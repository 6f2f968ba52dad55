package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/process"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/internal/run"
)

// defaultRunsDir is where riptide run puts run directories by default, and
// where riptide clean looks when it is given none.
const defaultRunsDir = "riptide-runs"

// cleanTimeout bounds the whole clean-up of one run directory.
const cleanTimeout = time.Minute

// A platformCleaner undoes, for one platform, what a run killed before its
// teardown left behind: open lists the faults its heal journal shows as
// still applied. It returns one line per thing it did.
type platformCleaner func(ctx context.Context, dir string, open []injectors.JournalEntry) ([]string, error)

// platformCleaners by cluster.platform, as the journal's begin line names it.
var platformCleaners = map[string]platformCleaner{
	"process": cleanProcess,
	// Containers and the network, thawed and removed, logs saved (clusters/docker).
	"docker": func(ctx context.Context, dir string, _ []injectors.JournalEntry) ([]string, error) {
		return docker.CleanRun(ctx, dir)
	},
}

// cmdClean replays the heal journals of crashed runs: riptide clean
// [RUN_DIR...], by default every run directory under ./riptide-runs.
func cmdClean(args []string, stdout, stderr io.Writer) int {
	c := newSubcommand("clean", "riptide clean [RUN_DIR...]", `
Undo what runs killed before their teardown (SIGKILL, a crash) left behind,
guided by each RUN_DIR's heal journal: kill paused or orphaned nodes,
remove a docker run's containers and network, and mark the faults cleaned.
A run whose harness is still running is left alone.

Without RUN_DIR: every run directory under ./riptide-runs, and then every
dead riptide run on the Docker engine, wherever its directory is.`)
	dirs, status, done := c.parse(args, stdout, stderr)
	if done {
		return status
	}
	named := len(dirs) > 0
	if !named {
		var err error
		dirs, err = runDirs(defaultRunsDir)
		if err != nil {
			fmt.Fprintf(stderr, "riptide clean: %v\n", err)
			return run.ExitHarness
		}
	}
	// Every directory named is checked before any is cleaned: a mistyped
	// path is a usage error, not a run that needed nothing.
	for _, dir := range dirs {
		if err := cleanable(dir); err != nil {
			fmt.Fprintf(stderr, "riptide clean: %v\n", err)
			return run.ExitHarness
		}
	}
	cleaned := 0
	for _, dir := range dirs {
		ctx, cancel := context.WithTimeout(context.Background(), cleanTimeout)
		lines, acted, err := cleanRun(ctx, dir)
		cancel()
		for _, l := range lines {
			fmt.Fprintf(stdout, "%s: %s\n", dir, l)
		}
		if acted {
			cleaned++
		}
		if err != nil {
			fmt.Fprintf(stderr, "riptide clean: %s: %v\n", dir, err)
			status = run.ExitHarness
		}
	}
	checked := fmt.Sprintf("%d run directories", len(dirs))
	if len(dirs) == 1 {
		checked = "1 run directory"
	}
	fmt.Fprintf(stdout, "riptide clean: %s checked, %d needed cleaning\n", checked, cleaned)
	if !named {
		// Docker runs whose directories are elsewhere (--out) or gone still
		// carry riptide's labels: sweep every dead run on the engine.
		ctx, cancel := context.WithTimeout(context.Background(), cleanTimeout)
		defer cancel()
		rep, err := docker.Sweep(ctx, docker.SweepOptions{})
		switch {
		case errors.Is(err, docker.ErrNoEngine):
			// No engine, no containers to leave behind.
		case err != nil:
			fmt.Fprintf(stderr, "riptide clean: docker: %v\n", err)
			status = run.ExitHarness
		case rep.Removed() > 0:
			fmt.Fprintf(stdout, "riptide clean: docker: removed %s\n", rep)
		}
	}
	return status
}

// runFiles are the files riptide run writes into a run directory before
// anything else: a directory with none of them is not one.
var runFiles = []string{injectors.JournalFile, "scenario.yaml", "history.jsonl"}

// cleanable says what is wrong with dir as a run directory to clean (what
// could become a run directory is run.CheckRunDir's business).
func cleanable(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such directory", dir)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s: not a directory", dir)
	}
	if !isRunDir(dir) {
		return fmt.Errorf("%s: not a run directory (none of %s in it)", dir, strings.Join(runFiles, ", "))
	}
	return nil
}

func isRunDir(dir string) bool {
	for _, f := range runFiles {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// runDirs lists the run directories under root; other directories there
// are no concern of riptide clean.
func runDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if dir := filepath.Join(root, e.Name()); e.IsDir() && isRunDir(dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}

// cleanRun cleans one run directory, says what it did and whether it had
// anything to do; a run that ended cleanly needs nothing and gets no line.
func cleanRun(ctx context.Context, dir string) (lines []string, acted bool, err error) {
	lines, err = cleanRunDir(ctx, dir)
	if len(lines) == 1 && strings.HasPrefix(lines[0], stillRunning) {
		return lines, false, err
	}
	return lines, len(lines) > 0, err
}

const stillRunning = "still running"

func cleanRunDir(ctx context.Context, dir string) ([]string, error) {
	entries, err := injectors.ReadJournal(dir)
	noJournal := errors.Is(err, fs.ErrNotExist)
	if err != nil && !noJournal {
		return nil, err
	}
	if pid, running := injectors.Running(entries); running {
		// Its nodes are alive because the run is: hands off.
		return []string{fmt.Sprintf("%s (riptide pid %d): left alone", stillRunning, pid)}, nil
	}
	platform := "process"
	for _, e := range entries {
		if e.Event == injectors.EventBegin && e.Platform != "" {
			platform = e.Platform
		}
	}
	open := injectors.Unhealed(entries)
	clean, ok := platformCleaners[platform]
	if !ok {
		return nil, fmt.Errorf("no cleaner for platform %q in this build of riptide", platform)
	}
	lines, err := clean(ctx, dir, open)
	if noJournal || (injectors.Ended(entries) && len(open) == 0) {
		return lines, err
	}
	ids := make([]string, len(open))
	for i, e := range open {
		ids[i] = e.ID
	}
	if merr := injectors.MarkCleaned(dir, ids, "undone by riptide clean after the harness died"); merr != nil {
		return lines, errors.Join(err, merr)
	}
	if len(ids) > 0 {
		lines = append(lines, fmt.Sprintf("faults %s marked cleaned in %s", strings.Join(ids, ", "), injectors.JournalFile))
	} else {
		lines = append(lines, "journal closed (the run ended without its teardown)")
	}
	return lines, err
}

// cleanProcess kills what a process-platform run left: frozen or running
// nats-server processes, found by the journal's paused pids and the pid
// files of nodes/*/, each checked to belong to the run directory. Toxics
// and turned-off proxies lived in the harness's embedded Toxiproxy and died
// with it; killed nodes need nothing.
func cleanProcess(ctx context.Context, dir string, open []injectors.JournalEntry) ([]string, error) {
	var (
		lines []string
		errs  []error
	)
	for _, e := range open {
		for _, u := range e.Undo {
			if u.Action != injectors.UndoPause || u.PID <= 0 {
				continue
			}
			paused, killed, err := process.KillIfOwned(ctx, u.PID, dir)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", u.Node, err))
			} else if killed {
				lines = append(lines, fmt.Sprintf("killed node %s (pid %d%s) left paused by fault %s", u.Node, u.PID, pausedNote(paused), e.ID))
			}
		}
	}
	left, err := process.KillLeftovers(ctx, dir)
	errs = append(errs, err)
	for _, l := range left {
		lines = append(lines, fmt.Sprintf("killed leftover node %s (pid %d%s)", l.Node, l.PID, pausedNote(l.Paused)))
	}
	return lines, errors.Join(errs...)
}

func pausedNote(paused bool) string {
	if paused {
		return ", paused"
	}
	return ""
}
