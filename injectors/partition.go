package injectors

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/riptidechaos/riptide/clusters"
)

// Partition cuts node-to-node links with a blackhole: a Toxiproxy timeout
// toxic with timeout 0. Data stops and connections stay open, as in a real
// partition; heal removes the toxics. Removing a timeout toxic closes the
// connections it held (Toxiproxy's cleanup), so nodes dial again after the
// heal, as they would once TCP gave up on a long partition.
//
// Two nodes are cut apart by blackholing both proxies between them (node i
// dials node j through proxy i->j, and j dials i through j->i), in both
// directions each, unless Direction asks for a one-way cut.
type Partition struct {
	// Mode is the shape of the cut:
	//
	//	isolate-one     each target node alone, cut from every other node
	//	isolate-leader  isolate-one with the stream's leader as the target
	//	halves          the target nodes on one side, the rest on the
	//	                other; the target side is filled up to n/2 nodes
	//	                with nodes drawn from Seed (a leader alone on a
	//	                5-node cluster gets one companion)
	//	ring            nodes in cluster order, each seeing only its two
	//	                neighbours (every node sees a different majority)
	//	bridge          the target node sees everyone; the others form two
	//	                halves that cannot see each other
	//	groups          the sides in Groups
	Mode   string
	Groups [][]string
	// CutClients also cuts the clients of every node outside the largest
	// side, so that clients stay with the majority, as the users of a
	// real data centre would. Jepsen cuts only node-to-node links
	// (CutClients false). Ring and bridge have no such side.
	CutClients bool
	// Direction is Both (or ""), To or From: a one-way cut drops only the
	// data flowing to (or from) the target side (the target nodes; the
	// first group of groups). Cuts between two other sides stay two-way.
	Direction string
	// Seed draws the nodes that fill the target side of halves.
	Seed uint64
}

func (p Partition) Kind() string { return "partition" }

func (p Partition) Params() map[string]string {
	clients := "keep"
	if p.CutClients {
		clients = "cut"
	}
	out := map[string]string{"mode": p.Mode, "clients": clients}
	if p.Direction != "" {
		out["direction"] = p.Direction
	}
	if len(p.Groups) > 0 {
		out["groups"] = groupsString(p.Groups)
	}
	return out
}

func groupsString(groups [][]string) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(g, " ")
	}
	return strings.Join(parts, " | ")
}

// cut is the shape of one firing: which node sends data that which node no
// longer receives, and which nodes lose their clients.
type cut struct {
	drops   map[[2]string]bool // [from, to]: data from -> to is dropped
	clients map[string][]clusters.Direction
	detail  map[string]string
}

