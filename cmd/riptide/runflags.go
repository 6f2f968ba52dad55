package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/scenarios"
)

// checkPlatformFlags rejects, before anything is written, riptide run flags
// that do not apply to the platform the run is on (the scenario's, or
// --platform's when platformFlag), and a server binary that is not there.
func checkPlatformFlags(sc *scenarios.Scenario, platformFlag bool, binary, image, toxiImage string) error {
	platform := sc.Cluster.Platform
	where := fmt.Sprintf("the scenario runs on the %s platform", platform)
	if platformFlag {
		where = "--platform " + platform + " was given"
	}
	switch platform {
	case "process":
		var images []string
		if image != "" {
			images = append(images, "--image")
		}
		if toxiImage != "" {
			images = append(images, "--toxiproxy-image")
		}
		if len(images) > 0 {
			fix := "; add --platform docker"
			if platformFlag {
				fix = ""
			}
			verb := "applies"
			if len(images) > 1 {
				verb = "apply"
			}
			return fmt.Errorf("%s %s to the docker platform only, and %s%s", strings.Join(images, " and "), verb, where, fix)
		}
		switch {
		case binary != "":
			if err := nats.CheckBinary(binary); err != nil {
				return fmt.Errorf("--nats-server: %w", err)
			}
		case sc.Cluster.Binary != "":
			if err := nats.CheckBinary(sc.Cluster.Binary); err != nil {
				return fmt.Errorf("cluster.binary of %s: %w", sc.File, err)
			}
		}
	case "docker":
		if binary != "" {
			return fmt.Errorf("--nats-server applies to the process platform only, and %s; name an image with --image instead", where)
		}
	}
	return nil
}

// annotateOverrides marks the problems that riptide run's overrides caused,
// since their positions are those of the file's values: a main phase too
// short for a fault says that --duration set it.
func annotateOverrides(err error, flags []string) error {
	var probs *scenarios.Problems
	if !errors.As(err, &probs) {
		return err
	}
	list := slices.Clone(probs.List())
	for i, p := range list {
		switch {
		case slices.Contains(flags, "--duration") && p.Field == "duration":
			list[i].Msg += " (set by --duration)"
		case slices.Contains(flags, "--duration") && strings.HasPrefix(p.Field, "faults[") && strings.Contains(p.Msg, "main phase"):
			list[i].Msg += " (the main phase's duration set by --duration)"
		case slices.Contains(flags, "--platform") && p.Field == "cluster.platform":
			list[i].Msg += " (set by --platform)"
		case slices.Contains(flags, "--platform") && slices.Contains([]string{"cluster.binary", "cluster.image", "cluster.toxiproxy_image"}, p.Field):
			list[i].Msg += " (the platform set by --platform)"
		}
	}
	annotated := scenarios.Problems(list)
	return &annotated
}

// applyOverrides writes the flags of fs that were given into sc and returns
// those whose values validation must check (--duration, --platform). A flag
// given counts whatever its value: --seed 0 asks for a new seed, as seed 0
// in a file does, and --duration 0s is refused, not ignored.
func applyOverrides(sc *scenarios.Scenario, fs *flag.FlagSet, seed int64, duration time.Duration, platform string) []string {
	var overridden []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "seed":
			sc.Seed = seed
		case "duration":
			sc.Duration = scenarios.Duration(duration)
			overridden = append(overridden, "--duration")
		case "platform":
			// What the other platform runs goes with it: a docker run's
			// scenario.yaml (which names its images) reruns on process.
			if platform != sc.Cluster.Platform {
				switch platform {
				case "process":
					sc.Cluster.Image, sc.Cluster.ToxiproxyImage = "", ""
				case "docker":
					sc.Cluster.Binary = ""
				}
			}
			sc.Cluster.Platform = platform
			overridden = append(overridden, "--platform")
		}
	})
	return overridden
}

// given reports whether the flag name was on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
