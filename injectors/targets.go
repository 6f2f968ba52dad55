package injectors

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// ResolveTarget turns a scenario target into node names:
//
//	one         the first node
//	random-one  one node drawn with rng (the scenario seed)
//	all         every node
//	all-links   no node in particular: the fault acts on every link
//	n2          that node
func ResolveTarget(spec string, nodes []string, rng *rand.Rand) ([]string, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("target %q: the cluster has no nodes", spec)
	}
	switch spec {
	case "one":
		return nodes[:1], nil
	case "random-one":
		return []string{nodes[rng.IntN(len(nodes))]}, nil
	case "all":
		return slices.Clone(nodes), nil
	case "all-links", "":
		return nil, nil
	}
	if slices.Contains(nodes, spec) {
		return []string{spec}, nil
	}
	return nil, fmt.Errorf("target %q: want one, random-one, all, all-links or a node name (%v)", spec, nodes)
}
