package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/reports"
)

// writeHistory writes ops as dir/history.jsonl, followed by tail (a torn
// line, say).
func writeHistory(t *testing.T, dir string, ops []history.Op, tail string) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, history.Encode(&b, ops))
	b.WriteString(tail)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), b.Bytes(), 0o644))
}

func readResults(t *testing.T, dir string) *reports.Results {
	t.Helper()
	r, err := reports.ReadJSON(dir)
	require.NoError(t, err)
	return r
}

// TestCheckToleratesATornHistory: a harness killed in the middle of a
// write leaves half a line at the end of history.jsonl. riptide check
// drops it, says so in results.json and in its output, and judges the rest.
func TestCheckToleratesATornHistory(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../testdata/histories/lost-ok.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), append(b, `{"index":99,"process":0,"type":"ok","f":"se`...), 0o644))

	code, out, errOut := runCLI("check", dir)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "torn line")
	r := readResults(t, dir)
	assert.True(t, r.HistoryTorn)
	assert.Contains(t, strings.Join(r.HarnessErrors, "\n"), "torn line")
	h, _, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, int64(len(h)), r.Ops, "every whole line was checked")
}

// TestCheckOfAKilledRunIsNotValid: a harness killed before its drain
// leaves a history in which every acknowledged message was read so far,
// but nothing was healed or drained; riptide check must not call that
// valid. The run directory says the harness died: its heal journal has no
// end written by the harness and there is no results.json.
func TestCheckOfAKilledRunIsNotValid(t *testing.T) {
	ms := time.Millisecond
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: history.Send, Stream: "s", Value: "0-1", Offset: history.NoOffset, Time: 1 * ms},
		{Process: 0, Type: history.OK, F: history.Send, Stream: "s", Value: "0-1", Offset: 1, Node: "n1", Time: 2 * ms},
		{Process: 1, Type: history.Invoke, F: history.Poll, Stream: "s", Offset: history.NoOffset, Time: 3 * ms},
		{Process: 1, Type: history.OK, F: history.Poll, Stream: "s", Offset: history.NoOffset, Node: "n1",
			Reads: []history.Read{{Offset: 1, Value: "0-1"}}, Time: 4 * ms},
	}
	for i := range ops {
		ops[i].Index = int64(i)
	}
	t.Run("bare history", func(t *testing.T) {
		// A history on its own (testdata, a user's tool) carries no sign
		// of how the run ended: it is judged as it stands.
		dir := t.TempDir()
		writeHistory(t, dir, ops, "")
		code, out, _ := runCLI("check", dir)
		assert.Equal(t, 0, code, out)
	})
	// A begin line naming a process that is gone: a dead harness.
	dead := `{"time":"2026-01-01T00:00:00Z","event":"begin","platform":"process","harness_pid":4194311,"harness_start":1}` + "\n"
	for _, tt := range []struct {
		name, journal string
		cleaned       bool
		note          string
	}{
		{"harness killed", dead, false, "the harness stopped before the end of the run"},
		{"harness killed, then riptide clean", dead, true, "the harness stopped before the end of the run"},
		// This test's process wrote the begin line: the run goes on.
		{"harness still running", "", false, "the run is still going on"},
		// The harness ended the journal itself (a launch that failed).
		{"run stopped by the harness", dead + `{"time":"2026-01-01T00:00:01Z","event":"end"}` + "\n", false, "the run stopped before its end"},
		// Killed before the begin line was whole: a journal of one torn
		// line reads as empty.
		{"journal torn at its first line", `{"time":"2026-01-01T00:0`, false, "the harness stopped before the end of the run"},
		{"launch failed", dead + `{"time":"2026-01-01T00:00:01Z","event":"end","note":"launch nats on docker: no such image"}` + "\n", false,
			"the run stopped before its end and wrote no results.json: it could not go on (the cluster did not start, or a step failed)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeHistory(t, dir, ops, "")
			if tt.journal != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, injectors.JournalFile), []byte(tt.journal), 0o644))
			} else {
				_, err := injectors.CreateJournal(dir, "process") // never ended
				require.NoError(t, err)
			}
			if tt.cleaned {
				require.NoError(t, injectors.MarkCleaned(dir, nil, "undone by riptide clean after the harness died"))
			}
			code, out, errOut := runCLI("check", dir)
			require.Empty(t, errOut)
			r := readResults(t, dir)
			assert.NotEqual(t, "valid", string(r.Verdict), out)
			assert.True(t, r.Interrupted, "the run did not reach its end")
			assert.Equal(t, 3, code, "an interrupted run exits 3, as riptide run does")
			if !strings.Contains(tt.journal, `"note"`) {
				assert.Contains(t, out, "interrupted")
			}
			assert.Contains(t, strings.Join(r.HarnessErrors, "\n"), tt.note)
			if strings.Contains(tt.journal, `"note"`) {
				assert.Equal(t, "the run could not go on: launch nats on docker: no such image", r.Reason, "the end line's why")
				assert.Equal(t, "launch nats on docker: no such image", r.Stopped)
				assert.NotContains(t, out, "the run was interrupted", "it stopped on its own")
			}
		})
	}
	t.Run("empty history", func(t *testing.T) {
		// Nothing recorded proves nothing, with or without a journal.
		dir := t.TempDir()
		writeHistory(t, dir, nil, "")
		code, out, _ := runCLI("check", dir)
		assert.Equal(t, 2, code, out)
		assert.Equal(t, "unknown", string(readResults(t, dir).Verdict))
	})
}

