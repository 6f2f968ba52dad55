// Package images builds riptide's local container images: FROM scratch
// images holding static binaries built with the Go toolchain, for Docker
// engines that cannot pull the official images (no registry, air-gapped CI).
// `make images` builds them all; tests build the ones they need on first
// use (Ensure), so `make test` needs nothing built by hand.
package images

import (
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/internal/gobin"
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
			return gobin.Install(ctx, "github.com/Shopify/toxiproxy/v2/cmd/server", ToxiproxyVersion, "toxiproxy-server", progress)
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
	cache, err := gobin.CacheDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cache, "images"), 0o755); err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	unlock, err := gobin.Lock(ctx, filepath.Join(cache, "images", strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".lock"))
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
