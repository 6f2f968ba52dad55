package injectors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/riptidechaos/riptide/clusters"
)

// placement is one direction of one link: where one toxic goes.
type placement struct {
	link *clusters.Link
	dir  clusters.Direction
}

// Data directions relative to a node, on a link that touches it. A link
// From->To carries From's data to To forward (Toxiproxy "upstream") and
// To's answers backward ("downstream").
func dataTo(l *clusters.Link, node string) clusters.Direction {
	if l.To == node {
		return clusters.Forward
	}
	return clusters.Backward
}

func dataFrom(l *clusters.Link, node string) clusters.Direction {
	if l.From == node {
		return clusters.Forward
	}
	return clusters.Backward
}

// Directions of a fault, as scenarios write them.
const (
	Both = "both"
	To   = "to"
	From = "from"
)

// Scope picks the links, and the directions on them, that a link fault
// acts on.
type Scope struct {
	// Links, when set, name the links instead of the target nodes: "n1-n2"
	// is both proxies between n1 and n2, "client-n2" the clients of n2. In
	// a pair, the second node is the target: "to" is data from n1 to n2.
	Links []string
	// Clients includes the client links of the target nodes, or, with no
	// target nodes, every client link.
	Clients bool
	// Direction is Both (or ""), To (only data flowing to the target
	// nodes) or From (only data flowing from them).
	Direction string
}

func (s Scope) params(p map[string]string) map[string]string {
	if len(s.Links) > 0 {
		p["links"] = strings.Join(s.Links, ",")
	} else if s.Clients {
		p["clients"] = "cut"
	} else {
		p["clients"] = "keep"
	}
	if s.Direction != "" {
		p["direction"] = s.Direction
	}
	return p
}

// placements resolves the scope against the cluster for one firing.
func (s Scope) placements(c clusters.Cluster, t Target) ([]placement, error) {
	net := c.Net()
	set := placements{}
	add := func(l *clusters.Link, target string) error {
		switch s.Direction {
		case "", Both:
			set.add(l, clusters.Forward)
			set.add(l, clusters.Backward)
		case To:
			set.add(l, dataTo(l, target))
		case From:
			set.add(l, dataFrom(l, target))
		default:
			return fmt.Errorf("unknown direction %q (want both, to or from)", s.Direction)
		}
		return nil
	}
	switch {
	case len(s.Links) > 0:
		for _, spec := range s.Links {
			a, b, ok := strings.Cut(spec, "-")
			if !ok {
				return nil, fmt.Errorf("link %q: want n1-n2 or client-n2", spec)
			}
			found := false
			for _, pair := range [][2]string{{a, b}, {b, a}} {
				if l, ok := net.Link(pair[0], pair[1]); ok {
					found = true
					if err := add(l, b); err != nil {
						return nil, err
					}
				}
			}
			if !found {
				return nil, fmt.Errorf("link %q: no such link in the cluster", spec)
			}
		}
	case len(t.Nodes) > 0:
		for _, name := range t.Nodes {
			if _, err := node(c, name); err != nil {
				return nil, err
			}
			for _, l := range net.Touching(name, s.Clients) {
				if err := add(l, name); err != nil {
					return nil, err
				}
			}
		}
	default:
		if s.Direction != "" && s.Direction != Both {
			return nil, fmt.Errorf("direction %s needs target nodes or links", s.Direction)
		}
		for _, l := range net.Links() {
			if l.From == clusters.ClientSide && !s.Clients {
				continue
			}
			if err := add(l, l.To); err != nil {
				return nil, err
			}
		}
	}
	return set.sorted(), nil
}

// placements is a set of link directions.
type placements map[placement]bool

func (p placements) add(l *clusters.Link, d clusters.Direction) { p[placement{l, d}] = true }

// sorted lists the set in link-name order, so that journal lines and
// toxics come out the same way every run.
func (p placements) sorted() []placement {
	out := make([]placement, 0, len(p))
	for pl := range p {
		out = append(out, pl)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].link.Name(), out[j].link.Name(); a != b {
			return a < b
		}
		return out[i].dir < out[j].dir
	})
	return out
}

func toxicName(id, typ string, d clusters.Direction) string {
	return id + "-" + typ + "-" + string(d)
}

// toxicUndo is what addToxics will place, for the heal journal.
func toxicUndo(ps []placement, id, typ string) []Undo {
	out := make([]Undo, len(ps))
	for i, p := range ps {
		out[i] = Undo{Action: UndoToxic, Link: p.link.Name(), Listen: p.link.Listen, Toxic: toxicName(id, typ, p.dir)}
	}
	return out
}

// addToxics installs one toxic per placement and returns the heal that
// removes exactly those toxics. Names carry the fault id, so overlapping
// faults on the same link heal independently. Links are separate proxies,
// each with its own lock, so they are changed in parallel: a partition of
// a 5-node cluster touches 20 proxies, and its actuation is the slowest
// proxy, not their sum. On error, the returned heal removes what was placed.
func addToxics(ps []placement, id, typ string, attrs map[string]any) (Heal, error) {
	var (
		mu   sync.Mutex
		done []placement
	)
	heal := once(func(context.Context) error {
		mu.Lock()
		placed := slices.Clone(done)
		mu.Unlock()
		return eachLink(placed, func(p placement) error {
			return p.link.RemoveToxic(toxicName(id, typ, p.dir))
		})
	})
	err := eachLink(ps, func(p placement) error {
		t := clusters.Toxic{Name: toxicName(id, typ, p.dir), Type: typ, Stream: p.dir, Attributes: attrs}
		if err := p.link.AddToxic(t); err != nil {
			return err
		}
		mu.Lock()
		done = append(done, p)
		mu.Unlock()
		return nil
	})
	return heal, err
}

// eachLink calls f on every placement: the placements of one link in
// order, different links at once.
func eachLink(ps []placement, f func(placement) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].link == ps[i].link {
			j++
		}
		group := ps[i:j]
		wg.Go(func() {
			for _, p := range group {
				if err := f(p); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
		i = j
	}
	wg.Wait()
	return errors.Join(errs...)
}

// toxicFault is the body of every fault that is one Toxiproxy toxic on
// each link direction of its scope.
type toxicFault struct {
	Scope
	typ   string
	attrs map[string]any
}

func (f toxicFault) plan(c clusters.Cluster, t Target) ([]Undo, error) {
	ps, err := f.placements(c, t)
	if err != nil {
		return nil, err
	}
	return toxicUndo(ps, t.ID, f.typ), nil
}

func (f toxicFault) inject(c clusters.Cluster, t Target) (Heal, error) {
	ps, err := f.placements(c, t)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s: no links to act on", f.typ)
	}
	return addToxics(ps, t.ID, f.typ, f.attrs)
}
