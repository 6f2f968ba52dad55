package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListShowsTheCatalog(t *testing.T) {
	code, out, errOut := runCLI("list")
	require.Equal(t, 0, code, errOut)
	files, err := filepath.Glob("../../scenarios/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		assert.Contains(t, out, "\n"+name+" ", "every file of scenarios/ is listed")
	}
	// Columns are padded to the longest name: compare words, not spaces.
	assert.Regexp(t, `(?m)^nats-kill\s+20s \(short\)\s+valid\s+crash a node twice`, out)
	assert.Contains(t, out, "riptide run catalog:NAME")
}

func TestListPrintsTheFile(t *testing.T) {
	code, out, _ := runCLI("list", "nats-kill")
	require.Equal(t, 0, code)
	want, err := os.ReadFile("../../scenarios/nats-kill.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(want), out)

	code, _, errOut := runCLI("list", "nats-kill", "no-such")
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "catalog:no-such: no such scenario in the catalog; built in: ")
}

func TestCatalogReferences(t *testing.T) {
	code, out, _ := runCLI("validate", "catalog:nats-smoke", "../../scenarios/nats-kill.yaml")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "catalog:nats-smoke: ok")

	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := runCLI("run", "catalog:nats-smok", "--out", dir)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, errOut, "catalog:nats-smok: no such scenario in the catalog")
	assert.NoDirExists(t, dir, "nothing is started for an unknown scenario")
}

// riptide list -v puts what each scenario shows below the table, wrapped
// for an 80-column terminal.
func TestListLongFitsATerminal(t *testing.T) {
	code, out, _ := runCLI("list", "-v")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "\nnats-kill\n  Shows: ")
	table := true
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			table = false // the paragraphs follow the table's end
		}
		if !table {
			assert.LessOrEqual(t, utf8.RuneCountInString(line), listWidth, "%q", line)
		}
	}
}
