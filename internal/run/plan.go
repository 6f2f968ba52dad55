package run

import (
	"fmt"
	"math/rand/v2"

	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/scenarios"
)

// plan turns the scenario's fault list into schedule steps. Random targets
// are drawn from the scenario seed, so one seed always gives one schedule.
func plan(sc *scenarios.Scenario, nodes []string) ([]injectors.Step, error) {
	rng := rand.New(rand.NewPCG(uint64(sc.Seed), 0x726970746964)) // "riptid"
	steps := make([]injectors.Step, 0, len(sc.Faults))
	for i, f := range sc.Faults {
		id := fmt.Sprintf("f%d", i+1)
		targets, err := injectors.ResolveTarget(f.Target, nodes, rng)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		step := injectors.Step{At: f.At.D(), Target: injectors.Target{ID: id, Nodes: targets}}
		switch f.Kind {
		case "kill":
			step.Injector = injectors.Kill{}
			step.For = f.RestartAfter.D()
		case "partition":
			step.Injector = injectors.Partition{Mode: f.Mode, CutClients: f.Clients != "keep"}
			step.For = f.Duration.D()
		case "latency":
			step.Injector = injectors.Latency{Latency: f.Latency.D(), Jitter: f.Jitter.D()}
			step.For = f.Duration.D()
		default:
			return nil, fmt.Errorf("faults[%d]: unknown kind %q", i, f.Kind)
		}
		if len(targets) == 0 && f.Kind != "latency" {
			return nil, fmt.Errorf("faults[%d]: %s needs target nodes, got %q", i, f.Kind, f.Target)
		}
		steps = append(steps, step)
	}
	return steps, nil
}
