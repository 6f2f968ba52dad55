package checkers

import (
	"cmp"
	"slices"
	"time"
)

// sortedKeys returns the keys of m in increasing order, for deterministic
// output.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fmtDuration spells a time since the start of the run, to the microsecond.
func fmtDuration(ns int64) string {
	return time.Duration(ns).Round(time.Microsecond).String()
}
