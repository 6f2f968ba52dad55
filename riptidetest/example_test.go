package riptidetest_test

import (
	"testing"
	"time"

	"github.com/riptidechaos/riptide/riptidetest"
	"github.com/riptidechaos/riptide/scenarios"
)

// A chaos scenario as one more test of your repository. Copy the body into
// a test function, func TestNATSChaos(t *testing.T), in any _test.go file:
// go test runs the scenario against a real cluster (and skips it under
// -short unless it is marked short: true); a verdict other than valid fails
// the test with the anomalies found and keeps the run directory.
func ExampleRun() {
	t := &testing.T{} // provided by go test

	// A built-in scenario (riptide list), or a path such as
	// "testdata/chaos/orders.yaml" relative to the test's package.
	riptidetest.Run(t, "catalog:nats-kill",
		riptidetest.WithSeed(42),                 // another draw of nodes to kill
		riptidetest.WithDuration(15*time.Second), // a shorter main phase
	)
}

// A scenario built in Go, for tests that generate scenarios.
func ExampleRunScenario() {
	t := &testing.T{} // provided by go test

	sc := &scenarios.Scenario{
		Name:     "orders-kill",
		Duration: scenarios.Duration(20 * time.Second),
		Short:    true, // quick enough for go test -short
		Cluster:  scenarios.Cluster{System: "nats", Config: map[string]string{"sync_interval": "always"}},
		Workload: scenarios.Workload{Kind: "queue", Stream: "orders", Consumers: 2},
		Faults: []scenarios.Fault{{
			Kind: "kill", Target: "random-one",
			At: scenarios.Duration(5 * time.Second), RestartAfter: scenarios.Duration(5 * time.Second),
		}},
	}
	out := riptidetest.RunScenario(t, sc)
	if out.Results.Acked < 1000 {
		t.Errorf("only %d sends acknowledged", out.Results.Acked)
	}
}
