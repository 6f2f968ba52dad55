package gobin

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCommandName(t *testing.T) {
	for pkg, want := range map[string]string{
		"github.com/nats-io/nats-server/v2":          "nats-server",
		"github.com/Shopify/toxiproxy/v2/cmd/server": "server",
		"example.com/tool":                           "tool",
		"v2":                                         "v2",
	} {
		require.Equal(t, want, commandName(pkg), pkg)
	}
}

// TestInstallReusesTheCache: a binary already in the cache is returned
// without building, so a machine without Go runs what it built before.
func TestInstallReusesTheCache(t *testing.T) {
	t.Setenv("RIPTIDE_CACHE", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no go command
	_, err := Install(context.Background(), "example.com/tool", "1.0.0", "tool", io.Discard)
	require.ErrorIs(t, err, ErrNoGo)
	require.NoDirExists(t, filepath.Join(os.Getenv("RIPTIDE_CACHE"), "bin"), "nothing is created without go")

	bin, err := Path("tool", "1.0.0")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	got, err := Install(context.Background(), "example.com/tool", "1.0.0", "tool", io.Discard)
	require.NoError(t, err)
	require.Equal(t, bin, got)
	require.Equal(t, filepath.Join(os.Getenv("RIPTIDE_CACHE"), "bin", "tool", "v1.0.0", "tool"), got)
}

// failingGo is a go command whose build fails at once, as go install of a
// version the module proxy does not have does (403 or 404).
const failingGo = `#!/bin/sh
echo "go: example.com/tool@v9.9.9: reading https://proxy.golang.org/...: 403 Forbidden" >&2
exit 1
`

// fakeGoPath puts script first on PATH as the go command.
func fakeGoPath(t *testing.T, script string) {
	t.Helper()
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestInstallFailedBuildLeavesNothing: a build that fails (a version that
// does not exist) removes the directories it created, its lock file
// included, so that nothing looks cached; the binaries of other versions
// and the directories holding them stay.
func TestInstallFailedBuildLeavesNothing(t *testing.T) {
	fakeGoPath(t, failingGo)
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("RIPTIDE_CACHE", cache)

	_, err := Install(context.Background(), "example.com/tool", "9.9.9", "tool", io.Discard)
	require.ErrorContains(t, err, "403 Forbidden")
	require.NoDirExists(t, cache, "a failed build left the cache directory it created")

	good, err := Path("tool", "1.0.0")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(good), 0o755))
	require.NoError(t, os.WriteFile(good, []byte("#!/bin/sh\n"), 0o755))
	_, err = Install(context.Background(), "example.com/tool", "9.9.9", "tool", io.Discard)
	require.ErrorContains(t, err, "403 Forbidden")
	require.NoDirExists(t, filepath.Join(cache, "bin", "tool", "v9.9.9"))
	require.FileExists(t, good)

	// A directory left by an older riptide, holding only its lock, goes too.
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "bin", "tool", "v9.9.9"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "bin", "tool", "v9.9.9", ".lock"), nil, 0o644))
	_, err = Install(context.Background(), "example.com/tool", "9.9.9", "tool", io.Discard)
	require.Error(t, err)
	require.NoDirExists(t, filepath.Join(cache, "bin", "tool", "v9.9.9"))
}

// discard removes only a directory that holds nothing but its lock file.
func TestDiscardKeepsWhatIsNotItsOwn(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, lockFile), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool"), []byte("#!/bin/sh\n"), 0o755))
	discard(dir)
	require.FileExists(t, filepath.Join(dir, "tool"))
	require.FileExists(t, filepath.Join(dir, lockFile))

	require.NoError(t, os.Remove(filepath.Join(dir, "tool")))
	discard(dir)
	require.NoDirExists(t, dir)
}

// A caller waiting for the lock of a build that fails and removes the
// directory gets a lock that is on disk, in a directory that exists: it
// starts over rather than keep the lock of the removed file.
func TestLockDirAfterDiscard(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v9.9.9")
	unlock, err := lockDir(context.Background(), dir)
	require.NoError(t, err)

	type result struct {
		unlock func()
		err    error
	}
	got := make(chan result, 1)
	go func() {
		u, err := lockDir(context.Background(), dir)
		got <- result{u, err}
	}()
	select {
	case <-got:
		t.Fatal("a second caller got a lock that is held")
	case <-time.After(300 * time.Millisecond):
	}
	discard(dir)
	require.NoDirExists(t, dir)
	unlock()

	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter never got the lock")
	}
	require.NoError(t, r.err)
	defer r.unlock()
	require.DirExists(t, dir)
	f, err := os.Open(filepath.Join(dir, lockFile))
	require.NoError(t, err, "the waiter holds the lock of a file that is gone")
	defer f.Close()
	// The lock on disk is the one held: taking it again fails.
	require.ErrorIs(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}
