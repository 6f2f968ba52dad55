package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// monitor reads a nats-server's HTTP monitoring endpoint, wherever the node
// runs: the platforms differ only in where the endpoint is.
type monitor struct {
	name string
	// base returns the endpoint's URL, e.g. http://127.0.0.1:8222.
	base func() (string, error)
}

var monitorClient = &http.Client{Timeout: 2 * time.Second}

// getJSON reads one monitoring path into v.
func (m monitor) getJSON(ctx context.Context, path string, v any) error {
	base, err := m.base()
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := monitorClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %s: %w", m.name, path, err)
	}
	return nil
}

// healthy asks whether JetStream is current on the node and the node has
// a route to every other member of cluster (the node names).
func (m monitor) healthy(ctx context.Context, cluster []string) error {
	var hz struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := m.getJSON(ctx, "/healthz", &hz); err != nil {
		return err
	}
	if hz.Status != "ok" {
		return fmt.Errorf("%s: healthz %s %s", m.name, hz.Status, hz.Error)
	}
	if len(cluster) <= 1 {
		return nil
	}
	got, err := m.RoutedPeers(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, peer := range cluster {
		if peer != m.name && !slices.Contains(got, peer) {
			missing = append(missing, peer)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: not routed to %s", m.name, strings.Join(missing, ", "))
	}
	return nil
}

// Route is one route connection as the node's /routez reports it.
type Route struct {
	RemoteName string `json:"remote_name"`
	IP         string `json:"ip"`
	Port       int    `json:"port"`
	DidSolicit bool   `json:"did_solicit"`
}

// Routes lists the node's route connections.
func (m monitor) Routes(ctx context.Context) ([]Route, error) {
	var rz struct {
		Routes []Route `json:"routes"`
	}
	if err := m.getJSON(ctx, "/routez", &rz); err != nil {
		return nil, err
	}
	return rz.Routes, nil
}

// ServerVersion is the version the node's server reports (/varz): what
// ran, whatever the scenario or the image's tag say.
func (m monitor) ServerVersion(ctx context.Context) (string, error) {
	var vz struct {
		Version string `json:"version"`
	}
	if err := m.getJSON(ctx, "/varz", &vz); err != nil {
		return "", err
	}
	if vz.Version == "" {
		return "", fmt.Errorf("%s: /varz names no version", m.name)
	}
	return vz.Version, nil
}

// RoutedPeers lists the names of the servers this node has a route to.
func (m monitor) RoutedPeers(ctx context.Context) ([]string, error) {
	routes, err := m.Routes(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range routes {
		if r.RemoteName != "" && !slices.Contains(names, r.RemoteName) {
			names = append(names, r.RemoteName)
		}
	}
	return names, nil
}

// watched is a node as waitHealthy sees it.
type watched interface {
	Name() string
	// exited reports an error when the node's server is not running.
	exited(ctx context.Context) error
	healthy(ctx context.Context, cluster []string) error
	LogTail(lines int) string
}

// Health polls: a cluster is healthy a few hundred milliseconds after its
// servers start, so the poll is short, or it would be a good part of the
// launch; whether a node exited (a container inspection on the docker
// platform) is asked less often, to spare the engine while it starts them.
const (
	healthPoll     = 25 * time.Millisecond
	exitCheckPolls = 4 // ask whether nodes exited every 4th poll
	// notNATSAfter is when a node with no line of nats-server's log format
	// is taken for another program (an image of something else): a real
	// server logs "[INF] Starting nats-server" at once, and every line of
	// its log carries a level tag.
	notNATSAfter = 10 * time.Second
)

// natsLogLine matches the level tag of every line nats-server logs.
var natsLogLine = regexp.MustCompile(`\[(INF|WRN|ERR|FTL|DBG|TRC)\] `)

// waitHealthy polls until every node is healthy and routed to every other,
// fails soon after one has exited or when one does not run nats-server at
// all, and on timeout names the node that was not ready with the last
// lines of its log, which usually say why.
func waitHealthy[N watched](ctx context.Context, nodes []N) error {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name()
	}
	began := time.Now()
	checkedNATS := false
	for poll := 0; ; poll++ {
		var (
			problem error
			sick    N
		)
		for _, n := range nodes {
			if poll%exitCheckPolls == 0 {
				if err := n.exited(ctx); err != nil {
					return fmt.Errorf("node %s exited: %w: %s", n.Name(), err, n.LogTail(5))
				}
			}
			if problem = n.healthy(ctx, names); problem != nil {
				sick = n
				break
			}
		}
		if problem == nil {
			return nil
		}
		if !checkedNATS && time.Since(began) > notNATSAfter {
			checkedNATS = true
			for _, n := range nodes {
				// A log that cannot be read ("(no log: ...)", a slow
				// engine) proves nothing.
				if log := n.LogTail(50); !strings.HasPrefix(log, "(no log") && !natsLogLine.MatchString(log) {
					return fmt.Errorf("node %s does not run nats-server: after %s not one line of its log is nats-server's (is its image or binary a nats-server?); its log says: %s",
						n.Name(), notNATSAfter, telling(log))
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w (last: %v); %s's log ends:\n%s",
				ctx.Err(), problem, sick.Name(), sick.LogTail(8))
		case <-time.After(healthPoll):
		}
	}
}
