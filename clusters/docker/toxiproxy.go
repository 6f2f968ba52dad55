package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/riptidechaos/riptide/clusters"
)

// Toxiproxy on the docker platform is a container on the run's network, not
// the harness's embedded one: node-to-node links then stay inside the
// private network (node i dials toxiproxy:PORT, which dials node j by name),
// nothing of the run listens on the host but ports published on 127.0.0.1
// (or nothing at all where the host routes to the run network), and the same
// wiring works with a remote engine. Its HTTP API, published on 127.0.0.1,
// drives the faults.
const (
	// ToxiproxyAlias is the Toxiproxy container's name on the run network.
	ToxiproxyAlias = "toxiproxy"
	// ToxiproxyAPIPort is where its API listens inside the container.
	ToxiproxyAPIPort = 8474
)

// ProxySpec is one link to create in the Toxiproxy container.
type ProxySpec struct {
	From, To string
	// Port is where the proxy listens inside the container.
	Port int
	// Upstream is the address the proxy dials, as the container sees it
	// ("n2:6222").
	Upstream string
	// Publish makes the proxy reachable from the host (client links):
	// published on Host, or at the container's address where the host
	// routes to the run network (ContainerSpec.Reach). The others serve
	// only the run network or the pod (route links).
	Publish bool
}

// NetworkAddr is where the proxy listens as seen from the run network.
func (s ProxySpec) NetworkAddr() string {
	return net.JoinHostPort(ToxiproxyAlias, strconv.Itoa(s.Port))
}

// PodAddr is where the proxy listens as seen from a container in the
// Toxiproxy container's network namespace (ContainerSpec.Pod).
func (s ProxySpec) PodAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
}

// Toxiproxy is the run's Toxiproxy container.
type Toxiproxy struct {
	c     *Container
	specs []ProxySpec
	api   *toxiclient.Client
	// pod is set when other containers join its network namespace: they
	// dial the unpublished proxies on 127.0.0.1.
	pod bool
}

