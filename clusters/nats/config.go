package nats

import (
	"fmt"
	"strings"
	"time"
)

// DeadAddr is advertised as every node's cluster address. NATS gossips the
// advertised address of each route, and nodes dial gossiped peers directly,
// which would bypass the link proxies; nothing listens on port 1, so those
// dials fail and every route keeps going through its proxy.
const DeadAddr = "127.0.0.1:1"

// nodeConfig is what one nats-server needs to know.
type nodeConfig struct {
	Name        string
	ClusterName string
	Host        string // interface the node listens on
	// MonitorHost is the interface of the monitoring endpoint ("" is Host).
	MonitorHost string
	ClientPort  int
	ClusterPort int
	MonitorPort int
	StoreDir    string
	// Routes are the proxy addresses through which this node dials each peer.
	Routes []string
	// SyncInterval is JetStream's sync_interval ("" keeps the server default).
	SyncInterval string
}

// render writes the node's configuration in nats-server's format.
func (c nodeConfig) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by riptide\n")
	fmt.Fprintf(&b, "server_name: %q\n", c.Name)
	fmt.Fprintf(&b, "listen: %q\n", fmt.Sprintf("%s:%d", c.Host, c.ClientPort))
	monitorHost := c.MonitorHost
	if monitorHost == "" {
		monitorHost = c.Host
	}
	fmt.Fprintf(&b, "http: %q\n", fmt.Sprintf("%s:%d", monitorHost, c.MonitorPort))
	fmt.Fprintf(&b, "logtime: true\n")
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", c.StoreDir)
	if c.SyncInterval != "" {
		fmt.Fprintf(&b, "  sync_interval: %s\n", c.SyncInterval)
	}
	fmt.Fprintf(&b, "}\n")
	if len(c.Routes) > 0 {
		fmt.Fprintf(&b, "cluster {\n")
		fmt.Fprintf(&b, "  name: %q\n", c.ClusterName)
		fmt.Fprintf(&b, "  listen: %q\n", fmt.Sprintf("%s:%d", c.Host, c.ClusterPort))
		fmt.Fprintf(&b, "  advertise: %q\n", DeadAddr)
		// Clients must not learn the nodes' real client addresses either.
		fmt.Fprintf(&b, "  no_advertise: true\n")
		fmt.Fprintf(&b, "  routes: [\n")
		for _, r := range c.Routes {
			fmt.Fprintf(&b, "    %q\n", "nats-route://"+r)
		}
		fmt.Fprintf(&b, "  ]\n}\n")
	}
	return b.String()
}

// ParseSyncInterval checks a sync_interval setting: "always" or a positive
// duration. It returns the value in the form nats-server reads.
func ParseSyncInterval(s string) (string, error) {
	if s == "" || s == "always" {
		return s, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", fmt.Errorf("sync_interval %q: want always or a positive duration such as 2m", s)
	}
	return fmt.Sprintf("%q", d.String()), nil
}
