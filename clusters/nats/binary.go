package nats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/riptidechaos/riptide/internal/gobin"
)

// DefaultVersion is the nats-server version a scenario gets when it names none.
const DefaultVersion = "2.12.1"

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$`)

// Binary returns the path of nats-server at version, building it with the Go
// toolchain into riptide's cache the first time. progress receives one line
// when a build starts, since it takes about a minute.
func Binary(ctx context.Context, version string, progress io.Writer) (string, error) {
	if !versionRE.MatchString(version) {
		return "", fmt.Errorf("nats-server version %q: want a release such as %s", version, DefaultVersion)
	}
	bin, err := gobin.Install(ctx, "github.com/nats-io/nats-server/v2", version, "nats-server", progress)
	if errors.Is(err, gobin.ErrNoGo) {
		return "", fmt.Errorf("%w; install Go or set cluster.binary (--nats-server) to an existing nats-server", err)
	}
	return bin, err
}

// CheckBinary verifies that path is an executable file, for cluster.binary.
func CheckBinary(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("nats-server binary: %w", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("nats-server binary %s: not an executable file", path)
	}
	return nil
}
