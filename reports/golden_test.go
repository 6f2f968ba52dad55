package reports_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/reports"
)

// TestGoldenFiles pins results.json, junit.xml and summary.md for fixed
// histories: one run that is valid, one invalid, one unknown. A change in
// any of them is a change of what pipelines read; review the diff, then
// rewrite the files with UPDATE_GOLDEN=1 go test ./reports/ -run Golden.
func TestGoldenFiles(t *testing.T) {
	update := os.Getenv("UPDATE_GOLDEN") == "1"
	for _, name := range []string{"lost-ok", "lost-bad", "unseen-bad"} {
		t.Run(name, func(t *testing.T) {
			h := loadHistory(t, name+".jsonl")
			r := resultsFor(t, fixtureScenario(name), h)
			dir := t.TempDir()
			require.NoError(t, reports.Write(dir, r, h))
			for _, file := range []string{"results.json", "junit.xml", "summary.md"} {
				got, err := os.ReadFile(filepath.Join(dir, file))
				require.NoError(t, err)
				golden := filepath.Join("..", "testdata", "golden", name+"."+file)
				if update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, got, 0o644))
					continue
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "no golden file: run UPDATE_GOLDEN=1 go test ./reports/ -run Golden")
				if d := firstDifference(string(want), string(got)); d != "" {
					t.Errorf("%s differs from %s (review, then UPDATE_GOLDEN=1 rewrites it):\n%s", file, golden, d)
				}
			}
		})
	}
}

// firstDifference shows the first line where got departs from want, with
// two lines of context, or "" when they are equal.
func firstDifference(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for j := max(i-2, 0); j < i; j++ {
		fmt.Fprintf(&b, "  %4d   %s\n", j+1, w[j])
	}
	for j := i; j < min(i+3, len(w)); j++ {
		fmt.Fprintf(&b, "  %4d - %s\n", j+1, w[j])
	}
	for j := i; j < min(i+3, len(g)); j++ {
		fmt.Fprintf(&b, "  %4d + %s\n", j+1, g[j])
	}
	return b.String()
}

// TestWriteLeavesNoTemporaryFiles: every file is replaced by a rename.
func TestWriteLeavesNoTemporaryFiles(t *testing.T) {
	h := loadHistory(t, "lost-bad.jsonl")
	r := resultsFor(t, fixtureScenario("lost-bad"), h)
	dir := t.TempDir()
	require.NoError(t, reports.Write(dir, r, h))
	require.NoError(t, reports.Write(dir, r, h), "rewriting a run directory works")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), e.Name())
	}
	assert.ElementsMatch(t, []string{"results.json", "junit.xml", "summary.md", "report.html"}, names)

	back, err := reports.ReadJSON(dir)
	require.NoError(t, err)
	assert.Equal(t, r.Verdict, back.Verdict)
	assert.Equal(t, r.Counts, back.Counts)
}
