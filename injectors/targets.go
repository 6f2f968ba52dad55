package injectors

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/riptidechaos/riptide/injectors/targets"
)

// Leader stands for the stream's current leader in Target.Nodes: only the
// running system can name it, so the schedule asks when the fault fires.
const Leader = targets.Leader

// ResolveTarget turns a scenario target into node names:
//
//	one              the first node
//	random-one       one node drawn with rng (the scenario seed)
//	minority         the first targets.Minority(n) nodes
//	random-minority  targets.Minority(n) nodes drawn with rng
//	majority         the first targets.Majority(n) nodes
//	random-majority  targets.Majority(n) nodes drawn with rng
//	all              every node
//	leader           [Leader], named when the fault fires
//	all-links        no node in particular: the fault acts on every link
//	n2               that node
//
// Drawn nodes are listed in cluster order, so that a schedule reads the
// same however the draw went.
func ResolveTarget(spec string, nodes []string, rng *rand.Rand) ([]string, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("target %q: the cluster has no nodes", spec)
	}
	n := len(nodes)
	some := func(k int, random bool) ([]string, error) {
		if k < 1 {
			return nil, fmt.Errorf("target %q: a cluster of %d nodes has no such nodes", spec, n)
		}
		if !random {
			return slices.Clone(nodes[:k]), nil
		}
		picked := rng.Perm(n)[:k]
		slices.Sort(picked)
		out := make([]string, k)
		for i, p := range picked {
			out[i] = nodes[p]
		}
		return out, nil
	}
	// How many: the rule the scenario validation applies too.
	switch k, word := targets.Count(spec, n); {
	case !word:
	case spec == Leader:
		return []string{Leader}, nil
	case spec == targets.AllLinks || spec == "":
		return nil, nil
	case spec == "all":
		return slices.Clone(nodes), nil
	default:
		return some(k, targets.Drawn(spec))
	}
	if slices.Contains(nodes, spec) {
		return []string{spec}, nil
	}
	return nil, fmt.Errorf("target %q: want one, random-one, minority, random-minority, majority, random-majority, all, leader, all-links or a node name (%v)", spec, nodes)
}

// ResolveNodes checks an explicit node list against the cluster.
func ResolveNodes(list, nodes []string) ([]string, error) {
	for _, name := range list {
		if !slices.Contains(nodes, name) {
			return nil, fmt.Errorf("node %q: not in the cluster (%v)", name, nodes)
		}
	}
	return slices.Clone(list), nil
}
