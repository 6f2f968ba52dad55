package scenarios_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/scenarios"
)

// goScenario is a valid scenario built in Go, before defaults.
func goScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:     "built-in-go",
		Duration: dur("1m"),
		Cluster:  scenarios.Cluster{System: "nats"},
		Workload: scenarios.Workload{Kind: "queue"},
		Faults:   []scenarios.Fault{{Kind: "partition", At: dur("10s"), Duration: dur("10s")}},
		Expect:   map[string]scenarios.Allowance{"lost": {}},
	}
}

func TestApplyDefaultsInGo(t *testing.T) {
	s := goScenario()
	s.ApplyDefaults()
	require.NoError(t, s.Validate())
	require.Equal(t, scenarios.Cluster{System: "nats", Version: "2.12.1", Nodes: 3, Platform: "process"}, s.Cluster)
	require.Equal(t, scenarios.Workload{
		Kind: "queue", Stream: "riptide", Replicas: 3, Producers: 4,
		Consumers: 0, // a Go zero is a real choice for consumers
		Rate:      500, Timeout: dur("5s"), Drain: dur("30s"),
	}, s.Workload)
	require.Equal(t, scenarios.Fault{
		Kind: "partition", Target: "random-one", Mode: "isolate-one", Clients: "cut", Direction: "both",
		At: dur("10s"), Duration: dur("10s"),
	}, s.Faults[0])
	require.Equal(t, 20, s.Checks.MinAckedBeforeFault, "a Go zero means unset")
}

// In a loaded file an explicit value is validated, zero included, and
// only an omitted one takes the default (flips: 0 and bytes: 0 are in
// TestFaultRulesReportProblems).
func TestExplicitZerosAreValidated(t *testing.T) {
	const head = "name: t\nduration: 60s\ncluster: {system: nats}\nworkload: {kind: queue}\n"
	tests := []struct {
		name, yaml string
		want       []want
	}{
		{"no traffic floor", head + "checks: {min_acked_before_fault: 0}\n",
			[]want{{"5:34", "checks.min_acked_before_fault", "must be between 1 and 1000000, got 0"}}},
		{"a main phase of a nanosecond", "name: t\nduration: 1ns\ncluster: {system: nats}\nworkload: {kind: queue}\n",
			[]want{{"2:11", "duration", "must be at least 1s, got 1ns"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenarios.Parse("x.yaml", []byte(tt.yaml))
			requireProblems(t, err, tt.want)
		})
	}

	// Left out, they take their defaults.
	s, err := scenarios.Parse("x.yaml", []byte("name: t\nduration: 1s\ncluster: {system: nats}\nworkload: {kind: queue}\n"+
		"faults:\n  - {kind: bitflip, at: 0s}\n  - {kind: truncate, at: 0s}\n"))
	require.NoError(t, err)
	require.Equal(t, 20, s.Checks.MinAckedBeforeFault)
	require.Equal(t, 8, s.Faults[0].Flips)
	require.Equal(t, 512, s.Faults[1].Bytes)
}

// Problems of a scenario built in Go have no position but still name the
// field and what is allowed.
func TestValidateInGo(t *testing.T) {
	tests := []struct {
		name   string
		change func(*scenarios.Scenario)
		want   string
	}{
		{"fault field of another kind", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Kind: "kill", Latency: dur("5ms")}}
		}, "faults[0].latency: not allowed for kind kill; fields of kill: target, nodes, at, every, start_jitter, restart_after"},
		{"negative allowance", func(s *scenarios.Scenario) {
			s.Expect["lost"] = scenarios.Allowance{Max: -1}
		}, "expect.lost: must be a count >= 0 or allowed, got -1"},
		{"unknown anomaly kind", func(s *scenarios.Scenario) {
			s.Expect["reordered"] = scenarios.Allowance{}
		}, "expect.reordered: unknown anomaly kind; allowed: lost, lost-prefix, lost-middle, lost-postfix, unseen, unexpected, duplicate, inconsistent-offset, aborted-read, nonmonotonic-send, nonmonotonic-poll, poll-skip, lost-on-node, nonlinearizable, unexercised"},
		{"latency target for a partition", func(s *scenarios.Scenario) {
			s.Faults[0].Target = "all-links"
		}, `faults[0].target: unknown target "all-links"; allowed: one, random-one, minority, random-minority, leader or a node name n1..n3`},
		{"kill restarting before it kills", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Kind: "kill", RestartAfter: dur("-1s")}}
		}, "faults[0].restart_after: must be >= 0, got -1s"},
		{"stream name with a slash", func(s *scenarios.Scenario) {
			s.Workload.Stream = "a/b"
		}, `workload.stream: invalid stream name "a/b"; use 1-32 letters, digits, '_' or '-'`},
		{"too long a duration", func(s *scenarios.Scenario) {
			s.Duration = dur("25h")
		}, "duration: must be > 0 and at most 24h, got 25h0m0s"},
		{"drain too long", func(s *scenarios.Scenario) {
			s.Workload.Drain = dur("11m")
		}, "workload.drain: must be > 0 and at most 10m, got 11m0s"},
		{"too many consumers", func(s *scenarios.Scenario) {
			s.Workload.Consumers = 65
		}, "workload.consumers: must be between 0 and 64, got 65"},
		{"main phase under a second", func(s *scenarios.Scenario) {
			s.Duration, s.Faults = dur("1ns"), nil
		}, "duration: must be at least 1s, got 1ns: the workload needs time to run, and to be acknowledged before the first fault"},
		{"minority of 2 nodes", func(s *scenarios.Scenario) {
			s.Cluster.Nodes = 2
			s.Faults[0].Target = "minority"
		}, "faults[0].target: minority needs at least 3 nodes, the cluster has 2 (on 2 it names no node); allowed: one, random-one, leader or a node name n1..n2"},
		{"latency above a minute", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Kind: "latency", Duration: dur("1s"), Latency: dur("61s")}}
		}, "faults[0].latency: must be > 0 and at most 60s, got 1m1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := goScenario()
			tt.change(s)
			s.ApplyDefaults()
			err := s.Validate()
			var probs *scenarios.Problems
			require.ErrorAs(t, err, &probs)
			require.Len(t, probs.List(), 1, "problems:\n%v", err)
			require.Equal(t, scenarios.Pos{}, probs.List()[0].Pos)
			require.Equal(t, tt.want, err.Error())
		})
	}
}
