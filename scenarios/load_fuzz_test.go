package scenarios_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/scenarios"
)

// FuzzParse feeds Parse arbitrary bytes: it must never panic, must return a
// scenario exactly when it returns no error, and a scenario it accepts must
// survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../testdata/scenarios/*.yaml", "*.yaml"} {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	// Shapes the files above do not have: aliases (one recursive), a
	// second document, a merge key, nulls and odd scalars.
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("name: &n t\nduration: 1m\ncluster: &c {system: nats}\nworkload: {kind: queue}\nfaults: [&k {kind: kill}, *k]\n"))
	f.Add([]byte("name: t\n---\nname: u\n"))
	f.Add([]byte("base: &b {system: nats}\ncluster: {<<: *b}\n"))
	f.Add([]byte("name: ~\nduration:\nfaults: [~]\nexpect: {lost: -1, unseen: .inf}\nworkload: {rate: .nan}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, s)
			var probs *scenarios.Problems
			require.ErrorAs(t, err, &probs)
			require.NotEmpty(t, probs.List())
			return
		}
		require.NotNil(t, s)
		out, err := s.Marshal()
		require.NoError(t, err)
		back, err := scenarios.Parse("fuzz.yaml", out)
		require.NoError(t, err, "marshalled:\n%s", out)
		again, err := back.Marshal()
		require.NoError(t, err)
		require.Equal(t, string(out), string(again))
	})
}
