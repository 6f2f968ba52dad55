package injectors

import (
	"context"

	"github.com/riptidechaos/riptide/clusters"
)

// addToxics installs one toxic per direction on every link and returns the
// heal that removes exactly those toxics. Names carry the fault id, so
// overlapping faults on the same link heal independently.
func addToxics(links []*clusters.Link, id, typ string, attrs map[string]any, dirs ...clusters.Direction) (Heal, error) {
	type placed struct {
		link *clusters.Link
		name string
	}
	var done []placed
	heal := once(func(context.Context) error {
		var first error
		for _, p := range done {
			if err := p.link.RemoveToxic(p.name); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	for _, l := range links {
		for _, d := range dirs {
			name := id + "-" + typ + "-" + string(d)
			if err := l.AddToxic(clusters.Toxic{Name: name, Type: typ, Stream: d, Attributes: attrs}); err != nil {
				return heal, err
			}
			done = append(done, placed{l, name})
		}
	}
	return heal, nil
}

var bothWays = []clusters.Direction{clusters.Forward, clusters.Backward}
