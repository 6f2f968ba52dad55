package checkers

import "time"

// WindowStats is the traffic of one span of the run. The availability
// checker fills them; the report draws them.
type WindowStats struct {
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
	// Sends and Acked count sends completed in the span, Reads the messages
	// returned by polls completed in it.
	Sends       int64   `json:"sends"`
	Acked       int64   `json:"acked"`
	Reads       int64   `json:"reads"`
	AckedPerSec float64 `json:"acked_per_sec"`
	ReadsPerSec float64 `json:"reads_per_sec"`
	// Latency percentiles of acknowledged sends completed in the span.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// FaultWindow is one fault with the traffic before, during and after it.
type FaultWindow struct {
	ID      string        `json:"id"`
	Kind    string        `json:"kind"`
	Targets []string      `json:"targets,omitempty"`
	Start   time.Duration `json:"start_ns"`
	End     time.Duration `json:"end_ns"`
	Before  WindowStats   `json:"before"`
	During  WindowStats   `json:"during"`
	After   WindowStats   `json:"after"`
}
