// Package targets is the arithmetic of fault targets: how many nodes a
// target word names on a cluster of n nodes. The injectors resolve targets
// with it when a fault fires, and the scenario validation refuses with it
// what would name no node: one rule on both sides, in a package with no
// dependencies, so that loading a scenario does not pull in the fault
// machinery.
package targets

// Leader stands for the stream's current leader: only the running system
// can name it, so it is resolved when the fault fires.
const Leader = "leader"

// AllLinks names no node in particular: the fault acts on every link.
const AllLinks = "all-links"

// Minority is the size of the largest strict minority of n nodes.
func Minority(n int) int { return (n - 1) / 2 }

// Majority is the size of the smallest majority of n nodes.
func Majority(n int) int { return n/2 + 1 }

// Count is how many nodes the target word names on a cluster of n nodes,
// and whether word is a target word at all (a node name is not). The
// count is 0 for a word that names no node there (a minority of 2) and for
// AllLinks and "", which name links; Leader counts as one node.
func Count(word string, n int) (count int, ok bool) {
	switch word {
	case "one", "random-one", Leader:
		return min(1, n), true
	case "minority", "random-minority":
		return Minority(n), true
	case "majority", "random-majority":
		return Majority(n), true
	case "all":
		return n, true
	case AllLinks, "":
		return 0, true
	}
	return 0, false
}

// Drawn reports whether the word's nodes are drawn with the scenario's seed.
func Drawn(word string) bool {
	switch word {
	case "random-one", "random-minority", "random-majority":
		return true
	}
	return false
}
