package riptide_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/riptidechaos/riptide"
	"github.com/riptidechaos/riptide/scenarios"
)

// A scenario built in Go rather than YAML, for programs that generate
// scenarios: here a partition of each node in turn. Fields left zero get
// the defaults a YAML file gets (3 nodes, the pinned NATS version, the
// process platform, 4 producers, ...).
func ExampleRun() {
	sc := &scenarios.Scenario{
		Name:     "partition-each-node",
		Seed:     1,
		Duration: scenarios.Duration(50 * time.Second),
		Cluster:  scenarios.Cluster{System: "nats", Config: map[string]string{"sync_interval": "always"}},
		Workload: scenarios.Workload{Kind: "queue", Consumers: 2, Rate: 300},
		Expect:   map[string]scenarios.Allowance{"lost": {Max: 0}, "unseen": {Any: true}},
	}
	for i, node := range []string{"n1", "n2", "n3"} {
		sc.Faults = append(sc.Faults, scenarios.Fault{
			Kind: "partition", Mode: "isolate-one", Target: node,
			At: scenarios.Duration(time.Duration(5+15*i) * time.Second), Duration: scenarios.Duration(12 * time.Second),
		})
	}

	out, err := riptide.Run(context.Background(), sc, riptide.Options{Log: os.Stderr})
	if err != nil {
		log.Fatal(err) // an invalid scenario, or the harness could not run
	}
	fmt.Println(out.Summary())
	os.Exit(out.ExitCode()) // 0 valid, 1 invalid, 2 unknown, as `riptide run`
}

// Load takes a file path or a built-in scenario.
func ExampleLoad() {
	sc, err := riptide.Load("catalog:nats-kill")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sc.Name, sc.Duration, sc.Short)
	for _, f := range sc.Faults {
		fmt.Println(f.Kind, f.Target, "at", f.At, "for", f.RestartAfter)
	}
	// Output:
	// nats-kill 20s true
	// kill random-one at 3s for 4s
	// kill random-one at 11s for 6s
}
