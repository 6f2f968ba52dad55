package reports_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/reports"
)

// The CLI summary lists a lost value once, under lost, not again under
// the child kind (lost-postfix) that refines it; a child with no parent
// examples is listed under its own name. An unknown scenario has no seed.
func TestTextListsAValueOnce(t *testing.T) {
	ex := checkers.Example{Message: "value 0-9 acknowledged, never read"}
	r := &reports.Results{Verdict: checkers.Invalid, Kinds: checkers.Kinds,
		Counts:   map[checkers.Kind]int{checkers.Lost: 1, checkers.LostPostfix: 1},
		Scenario: reports.Scenario{Name: "x", Unknown: "no scenario.yaml"},
		Checkers: []checkers.Result{{Checker: "queue", Anomalies: map[checkers.Kind]checkers.Anomalies{
			checkers.Lost:        {Count: 1, Examples: []checkers.Example{ex}},
			checkers.LostPostfix: {Count: 1, Examples: []checkers.Example{ex}},
		}}}}
	text := reports.Text(r, "/runs/x")
	assert.Equal(t, 1, strings.Count(text, ex.Message), text)
	assert.Contains(t, text, "  lost: "+ex.Message)
	assert.Contains(t, text, "seed unknown")

	r.Checkers[0].Anomalies = map[checkers.Kind]checkers.Anomalies{
		checkers.LostPostfix: {Count: 1, Examples: []checkers.Example{ex}}}
	assert.Contains(t, reports.Text(r, "/runs/x"), "  lost-postfix: "+ex.Message)
}

// The file list names porcupine's view of a nonlinearizable stream.
func TestTextNamesPorcupineViews(t *testing.T) {
	dir := t.TempDir()
	r := &reports.Results{Verdict: checkers.Valid, Kinds: checkers.Kinds}
	assert.NotContains(t, reports.Text(r, dir), "porcupine")
	assert.NoError(t, os.WriteFile(filepath.Join(dir, "porcupine-s.html"), nil, 0o644))
	assert.Contains(t, reports.Text(r, dir), "history.jsonl, porcupine-s.html)")
}
