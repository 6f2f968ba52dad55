package scenarios

import (
	"fmt"
	"time"
)

// Defaults for what a scenario leaves out.
const (
	defaultNATSVersion = "2.12.1"
	defaultNodes       = 3
	defaultPlatform    = "process"
	defaultStream      = "riptide"
	maxDefaultReplicas = 3
	defaultProducers   = 4
	defaultConsumers   = 2
	defaultRate        = 500
	defaultTimeout     = Duration(5 * time.Second)
	defaultDrain       = Duration(30 * time.Second)
)

// defaultMinAckedBeforeFault matches the availability checker's own
// default: a handful of seconds of even a slow workload.
const defaultMinAckedBeforeFault = 20

// ApplyDefaults fills in what the scenario leaves out. Text fields are
// filled when empty. Numbers and durations of a loaded scenario are filled
// only when their key is absent, so that an explicit `nodes: 0` (or
// `flips: 0`, `min_acked_before_fault: 0`) stays and Validate reports it;
// in a scenario built in Go, zero means unset, except for consumers, where
// 0 (a producer-only run) is a real choice. ApplyDefaults is idempotent.
func (s *Scenario) ApplyDefaults() {
	c := &s.Cluster
	if c.System == "nats" && c.Version == "" {
		c.Version = defaultNATSVersion
	}
	if s.unset("cluster.nodes", c.Nodes == 0) {
		c.Nodes = defaultNodes
	}
	if c.Platform == "" {
		c.Platform = defaultPlatform
	}

	w := &s.Workload
	if w.Stream == "" {
		w.Stream = defaultStream
	}
	if s.unset("workload.replicas", w.Replicas == 0) {
		// At least 1, so that an invalid node count is reported once, on
		// nodes, not again on replicas.
		w.Replicas = min(max(c.Nodes, 1), maxDefaultReplicas)
	}
	if s.unset("workload.producers", w.Producers == 0) {
		w.Producers = defaultProducers
	}
	if s.pos != nil && !s.has("workload.consumers") {
		w.Consumers = defaultConsumers
	}
	if s.unset("workload.rate", w.Rate == 0) {
		w.Rate = defaultRate
	}
	if s.unset("workload.timeout", w.Timeout == 0) {
		w.Timeout = defaultTimeout
	}
	if s.unset("workload.drain", w.Drain == 0) {
		w.Drain = defaultDrain
	}

	for i := range s.Faults {
		p := fmt.Sprintf("faults[%d].", i)
		s.Faults[i].applyDefaults(c.Nodes, func(field string, zero bool) bool { return s.unset(p+field, zero) })
	}

	if s.unset("checks.min_acked_before_fault", s.Checks.MinAckedBeforeFault == 0) {
		s.Checks.MinAckedBeforeFault = defaultMinAckedBeforeFault
	}
}

// has reports whether the loaded file gave a value for path.
func (s *Scenario) has(path string) bool {
	_, ok := s.pos[path]
	return ok
}

// unset says whether a default applies: for a loaded scenario the key was
// absent; for one built in Go the value is zero.
func (s *Scenario) unset(path string, zero bool) bool {
	if s.pos == nil {
		return zero
	}
	return !s.has(path)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
