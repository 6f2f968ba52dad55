package nats

import (
	"context"
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

// DefaultVersion is the nats-server version a scenario gets when it names none.
const DefaultVersion = "2.12.1"

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$`)

// CacheDir is where built server binaries are kept between runs:
// $RIPTIDE_CACHE, else the user cache directory.
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

// Binary returns the path of nats-server at version, building it with the Go
// toolchain into the cache the first time. progress receives one line when a
// build starts, since it takes about a minute.
func Binary(ctx context.Context, version string, progress io.Writer) (string, error) {
	if !versionRE.MatchString(version) {
		return "", fmt.Errorf("nats-server version %q: want a release such as %s", version, DefaultVersion)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "bin", "nats-server", "v"+version)
	bin := filepath.Join(dir, "nats-server")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create binary cache: %w", err)
	}
	// Parallel runs (go test runs packages at once) must not build twice
	// into the same place: the first takes the lock, the others wait and
	// then find the binary.
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if isExecutable(bin) {
		return bin, nil
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build nats-server v%s: the go command is not on PATH; install Go or set cluster.binary (--nats-server) to an existing nats-server", version)
	}
	fmt.Fprintf(progress, "building nats-server v%s with the Go toolchain into %s (first run only, about a minute)\n", version, dir)
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build nats-server: %w", err)
	}
	defer os.RemoveAll(tmp)
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, goTool, "install", "github.com/nats-io/nats-server/v2@v"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Dir = tmp // outside any module, so the user's go.mod plays no part
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build nats-server v%s: %w\n%s", version, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, "nats-server"), bin); err != nil {
		return "", fmt.Errorf("install nats-server v%s: %w", version, err)
	}
	return bin, nil
}

// CheckBinary verifies that path is an executable file, for cluster.binary.
func CheckBinary(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("nats-server binary: %w", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("nats-server binary %s: not an executable file", path)
	}
	return nil
}

func isExecutable(path string) bool { return CheckBinary(path) == nil }

// lockFile takes an exclusive flock on path, polling so that ctx can cancel.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another build of nats-server: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
