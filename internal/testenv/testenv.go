// Package testenv holds what riptide's own tests need from their
// environment: a Docker engine with the local images, the riptide binary,
// a buffer a child process and the test can share. It is for tests only,
// like the standard library's internal/testenv; nothing else imports it.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/images"
)

// Docker connects to the engine and makes sure the images refs exist
// (building riptide's local images on first use: the engine here cannot
// pull). It skips the test under -short or where no engine is reachable,
// and closes the connection when the test ends.
func Docker(t testing.TB, refs ...string) *docker.Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containers; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	eng, err := docker.Connect(ctx)
	if errors.Is(err, docker.ErrNoEngine) {
		t.Skipf("docker tests need a Docker engine: %v", err)
	}
	if err != nil {
		t.Fatalf("connect to the docker engine: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	for _, ref := range refs {
		if err := images.Ensure(ctx, eng, ref, io.Discard); err != nil {
			t.Fatalf("image %s: %v", ref, err)
		}
	}
	return eng
}

// riptideBinary is built once per test process.
var riptideBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "riptide-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "riptide")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/riptidechaos/riptide/cmd/riptide").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build riptide: %w\n%s", err, out)
	}
	return bin, nil
})

// Riptide builds the riptide command once per test process and returns
// its path, for tests that must signal or kill a real harness.
func Riptide(t testing.TB) string {
	t.Helper()
	bin, err := riptideBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// LockedBuffer collects a child process's output while the test reads it.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
