package images

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The local Toxiproxy image is the release go.mod pins, so that the server
// in the container and the client driving it agree.
func TestToxiproxyVersionIsGoMods(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	assert.Contains(t, string(b), "github.com/Shopify/toxiproxy/v2 v"+ToxiproxyVersion+"\n")
}

func TestRecipes(t *testing.T) {
	tests := []struct {
		ref, dir, binary, err string
	}{
		{ref: NATSServer("2.12.1"), dir: "nats-server", binary: "nats-server"},
		{ref: NATSServer("2.11.10"), dir: "nats-server", binary: "nats-server"},
		{ref: Toxiproxy(), dir: "toxiproxy", binary: "toxiproxy-server"},
		{ref: "riptide/toxiproxy:2.5.0", err: "only riptide/toxiproxy:" + ToxiproxyVersion},
		{ref: "nats:2.12.1", err: "riptide builds only riptide/nats-server:VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, err := recipeFor(tt.ref)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.dir, r.dir)
			assert.Equal(t, tt.binary, r.binary)
			df, err := dockerfiles.ReadFile(r.dir + "/Dockerfile")
			require.NoError(t, err)
			assert.True(t, strings.Contains(string(df), "FROM scratch"), "local images are FROM scratch")
			assert.Contains(t, string(df), "COPY "+r.binary+" ", "the Dockerfile copies the binary the recipe builds")
		})
	}
}
