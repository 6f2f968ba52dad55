// Package gobin builds Go programs at pinned versions with the Go toolchain
// (go install pkg@vVERSION) into riptide's cache, once: the nats-server the
// process platform runs and the binaries of the local images.
package gobin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// ErrNoGo means the go command is not on PATH, so nothing can be built.
var ErrNoGo = errors.New("the go command is not on PATH")

// buildTimeout bounds one go install: a cold module download and build of
// nats-server takes about a minute on 2 cores.
const buildTimeout = 15 * time.Minute

// CacheDir is where built binaries are kept between runs: $RIPTIDE_CACHE,
// else riptide/ in the user cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("RIPTIDE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory (set RIPTIDE_CACHE): %w", err)
	}
	return filepath.Join(d, "riptide"), nil
}

// Path is where Install puts program name at version.
func Path(name, version string) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "bin", name, "v"+version, name), nil
}

// Install returns the path of pkg at version, built as a static binary
// called name, building it the first time. progress receives one line
// when a build starts. Concurrent callers (go test runs packages at once)
// build it once: the first holds a file lock, the others wait and then
// find the binary. A build that fails leaves no directory behind (a
// version that does not exist must not look cached).
func Install(ctx context.Context, pkg, version, name string, progress io.Writer) (string, error) {
	bin, err := Path(name, version)
	if err != nil {
		return "", err
	}
	if executable(bin) {
		return bin, nil
	}
	// Without a go command nothing is created.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s v%s: %w", name, version, ErrNoGo)
	}
	dir := filepath.Dir(bin)
	created := missingDirs(dir)
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		removeEmpty(created)
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	if executable(bin) {
		unlock()
		return bin, nil
	}
	if err := build(ctx, goTool, pkg, version, name, bin, progress); err != nil {
		// The lock is still ours: nobody builds here, nobody waits on a
		// lock file they would keep (see lockDir).
		discard(dir)
		unlock()
		removeEmpty(created)
		return "", err
	}
	unlock()
	return bin, nil
}

// build runs go install pkg@vVERSION and moves the binary to bin. Its
// caller holds the lock of bin's directory.
func build(ctx context.Context, goTool, pkg, version, name, bin string, progress io.Writer) error {
	dir := filepath.Dir(bin)
	fmt.Fprintf(progress, "building %s v%s with the Go toolchain into %s (first time only, about a minute)\n", name, version, dir)
	// Builds cut short by a killed harness leave their directories; none
	// is running now, since the lock is ours.
	stale, _ := filepath.Glob(filepath.Join(dir, "build-*"))
	for _, d := range stale {
		_ = os.RemoveAll(d)
	}
	// The build directory is inside the cache, never in the system's
	// temporary directory: nothing is left outside it if the build dies.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("build %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	bctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(bctx, goTool, "install", pkg+"@v"+version)
	// Static, so that it also runs in an image FROM scratch.
	// GOTMPDIR: go's own work directory goes there too.
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOTMPDIR="+tmp, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Dir = tmp // outside any module, so the user's go.mod plays no part
	// go runs compilers and linkers: a cancelled build (Ctrl-C) kills the
	// whole process group, and the go command dies with the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s v%s: %w\n%s", name, version, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, commandName(pkg)), bin); err != nil {
		return fmt.Errorf("install %s v%s: %w", name, version, err)
	}
	return nil
}

// lockFile is the lock of a build directory.
const lockFile = ".lock"

// lockRetries bounds how often lockDir starts over when the directory or
// its lock file goes away under it (a failed build removing them).
const lockRetries = 20

// lockDir creates dir and takes the lock of its builds. The holder of the
// lock may remove the lock file and dir (discard): a waiter that then gets
// the lock of the removed file starts over, so that it never builds in a
// directory that is gone, nor holds a lock another caller does not see.
func lockDir(ctx context.Context, dir string) (func(), error) {
	path := filepath.Join(dir, lockFile)
	for try := 0; ; try++ {
		f, err := mkdirLock(ctx, dir, path)
		if errors.Is(err, fs.ErrNotExist) && try < lockRetries {
			continue // removed between MkdirAll and the open
		}
		if err != nil {
			return nil, err
		}
		held, ferr := f.Stat()
		onDisk, perr := os.Stat(path)
		if ferr == nil && perr == nil && os.SameFile(held, onDisk) {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		f.Close()
		if try >= lockRetries {
			return nil, fmt.Errorf("lock %s: removed again and again while waiting for it", path)
		}
	}
}

func mkdirLock(ctx context.Context, dir, path string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return lock(ctx, path)
}

// discard removes dir, the build directory of a failed build, and its lock
// file, unless it holds anything else (a binary above all). The caller
// holds the lock.
func discard(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() != lockFile {
			return
		}
	}
	_ = os.Remove(filepath.Join(dir, lockFile))
	_ = os.Remove(dir)
}

// missingDirs lists dir and those of its parents that do not exist, the
// deepest first: what MkdirAll(dir) is about to create.
func missingDirs(dir string) []string {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			return missing
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			return missing
		}
	}
}

// removeEmpty removes dirs, the deepest first, while they are empty (or
// gone already): one another caller uses meanwhile stays, and so do its
// parents.
func removeEmpty(dirs []string) {
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
}

// commandName is the file go install writes for pkg: its last path
// element, or the one before a major version suffix (.../nats-server/v2 is
// nats-server).
func commandName(pkg string) string {
	elems := strings.Split(pkg, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && majorRE.MatchString(last) {
		return elems[len(elems)-2]
	}
	return last
}

var majorRE = regexp.MustCompile(`^v[0-9]+$`)

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Lock takes an exclusive flock on path, polling so that ctx can cancel,
// and returns the unlock.
func Lock(ctx context.Context, path string) (func(), error) {
	f, err := lock(ctx, path)
	if err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// lock opens path and takes an exclusive flock on it: the file holds the
// lock until it is closed.
func lock(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
