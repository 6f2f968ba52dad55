package reports

import (
	"maps"
	"slices"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// Assemble builds the Results of a checked history: the judged verdict,
// one expectation per kind the scenario can name (allowed gives its
// allowance as written, e.g. "0" or "allowed"), and the traffic and fault
// events read off the history. The runner adds what only it knows
// (duration, interruption, harness errors, nodes).
func Assemble(sc Scenario, h []history.Op, results []checkers.Result, sum checkers.Summary, allowed func(checkers.Kind) string) *Results {
	r := &Results{
		Scenario: sc,
		Verdict:  sum.Verdict,
		Reason:   sum.Reason,
		Counts:   sum.Counts,
		Checkers: results,
		Kinds:    checkers.Kinds,
		Ops:      int64(len(h)),
	}
	for _, k := range checkers.Kinds {
		if k.Counted {
			continue // a fact, not an expectation
		}
		r.Expectations = append(r.Expectations, Expectation{
			Kind: k.Kind, Allowed: allowed(k.Kind), Count: sum.Counts[k.Kind],
			Pass: !slices.Contains(sum.Failing, k.Kind),
		})
	}
	nodeReads := map[string]*NodeRead{}
	nodeRead := func(node string) *NodeRead {
		nr := nodeReads[node]
		if nr == nil {
			nr = &NodeRead{Node: node}
			nodeReads[node] = nr
		}
		return nr
	}
	for _, op := range h {
		switch {
		case op.F == history.ReadNode && op.Type == history.OK:
			nodeRead(op.Node).Reads += int64(len(op.Reads))
		case op.F == history.DrainNode && op.Completes():
			nr := nodeRead(op.Node)
			nr.Complete, nr.Offset, nr.Error = op.Type == history.OK, op.Offset, op.Error
		case op.F == history.Send && op.Type == history.Invoke:
			r.Sends++
		case op.F == history.Send && op.Type == history.OK:
			r.Acked++
		case op.F == history.Poll && op.Type == history.OK:
			r.Reads += int64(len(op.Reads))
		case op.F == history.Drain && op.Completes():
			r.Drain = Drain{Ran: true, Complete: op.Type == history.OK, Offset: op.Offset, Error: op.Error}
		case op.Fault != nil:
			r.Faults = append(r.Faults, FaultEvent{
				Op: op.Index, F: op.F, ID: op.Fault.ID, Kind: op.Fault.Kind, Targets: op.Fault.Targets,
				Params: op.Fault.Params, Time: op.Time, Actuation: op.Fault.Actuation, Error: op.Error,
			})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(nodeReads)) {
		r.NodeReads = append(r.NodeReads, *nodeReads[name])
	}
	return r
}
