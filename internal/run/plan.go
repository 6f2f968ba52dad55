package run

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/scenarios"
)

// plan turns the scenario's fault list into schedule steps, one per
// firing, with everything the seed decides already decided: start times
// (every, start_jitter), random-* targets, the kinds of random faults and
// the seeds of disk faults. One seed always gives one schedule; only the
// leader is left to be named when its fault fires.
func plan(sc *scenarios.Scenario, nodes []string) ([]injectors.Step, error) {
	end := sc.Duration.D()
	var steps []injectors.Step
	seen := map[uint64]uint64{}
	for i, f := range sc.Faults {
		// Each fault draws from its own stream, named by its content (and
		// how many identical faults came before it), so that adding,
		// removing or editing one fault changes no other fault's draws.
		h := fnv.New64a()
		fmt.Fprintf(h, "%+v", f)
		key := h.Sum64()
		rng := rand.New(rand.NewPCG(uint64(sc.Seed), key+seen[key]))
		seen[key]++
		every := f.Every.D()
		for k := 0; ; k++ {
			at := f.At.D() + time.Duration(k)*every
			if k > 0 && (every <= 0 || at >= end) {
				break
			}
			if j := f.StartJitter.D(); j > 0 {
				at += time.Duration(rng.Int64N(int64(j)))
			}
			id := fmt.Sprintf("f%d", i+1)
			if every > 0 {
				id = fmt.Sprintf("f%d.%d", i+1, k+1)
			}
			fire := f
			if f.Kind == "random" {
				fire = drawRandom(f, rng, len(nodes))
			}
			step, err := buildStep(fire, id, nodes, rng)
			if err != nil {
				return nil, fmt.Errorf("faults[%d]: %w", i, err)
			}
			if at >= end {
				continue // jitter pushed it past the end: it never fires
			}
			step.At = at
			steps = append(steps, step)
		}
	}
	slices.SortStableFunc(steps, func(a, b injectors.Step) int { return int(a.At - b.At) })
	return steps, nil
}

// buildStep makes the injector and target of one firing of f.
func buildStep(f scenarios.Fault, id string, nodes []string, rng *rand.Rand) (injectors.Step, error) {
	step := injectors.Step{Target: injectors.Target{ID: id}, For: f.Duration.D()}
	var err error
	switch {
	case len(f.Nodes) > 0:
		step.Target.Nodes, err = injectors.ResolveNodes(f.Nodes, nodes)
	case len(f.Links) == 0:
		step.Target.Nodes, err = injectors.ResolveTarget(f.Target, nodes, rng)
	}
	if err != nil {
		return step, err
	}
	scope := injectors.Scope{Links: f.Links, Clients: f.Clients == "cut", Direction: f.Direction}
	switch f.Kind {
	case "kill":
		step.Injector, step.For = injectors.Kill{}, f.RestartAfter.D()
	case "stop":
		step.Injector, step.For = injectors.Stop{}, f.RestartAfter.D()
	case "pause":
		step.Injector = injectors.Pause{}
	case "restart":
		step.Injector = injectors.Restart{Mode: f.Mode, Down: f.Delay.D()}
	case "partition":
		if f.Mode == "isolate-leader" {
			step.Target.Nodes = []string{injectors.Leader}
		}
		step.Injector = injectors.Partition{Mode: f.Mode, Groups: f.Groups, CutClients: f.Clients == "cut",
			Direction: f.Direction, Seed: rng.Uint64()}
	case "latency":
		step.Injector = injectors.Latency{Scope: scope, Latency: f.Latency.D(), Jitter: f.Jitter.D()}
	case "bandwidth":
		step.Injector = injectors.Bandwidth{Scope: scope, Rate: int64(f.Bandwidth)}
	case "reset-peer":
		step.Injector = injectors.ResetPeer{Scope: scope, Delay: f.Delay.D()}
	case "slow-close":
		step.Injector = injectors.SlowClose{Scope: scope, Delay: f.Delay.D()}
	case "slicer":
		step.Injector = injectors.Slicer{Scope: scope, AverageSize: f.AverageSize, SizeVariation: f.SizeVariation, Delay: f.Delay.D()}
	case "limit-data":
		step.Injector = injectors.LimitData{Scope: scope, Bytes: int64(f.Bytes)}
	case "down":
		step.Injector = injectors.Down{Scope: scope}
	case "bitflip":
		step.Injector = injectors.Bitflip{Files: f.Files, Flips: f.Flips, Seed: rng.Uint64(), Graceful: f.Stop == "graceful"}
	case "truncate":
		step.Injector = injectors.Truncate{Files: f.Files, Bytes: int64(f.Bytes), Graceful: f.Stop == "graceful"}
	default:
		return step, fmt.Errorf("unknown kind %q", f.Kind)
	}
	nodeKind := !scenarios.IsLinkKind(f.Kind)
	if nodeKind && len(step.Target.Nodes) == 0 && !(f.Kind == "partition" && (f.Mode == "ring" || f.Mode == "groups")) {
		return step, fmt.Errorf("%s needs target nodes, got %q", f.Kind, f.Target)
	}
	return step, nil
}

// Settings of the faults a random entry draws: moderate versions of each
// kind, held for the entry's duration, on one node drawn with the seed
// (docs/faults.md lists them).
var randomSettings = map[string]scenarios.Fault{
	"kill":       {Target: "random-one"},
	"stop":       {Target: "random-one"},
	"pause":      {Target: "random-one"},
	"restart":    {Target: "random-one", Mode: "rolling"},
	"latency":    {Target: "random-one", Latency: scenarios.Duration(100 * time.Millisecond), Jitter: scenarios.Duration(20 * time.Millisecond)},
	"bandwidth":  {Target: "random-one", Bandwidth: 64},
	"reset-peer": {Target: "random-one"},
	"slow-close": {Target: "random-one", Delay: scenarios.Duration(time.Second)},
	"slicer":     {Target: "random-one", AverageSize: 64, SizeVariation: 32, Delay: scenarios.Duration(time.Millisecond)},
	"limit-data": {Target: "random-one", Bytes: 64 << 10},
	"down":       {Target: "random-one"},
}

// drawRandom draws the kind (and, for a partition, the shape) of one
// firing of a random entry.
func drawRandom(f scenarios.Fault, rng *rand.Rand, nodes int) scenarios.Fault {
	kind := f.From[rng.IntN(len(f.From))]
	g := randomSettings[kind]
	g.Kind, g.Duration = kind, f.Duration
	switch kind {
	case "kill", "stop":
		g.Duration, g.RestartAfter = 0, f.Duration
	case "restart":
		g.Duration = 0
	case "partition":
		modes := []string{"isolate-one"}
		if nodes >= 3 {
			modes = append(modes, "halves", "bridge")
		}
		g.Mode = modes[rng.IntN(len(modes))]
	}
	return g.Resolved()
}
