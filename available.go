package riptide

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/scenarios"
)

// ErrUnavailable is wrapped by the error of [Available] and [Run] when the
// scenario's platform cannot run on this machine: no Docker engine for the
// docker platform, no server binary and no Go toolchain to build one for the
// process platform. Test helpers skip on it rather than fail.
var ErrUnavailable = errors.New("platform unavailable")

// pingTimeout bounds the Docker engine check: a local engine answers in
// milliseconds, and a test should not hang on a dead remote one.
const pingTimeout = 2 * time.Second

// Available reports whether the scenario's platform can run here, without
// launching anything: for docker, whether the engine answers a ping; for
// process, whether a server binary is given or can be built. binary is the
// Options.Binary the run would use. The error wraps [ErrUnavailable] and
// says what is missing.
func Available(ctx context.Context, sc *scenarios.Scenario, binary string) error {
	if sc == nil {
		return errors.New("check platform: nil scenario")
	}
	c := *sc
	c.Faults = nil // not needed, and ApplyDefaults writes into them
	c.ApplyDefaults()
	return available(ctx, &c, binary)
}

// available is Available on a scenario with defaults applied.
func available(ctx context.Context, sc *scenarios.Scenario, binary string) error {
	switch sc.Cluster.Platform {
	case "docker":
		if err := pingDocker(ctx); err != nil {
			return fmt.Errorf("%w: docker: %w", ErrUnavailable, err)
		}
	case "process":
		// A binary that was named but is missing is the caller's mistake,
		// reported by the run, not a reason to skip.
		if binary != "" || sc.Cluster.Binary != "" {
			return nil
		}
		if _, err := exec.LookPath("go"); err == nil {
			return nil
		}
		// Without Go, only a binary built earlier into the cache will do;
		// Binary returns it, or says what to do, without building.
		if sc.Cluster.System == "nats" {
			if _, err := nats.Binary(ctx, sc.Cluster.Version, io.Discard); err != nil {
				return fmt.Errorf("%w: process: %w", ErrUnavailable, err)
			}
		}
	}
	return nil
}

// pingDocker asks the engine named by DOCKER_HOST (default: the local unix
// socket) for GET /_ping. It needs no Docker client library: the ping is
// one HTTP request.
func pingDocker(ctx context.Context) error {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST %q: %w", host, err)
	}
	var network, addr string
	switch u.Scheme {
	case "unix":
		network, addr = "unix", u.Path
	case "tcp":
		network, addr = "tcp", u.Host
	default:
		// ssh:// and the like need the docker CLI to reach; let the
		// platform try rather than skip a run that may well work.
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var d net.Dialer
	if network == "tcp" && os.Getenv("DOCKER_TLS_VERIFY") != "" {
		// A TLS engine answers plain HTTP with an error; that it accepts
		// connections is as far as a check without its certificates goes.
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return fmt.Errorf("no engine at %s: %w", host, err)
		}
		return conn.Close()
	}
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, network, addr) },
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("no engine answers at %s: %w", host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("engine at %s answers ping with %s", host, resp.Status)
	}
	return nil
}
