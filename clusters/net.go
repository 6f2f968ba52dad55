package clusters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// ClientSide is the From of links that carry client connections.
const ClientSide = "client"

// Direction picks which way of a link a toxic acts on.
type Direction string

const (
	// Forward is data from the link's From to its To (Toxiproxy "upstream").
	Forward Direction = "upstream"
	// Backward is data from To back to From (Toxiproxy "downstream").
	Backward Direction = "downstream"
)

// Toxic is one Toxiproxy toxic, as its HTTP API describes it.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     Direction      `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Link is one proxied connection path: clients to a node, or node From
// dialling node To. Every connection on the path passes through its proxy, so
// a toxic on the link acts on all of them, the open ones included.
type Link struct {
	From, To string
	// Listen is where the proxy accepts connections; Upstream is the real
	// address of To.
	Listen, Upstream string
	proxy            *toxiproxy.Proxy
}

// Name is "From->To".
func (l *Link) Name() string { return l.From + "->" + l.To }

// AddToxic installs t on every current and future connection of the link.
func (l *Link) AddToxic(t Toxic) error {
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("toxic %s on %s: %w", t.Name, l.Name(), err)
	}
	if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("toxic %s on %s: %w", t.Name, l.Name(), err)
	}
	return nil
}

// RemoveToxic removes the toxic called name; removing one that is not there
// is not an error, so heal can run twice.
func (l *Link) RemoveToxic(name string) error {
	if l.proxy.Toxics.GetToxic(name) == nil {
		return nil
	}
	if err := l.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil && err != toxiproxy.ErrToxicNotFound {
		return fmt.Errorf("remove toxic %s from %s: %w", name, l.Name(), err)
	}
	return nil
}

// ToxicNames lists the toxics installed on the link.
func (l *Link) ToxicNames() []string {
	var names []string
	for _, t := range l.proxy.Toxics.GetToxicArray() {
		if w, ok := t.(*toxics.ToxicWrapper); ok {
			names = append(names, w.Name)
		}
	}
	return names
}

// ToxicCount is the number of toxics installed on the link.
func (l *Link) ToxicCount() int { return len(l.proxy.Toxics.GetToxicArray()) }

// Enabled reports whether the proxy accepts connections.
func (l *Link) Enabled() bool {
	l.proxy.Lock()
	defer l.proxy.Unlock()
	return l.proxy.Enabled
}

// Disable stops the proxy: open connections are closed at once and new ones
// are refused (a reset, not a partition).
func (l *Link) Disable() { l.proxy.Stop() }

// Enable restarts a disabled proxy on the same address.
func (l *Link) Enable() error {
	if l.Enabled() {
		return nil
	}
	if err := l.proxy.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		return fmt.Errorf("enable %s: %w", l.Name(), err)
	}
	return nil
}

// Net is the set of link proxies of one run, served by an embedded Toxiproxy.
// It has no HTTP API: faults call it directly, so nothing listens beyond the
// proxies themselves, all on loopback.
type Net struct {
	server *toxiproxy.ApiServer
	host   string

	mu    sync.Mutex
	links []*Link
}

// NewNet returns an empty Net whose proxies listen on host (127.0.0.1 on the
// process platform).
func NewNet(host string) *Net {
	// Toxiproxy's server needs a metrics container even when nothing is exported.
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	return &Net{server: srv, host: host}
}

// Add creates and starts the proxy of link from->to, listening on a free port
// of the Net's host and forwarding to upstream.
func (n *Net) Add(from, to, upstream string) (*Link, error) {
	name := from + "->" + to
	p := toxiproxy.NewProxy(n.server, name, n.host+":0", upstream)
	if err := n.server.Collection.Add(p, true); err != nil {
		return nil, fmt.Errorf("start proxy %s: %w", name, err)
	}
	l := &Link{From: from, To: to, Listen: p.Listen, Upstream: upstream, proxy: p}
	n.mu.Lock()
	n.links = append(n.links, l)
	n.mu.Unlock()
	return l, nil
}

// Links lists every link, sorted by name.
func (n *Net) Links() []*Link {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := append([]*Link(nil), n.links...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Link returns the link from->to.
func (n *Net) Link(from, to string) (*Link, bool) {
	for _, l := range n.Links() {
		if l.From == from && l.To == to {
			return l, true
		}
	}
	return nil, false
}

// Touching lists the links with node at either end. With clients false,
// the client links of node are left out.
func (n *Net) Touching(node string, clients bool) []*Link {
	var out []*Link
	for _, l := range n.Links() {
		if l.From != node && l.To != node {
			continue
		}
		if l.From == ClientSide && !clients {
			continue
		}
		out = append(out, l)
	}
	return out
}

// Heal removes every toxic and re-enables every proxy. It is idempotent.
func (n *Net) Heal() error {
	var first error
	for _, l := range n.Links() {
		l.proxy.Toxics.ResetToxics(context.Background())
		if err := l.Enable(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ActiveToxics counts toxics installed over all links.
func (n *Net) ActiveToxics() int {
	total := 0
	for _, l := range n.Links() {
		total += l.ToxicCount()
	}
	return total
}

// Close stops every proxy and closes their connections.
func (n *Net) Close() {
	_ = n.server.Collection.Clear()
}
