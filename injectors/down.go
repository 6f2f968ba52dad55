package injectors

import (
	"context"
	"errors"
	"fmt"

	"github.com/riptidechaos/riptide/clusters"
)

// Down turns the chosen link proxies off: open connections are closed at
// once and new ones are refused, as when a process or a host is gone and
// the kernel answers with resets. A partition, by contrast, stays silent.
// Direction does not apply: a proxy is on or off.
type Down struct {
	Scope
}

func (d Down) Kind() string { return "down" }

func (d Down) Params() map[string]string {
	p := d.params(map[string]string{})
	delete(p, "direction")
	return p
}

// links are the proxies of the scope, each once.
func (d Down) links(c clusters.Cluster, t Target) ([]*clusters.Link, error) {
	s := d.Scope
	s.Direction = Both
	ps, err := s.placements(c, t)
	if err != nil {
		return nil, err
	}
	var out []*clusters.Link
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p.link {
			out = append(out, p.link)
		}
	}
	return out, nil
}

func (d Down) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	links, err := d.links(c, t)
	if err != nil {
		return nil, err
	}
	out := make([]Undo, len(links))
	for i, l := range links {
		out[i] = Undo{Action: UndoLinkDown, Link: l.Name(), Listen: l.Listen}
	}
	return out, nil
}

func (d Down) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	links, err := d.links(c, t)
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("down: no links to act on")
	}
	var done []*clusters.Link
	heal := once(func(context.Context) error {
		var errs []error
		for _, l := range done {
			errs = append(errs, l.EnableFor(t.ID))
		}
		return errors.Join(errs...)
	})
	for _, l := range links {
		done = append(done, l)
		if err := l.DisableFor(t.ID); err != nil {
			return heal, err
		}
	}
	return heal, nil
}
