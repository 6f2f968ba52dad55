package run

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/scenarios"
)

// Options that do not fit the scenario's platform are refused before the
// run directory is made: nothing is left for riptide check to mistake for
// a killed run.
func TestRunRejectsPlatformOptionsBeforeWriting(t *testing.T) {
	for name, tc := range map[string]struct {
		platform string
		opts     Options
		want     string
	}{
		"image on process":     {"process", Options{PlatformOptions: PlatformOptions{Image: "nats:2.12.1"}}, "docker platform only"},
		"toxiproxy on process": {"process", Options{PlatformOptions: PlatformOptions{ToxiproxyImage: "x:1"}}, "docker platform only"},
		"binary on docker":     {"docker", Options{Binary: "/bin/true"}, "process platform only"},
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Load("../../testdata/scenarios/nats-short.yaml")
			require.NoError(t, err)
			sc.Cluster.Platform = tc.platform
			tc.opts.Dir = filepath.Join(t.TempDir(), "run")
			_, err = Run(context.Background(), sc, tc.opts)
			require.ErrorContains(t, err, tc.want)
			require.NoDirExists(t, tc.opts.Dir)
		})
	}
}
