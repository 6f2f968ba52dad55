package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/internal/gobin"
	"github.com/riptidechaos/riptide/scenarios"
)

// shortScenario is a valid scenario on the process platform.
const shortScenario = "../../testdata/scenarios/nats-short.yaml"

// Asking for help is not an error: every command's -h prints what it does,
// its arguments and its flags on stdout and exits 0.
func TestCommandHelp(t *testing.T) {
	for cmd, want := range map[string][]string{
		"run":      {"Usage: riptide run SCENARIO [flags]", "catalog:NAME", "-nats-server PATH", "-fail-on unknown|invalid", "exit status"},
		"check":    {"Usage: riptide check RUN_DIR [flags]", "results.json", "-fail-on unknown|invalid"},
		"validate": {"Usage: riptide validate SCENARIO...", "FILE:LINE:COLUMN"},
		"list":     {"Usage: riptide list [-v] [NAME...]", "catalog:nats-kill", "-v\t"},
		"clean":    {"Usage: riptide clean [RUN_DIR...]", "heal journal", "./riptide-runs", "Docker engine"},
	} {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := runCLI(cmd, h)
			assert.Equal(t, 0, code, "riptide %s %s: %s", cmd, h, errOut)
			assert.Empty(t, errOut, "riptide %s %s", cmd, h)
			for _, w := range want {
				assert.Contains(t, out, w, "riptide %s %s", cmd, h)
			}
		}
		// riptide help CMD says the same.
		code, out, _ := runCLI("help", cmd)
		assert.Equal(t, 0, code)
		assert.Contains(t, out, want[0], "riptide help %s", cmd)
		assert.NotContains(t, out, "chaos testing for streaming systems", "riptide help %s printed the general usage", cmd)
	}
	// -h after the arguments works too, and does nothing else.
	dir := filepath.Join(t.TempDir(), "run")
	code, out, _ := runCLI("run", shortScenario, "--out", dir, "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage: riptide run")
	assert.NoDirExists(t, dir)

	code, out, _ = runCLI("help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "riptide help COMMAND")
	code, out, errOut := runCLI("nope")
	assert.Equal(t, 3, code)
	assert.Equal(t, "riptide: unknown command \"nope\"; commands: run, check, validate, list, clean (riptide help)\n", errOut)
	code, out, errOut = runCLI("help", "nope")
	assert.Equal(t, 3, code)
	assert.Empty(t, out)
	assert.Equal(t, "riptide help: unknown command \"nope\"; commands: run, check, validate, list, clean\n", errOut)
}

// validate parses flags like every command: an unknown one is a one-line
// usage error, not a file name.
func TestValidateFlags(t *testing.T) {
	code, out, errOut := runCLI("validate", "--strict", shortScenario)
	assert.Equal(t, 3, code)
	assert.Empty(t, out, "nothing was validated")
	assert.Equal(t, "riptide validate: flag provided but not defined: -strict (riptide validate -h for help)\n", errOut)

	code, _, errOut = runCLI("validate")
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "want one or more scenarios; usage: riptide validate SCENARIO...")

	// After --, a name that starts with a dash is a file.
	dir := t.TempDir()
	b, err := os.ReadFile(shortScenario)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "-dash.yaml"), b, 0o644))
	t.Chdir(dir)
	code, out, errOut = runCLI("validate", "--", "-dash.yaml")
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "-dash.yaml: ok\n", out)
}

