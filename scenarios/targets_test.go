package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/injectors"
	"github.com/riptidechaos/riptide/scenarios"
)

// Every target word, on every kind that takes targets and every cluster
// size: validation accepts it exactly when the run can resolve it to nodes
// to act on (injectors.ResolveTarget, as the schedule calls it), so that
// no scenario passes validate and then fails after its cluster started.
func TestTargetsValidateAsTheyResolve(t *testing.T) {
	words := []string{"one", "random-one", "minority", "random-minority", "majority", "random-majority", "all", "leader", "all-links"}
	// Each kind with the settings it needs, so that only the target
	// decides.
	kinds := []string{
		"kind: kill, restart_after: 2s",
		"kind: stop, restart_after: 2s",
		"kind: pause, duration: 2s",
		"kind: restart",
		"kind: bitflip",
		"kind: truncate",
		"kind: partition, mode: isolate-one, duration: 2s",
		"kind: partition, mode: halves, duration: 2s",
		"kind: partition, mode: bridge, duration: 2s",
		"kind: latency, latency: 10ms, duration: 2s",
		"kind: bandwidth, bandwidth: 64, duration: 2s",
		"kind: reset-peer, duration: 2s",
		"kind: slow-close, duration: 2s",
		"kind: slicer, average_size: 64, size_variation: 16, duration: 2s",
		"kind: limit-data, bytes: 100, duration: 2s",
		"kind: down, duration: 2s",
	}
	for n := 1; n <= 9; n++ {
		nodes := make([]string, n)
		for i := range nodes {
			nodes[i] = fmt.Sprintf("n%d", i+1)
		}
		for _, kind := range kinds {
			for _, word := range words {
				fault := fmt.Sprintf("  - {%s, target: %s, at: 1s}\n", kind, word)
				_, err := scenarios.Parse("x.yaml", []byte(faultScenario(fmt.Sprint(n), fault)))
				if err != nil && strings.Contains(err.Error(), "unknown target") {
					continue // not a target of this kind
				}
				got, rerr := injectors.ResolveTarget(word, nodes, rand.New(rand.NewPCG(1, 2)))
				runs := rerr == nil && (len(got) > 0 || word == "all-links")
				if strings.Contains(kind, "halves") {
					runs = runs && len(got) < n // a node left for the other side
				}
				name := fmt.Sprintf("%d nodes, %s, target %s", n, kind, word)
				if !runs {
					require.Error(t, err, "%s: validates, but the run resolves it to %v, %v", name, got, rerr)
					require.Contains(t, err.Error(), "faults[0]", name)
					continue
				}
				var probs *scenarios.Problems
				if err != nil {
					require.ErrorAs(t, err, &probs, name)
					for _, p := range probs.List() {
						// Only the mode may be refused: too small a cluster
						// for it has its own message.
						require.Equal(t, "faults[0].mode", p.Field, "%s: %s", name, p)
					}
				}
			}
		}
	}
}