// StartToxiproxy creates and starts the Toxiproxy container and waits until
// it serves; see CreateToxiproxy and Toxiproxy.Ready.
func (r *Run) StartToxiproxy(ctx context.Context, image string, specs []ProxySpec, dir string) (*Toxiproxy, []*clusters.Link, error) {
	t, err := r.CreateToxiproxy(ctx, image, specs, dir, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := t.c.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	links, err := t.Ready(ctx)
	return t, links, err
}

// toxiproxyConfig is where the proxies file appears in the container.
const toxiproxyConfig = "/etc/riptide/toxiproxy.json"

// CreateToxiproxy creates the Toxiproxy container from image, publishing
// its API on Host and making the ports of the published proxies of specs
// reachable from the host (ContainerSpec.Reach). The
// proxies are written to dir/toxiproxy.json, which the server reads at
// boot, before its API listens: they exist as soon as it runs, so that
// nodes started at the same time find them. Its output goes to
// dir/toxiproxy.log on removal.
//
// pod, when not nil, makes the container a pod for others to join
// (ContainerSpec.Pod): the host reaches the pod's ports through it as well
// (the members' own, such as their monitoring endpoints), and the members
// dial the
// unpublished proxies on 127.0.0.1.
func (r *Run) CreateToxiproxy(ctx context.Context, image string, specs []ProxySpec, dir string, pod []int) (*Toxiproxy, error) {
	config := make([]toxiclient.Proxy, len(specs))
	for i, s := range specs {
		config[i] = toxiclient.Proxy{Name: proxyName(s.From, s.To),
			Listen: net.JoinHostPort("0.0.0.0", strconv.Itoa(s.Port)), Upstream: s.Upstream, Enabled: true}
	}
	b, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("create toxiproxy: %w", err)
	}
	file, err := filepath.Abs(filepath.Join(dir, "toxiproxy.json"))
	if err != nil {
		return nil, fmt.Errorf("create toxiproxy: %w", err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return nil, fmt.Errorf("create toxiproxy: %w", err)
	}
	var reach []string
	for _, s := range specs {
		if s.Publish {
			reach = append(reach, fmt.Sprintf("%d/tcp", s.Port))
		}
	}
	for _, port := range pod {
		reach = append(reach, fmt.Sprintf("%d/tcp", port))
	}
	c, err := r.Create(ctx, ContainerSpec{
		Name: ToxiproxyAlias, Image: image,
		// The API listens on every interface of the container's own
		// network namespace; it is always published, on 127.0.0.1 (a
		// container that publishes nothing would have the image's
		// exposed ports published instead).
		Cmd:     []string{"-host=0.0.0.0", "-port=" + strconv.Itoa(ToxiproxyAPIPort), "-config=" + toxiproxyConfig},
		Mounts:  []Mount{{Source: file, Target: toxiproxyConfig, ReadOnly: true}},
		Publish: []string{fmt.Sprintf("%d/tcp", ToxiproxyAPIPort)}, Reach: reach,
		LogPath: filepath.Join(dir, "toxiproxy.log"),
	})
	if err != nil {
		return nil, fmt.Errorf("create toxiproxy: %w", err)
	}
	return &Toxiproxy{c: c, specs: append([]ProxySpec(nil), specs...), pod: pod != nil}, nil
}

// Ready waits until the started container's API answers with every proxy,
// and returns one link per spec, in order. A link's Listen is the address
// its dialler uses: Toxiproxy.HostAddr for a published proxy, toxiproxy:port
// on the run network (127.0.0.1:port in a pod) for the others.
func (t *Toxiproxy) Ready(ctx context.Context) ([]*clusters.Link, error) {
	addr, err := t.HostAddr(ToxiproxyAPIPort)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	t.api = toxiclient.NewClient(addr)
	if err := t.waitAPI(ctx); err != nil {
		return nil, err
	}
	have, err := t.api.Proxies()
	if err != nil {
		return nil, fmt.Errorf("toxiproxy: list proxies: %w", err)
	}
	links := make([]*clusters.Link, len(t.specs))
	for i, s := range t.specs {
		name := proxyName(s.From, s.To)
		if _, ok := have[name]; !ok {
			return nil, fmt.Errorf("toxiproxy: proxy %s was not created from its config: %s", name, t.c.LogTail(3))
		}
		listen := s.NetworkAddr()
		if t.pod {
			listen = s.PodAddr()
		}
		if s.Publish {
			if listen, err = t.HostAddr(s.Port); err != nil {
				return nil, fmt.Errorf("toxiproxy: %w", err)
			}
		}
		links[i] = clusters.NewLink(s.From, s.To, listen, s.Upstream, &remoteProxy{api: t.api, name: name})
	}
	return links, nil
}

// Container is the Toxiproxy container.
func (t *Toxiproxy) Container() *Container { return t.c }

// HostAddr is where the host dials the container's port (a proxy's or a
// pod member's): see Container.HostAddr.
func (t *Toxiproxy) HostAddr(port int) (string, error) {
	return t.c.HostAddr(fmt.Sprintf("%d/tcp", port))
}

// waitAPI waits until the API answers.
func (t *Toxiproxy) waitAPI(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if _, err := t.api.Version(); err == nil {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("toxiproxy API not answering: %w: %s", wctx.Err(), t.c.LogTail(3))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// proxyName names a link's proxy in Toxiproxy: "n1->n2" would need escaping
// in the API's URLs.
func proxyName(from, to string) string { return from + "_to_" + to }

// remoteProxy is a clusters.Proxy in a Toxiproxy server reached over its
// HTTP API. The client's calls carry their own timeout (30 s).
type remoteProxy struct {
	api  *toxiclient.Client
	name string

	// mu serialises the calls on one proxy: the client's Proxy values are
	// not safe for concurrent use, and a fault and its heal may overlap.
	mu sync.Mutex
	p  *toxiclient.Proxy
}

// proxy fetches the proxy's handle once; mu must be held.
func (r *remoteProxy) proxy() (*toxiclient.Proxy, error) {
	if r.p == nil {
		p, err := r.api.Proxy(r.name)
		if err != nil {
			return nil, fmt.Errorf("toxiproxy proxy %s: %w", r.name, err)
		}
		r.p = p
	}
	return r.p, nil
}

func (r *remoteProxy) AddToxic(t clusters.Toxic) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.proxy()
	if err != nil {
		return err
	}
	_, err = p.AddToxic(t.Name, t.Type, string(t.Stream), t.Toxicity, toxiclient.Attributes(t.Attributes))
	return err
}

func (r *remoteProxy) RemoveToxic(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.proxy()
	if err != nil {
		return err
	}
	if err := p.RemoveToxic(name); err != nil && !isAPIStatus(err, http.StatusNotFound) {
		return err
	}
	return nil
}

func (r *remoteProxy) ToxicNames() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.toxicNames()
}

func (r *remoteProxy) toxicNames() ([]string, error) {
	p, err := r.proxy()
	if err != nil {
		return nil, err
	}
	ts, err := p.Toxics()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return names, nil
}

func (r *remoteProxy) ResetToxics() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	names, err := r.toxicNames()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := r.p.RemoveToxic(n); err != nil && !isAPIStatus(err, http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *remoteProxy) Enabled() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.api.Proxy(r.name)
	if err != nil {
		return false, err
	}
	r.p = p
	return p.Enabled, nil
}

func (r *remoteProxy) SetEnabled(on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.proxy()
	if err != nil {
		return err
	}
	if on {
		return p.Enable()
	}
	return p.Disable()
}

func (r *remoteProxy) SetUpstream(addr string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.proxy()
	if err != nil {
		return err
	}
	p.Upstream = addr
	return p.Save()
}

// Close deletes the proxy, closing its connections. A proxy already gone
// (its container removed) is not an error.
func (r *remoteProxy) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.proxy()
	if err != nil {
		return nil
	}
	if err := p.Delete(); err != nil && !isAPIStatus(err, http.StatusNotFound) {
		return err
	}
	return nil
}

func isAPIStatus(err error, status int) bool {
	var api *toxiclient.ApiError
	return errors.As(err, &api) && api.Status == status
}