// Payloads that execute if a report inserts them as markup or breaks out
// of an attribute or a script block; node directories cannot hold '/'.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `"><img src=x onerror=alert(1)>`
	hostileClose  = `</script><iframe onload=alert(1)>`
)

// TestCheckEscapesAHostileHistory runs riptide check over a run directory
// whose every value comes from a hostile system under test: message
// values, node names (also as directory names), error strings, log lines
// and the scenario's description. No payload reaches report.html,
// summary.md or junit.xml as markup. (reports' own tests cover every
// field of Results; this one goes through the checkers and the CLI.)
func TestCheckEscapesAHostileHistory(t *testing.T) {
	dir := t.TempDir()
	ms := time.Millisecond
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: history.Send, Stream: "s", Value: hostileScript, Offset: history.NoOffset, Time: 1 * ms},
		{Process: 0, Type: history.OK, F: history.Send, Stream: "s", Value: hostileScript, Offset: 1, Node: hostileAttr, Time: 2 * ms},
		{Process: history.NemesisProcess, Type: history.Fail, F: history.FaultStart, Offset: history.NoOffset, Error: hostileClose, Time: 3 * ms,
			Fault: &history.Fault{ID: "f1", Kind: "kill", Targets: []string{hostileAttr}, Params: map[string]string{"note": hostileScript}}},
		{Process: 0, Type: history.Invoke, F: history.Send, Stream: "s", Value: hostileAttr, Offset: history.NoOffset, Time: 4 * ms},
		{Process: 0, Type: history.Info, F: history.Send, Stream: "s", Value: hostileAttr, Offset: history.NoOffset, Error: hostileScript, Node: hostileClose, Time: 5 * ms},
		{Process: 1, Type: history.Invoke, F: history.Poll, Stream: "s", Offset: history.NoOffset, Time: 6 * ms},
		// An unexpected value, read twice at two offsets: anomalies whose
		// examples quote the values.
		{Process: 1, Type: history.OK, F: history.Poll, Stream: "s", Offset: history.NoOffset, Node: hostileAttr,
			Reads: []history.Read{{Offset: 2, Value: hostileClose}, {Offset: 3, Value: hostileClose}}, Time: 7 * ms},
		{Process: 2, Type: history.Invoke, F: history.Drain, Stream: "s", Offset: history.NoOffset, Time: 8 * ms},
		{Process: 2, Type: history.OK, F: history.Drain, Stream: "s", Offset: 3, Node: hostileAttr, Time: 9 * ms},
		{Process: history.NemesisProcess, Type: history.OK, F: history.FaultStop, Offset: history.NoOffset, Time: 10 * ms,
			Fault: &history.Fault{ID: "f1", Kind: "kill", Targets: []string{hostileAttr}}},
	}
	for i := range ops {
		ops[i].Index = int64(i)
	}
	writeHistory(t, dir, ops, "")
	scenario := "name: hostile\ndescription: '" + hostileClose + hostileAttr + "'\nduration: 10s\ncluster: {system: nats}\nworkload: {kind: queue}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(scenario), 0o644))
	node := filepath.Join(dir, "nodes", hostileAttr)
	require.NoError(t, os.MkdirAll(node, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(node, "node.log"),
		[]byte("[1] 2026/11/21 12:00:00 [ERR] "+hostileScript+"\n[1] panic: "+hostileClose+"\n"), 0o644))

	code, out, errOut := runCLI("check", dir)
	require.Equal(t, 1, code, "the unexpected and duplicated reads make it invalid\n%s\n%s", out, errOut)
	r := readResults(t, dir)
	require.Contains(t, r.Nodes, hostileAttr, "the node directory's name is a node name")
	require.Positive(t, r.Counts["unexpected"])

	page := readFile(t, dir, "report.html")
	for _, p := range []string{hostileScript, hostileAttr, hostileClose, "<img", "<iframe"} {
		absent(t, page, p, "report.html")
	}
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "the payload is shown, escaped")
	assert.Equal(t, strings.Count(page, "<script"), strings.Count(page, "</script>"), "no script block opened or closed by a value")

	summary := readFile(t, dir, "summary.md")
	for _, p := range []string{"<script", "<img", "<iframe", "</script"} {
		absent(t, summary, p, "summary.md (GitHub renders HTML in summaries)")
	}

	junit := readFile(t, dir, "junit.xml")
	for _, p := range []string{"<script", "<img", "<iframe"} {
		absent(t, junit, p, "junit.xml")
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(junit), &doc), "junit.xml is well-formed")

	// results.json carries the values intact, as data.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(readFile(t, dir, "results.json")), &raw))
}

// absent fails when doc holds payload, showing where rather than the
// whole document.
func absent(t *testing.T, doc, payload, what string) {
	t.Helper()
	if i := strings.Index(doc, payload); i >= 0 {
		t.Errorf("%s holds %q unescaped: ...%s...", what, payload, doc[max(i-120, 0):min(i+120, len(doc))])
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}