// Flags that do not fit the run's platform, and a server binary that is
// not there, are refused in one line naming the flags, before the run
// directory is made or the metrics endpoint opened.
func TestRunRejectsPlatformFlagsBeforeWriting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image", "nats:2.12.1"}, "riptide run: --image applies to the docker platform only, and the scenario runs on the process platform; add --platform docker\n"},
		{[]string{"--toxiproxy-image", "x:1", "--image", "nats:2.12.1", "--platform", "process"}, "riptide run: --image and --toxiproxy-image apply to the docker platform only, and --platform process was given\n"},
		{[]string{"--platform", "docker", "--nats-server", "/bin/true"}, "riptide run: --nats-server applies to the process platform only, and --platform docker was given; name an image with --image instead\n"},
		{[]string{"--nats-server", "/no/such/nats-server"}, "riptide run: --nats-server: nats-server binary: stat /no/such/nats-server: no such file or directory\n"},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		args := append([]string{"run", shortScenario, "--out", dir, "--metrics", "127.0.0.1:0"}, tc.args...)
		code, out, errOut := runCLI(args...)
		assert.Equal(t, 3, code, "%v", tc.args)
		assert.Equal(t, tc.want, errOut, "%v", tc.args)
		assert.Empty(t, out, "%v: nothing started", tc.args)
		assert.NoDirExists(t, dir, "%v: the run directory was made", tc.args)
	}
}

// A problem that --duration or --platform caused says so: its position is
// that of the file's value, which is not the one that ran.
func TestOverrideProblemsNameTheFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runCLI("run", shortScenario, "--out", dir, "--duration", "25h", "--platform", "kube")
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "riptide: invalid scenario with --duration, --platform:\n")
	assert.Regexp(t, `nats-short.yaml:\d+:\d+: duration: must be > 0 and at most 24h, got 25h0m0s \(set by --duration\)\n`, errOut)
	assert.Regexp(t, `nats-short.yaml:\d+:\d+: cluster.platform: .*"kube".* \(set by --platform\)\n`, errOut)

	code, _, errOut = runCLI("run", shortScenario, "--out", dir, "--duration", "10s")
	assert.Equal(t, 3, code)
	assert.Regexp(t, `faults\[2\]\.at: .*got 15s \(the main phase's duration set by --duration\)\n`, errOut)
	assert.NoDirExists(t, dir)
}

// A flag given counts whatever its value: --duration 0s is refused, not
// ignored, and --seed 0 asks for a new seed, as seed 0 in a file does.
func TestZeroOverridesAreNotIgnored(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runCLI("run", shortScenario, "--out", dir, "--duration", "0s")
	assert.Equal(t, 3, code)
	assert.Equal(t, "riptide run: --duration: must be at least 1s, got 0s\n", errOut)
	assert.NoDirExists(t, dir)

	sc, err := scenarios.Open(shortScenario)
	require.NoError(t, err)
	require.NotZero(t, sc.Seed, "the file names a seed")
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	seed := fs.Int64("seed", 0, "")
	duration := fs.Duration("duration", 0, "")
	platform := fs.String("platform", "", "")
	require.NoError(t, fs.Parse([]string{"--seed", "0"}))
	overridden := applyOverrides(sc, fs, *seed, *duration, *platform)
	assert.Zero(t, sc.Seed, "--seed 0: a seed drawn at run time")
	assert.Empty(t, overridden, "the seed needs no validation")
	assert.NotZero(t, sc.Duration, "a flag not given changes nothing")
}

// A docker run's scenario.yaml names the images that ran; rerun with
// --platform process, they go with the platform rather than invalidate it.
func TestPlatformOverrideDropsTheOtherPlatformsArtefacts(t *testing.T) {
	for _, tt := range []struct {
		from, to string
	}{{"docker", "process"}, {"process", "docker"}} {
		sc, err := scenarios.Open(shortScenario)
		require.NoError(t, err)
		sc.Cluster.Platform = tt.from
		if tt.from == "docker" {
			sc.Cluster.Image, sc.Cluster.ToxiproxyImage = "riptide/nats-server:2.12.1", "riptide/toxiproxy:2.12.0"
		} else {
			sc.Cluster.Binary = "/usr/local/bin/nats-server"
		}
		require.NoError(t, sc.Validate())
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		platform := fs.String("platform", "", "")
		require.NoError(t, fs.Parse([]string{"--platform", tt.to}))
		assert.Equal(t, []string{"--platform"}, applyOverrides(sc, fs, 0, 0, *platform))
		assert.NoError(t, sc.Validate(), "%s -> %s", tt.from, tt.to)
		assert.Equal(t, tt.to, sc.Cluster.Platform)
	}
}