// shape works out the cut for one firing. nodes is the cluster in order.
func (p Partition) shape(nodes []string, t Target) (cut, error) {
	c := cut{drops: map[[2]string]bool{}, clients: map[string][]clusters.Direction{}, detail: map[string]string{}}
	for _, n := range t.Nodes {
		if !slices.Contains(nodes, n) {
			return c, fmt.Errorf("no node %q in the cluster", n)
		}
	}
	var (
		groups [][]string
		side   []string // the target side, for one-way cuts
	)
	rest := func(minus []string) []string {
		return slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return slices.Contains(minus, n) })
	}
	switch p.Mode {
	case "isolate-one", "isolate-leader":
		if len(t.Nodes) == 0 {
			return c, fmt.Errorf("partition %s: no target node", p.Mode)
		}
		for _, n := range t.Nodes {
			groups = append(groups, []string{n})
		}
		if r := rest(t.Nodes); len(r) > 0 {
			groups = append(groups, r)
		}
		side = t.Nodes
	case "halves":
		side = slices.Clone(t.Nodes)
		if want := len(nodes) / 2; len(side) < want {
			others := rest(side)
			rng := rand.New(rand.NewPCG(p.Seed, 0x68616c766573)) // "halves"
			rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
			side = append(side, others[:want-len(side)]...)
		}
		slices.SortFunc(side, func(a, b string) int { return slices.Index(nodes, a) - slices.Index(nodes, b) })
		groups = [][]string{side, rest(side)}
	case "groups":
		groups = p.Groups
		if len(groups) > 0 {
			side = groups[0]
		}
		for _, g := range groups {
			for _, n := range g {
				if !slices.Contains(nodes, n) {
					return c, fmt.Errorf("partition groups: no node %q in the cluster", n)
				}
			}
		}
	case "ring":
		if len(nodes) < 4 {
			return c, fmt.Errorf("partition ring: needs at least 4 nodes, the cluster has %d", len(nodes))
		}
		n := len(nodes)
		for i := range nodes {
			for j := range nodes {
				if d := (j - i + n) % n; i != j && d != 1 && d != n-1 {
					c.drops[[2]string{nodes[i], nodes[j]}] = true
				}
			}
		}
		c.detail["ring"] = strings.Join(nodes, " ")
		return c, nil
	case "bridge":
		if len(t.Nodes) != 1 {
			return c, fmt.Errorf("partition bridge: want one bridge node, got %v", t.Nodes)
		}
		r := rest(t.Nodes)
		a, b := r[:len(r)/2], r[len(r)/2:]
		for _, x := range a {
			for _, y := range b {
				c.drops[[2]string{x, y}] = true
				c.drops[[2]string{y, x}] = true
			}
		}
		c.detail["sides"] = groupsString([][]string{a, t.Nodes, b})
		c.detail["bridge"] = t.Nodes[0]
		return c, nil
	default:
		return c, fmt.Errorf("partition: unknown mode %q", p.Mode)
	}
	c.detail["sides"] = groupsString(groups)

	// Every pair of nodes in different groups is cut; one way only when
	// one end is on the target side and Direction asks for it.
	groupOf := map[string]int{}
	for i, g := range groups {
		for _, n := range g {
			groupOf[n] = i
		}
	}
	inSide := func(n string) bool { return slices.Contains(side, n) }
	for _, a := range nodes {
		for _, b := range nodes {
			ga, oka := groupOf[a]
			gb, okb := groupOf[b]
			if a == b || !oka || !okb || ga == gb {
				continue
			}
			switch {
			case p.Direction == To && inSide(b) && !inSide(a):
			case p.Direction == From && inSide(a) && !inSide(b):
			case (p.Direction == To || p.Direction == From) && inSide(a) != inSide(b):
				continue // the other way of a one-way cut
			}
			c.drops[[2]string{a, b}] = true
		}
	}

	// Clients stay with the largest group; in a tie, with the first
	// that holds no target node.
	if p.CutClients {
		targeted := func(g []string) bool { return p.Mode != "groups" && slices.ContainsFunc(g, inSide) }
		keep := 0
		for i := 1; i < len(groups); i++ {
			bigger := len(groups[i]) > len(groups[keep])
			tie := len(groups[i]) == len(groups[keep])
			if bigger || (tie && targeted(groups[keep]) && !targeted(groups[i])) {
				keep = i
			}
		}
		var cutOff []string
		for i, g := range groups {
			if i == keep {
				continue
			}
			for _, n := range g {
				dirs := []clusters.Direction{clusters.Forward, clusters.Backward}
				if inSide(n) && p.Direction == To {
					dirs = dirs[:1] // client -> node
				} else if inSide(n) && p.Direction == From {
					dirs = dirs[1:]
				}
				c.clients[n] = dirs
				cutOff = append(cutOff, n)
			}
		}
		slices.SortFunc(cutOff, func(a, b string) int { return slices.Index(nodes, a) - slices.Index(nodes, b) })
		c.detail["clients_cut"] = strings.Join(cutOff, " ")
	}
	return c, nil
}

// placements turns a cut into link directions.
func (c cut) placements(net *clusters.Net) []placement {
	set := placements{}
	for d := range c.drops {
		from, to := d[0], d[1]
		if l, ok := net.Link(from, to); ok {
			set.add(l, clusters.Forward)
		}
		if l, ok := net.Link(to, from); ok {
			set.add(l, clusters.Backward)
		}
	}
	for n, dirs := range c.clients {
		if l, ok := net.Link(clusters.ClientSide, n); ok {
			for _, d := range dirs {
				set.add(l, d)
			}
		}
	}
	return set.sorted()
}

func (p Partition) plan(c clusters.Cluster, t Target) ([]placement, cut, error) {
	shape, err := p.shape(clusters.NodeNames(c.Nodes()), t)
	if err != nil {
		return nil, shape, err
	}
	return shape.placements(c.Net()), shape, nil
}

func (p Partition) Plan(c clusters.Cluster, t Target) ([]Undo, error) {
	ps, _, err := p.plan(c, t)
	if err != nil {
		return nil, err
	}
	return toxicUndo(ps, t.ID, "timeout"), nil
}

func (p Partition) Inject(ctx context.Context, c clusters.Cluster, t Target) (Heal, error) {
	ps, shape, err := p.plan(c, t)
	if err != nil {
		return nil, err
	}
	for k, v := range shape.detail {
		t.note(k, v)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("partition %s: cuts no link", p.Mode)
	}
	return addToxics(ps, t.ID, "timeout", map[string]any{"timeout": 0})
}
