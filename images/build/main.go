// Command build builds riptide's local images (`make images`): nats-server
// and Toxiproxy FROM scratch, from static binaries built with the Go
// toolchain, tagged riptide/nats-server:VERSION and riptide/toxiproxy:VERSION.
// Name them in a run with --image and --toxiproxy-image.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/riptidechaos/riptide/clusters/docker"
	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/images"
)

func main() {
	versions := flag.String("nats", nats.DefaultVersion, "nats-server versions to build, comma separated")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	eng, err := docker.Connect(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "images: %v\n", err)
		os.Exit(3)
	}
	defer eng.Close()
	refs := []string{images.Toxiproxy()}
	for v := range strings.SplitSeq(*versions, ",") {
		refs = append(refs, images.NATSServer(strings.TrimSpace(v)))
	}
	for _, ref := range refs {
		if err := images.Build(ctx, eng, ref, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "images: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("built %s\n", ref)
	}
}
