// Package history holds the record of a run: every operation a client or the
// nemesis performed, as invoke/ok/fail/info events in real-time order, and the
// JSONL codec that streams it to disk while the run goes on.
//
// It imports only the standard library so that anything (checkers, reports,
// users' own tools) can read a history.
package history

import (
	"fmt"
	"time"
)

// Type says where an operation is in its life.
type Type uint8

const (
	// Invoke: the client is about to perform the operation.
	Invoke Type = iota + 1
	// OK: the operation definitely happened (a send was acknowledged).
	OK
	// Fail: the operation definitely did not happen.
	Fail
	// Info: the outcome is unknown (timeout, connection lost); the operation
	// may take effect at any later time.
	Info
)

var typeNames = [...]string{Invoke: "invoke", OK: "ok", Fail: "fail", Info: "info"}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType is the inverse of Type.String.
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name != "" && name == s {
			return Type(t), nil
		}
	}
	return 0, fmt.Errorf("unknown op type %q (want invoke, ok, fail or info)", s)
}

// F names what an operation does.
type F string

const (
	// Send publishes Value to Stream; an ok send carries the Offset it was
	// acknowledged at.
	Send F = "send"
	// Poll reads a batch from Stream through a consumer; an ok poll carries Reads.
	Poll F = "poll"
	// Drain is a final read after the faults were healed. An ok drain means
	// the reader reached the end of the stream, so anything acknowledged and
	// never read is lost; an info drain was cut short.
	Drain F = "drain"
	// ReadNode reads a batch from one node's own copy of Stream, in offset
	// order from the start of that node's log. Node names the node the
	// reader is bound to; an ok ReadNode carries Reads, a fail or info one
	// is a re-subscribe (the next read may resume anywhere).
	ReadNode F = "read-node"
	// DrainNode ends a per-node read of Stream on Node: ok (with Offset =
	// the node's last offset) when the reader reached the end of that
	// node's log, info when it was cut short. Only a node with an ok
	// DrainNode is judged for lost-on-node.
	DrainNode F = "drain-node"
	// FaultStart and FaultStop are operations of the nemesis (process -1).
	FaultStart F = "fault-start"
	FaultStop  F = "fault-stop"
)

// NemesisProcess is the process of fault operations.
const NemesisProcess = -1

// NoOffset marks an operation that carries no offset.
const NoOffset int64 = -1

// Read is one message a poll or drain returned.
type Read struct {
	Offset int64  `json:"offset"`
	Value  string `json:"value"`
}

// Fault describes a fault operation: what was done to which nodes or links.
type Fault struct {
	// ID ties a fault-start to its fault-stop ("f1", "f2", ...).
	ID      string            `json:"id"`
	Kind    string            `json:"kind"`
	Targets []string          `json:"targets,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	// Actuation is how long it took from the scheduled time until the fault
	// was in effect on every target (or healed, for a fault-stop).
	Actuation time.Duration `json:"actuation,omitempty"`
}

// Op is one event of the history.
type Op struct {
	Index   int64  `json:"index"`
	Process int    `json:"process"`
	Type    Type   `json:"type"`
	F       F      `json:"f"`
	Stream  string `json:"stream,omitempty"`
	Value   string `json:"value,omitempty"`
	// Offset is where a send was acknowledged (NoOffset if none).
	Offset int64  `json:"offset"`
	Reads  []Read `json:"reads,omitempty"`
	// Node is the node that served the operation, when known.
	Node  string `json:"node,omitempty"`
	Error string `json:"error,omitempty"`
	// Time is measured from the start of the run on a monotonic clock.
	Time  time.Duration `json:"time"`
	Fault *Fault        `json:"fault,omitempty"`
}

// Completes reports whether op ends an operation (ok, fail or info).
func (op Op) Completes() bool { return op.Type == OK || op.Type == Fail || op.Type == Info }

func (op Op) String() string {
	s := fmt.Sprintf("#%d p%d %s %s", op.Index, op.Process, op.Type, op.F)
	if op.Value != "" {
		s += " " + op.Value
	}
	if op.Offset != NoOffset {
		s += fmt.Sprintf(" @%d", op.Offset)
	}
	if len(op.Reads) > 0 {
		s += fmt.Sprintf(" (%d reads)", len(op.Reads))
	}
	if op.Node != "" {
		s += " on " + op.Node
	}
	if op.Error != "" {
		s += ": " + op.Error
	}
	return s
}
