package gobin

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters/process"
)

// fakeGo is a go command that does what matters here: it makes its work
// directory where go would ($GOTMPDIR, else $TMPDIR), starts a child (a
// compiler) and waits. Both pids go to the file named by FAKE_GO_PIDS.
const fakeGo = `#!/bin/sh
mktemp -d "${GOTMPDIR:-$TMPDIR}/go-build.XXXXXX" >/dev/null
sleep 30 &
echo $! >> "$FAKE_GO_PIDS"
echo $$ >> "$FAKE_GO_PIDS"
wait
`

// TestInstallInterruptedLeavesNothing cancels a build (Ctrl-C during the
// first run's build of nats-server): Install returns at once, the go
// command and its children are gone, and nothing is left in the system's
// temporary directory or in the cache.
func TestInstallInterruptedLeavesNothing(t *testing.T) {
	cache, tmp, bin := t.TempDir(), t.TempDir(), t.TempDir()
	pids := filepath.Join(t.TempDir(), "pids")
	t.Setenv("RIPTIDE_CACHE", cache)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("FAKE_GO_PIDS", pids)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started []int
	go func() {
		for ctx.Err() == nil {
			if b, err := os.ReadFile(pids); err == nil && strings.Count(string(b), "\n") == 2 {
				for _, f := range strings.Fields(string(b)) {
					pid, _ := strconv.Atoi(f)
					started = append(started, pid)
				}
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := Install(ctx, "example.com/tool", "1.0.0", "tool", io.Discard)
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Install still running 20 s after its context was cancelled")
	}
	require.Len(t, started, 2)
	for _, pid := range started {
		require.Eventually(t, func() bool { return gone(pid) }, 5*time.Second, 20*time.Millisecond,
			"pid %d of the build outlived it", pid)
	}
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the build left files in the system's temporary directory")
	builds, err := filepath.Glob(filepath.Join(cache, "bin", "tool", "v1.0.0", "build-*"))
	require.NoError(t, err)
	require.Empty(t, builds, "the build directory stayed in the cache")
}

// gone reports whether pid has exited (or is a zombie nobody reaped).
func gone(pid int) bool {
	st, ok := process.State(pid)
	return !ok || st == 'Z' || st == 'X'
}
