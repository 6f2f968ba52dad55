// Package images builds riptide's local container images: FROM scratch
// images holding static binaries built with the Go toolchain, for Docker
// engines that cannot pull the official images (no registry, air-gapped CI).
// `make images` builds them all; tests build the ones they need on first
// use (Ensure), so `make test` needs nothing built by hand.
package images

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
)

//go:embed nats-server/Dockerfile toxiproxy/Dockerfile
var dockerfiles embed.FS

// ToxiproxyVersion is the Toxiproxy release of the local image: the one
// riptide's go.mod pins, so that the server in the container and the client
// driving it agree.
const ToxiproxyVersion = "2.12.0"

// Official images, the defaults of the docker platform.
const (
	OfficialToxiproxy = "ghcr.io/shopify/toxiproxy:" + ToxiproxyVersion
)

// OfficialNATS is the official nats-server image of version.
func OfficialNATS(version string) string { return "nats:" + version }

// NATSServer is the local nats-server image of version.
func NATSServer(version string) string { return "riptide/nats-server:" + version }

// Toxiproxy is the local Toxiproxy image.
func Toxiproxy() string { return "riptide/toxiproxy:" + ToxiproxyVersion }

// recipe says how to build one local image.
type recipe struct {
	dir    string // in dockerfiles
	binary string // file name in the build context
	build  func(ctx context.Context, progress io.Writer) (string, error)
}

// recipeFor finds how to build ref, a local image name.
func recipeFor(ref string) (recipe, error) {
	repo, tag, _ := strings.Cut(ref, ":")
	switch repo {
	case "riptide/nats-server":
		return recipe{dir: "nats-server", binary: "nats-server", build: func(ctx context.Context, progress io.Writer) (string, error) {
			return nats.Binary(ctx, tag, progress)
		}}, nil
	case "riptide/toxiproxy":
		if tag != ToxiproxyVersion {
			return recipe{}, fmt.Errorf("image %s: only riptide/toxiproxy:%s can be built", ref, ToxiproxyVersion)
		}
		return recipe{dir: "toxiproxy", binary: "toxiproxy-server", build: func(ctx context.Context, progress io.Writer) (string, error) {
			return goInstall(ctx, "github.com/Shopify/toxiproxy/v2/cmd/server", ToxiproxyVersion, "toxiproxy-server", progress)
		}}, nil
	}
	return recipe{}, fmt.Errorf("image %s: riptide builds only riptide/nats-server:VERSION and %s", ref, Toxiproxy())
}

// Ensure builds ref, a local image, unless the engine already has it.
// Concurrent callers (test packages run in parallel) build it once: the
// first holds a file lock, the others wait and then find the image.
func Ensure(ctx context.Context, e *docker.Engine, ref string, progress io.Writer) error {
	if ok, err := e.HasImage(ctx, ref); err != nil || ok {
		return err
	}
	r, err := recipeFor(ref)
	if err != nil {
		return err
	}
	cache, err := nats.CacheDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cache, "images"), 0o755); err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, "images", strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".lock"))
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	defer unlock()
	if ok, err := e.HasImage(ctx, ref); err != nil || ok {
		return err
	}
	return build(ctx, e, ref, r, progress)
}

// Build builds ref, a local image, even if the engine has it.
func Build(ctx context.Context, e *docker.Engine, ref string, progress io.Writer) error {
	r, err := recipeFor(ref)
	if err != nil {
		return err
	}
	return build(ctx, e, ref, r, progress)
}

func build(ctx context.Context, e *docker.Engine, ref string, r recipe, progress io.Writer) error {
	bin, err := r.build(ctx, progress)
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	df, err := dockerfiles.ReadFile(r.dir + "/Dockerfile")
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	fmt.Fprintf(progress, "building image %s from %s\n", ref, bin)
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return e.BuildImage(bctx, ref, []docker.BuildFile{
		{Name: "Dockerfile", Data: df},
		{Name: r.binary, Source: bin, Mode: 0o755},
	}, progress)
}

// goInstall builds pkg@vversion as a static binary into the cache, once.
func goInstall(ctx context.Context, pkg, version, name string, progress io.Writer) (string, error) {
	cache, err := nats.CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "bin", name, "v"+version)
	bin := filepath.Join(dir, name)
	if st, err := os.Stat(bin); err == nil && st.Mode()&0o111 != 0 {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if st, err := os.Stat(bin); err == nil && st.Mode()&0o111 != 0 {
		return bin, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s v%s: the go command is not on PATH", name, version)
	}
	fmt.Fprintf(progress, "building %s v%s with the Go toolchain into %s (first time only)\n", name, version, dir)
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, goTool, "install", pkg+"@v"+version)
	// Static, so that it runs in an image FROM scratch.
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Dir = tmp // outside any module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s v%s: %w\n%s", name, version, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(filepath.Join(tmp, filepath.Base(pkg)), bin); err != nil {
		return "", fmt.Errorf("install %s v%s: %w", name, version, err)
	}
	return bin, nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