// riptide clean refuses a path that is missing or not a run directory,
// before it cleans any of the others.
func TestCleanRejectsWhatIsNotARunDirectory(t *testing.T) {
	crashed := t.TempDir()
	journal := `{"time":"2026-01-01T00:00:00Z","event":"begin","platform":"process","harness_pid":4194311,"harness_start":1}` + "\n" +
		`{"time":"2026-01-01T00:00:01Z","event":"apply","id":"f1","kind":"pause","undo":[{"action":"pause","node":"n1","pid":4194312}]}` + "\n"
	journalPath := filepath.Join(crashed, "heal-journal.jsonl")
	require.NoError(t, os.WriteFile(journalPath, []byte(journal), 0o644))
	missing := filepath.Join(t.TempDir(), "nonexistent")
	plain := t.TempDir()
	file := filepath.Join(plain, "notes.txt")
	require.NoError(t, os.WriteFile(file, nil, 0o644))

	for arg, want := range map[string]string{
		missing: missing + ": no such directory",
		plain:   plain + ": not a run directory (none of heal-journal.jsonl, scenario.yaml, history.jsonl in it)",
		file:    file + ": not a directory",
	} {
		code, out, errOut := runCLI("clean", crashed, arg)
		assert.Equal(t, 3, code, arg)
		assert.Equal(t, "riptide clean: "+want+"\n", errOut)
		assert.Empty(t, out, "nothing was checked")
		b, err := os.ReadFile(journalPath)
		require.NoError(t, err)
		assert.Equal(t, journal, string(b), "the good directory was cleaned before the bad one was refused")
	}

	code, out, errOut := runCLI("clean", crashed)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "faults f1 marked cleaned")
}

// riptide list takes catalog:NAME as riptide run does, and looks every
// name up before it prints any file.
func TestListTakesCatalogReferences(t *testing.T) {
	want, err := os.ReadFile("../../scenarios/nats-kill.yaml")
	require.NoError(t, err)
	code, out, errOut := runCLI("list", "catalog:nats-kill")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, string(want), out)

	code, out, errOut = runCLI("list", "catalog:nats-kill", "catalog:no-such")
	assert.Equal(t, 3, code)
	assert.Empty(t, out)
	assert.True(t, strings.HasPrefix(errOut, "riptide list: catalog:no-such: no such scenario in the catalog"), errOut)
}

// A run whose nats-server version does not exist fails (exit 3) and leaves
// nothing in the cache that looks like a build of it. GOPROXY=off makes
// the build fail at once, as the module proxy's 403 does, without the
// network.
func TestRunUnknownVersionFailsClearly(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	cache := t.TempDir()
	t.Setenv("RIPTIDE_CACHE", cache)
	t.Setenv("GOPROXY", "off")
	b, err := os.ReadFile(shortScenario)
	require.NoError(t, err)
	scenario := filepath.Join(t.TempDir(), "v999.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(string(b), "  system: nats\n", "  system: nats\n  version: 9.9.9\n", 1)), 0o644))

	code, out, errOut := runCLI("run", scenario, "--out", filepath.Join(t.TempDir(), "run"))
	assert.Equal(t, 3, code, "%s\n%s", out, errOut)
	assert.Contains(t, errOut, "build nats-server v9.9.9")
	// The version's directory keeps only its lock: nothing that passes
	// for a binary (Install looks for the executable, not the directory).
	bin, err := gobin.Path("nats-server", "9.9.9")
	require.NoError(t, err)
	assert.NoFileExists(t, bin)
}

// An --out that cannot be a run directory is refused before the metrics
// endpoint starts, as every other usage error is.
func TestRunRejectsABadOutBeforeStartingAnything(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.yaml")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, out := range []string{file, filepath.Join(file, "run")} {
		code, stdout, errOut := runCLI("run", shortScenario, "--out", out, "--metrics", "127.0.0.1:0")
		assert.Equal(t, 3, code)
		assert.Contains(t, errOut, "riptide run: --out: ")
		assert.Regexp(t, "is a file|not a directory", errOut)
		assert.NotContains(t, stdout, "metrics on")
	}
}
