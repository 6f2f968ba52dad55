package scenarios_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide"
	"github.com/riptidechaos/riptide/riptidetest"
	"github.com/riptidechaos/riptide/scenarios"
)

// maxShortDuration bounds the main phase of a scenario marked short: the
// catalog test runs every short scenario, and -short runs them in users'
// test suites, so "short" must stay short.
const maxShortDuration = 30 * time.Second

// TestCatalog validates every built-in scenario and its header: each must
// load, be named after its file, and say what it shows, how long it runs
// and which verdict to expect.
func TestCatalog(t *testing.T) {
	entries, err := scenarios.Catalog()
	require.NoError(t, err)
	names, err := scenarios.CatalogNames()
	require.NoError(t, err)
	require.Len(t, entries, len(names))
	for _, want := range []string{"nats-smoke", "nats-kill", "nats-partition", "nats-latency"} {
		require.Contains(t, names, want)
	}
	short := 0
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			assert.Equal(t, e.Name, e.Scenario.Name, "the scenario's name is its file name, so that catalog:NAME finds it")
			assert.Equal(t, "catalog:"+e.Name, e.Scenario.File)
			data, err := scenarios.CatalogFile(e.Name)
			require.NoError(t, err)
			first, rest, _ := strings.Cut(string(data), "\n")
			if strings.HasPrefix(first, "# yaml-language-server:") {
				first, _, _ = strings.Cut(rest, "\n")
			}
			assert.True(t, strings.HasPrefix(first, "# "+e.Name+": "), "first line %q: want \"# %s: what the scenario is\"", first, e.Name)
			assert.NotEmpty(t, e.Title, "header title")
			assert.NotEmpty(t, e.Shows, `header line "# What it shows:"`)
			assert.NotEmpty(t, e.Runs, `header line "# How long:"`)
			assert.Contains(t, []string{"valid", "invalid", "unknown"}, e.Verdict,
				`header line "# Expected verdict:" must start with valid, invalid or unknown`)
			assert.NotEmpty(t, e.Scenario.Description, "description")
			if e.Scenario.Short {
				assert.LessOrEqual(t, e.Scenario.Duration.D(), maxShortDuration, "a scenario marked short runs in go test -short")
			}
		})
		if e.Scenario.Short {
			short++
		}
	}
	assert.Positive(t, short, "at least one catalog scenario is marked short: true, for the catalog test and users' -short runs")
}

// The catalog is the files of scenarios/, not copies of them.
func TestCatalogIsTheFiles(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	names, err := scenarios.CatalogNames()
	require.NoError(t, err)
	require.Len(t, names, len(files))
	for _, f := range files {
		name := strings.TrimSuffix(f, ".yaml")
		require.Contains(t, names, name)
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		got, err := scenarios.CatalogFile(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s differs from its embedded copy", f)
	}
}

func TestCatalogHeader(t *testing.T) {
	entries, err := scenarios.Catalog()
	require.NoError(t, err)
	i := slices.IndexFunc(entries, func(e scenarios.Entry) bool { return e.Name == "nats-smoke" })
	require.GreaterOrEqual(t, i, 0)
	e := entries[i]
	assert.Equal(t, "the quick check that the whole harness works end to end.", e.Title)
	// Continuation lines are joined; the next label ends an entry.
	assert.True(t, strings.HasPrefix(e.Shows, "a 3-node NATS JetStream cluster with sync_interval: always keeps"), e.Shows)
	assert.True(t, strings.HasSuffix(e.Shows, "a spell of slow links."), e.Shows)
	assert.True(t, strings.HasPrefix(e.Runs, "45 s main phase"), e.Runs)
	assert.True(t, strings.HasPrefix(e.Expect, "valid (exit status 0)."), e.Expect)
	assert.Equal(t, "valid", e.Verdict)
	assert.Equal(t, "catalog:nats-smoke", e.Ref())
}

func TestOpen(t *testing.T) {
	s, err := scenarios.Open("catalog:nats-smoke")
	require.NoError(t, err)
	require.Equal(t, "nats-smoke", s.Name)
	require.Equal(t, "catalog:nats-smoke", s.File, "problems of a catalog scenario name it catalog:NAME")

	fromFile, err := scenarios.Open("nats-smoke.yaml")
	require.NoError(t, err)
	require.Equal(t, "nats-smoke.yaml", fromFile.File)
	a, err := s.Marshal()
	require.NoError(t, err)
	b, err := fromFile.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(b), string(a), "catalog:NAME is the file NAME.yaml")

	for _, ref := range []string{"catalog:no-such", "catalog:", "catalog:../README", "catalog:nats-smoke.yaml", "catalog:./nats-smoke"} {
		_, err := scenarios.Open(ref)
		require.Error(t, err, ref)
		require.Contains(t, err.Error(), "no such scenario in the catalog; built in: ", ref)
		require.Contains(t, err.Error(), "nats-smoke", "the error lists the catalog")
	}

	_, err = scenarios.Open(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestRealClusterCatalogShort runs every catalog scenario marked short
// against a real cluster and requires the verdict its header promises.
func TestRealClusterCatalogShort(t *testing.T) {
	// riptidetest would run short scenarios under -short; riptide's own
	// -short suite promises never to launch a cluster.
	if testing.Short() {
		t.Skip("runs real clusters (about 40 s per short scenario); skipped with -short")
	}
	entries, err := scenarios.Catalog()
	require.NoError(t, err)
	for _, e := range entries {
		if !e.Scenario.Short {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			out := riptidetest.Run(t, e.Ref(), riptidetest.WithVerdict(riptide.Verdict(e.Verdict)))
			assert.Positive(t, out.Results.Acked, "the workload ran")
			assert.Empty(t, out.Results.HarnessErrors)
		})
	}
}
