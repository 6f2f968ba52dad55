package riptide_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide"
	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
	"github.com/riptidechaos/riptide/reports"
	"github.com/riptidechaos/riptide/scenarios"
)

func TestRunRefusesAnInvalidGoScenario(t *testing.T) {
	sc := &scenarios.Scenario{
		Name:     "from-go",
		Duration: scenarios.Duration(10 * time.Second),
		Cluster:  scenarios.Cluster{System: "nats"},
		Workload: scenarios.Workload{Kind: "queue", Producers: 100},
		Faults:   []scenarios.Fault{{Kind: "kill", At: scenarios.Duration(20 * time.Second)}},
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, err := riptide.Run(context.Background(), sc, riptide.Options{Dir: dir})
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	assert.Equal(t, "invalid scenario from-go:\n"+
		"workload.producers: must be between 1 and 64, got 100\n"+
		"faults[0].at: must be before the end of the main phase (duration 10s), got 20s", err.Error())
	assert.NoDirExists(t, dir, "nothing is launched for an invalid scenario")
	assert.Zero(t, sc.Cluster.Nodes, "Run works on a copy: the caller's scenario keeps its zero values")
	assert.Empty(t, sc.Faults[0].Target)

	_, err = riptide.Run(context.Background(), nil, riptide.Options{})
	require.Error(t, err)
}

func TestLoad(t *testing.T) {
	sc, err := riptide.Load("catalog:nats-kill")
	require.NoError(t, err)
	assert.Equal(t, "nats-kill", sc.Name)
	assert.True(t, sc.Short)

	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: x\nduration: 10\n"), 0o644))
	_, err = riptide.Load(path)
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	assert.Contains(t, err.Error(), path+":2:11: duration: duration 10 has no unit")
}

// dockerEngine serves /_ping on a unix socket with the given status.
func dockerEngine(t *testing.T, status int) string {
	t.Helper()
	// Unix socket paths are limited to about 100 bytes; t.TempDir() can
	// be longer.
	dir, err := os.MkdirTemp("", "dk")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("OK"))
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return "unix://" + sock
}

func TestAvailableDocker(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name string
		host func(t *testing.T) string
		want string // "" for available
	}{
		{"engine answers", func(t *testing.T) string { return dockerEngine(t, http.StatusOK) }, ""},
		{"engine fails its ping", func(t *testing.T) string { return dockerEngine(t, http.StatusInternalServerError) },
			"answers ping with 500 Internal Server Error"},
		{"no socket", func(*testing.T) string { return "unix:///nonexistent/docker.sock" }, "no engine answers at unix:///nonexistent/docker.sock"},
		{"nothing on the tcp port", func(*testing.T) string { return "tcp://" + closedAddr }, "no engine answers at tcp://" + closedAddr},
		{"ssh is not checked", func(*testing.T) string { return "ssh://user@host" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.host(t))
			sc := &scenarios.Scenario{Cluster: scenarios.Cluster{System: "nats", Platform: "docker"}}
			err := riptide.Available(context.Background(), sc, "")
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, riptide.ErrUnavailable)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAvailableProcess(t *testing.T) {
	sc := &scenarios.Scenario{Cluster: scenarios.Cluster{System: "nats"}} // platform process by default
	t.Setenv("RIPTIDE_CACHE", t.TempDir())
	require.NoError(t, riptide.Available(context.Background(), sc, ""), "go is on PATH: the binary can be built")

	t.Setenv("PATH", "/nonexistent")
	err := riptide.Available(context.Background(), sc, "")
	require.ErrorIs(t, err, riptide.ErrUnavailable)
	assert.Contains(t, err.Error(), "the go command is not on PATH")

	assert.NoError(t, riptide.Available(context.Background(), sc, "/usr/local/bin/nats-server"),
		"a binary that is named is the run's to check")
	withBinary := *sc
	withBinary.Cluster.Binary = "/opt/nats-server"
	assert.NoError(t, riptide.Available(context.Background(), &withBinary, ""))
}

func TestSummary(t *testing.T) {
	// A checker keeps checkers.MaxExamples examples of a kind and counts
	// the rest: of 27 lost, results.json lists 20.
	var lost checkers.Result
	for i := range 27 {
		lost.Add(checkers.Lost, checkers.Example{Message: fmt.Sprintf("lost %d", i+1)})
	}
	require.Len(t, lost.Anomalies[checkers.Lost].Examples, checkers.MaxExamples)
	var dups checkers.Result
	for i := range 5 {
		dups.Add(checkers.Duplicate, checkers.Example{Message: fmt.Sprintf("dup %d", i+1)})
	}
	o := &riptide.Outcome{Dir: "/runs/x", Results: &reports.Results{
		Scenario: reports.Scenario{Name: "x", Seed: 42},
		Verdict:  checkers.Invalid,
		Reason:   "27 lost",
		Counts:   map[checkers.Kind]int{checkers.Lost: 27, checkers.Duplicate: 5},
		Kinds:    checkers.Kinds,
		Checkers: []checkers.Result{{Checker: "queue", Anomalies: map[checkers.Kind]checkers.Anomalies{
			checkers.Lost:      lost.Anomalies[checkers.Lost],
			checkers.Duplicate: dups.Anomalies[checkers.Duplicate],
		}}},
		HarnessErrors: []string{"heal f2: timeout"},
		Sends:         10, Acked: 9, Reads: 8, Duration: 61400 * time.Millisecond,
		Faults: []reports.FaultEvent{{F: history.FaultStart}, {F: history.FaultStop}, {F: history.FaultStart, Error: "x"}},
	}}
	assert.Equal(t, strings.Join([]string{
		"verdict: INVALID",
		"reason: 27 lost",
		"anomalies: lost 27, duplicate 5",
		"  lost: lost 1",
		"  lost: lost 2",
		"  lost: lost 3",
		"  lost: ... 24 more (17 of them listed in results.json)",
		"  duplicate: dup 1",
		"  duplicate: dup 2",
		"  duplicate: dup 3",
		"  duplicate: ... 2 more in results.json",
		"harness: heal f2: timeout",
		"sends 10, acknowledged 9, read 8 (consumers and drain), faults 1, seed 42, took 1m1s",
		"run directory: /runs/x (report.html, results.json, junit.xml, summary.md, history.jsonl)",
	}, "\n"), o.Summary())
	assert.Equal(t, 1, o.ExitCode())

	// Counted beyond the examples kept (a results.json from another
	// writer): the summary says the rest are not listed.
	o.Results.Checkers = []checkers.Result{{Checker: "queue", Anomalies: map[checkers.Kind]checkers.Anomalies{
		checkers.Unseen: {Count: 4, Examples: []checkers.Example{{Message: "unseen 1"}, {Message: "unseen 2"}}},
	}}}
	assert.Contains(t, o.Summary(), "  unseen: unseen 1\n  unseen: unseen 2\n  unseen: ... 2 more (counted, not listed in results.json)\n")

	o.Results = &reports.Results{Verdict: checkers.Valid, Kinds: checkers.Kinds}
	assert.Contains(t, o.Summary(), "anomalies: none\n")
	assert.Equal(t, 0, o.ExitCode())
}
