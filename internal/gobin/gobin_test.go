package gobin

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

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

	bin, err := Path("tool", "1.0.0")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	got, err := Install(context.Background(), "example.com/tool", "1.0.0", "tool", io.Discard)
	require.NoError(t, err)
	require.Equal(t, bin, got)
	require.Equal(t, filepath.Join(os.Getenv("RIPTIDE_CACHE"), "bin", "tool", "v1.0.0", "tool"), got)
}
