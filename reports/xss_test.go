package reports_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
)

// Payloads that execute if a report inserts a value as markup, closes its
// script blocks, or breaks out of an attribute.
const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"><img src=x onerror=alert(1)>`
	xssClose  = `</script><script>alert(1)</script>`
	xssJS     = `'";alert(1)//` + "\u2028<!--"
)

// hostileRun is a run in which every value that comes from the history,
// the cluster or the scenario is a payload: message bodies, stream and node
// names, errors, fault kinds and parameters, checker output, log lines and
// the name of a porcupine file.
func hostileRun(t *testing.T) (string, *reports.Results, []history.Op) {
	t.Helper()
	ms := time.Millisecond
	h := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: history.Send, Stream: xssAttr, Value: xssScript, Offset: history.NoOffset, Time: 1 * ms},
		{Index: 1, Process: 0, Type: history.OK, F: history.Send, Stream: xssAttr, Value: xssScript, Offset: 1, Node: xssClose, Time: 3 * ms},
		{Index: 2, Process: history.NemesisProcess, Type: history.OK, F: history.FaultStart, Offset: history.NoOffset, Time: 4 * ms,
			Fault: &history.Fault{ID: "f1", Kind: xssScript, Targets: []string{xssAttr}, Params: map[string]string{xssScript: xssAttr}}},
		{Index: 3, Process: 1, Type: history.Invoke, F: history.Poll, Stream: xssAttr, Offset: history.NoOffset, Time: 5 * ms},
		{Index: 4, Process: 1, Type: history.OK, F: history.Poll, Stream: xssAttr, Offset: history.NoOffset, Node: xssJS,
			Reads: []history.Read{{Offset: 1, Value: xssScript}, {Offset: 2, Value: xssClose}}, Time: 6 * ms},
		{Index: 5, Process: 0, Type: history.Invoke, F: history.Send, Stream: xssAttr, Value: xssAttr + xssJS, Offset: history.NoOffset, Time: 7 * ms},
		{Index: 6, Process: 0, Type: history.Info, F: history.Send, Stream: xssAttr, Value: xssAttr + xssJS, Offset: history.NoOffset, Error: xssAttr, Time: 9 * ms},
		{Index: 7, Process: history.NemesisProcess, Type: history.OK, F: history.FaultStop, Offset: history.NoOffset, Time: 10 * ms,
			Fault: &history.Fault{ID: "f1", Kind: xssScript, Targets: []string{xssAttr}}},
	}
	kind := checkers.Kind(xssScript)
	r := &reports.Results{
		Scenario: reports.Scenario{Name: xssScript, Description: xssAttr, System: xssClose, Version: xssJS,
			Platform: xssAttr, Nodes: 2, Duration: 8 * ms, YAML: "name: " + xssScript + "\n" + xssClose},
		Verdict: checkers.Invalid, Reason: xssScript,
		Counts: map[checkers.Kind]int{kind: 1},
		Expectations: []reports.Expectation{
			{Kind: kind, Allowed: xssAttr, Count: 1, Pass: false},
			{Kind: checkers.Lost, Allowed: "0", Count: 0, Pass: true},
		},
		Faults: []reports.FaultEvent{
			{Op: 2, F: history.FaultStart, ID: "f1", Kind: xssScript, Targets: []string{xssAttr},
				Params: map[string]string{xssScript: xssAttr}, Time: 4 * ms, Error: xssClose},
			{Op: 7, F: history.FaultStop, ID: "f1", Kind: xssScript, Targets: []string{xssAttr}, Time: 10 * ms},
		},
		Checkers: []checkers.Result{{
			Checker: xssAttr, Verdict: checkers.Invalid, Reason: xssScript, Error: xssClose + "\n" + xssJS,
			Stats: map[string]int64{xssScript: 1},
			Anomalies: map[checkers.Kind]checkers.Anomalies{kind: {Count: 1, Examples: []checkers.Example{{
				Stream: xssAttr, Value: xssScript, Offset: 1, Ops: []int64{0, 1, 4},
				Message: xssClose + " see op #1 and " + xssAttr,
			}}}},
			Windows: []checkers.FaultWindow{{ID: xssScript, Kind: xssAttr, Targets: []string{xssClose},
				Start: 4 * ms, End: 10 * ms}},
		}},
		Kinds:         append(append([]checkers.KindInfo(nil), checkers.Kinds...), checkers.KindInfo{Kind: kind, Definition: xssAttr, Proof: true}),
		HarnessErrors: []string{xssScript, xssAttr},
		Nodes:         []string{"n1", xssAttr},
		Ops:           int64(len(h)), Sends: 2, Acked: 1, Reads: 2,
		Drain: reports.Drain{Ran: true, Error: xssClose},
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nodes", "n1"), 0o755))
	log := "[1] 2026/11/21 12:00:00 [INF] started\n[1] 2026/11/21 12:00:01 [ERR] " + xssScript + "\n" + xssClose + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodes", "n1", "node.log"), []byte(log), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "porcupine-"+`"><img src=x onerror=alert(1)>`+".html"), []byte("x"), 0o644))
	return dir, r, h
}

func TestReportEscapesEveryValue(t *testing.T) {
	dir, r, h := hostileRun(t)
	require.NoError(t, reports.Write(dir, r, h))
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	page := string(b)

	for _, p := range []string{xssScript, xssAttr, xssClose, "<img"} {
		assertAbsent(t, page, p, "a payload reached the page unescaped")
	}
	assertHas(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "the payload is shown, escaped")
	assert.Equal(t, 3, strings.Count(page, "<script"), "only the report's own script blocks")
	assert.Equal(t, 3, strings.Count(page, "</script>"))

	// The embedded JSON carries the values intact for the table to show.
	for _, id := range []string{"ops-data", "series-data"} {
		m := regexp.MustCompile(`(?s)<script type="application/json" id="` + id + `"[^>]*>(.*?)</script>`).FindStringSubmatch(page)
		require.NotNil(t, m, "%s block", id)
		var v any
		require.NoError(t, json.Unmarshal([]byte(m[1]), &v), "%s is JSON", id)
		assert.NotContains(t, m[1], "\u2028", "a line separator ends a line in older JavaScript parsers")
	}
	m := regexp.MustCompile(`(?s)id="ops-data"[^>]*>(.*?)</script>`).FindStringSubmatch(page)
	var rows [][]any
	require.NoError(t, json.Unmarshal([]byte(m[1]), &rows))
	require.Len(t, rows, len(h))
	assert.Equal(t, xssScript, rows[1][5], "value")
	assert.Equal(t, xssClose, rows[1][7], "node")
	assert.Equal(t, xssJS, rows[4][7])
	assert.Equal(t, xssAttr, rows[6][8], "error")
}

func TestJUnitAndSummaryEscapeEveryValue(t *testing.T) {
	dir, r, h := hostileRun(t)
	require.NoError(t, reports.Write(dir, r, h))

	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	assertAbsent(t, string(b), "<script")
	assertAbsent(t, string(b), "<img")
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc), "junit.xml is well-formed")
	var names []string
	for _, c := range doc.Suites[0].Cases {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, xssScript, "the kind round-trips as the test case name")
	assert.Contains(t, names, xssAttr, "and the checker name")

	b, err = os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	for _, p := range []string{"<script", "<img", "</script"} {
		assertAbsent(t, string(b), p, "GitHub renders HTML in summaries")
	}
}

// tableIndices returns the op indices embedded in a report's table.
func tableIndices(t *testing.T, page string) map[int64]bool {
	t.Helper()
	m := regexp.MustCompile(`(?s)id="ops-data"[^>]*>(.*?)</script>`).FindStringSubmatch(page)
	require.NotNil(t, m)
	var rows [][]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(m[1]), &rows))
	out := make(map[int64]bool, len(rows))
	for _, row := range rows {
		var idx int64
		require.NoError(t, json.Unmarshal(row[0], &idx))
		out[idx] = true
	}
	return out
}
