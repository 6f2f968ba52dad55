package docker

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChooseReaper covers the Ryuk decision: the user's setting wins, an
// engine found only by testcontainers' own discovery keeps its settings,
// and an engine without Ryuk's image gets Ryuk switched off (riptide's
// sweep then covers crashes) rather than a failing pull.
func TestChooseReaper(t *testing.T) {
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	on, note := chooseReaper(t.Context(), nil)
	assert.False(t, on)
	assert.Contains(t, note, "TESTCONTAINERS_RYUK_DISABLED=true")

	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "false")
	on, _ = chooseReaper(t.Context(), nil)
	assert.True(t, on, "the user asked for Ryuk")

	require.NoError(t, os.Unsetenv("TESTCONTAINERS_RYUK_DISABLED")) // t.Setenv restores it
	on, note = chooseReaper(t.Context(), nil)
	assert.True(t, on)
	assert.Contains(t, note, "testcontainers' settings")

	if testing.Short() {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	raw, err := rawClient(ctx)
	if err != nil {
		t.Logf("no engine for the image check: %v", err)
		return
	}
	defer raw.Close()
	_, inspectErr := raw.ImageInspect(ctx, ReaperImage())
	on, note = chooseReaper(ctx, raw)
	if inspectErr == nil {
		assert.True(t, on, note)
		return
	}
	assert.False(t, on, note)
	assert.Contains(t, note, "riptide's sweep")
	assert.Equal(t, "true", os.Getenv("TESTCONTAINERS_RYUK_DISABLED"), "switched off for testcontainers-go, which reads the variable")
}
