package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// resolved is s with defaults applied and without what loading adds
// (file name, positions), for comparing scenarios by content.
func resolved(s *Scenario) Scenario {
	r := *s
	r.Faults = append([]Fault(nil), s.Faults...)
	r.ApplyDefaults()
	r.File, r.pos = "", nil
	return r
}

func TestMarshalRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../testdata/scenarios/valid-*.yaml")
	require.NoError(t, err)
	files = append(files, "nats-smoke.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := Load(file)
			require.NoError(t, err)
			roundTrip(t, s)
		})
	}
	t.Run("built in Go", func(t *testing.T) {
		s := &Scenario{
			Name:        "go",
			Description: "yes: a description that looks like YAML # and has a comment",
			Seed:        -1,
			Duration:    Duration(90e9),
			Cluster:     Cluster{System: "nats", Nodes: 1, Config: map[string]string{"sync_interval": "always"}},
			Workload:    Workload{Kind: "queue", Consumers: 0, Rate: 0.5},
			Faults: []Fault{
				{Kind: "kill", At: 0},
				{Kind: "latency", Target: "n1", At: Duration(1e9), Duration: Duration(2e9), Latency: Duration(3e6)},
			},
			Expect: map[string]Allowance{"unseen": {Any: true}, "duplicate": {Max: 2}},
		}
		roundTrip(t, s)
	})
}

func roundTrip(t *testing.T, s *Scenario) {
	t.Helper()
	out, err := s.Marshal()
	require.NoError(t, err)
	back, err := Parse("resolved.yaml", out)
	require.NoError(t, err, "marshalled:\n%s", out)
	require.Equal(t, resolved(s), resolved(back), "marshalled:\n%s", out)
	again, err := back.Marshal()
	require.NoError(t, err)
	require.Equal(t, string(out), string(again), "marshalling is stable")
}

// The resolved smoke scenario, as a run directory stores it; kept here so a
// change in what Marshal writes shows up in review.
func TestMarshalSmoke(t *testing.T) {
	s, err := Load("nats-smoke.yaml")
	require.NoError(t, err)
	out, err := s.Marshal()
	require.NoError(t, err)
	const golden = "../testdata/scenarios/nats-smoke.resolved.golden"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with UPDATE_GOLDEN=1 to write it")
	require.Equal(t, string(want), string(out))
}
