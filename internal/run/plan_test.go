package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/scenarios"
)

func loadPlanScenario(t *testing.T, faults string) *scenarios.Scenario {
	t.Helper()
	src := "name: p\nseed: 7\nduration: 60s\ncluster: {system: nats, nodes: 5}\nworkload: {kind: queue, replicas: 3}\nfaults:\n" + faults
	sc, err := scenarios.Parse("p.yaml", []byte(src))
	require.NoError(t, err)
	return sc
}

var nodes5 = []string{"n1", "n2", "n3", "n4", "n5"}

func planned(t *testing.T, sc *scenarios.Scenario) injectors.PlannedSchedule {
	t.Helper()
	steps, err := plan(sc, nodes5)
	require.NoError(t, err)
	return injectors.Planned(sc.Seed, sc.Duration.D(), steps)
}

const soak = `  - {kind: random, at: 2s, every: 6s, duration: 3s, start_jitter: 2s, from: [kill, stop, pause, restart, partition, latency, bandwidth, reset-peer, slow-close, slicer, limit-data, down]}
  - {kind: pause, target: random-minority, at: 1s, every: 20s, duration: 2s}
  - {kind: bitflip, target: random-one, at: 30s}
`

// One seed gives one schedule, firing by firing; another seed gives
// another.
func TestPlanIsDeterministic(t *testing.T) {
	a := planned(t, loadPlanScenario(t, soak))
	b := planned(t, loadPlanScenario(t, soak))
	require.Equal(t, a, b)
	other := loadPlanScenario(t, soak)
	other.Seed = 8
	require.NotEqual(t, a.Firings, planned(t, other).Firings)

	// The random entry fires every 6s from 2s with up to 2s of jitter.
	var kinds []string
	for _, f := range a.Firings {
		if len(f.ID) > 3 && f.ID[:3] == "f1." {
			kinds = append(kinds, f.Kind)
			at, err := time.ParseDuration(f.At)
			require.NoError(t, err)
			k := len(kinds) - 1
			base := 2*time.Second + time.Duration(k)*6*time.Second
			require.True(t, at >= base && at < base+2*time.Second, "%s at %s, want in [%s, %s)", f.ID, at, base, base+2*time.Second)
		}
	}
	require.Len(t, kinds, 10, "2s, 8s, ... 56s")
	slices.Sort(kinds)
	require.Greater(t, len(slices.Compact(kinds)), 3, "a random entry draws several kinds")
	require.True(t, slices.IsSortedFunc(a.Firings, func(x, y injectors.PlannedFiring) int { return int(x.AtMS - y.AtMS) }), "firings in time order")
}

// A fault added to the scenario does not change what the others drew.
func TestPlanFaultsDrawIndependently(t *testing.T) {
	base := planned(t, loadPlanScenario(t, soak))
	more := planned(t, loadPlanScenario(t, "  - {kind: kill, target: random-one, at: 45s, restart_after: 2s}\n"+soak))
	byID := func(s injectors.PlannedSchedule, id string) injectors.PlannedFiring {
		for _, f := range s.Firings {
			if f.ID == id {
				return f
			}
		}
		t.Fatalf("no firing %s", id)
		return injectors.PlannedFiring{}
	}
	for _, f := range base.Firings {
		// faults[i] became faults[i+1]: f1.k is now f2.k.
		id := "f" + string(rune(f.ID[1]+1)) + f.ID[2:]
		got := byID(more, id)
		got.ID = f.ID
		require.Equal(t, f, got)
	}
}

func TestPlanShapes(t *testing.T) {
	sc := loadPlanScenario(t, `  - {kind: partition, mode: isolate-leader, at: 1s, duration: 5s}
  - {kind: kill, nodes: [n2, n4], at: 2s, restart_after: 3s}
  - {kind: partition, mode: ring, at: 10s, duration: 5s}
  - {kind: latency, links: [n1-n2], direction: to, latency: 10ms, at: 20s, duration: 5s}
  - {kind: restart, at: 30s}
  - {kind: stop, target: majority, at: 40s}
`)
	steps, err := plan(sc, nodes5)
	require.NoError(t, err)
	require.Len(t, steps, 6)
	require.Equal(t, []string{injectors.Leader}, steps[0].Target.Nodes)
	require.Equal(t, 5*time.Second, steps[0].For)
	require.Equal(t, []string{"n2", "n4"}, steps[1].Target.Nodes)
	require.Equal(t, 3*time.Second, steps[1].For, "a kill holds for restart_after")
	require.Empty(t, steps[2].Target.Nodes, "a ring names no target")
	require.Equal(t, injectors.Latency{Scope: injectors.Scope{Links: []string{"n1-n2"}, Direction: "to"}, Latency: 10 * time.Millisecond}, steps[3].Injector)
	require.Equal(t, injectors.Restart{Mode: "rolling"}, steps[4].Injector)
	require.Equal(t, nodes5, steps[4].Target.Nodes)
	require.Equal(t, []string{"n1", "n2", "n3"}, steps[5].Target.Nodes)
	require.Zero(t, steps[5].For, "a stop without restart_after holds until the heal")
}

func TestScheduleFileRoundTrips(t *testing.T) {
	dir := t.TempDir()
	s := planned(t, loadPlanScenario(t, soak))
	require.NoError(t, injectors.WriteSchedule(dir, s))
	b, err := os.ReadFile(filepath.Join(dir, injectors.ScheduleFile))
	require.NoError(t, err)
	var back injectors.PlannedSchedule
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, s, back)
	require.Equal(t, int64(7), back.Seed)
}
