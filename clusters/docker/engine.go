// Package docker runs the nodes of a riptide cluster as Docker containers,
// through testcontainers-go and its Moby client: per run one private
// network, one container per node and a Toxiproxy container that every link
// goes through. Every container and network carries riptide's labels (see
// labels.go), so that what a crashed harness left behind can be found and
// removed by Sweep.
package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// ErrNoEngine means that no Docker engine could be reached.
var ErrNoEngine = errors.New("no Docker engine reachable")

// connectTimeout bounds reaching the engine: a missing socket fails at once,
// a remote engine that does not answer must not hang the run.
const connectTimeout = 10 * time.Second

// Engine is a connection to a Docker engine.
type Engine struct {
	cli *testcontainers.DockerClient
	// Reaper says whether testcontainers' Ryuk guards this process's
	// resources; ReaperNote says why or why not.
	Reaper     bool
	ReaperNote string
	me         owner
}

// Connect reaches the Docker engine and decides, once per process, whether
// Ryuk can guard what this process creates. The engine is the one DOCKER_HOST
// names when it is set (and only that one: a user who names an engine must
// not silently get another), else the one testcontainers-go finds (its
// properties file, the Docker context, the default socket). An unreachable
// engine is an error wrapping ErrNoEngine, in one line.
func Connect(ctx context.Context) (*Engine, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	quietTestcontainers()

	raw, rawErr := rawClient(ctx)
	if rawErr != nil && os.Getenv("DOCKER_HOST") != "" {
		return nil, fmt.Errorf("%w at DOCKER_HOST=%s (%s)", ErrNoEngine, os.Getenv("DOCKER_HOST"), cause(rawErr))
	}
	// Ryuk's switch must be set before testcontainers-go reads its
	// configuration, which it does once per process on first use.
	reaperOnce.Do(func() { reaperOn, reaperNote = chooseReaper(ctx, raw) })
	if raw != nil {
		raw.Close()
	}

	cli, err := testcontainersClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoEngine, cause(err))
	}
	return &Engine{cli: cli, Reaper: reaperOn, ReaperNote: reaperNote, me: self()}, nil
}

// Client is the engine's Moby API client.
func (e *Engine) Client() *client.Client { return e.cli.Client }

// Close releases the connection.
func (e *Engine) Close() error { return e.cli.Close() }

// rawClient connects with the plain Moby client from the environment
// (DOCKER_HOST or the default socket) and pings the engine.
func rawClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, err
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, err
	}
	return cli, nil
}

// testcontainersClient connects the way testcontainers-go does. Some of its
// discovery paths panic when nothing is found; that is turned into an error.
func testcontainersClient(ctx context.Context) (cli *testcontainers.DockerClient, err error) {
	defer func() {
		if p := recover(); p != nil {
			cli, err = nil, fmt.Errorf("%v", p)
		}
	}()
	cli, err = testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, err
	}
	return cli, nil
}

var (
	reaperOnce sync.Once
	reaperOn   bool
	reaperNote string
)

// chooseReaper decides whether testcontainers' Ryuk runs. Ryuk removes a
// session's resources when the session's process dies, which is the best
// guard against a SIGKILLed harness; but its image must come from a registry,
// and where it cannot (no registry, as on an air-gapped CI machine) every
// container creation would fail on it. So: a user's explicit setting wins;
// else Ryuk runs when its image is already on the engine; else it is
// switched off for this process and riptide's own labels and sweep (at the
// start of every docker run, and `riptide clean`) remove what a dead harness
// left.
func chooseReaper(ctx context.Context, raw *client.Client) (bool, string) {
	if v, ok := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); ok {
		on := v != "true"
		return on, fmt.Sprintf("Ryuk %s by TESTCONTAINERS_RYUK_DISABLED=%s", onOff(on), v)
	}
	if raw == nil {
		return true, "Ryuk left to testcontainers' settings (engine found through its own discovery)"
	}
	img := ReaperImage()
	if _, err := raw.ImageInspect(ctx, img); err == nil {
		return true, "Ryuk on: image " + img + " is present"
	}
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	return false, "Ryuk off: image " + img + " is not on the engine; riptide's sweep removes what a crashed run leaves"
}

// ReaperImage is the Ryuk image testcontainers-go would start, with the hub
// prefix it would apply.
func ReaperImage() string {
	img := testcontainers.ReaperDefaultImage //nolint:staticcheck // the name is what we need
	if p := os.Getenv("TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX"); p != "" {
		img = strings.TrimSuffix(p, "/") + "/" + img
	}
	return img
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

var quietOnce sync.Once

// quietTestcontainers stops testcontainers-go from printing its banner and a
// line per container to stderr: riptide reports progress itself.
func quietTestcontainers() {
	quietOnce.Do(func() { tclog.SetDefault(tclog.NewNoopLogger()) })
}

// cause is the network error under a connection failure ("dial unix
// /var/run/docker.sock: connect: no such file or directory"), which says
// what went wrong without the client's advice around it; else the first
// line of err.
func cause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	return oneLine(err)
}

// oneLine keeps the first line of an error: riptide prints engine problems as
// one line, never a dump.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " (...)"
	}
	return s
}
