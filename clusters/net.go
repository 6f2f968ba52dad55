package clusters

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

var quietOnce sync.Once

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

// Proxy is one Toxiproxy proxy, wherever it runs: embedded in the harness
// (process platform) or in a Toxiproxy server reached over its API (a
// container on the docker platform).
type Proxy interface {
	AddToxic(t Toxic) error
	// RemoveToxic removes the toxic called name; a missing one is not an error.
	RemoveToxic(name string) error
	ToxicNames() ([]string, error)
	// ResetToxics removes every toxic.
	ResetToxics() error
	Enabled() (bool, error)
	// SetEnabled(false) closes open connections and refuses new ones.
	SetEnabled(on bool) error
	// SetUpstream points the proxy at a new address, closing its open
	// connections; it stays enabled or disabled as it was.
	SetUpstream(addr string) error
	Close() error
}

// Link is one proxied connection path: clients to a node, or node From
// dialling node To. Every connection on the path passes through its proxy, so
// a toxic on the link acts on all of them, the open ones included.
type Link struct {
	From, To string
	// Listen is where the proxy accepts connections, as seen by whoever
	// dials it; Upstream is the real address of To, as the proxy sees it.
	Listen, Upstream string
	proxy            Proxy

	mu     sync.Mutex
	downBy map[string]bool // holders of DisableFor
}

// NewLink makes a link over a proxy; platforms with their own Toxiproxy
// server use it to build a Net with NewNetOf.
func NewLink(from, to, listen, upstream string, p Proxy) *Link {
	return &Link{From: from, To: to, Listen: listen, Upstream: upstream, proxy: p}
}

// Name is "From->To".
func (l *Link) Name() string { return l.From + "->" + l.To }

// AddToxic installs t on every current and future connection of the link.
func (l *Link) AddToxic(t Toxic) error {
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	if err := l.proxy.AddToxic(t); err != nil {
		return fmt.Errorf("toxic %s on %s: %w", t.Name, l.Name(), err)
	}
	return nil
}

// RemoveToxic removes the toxic called name; removing one that is not there
// is not an error, so heal can run twice.
func (l *Link) RemoveToxic(name string) error {
	if err := l.proxy.RemoveToxic(name); err != nil {
		return fmt.Errorf("remove toxic %s from %s: %w", name, l.Name(), err)
	}
	return nil
}

// SetUpstream points the link at To's new address, for a node that had to
// move to new ports; the link keeps its listen address and its toxics, so
// its dialler sees no change.
func (l *Link) SetUpstream(addr string) error {
	if err := l.proxy.SetUpstream(addr); err != nil {
		return fmt.Errorf("repoint %s at %s: %w", l.Name(), addr, err)
	}
	l.mu.Lock()
	l.Upstream = addr
	l.mu.Unlock()
	return nil
}

// ToxicNames lists the toxics installed on the link.
func (l *Link) ToxicNames() ([]string, error) { return l.proxy.ToxicNames() }

// Enabled reports whether the proxy accepts connections.
func (l *Link) Enabled() (bool, error) { return l.proxy.Enabled() }

// Disable stops the proxy: open connections are closed at once and new ones
// are refused (a reset, not a partition).
func (l *Link) Disable() error {
	if err := l.proxy.SetEnabled(false); err != nil {
		return fmt.Errorf("disable %s: %w", l.Name(), err)
	}
	return nil
}

// Enable restarts a disabled proxy on the same address.
func (l *Link) Enable() error {
	if err := l.proxy.SetEnabled(true); err != nil {
		return fmt.Errorf("enable %s: %w", l.Name(), err)
	}
	return nil
}

// DisableFor disables the link on behalf of holder (a fault id). The link
// stays down until every holder has called EnableFor, so that two
// overlapping faults on one link heal independently.
func (l *Link) DisableFor(holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.downBy == nil {
		l.downBy = map[string]bool{}
	}
	l.downBy[holder] = true
	return l.Disable()
}

// EnableFor releases holder's hold on the link and enables it when no hold
// is left. Releasing a hold twice is not an error.
func (l *Link) EnableFor(holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.downBy, holder)
	if len(l.downBy) > 0 {
		return nil
	}
	return l.Enable()
}

// heal removes every toxic and every hold, and enables the proxy.
func (l *Link) heal() error {
	if err := l.proxy.ResetToxics(); err != nil {
		return fmt.Errorf("reset toxics of %s: %w", l.Name(), err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.downBy)
	return l.Enable()
}

// Net is the set of link proxies of one run.
type Net struct {
	// embedded is the in-process Toxiproxy of NewNet; nil for a Net of
	// remote proxies.
	embedded *toxiproxy.ApiServer
	host     string

	mu    sync.Mutex
	links []*Link
}

// NewNet returns an empty Net served by an embedded Toxiproxy whose proxies
// listen on host (127.0.0.1 on the process platform). It has no HTTP API:
// faults call it directly, so nothing listens beyond the proxies themselves.
func NewNet(host string) *Net {
	// Toxiproxy's bandwidth toxic logs through zerolog's global logger,
	// at trace level, straight to stderr; the harness has its own output.
	quietOnce.Do(func() { zlog.Logger = zerolog.Nop() })
	// Toxiproxy's server needs a metrics container even when nothing is exported.
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	return &Net{embedded: srv, host: host}
}

// NewNetOf returns a Net of links whose proxies run elsewhere.
func NewNetOf(links []*Link) *Net {
	return &Net{links: append([]*Link(nil), links...)}
}

// Add creates and starts an embedded proxy for link from->to, listening on a
// free port of the Net's host and forwarding to upstream.
func (n *Net) Add(from, to, upstream string) (*Link, error) {
	if n.embedded == nil {
		return nil, fmt.Errorf("add link %s->%s: this net has no embedded Toxiproxy", from, to)
	}
	name := from + "->" + to
	p := toxiproxy.NewProxy(n.embedded, name, n.host+":0", upstream)
	if err := n.embedded.Collection.Add(p, true); err != nil {
		return nil, fmt.Errorf("start proxy %s: %w", name, err)
	}
	l := NewLink(from, to, p.Listen, upstream, embeddedProxy{p})
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
	var errs []error
	for _, l := range n.Links() {
		errs = append(errs, l.heal())
	}
	return errors.Join(errs...)
}

// ActiveToxics counts toxics installed over all links.
func (n *Net) ActiveToxics() (int, error) {
	total := 0
	for _, l := range n.Links() {
		names, err := l.ToxicNames()
		if err != nil {
			return total, err
		}
		total += len(names)
	}
	return total, nil
}

// Close stops every proxy and closes their connections.
func (n *Net) Close() error {
	var errs []error
	for _, l := range n.Links() {
		errs = append(errs, l.proxy.Close())
	}
	return errors.Join(errs...)
}
