// Package gobin builds Go programs at pinned versions with the Go toolchain
// (go install pkg@vVERSION) into riptide's cache, once: the nats-server the
// process platform runs and the binaries of the local images.
package gobin

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// find the binary.
func Install(ctx context.Context, pkg, version, name string, progress io.Writer) (string, error) {
	bin, err := Path(name, version)
	if err != nil {
		return "", err
	}
	if executable(bin) {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	unlock, err := Lock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if executable(bin) {
		return bin, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s v%s: %w", name, version, ErrNoGo)
	}
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
		return "", fmt.Errorf("build %s: %w", name, err)
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
		return "", fmt.Errorf("build %s v%s: %w\n%s", name, version, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, commandName(pkg)), bin); err != nil {
		return "", fmt.Errorf("install %s v%s: %w", name, version, err)
	}
	return bin, nil
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
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
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
