// Package reports turns a checked run into the files people and pipelines
// read: results.json (machine-readable), report.html (one self-contained
// page: embedded template, inline CSS, JS and SVG, no network), junit.xml and
// summary.md (for CI), and decides the exit status a pipeline acts on.
// Write is the entry point.
package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// Scenario is what the report shows of the scenario.
type Scenario struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Seed        int64         `json:"seed"`
	System      string        `json:"system"`
	Version     string        `json:"version"`
	Nodes       int           `json:"nodes"`
	Platform    string        `json:"platform"`
	Duration    time.Duration `json:"duration_ns"`
	// ServerVersion is the version the servers reported once the cluster
	// was up: what ran, when it is not the Version the scenario names
	// (an image or a binary of another version).
	ServerVersion string `json:"server_version,omitempty"`
	// Image and ToxiproxyImage are the docker platform's images.
	Image          string `json:"image,omitempty"`
	ToxiproxyImage string `json:"toxiproxy_image,omitempty"`
	// YAML is the resolved scenario, defaults applied.
	YAML string `json:"-"`
	// Unknown, when set, says why the scenario is not known (the run
	// directory held no scenario.yaml) and what the history was judged
	// against instead. Seed, System, Version, Nodes, Platform, Duration
	// and YAML are then unset: the reports show them as unknown rather
	// than present zeros or defaults as facts of the run.
	Unknown string `json:"unknown,omitempty"`
}

// Expectation is one line of the scenario's expect: block, judged.
type Expectation struct {
	Kind    checkers.Kind `json:"kind"`
	Allowed string        `json:"allowed"`
	Count   int           `json:"count"`
	Pass    bool          `json:"pass"`
	// Tolerated says why a count its own allowance does not cover passes:
	// the allowance of its parent ("lost allowed") or of every child found
	// ("lost-postfix allowed"), as docs/checkers.md rules.
	Tolerated string `json:"tolerated,omitempty"`
}

// FaultEvent is one start or stop of a fault, from the history.
type FaultEvent struct {
	Op        int64             `json:"op"`
	F         history.F         `json:"f"`
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Targets   []string          `json:"targets,omitempty"`
	Params    map[string]string `json:"params,omitempty"`
	Time      time.Duration     `json:"time_ns"`
	Actuation time.Duration     `json:"actuation_ns"`
	Error     string            `json:"error,omitempty"`
}

// Drain is how far the final reads got.
type Drain struct {
	Ran      bool   `json:"ran"`
	Complete bool   `json:"complete"`
	Offset   int64  `json:"offset"`
	Error    string `json:"error,omitempty"`
}

// NodeRead is how far the per-node read of one node's own copy got.
type NodeRead struct {
	Node     string `json:"node"`
	Complete bool   `json:"complete"`
	// Offset is the node's last offset (complete) or how far the read
	// got; Reads counts the messages it returned.
	Offset int64  `json:"offset"`
	Reads  int64  `json:"reads"`
	Error  string `json:"error,omitempty"`
}

// Results is results.json: the verdict and everything that explains it.
type Results struct {
	Scenario     Scenario              `json:"scenario"`
	Verdict      checkers.Verdict      `json:"verdict"`
	Reason       string                `json:"reason,omitempty"`
	Counts       map[checkers.Kind]int `json:"counts"`
	Expectations []Expectation         `json:"expectations"`
	// Ops is the number of history events; Acked the acknowledged sends.
	Ops      int64         `json:"ops"`
	Sends    int64         `json:"sends"`
	Acked    int64         `json:"acked"`
	Reads    int64         `json:"reads"`
	Duration time.Duration `json:"duration_ns"`
	Drain    Drain         `json:"drain"`
	// NodeReads are the per-node reads after the drain, by node name.
	NodeReads []NodeRead        `json:"node_reads,omitempty"`
	Faults    []FaultEvent      `json:"faults"`
	Checkers  []checkers.Result `json:"checkers"`
	// Kinds defines every anomaly kind.
	Kinds []checkers.KindInfo `json:"kinds"`
	// Interrupted is set when the run was stopped (Ctrl-C) before it ended.
	Interrupted bool `json:"interrupted,omitempty"`
	// Stopped, with Interrupted, says why the run stopped before its end on
	// its own rather than by a Ctrl-C: its cluster did not start, say.
	Stopped string `json:"stopped,omitempty"`
	// HarnessErrors are problems of the harness itself during the run.
	HarnessErrors []string `json:"harness_errors,omitempty"`
	// HistoryTorn is set when history.jsonl ended in a torn line.
	HistoryTorn bool `json:"history_torn,omitempty"`
	// Nodes lists node names whose logs are under nodes/NAME/.
	Nodes []string `json:"nodes,omitempty"`
}

// WriteJSON writes results.json into dir.
func WriteJSON(dir string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return writeFile(filepath.Join(dir, "results.json"), append(b, '\n'))
}

// ReadJSON reads results.json from dir.
func ReadJSON(dir string) (*Results, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode results.json: %w", err)
	}
	return &r, nil
}

// writeFile replaces path atomically, so that a report being rewritten by
// `riptide check` is never seen half written.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// RanVersion is the version that ran: the servers' own word when they gave
// it, else the scenario's.
func (s Scenario) RanVersion() string {
	if s.ServerVersion != "" {
		return s.ServerVersion
	}
	return s.Version
}
