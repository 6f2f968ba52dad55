package injectors

import (
	"context"
	"strconv"
	"time"

	"github.com/riptidechaos/riptide/clusters"
)

// Slicer cuts the data on the chosen links into small pieces of about
// AverageSize ± SizeVariation bytes, Delay apart: protocol parsers that
// assume a message arrives in one read break on it.
type Slicer struct {
	Scope
	AverageSize, SizeVariation int
	Delay                      time.Duration
}

func (s Slicer) Kind() string { return "slicer" }

func (s Slicer) Params() map[string]string {
	return s.params(map[string]string{
		"average_size": strconv.Itoa(s.AverageSize), "size_variation": strconv.Itoa(s.SizeVariation),
		"delay": s.Delay.String(),
	})
}

func (s Slicer) toxic() toxicFault {
	return toxicFault{s.Scope, "slicer", map[string]any{
		"average_size": s.AverageSize, "size_variation": s.SizeVariation,
		// Toxiproxy's slicer counts its delay in microseconds.
		"delay": s.Delay.Microseconds(),
	}}
}

func (s Slicer) Plan(c clusters.Cluster, t Target) ([]Undo, error) { return s.toxic().plan(c, t) }

func (s Slicer) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	return s.toxic().inject(c, t)
}
