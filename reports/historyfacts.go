package reports

import (
	"maps"
	"slices"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// What a history tells of its run by itself, for a report whose scenario is
// unknown (riptide check of a directory without scenario.yaml): the report
// shows these facts rather than a scenario's defaults.

// drainStart is when the final drain began: the first operation of the
// process that performs the drain op (0 when the history has no drain).
func drainStart(h []history.Op) time.Duration {
	drainers := checkers.DrainProcesses(h)
	if len(drainers) == 0 {
		return 0
	}
	for _, op := range h {
		if drainers[op.Process] {
			return op.Time
		}
	}
	return 0
}

// historyNodes lists the nodes the history's operations name: the node a
// client talked to, and the targets of faults.
func historyNodes(h []history.Op) []string {
	seen := map[string]bool{}
	for _, op := range h {
		if op.Node != "" {
			seen[op.Node] = true
		}
		if op.Fault != nil {
			for _, t := range op.Fault.Targets {
				seen[t] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
