package scenarios_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/scenarios"
)

// want is one expected problem: "LINE:COL", the field, and a part of the
// message (the part that says what is allowed).
type want struct {
	pos, field, msg string
}

func TestParseReportsProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []want
	}{
		{
			name: "unknown top-level field",
			yaml: `name: t
duration: 60s
colour: blue
cluster: {system: nats}
workload: {kind: queue}
`,
			want: []want{{"3:1", "colour", "unknown field; allowed: name, description, seed, duration, cluster, workload, faults, expect"}},
		},
		{
			name: "unknown nested field",
			yaml: `name: t
duration: 60s
cluster: {system: nats, colour: red}
workload: {kind: queue}
`,
			want: []want{{"3:25", "cluster.colour", "unknown field; allowed: system, version, nodes, platform, binary, image, toxiproxy_image, config"}},
		},
		{
			// A fault's unknown field lists what its kind takes, even with
			// the kind after the typo; an unknown kind, every fault field.
			name: "unknown field of a fault",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
faults:
  - {target: n1, at: 1s, duraton: 2s, kind: pause}
  - {kind: nap, sleep: 2s}
`,
			want: []want{
				{"6:26", "faults[0].duraton", "unknown field; fields of pause: kind, target, nodes, at, every, start_jitter, duration"},
				{"7:12", "faults[1].kind", `unknown value "nap"; allowed: kill, stop, pause`},
				{"7:17", "faults[1].sleep", "unknown field; allowed: kind, target, nodes"},
			},
		},
		{
			// The misspelling is unknown, and the real field is then missing.
			name: "misspelled field",
			yaml: `name: t
duration: 60s
cluster:
  sytem: nats
workload: {kind: queue}
`,
			want: []want{
				{"4:3", "cluster.sytem", "unknown field; allowed: system, version, nodes, platform, binary, image, toxiproxy_image, config"},
				{"4:3", "cluster.system", "required; allowed: nats"},
			},
		},
		{
			name: "misspelled workload field",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload:
  kind: queue
  producer: 4
`,
			want: []want{{"6:3", "workload.producer", "unknown field; allowed: kind, stream, replicas, producers, consumers, rate, timeout, drain"}},
		},
		{
			name: "bad duration",
			yaml: `name: t
duration: 10x
cluster: {system: nats}
workload: {kind: queue}
`,
			want: []want{{"2:11", "duration", `invalid duration "10x"; write a number with a unit, e.g. 10s`}},
		},
		{
			name: "bare number duration",
			yaml: `name: t
duration: 10
cluster: {system: nats}
workload: {kind: queue}
`,
			want: []want{{"2:11", "duration", "duration 10 has no unit; write e.g. 10s"}},
		},
		{
			name: "nodes zero",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  nodes: 0
workload: {kind: queue}
`,
			want: []want{{"5:10", "cluster.nodes", "must be between 1 and 9, got 0"}},
		},
		{
			name: "nodes 1000",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  nodes: 1000
workload: {kind: queue}
`,
			want: []want{{"5:10", "cluster.nodes", "must be between 1 and 9, got 1000"}},
		},
		{
			name: "nodes not a number",
			yaml: `name: t
duration: 60s
cluster: {system: nats, nodes: three}
workload: {kind: queue}
`,
			want: []want{{"3:32", "cluster.nodes", `expected a whole number, got "three"`}},
		},
		{
			name: "unknown system",
			yaml: `name: t
duration: 60s
cluster: {system: kafka}
workload: {kind: queue}
`,
			want: []want{{"3:19", "cluster.system", `unknown value "kafka"; allowed: nats`}},
		},
		{
			name: "unknown platform",
			yaml: `name: t
duration: 60s
cluster: {system: nats, platform: k8s}
workload: {kind: queue}
`,
			want: []want{{"3:35", "cluster.platform", `unknown value "k8s"; allowed: process, docker`}},
		},
		{
			name: "version with a shell metacharacter",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  version: "2.12.1; rm -rf /"
workload: {kind: queue}
`,
			want: []want{{"5:12", "cluster.version", `invalid version "2.12.1; rm -rf /"; use a release number like 2.12.1`}},
		},
		{
			name: "unknown config key",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  config:
    sync: always
workload: {kind: queue}
`,
			want: []want{{"6:5", "cluster.config.sync", "unknown setting for nats; allowed: sync_interval"}},
		},
		{
			name: "bad sync_interval",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  config: {sync_interval: sometimes}
workload: {kind: queue}
`,
			want: []want{{"5:27", "cluster.config.sync_interval", `invalid value "sometimes"; allowed: always or a positive duration such as 2m`}},
		},
		{
			name: "negative rate",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload:
  kind: queue
  rate: -5
`,
			want: []want{{"6:9", "workload.rate", "must be > 0 and at most 100000 sends per second, got -5"}},
		},
		{
			name: "replicas above nodes",
			yaml: `name: t
duration: 60s
cluster: {system: nats, nodes: 3}
workload: {kind: queue, replicas: 5}
`,
			want: []want{{"4:35", "workload.replicas", "must be at most cluster.nodes (3), got 5"}},
		},
		{
			name: "fault field not allowed for its kind",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
faults:
  - kind: kill
    at: 5s
    latency: 50ms
`,
			want: []want{{"8:14", "faults[0].latency", "not allowed for kind kill; fields of kill: target, nodes, at, every, start_jitter, restart_after"}},
		},
		{
			name: "fault at beyond duration",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
faults:
  - {kind: kill, at: 5s}
  - {kind: kill, at: 90s}
`,
			want: []want{{"7:22", "faults[1].at", "must be before the end of the main phase (duration 1m0s), got 1m30s"}},
		},
		{
			name: "target node beyond the cluster",
			yaml: `name: t
duration: 60s
cluster: {system: nats, nodes: 3}
workload: {kind: queue}
faults:
  - {kind: partition, target: n7, at: 5s, duration: 10s}
`,
			want: []want{{"6:31", "faults[0].target", `unknown target "n7"; allowed: one, random-one, minority, random-minority, leader or a node name n1..n3`}},
		},
		{
			name: "partition without duration",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
faults:
  - {kind: partition, at: 5s}
`,
			want: []want{{"6:5", "faults[0].duration", "required for partition: how long the fault holds, e.g. 10s"}},
		},
		{
			name: "jitter above latency",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
faults:
  - {kind: latency, at: 5s, duration: 10s, latency: 50ms, jitter: 80ms}
`,
			want: []want{{"6:67", "faults[0].jitter", "must be at most the latency (50ms), got 80ms"}},
		},
		{
			name: "duplicate key",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
name: u
`,
			want: []want{{"5:1", "name", "duplicate key; first at line 1"}},
		},
		{
			name: "list where a mapping is expected",
			yaml: `name: t
duration: 60s
cluster: [nats, 3]
workload: {kind: queue}
`,
			want: []want{{"3:10", "cluster", "expected a mapping, got a list"}},
		},
		{
			name: "mapping where a value is expected",
			yaml: `name: t
duration: 60s
cluster: {system: {name: nats}}
workload: {kind: queue}
`,
			want: []want{{"3:19", "cluster.system", "expected a text value, got a mapping"}},
		},
		{
			name: "yaml syntax error",
			yaml: `name: t
duration: 60s: 70s
cluster: {system: nats}
`,
			want: []want{{"2:1", "", "invalid YAML: mapping values are not allowed in this context"}},
		},
		{
			// yaml.v3 says line 1 by saying no line at all.
			name: "yaml syntax error on the first line",
			yaml: "name: t: u\nduration: 60s\n",
			want: []want{{"1:1", "", "invalid YAML: mapping values are not allowed in this context"}},
		},
		{
			// yaml.v3 names line 6, where the value it was reading starts.
			name: "tab indenting a field",
			yaml: "name: t\ndescription: x\nseed: 1\nduration: 20s\ncluster:\n  system: nats\n\tnodes: 3\nworkload: {kind: queue}\n",
			want: []want{{"7:1", "", "invalid YAML: found a tab character that violates indentation"}},
		},
		{
			name: "tab after spaces, lines after the value",
			yaml: "name: t\nduration: 60s\ncluster:\n  system: nats\n\n  \t\nworkload: {kind: queue}\n",
			want: []want{{"6:3", "", "invalid YAML: found a tab character that violates indentation"}},
		},
		{
			// Here yaml.v3 names the line of the |.
			name: "tab indenting a block of text",
			yaml: "name: t\nduration: 60s\ndescription: |\n  some text\n\tmore\ncluster: {system: nats}\n",
			want: []want{{"5:1", "", "invalid YAML: found a tab character where an indentation space is expected"}},
		},
		{
			name: "alias to no anchor",
			yaml: "name: t\nduration: 20s\ncluster: *nope\nworkload: {kind: queue}\n",
			want: []want{{"3:10", "", "invalid YAML: unknown anchor 'nope' referenced"}},
		},
		{
			// Not *nope in the comment, nor *nopes, nor the plain text a*nope.
			name: "alias to no anchor in a list",
			yaml: "# uses *nope\nname: t\ndescription: a*nope\nx: &nopes [n1]\nfaults: [*nopes, *nope]\n",
			want: []want{{"5:18", "", "invalid YAML: unknown anchor 'nope' referenced"}},
		},
		{
			// A scanner error, with its line, not one of the reader's.
			name: "invalid escape",
			yaml: "name: t\nduration: 60s\ndescription: \"\\uD800\"\n",
			want: []want{{"3:1", "", "invalid YAML: found invalid Unicode character escape code"}},
		},
		{
			name: "control character",
			yaml: "name: t\nduration: 20s\ndescription: a\x01b\n",
			want: []want{{"3:15", "", "invalid YAML: control characters are not allowed"}},
		},
		{
			name: "binary",
			yaml: "\x00\x01\x02\x03\x04\x05\x06\x07\x08",
			want: []want{{"1:1", "", "invalid YAML: control characters are not allowed"}},
		},
		{
			// Columns count characters: é is one.
			name: "invalid UTF-8",
			yaml: "name: t\ndescription: \"é\xffx\"\n",
			want: []want{{"2:16", "", "invalid YAML: invalid leading UTF-8 octet"}},
		},
		{
			name: "image on the process platform",
			yaml: `name: t
duration: 60s
cluster: {system: nats, platform: process, image: nats:2.12.1}
workload: {kind: queue}
`,
			want: []want{{"3:51", "cluster.image", "applies to the docker platform only"}},
		},
		{
			name: "binary on the docker platform",
			yaml: `name: t
duration: 60s
cluster:
  system: nats
  platform: docker
  binary: /usr/bin/nats-server
workload: {kind: queue}
`,
			want: []want{{"6:11", "cluster.binary", "applies to the process platform only"}},
		},
		{
			name: "image with shell characters",
			yaml: `name: t
duration: 60s
cluster: {system: nats, platform: docker, image: "nats:2.12.1; rm -rf /"}
workload: {kind: queue}
`,
			want: []want{{"3:50", "cluster.image", "invalid image reference"}},
		},
		{
			name: "toxiproxy image on the process platform",
			yaml: `name: t
duration: 60s
cluster: {system: nats, toxiproxy_image: ghcr.io/shopify/toxiproxy:2.12.0}
workload: {kind: queue}
`,
			want: []want{{"3:42", "cluster.toxiproxy_image", "applies to the docker platform only"}},
		},
		{
			name: "toxiproxy image with shell characters",
			yaml: `name: t
duration: 60s
cluster: {system: nats, platform: docker, toxiproxy_image: "x:1 && y"}
workload: {kind: queue}
`,
			want: []want{{"3:60", "cluster.toxiproxy_image", "invalid image reference"}},
		},
		{
			name: "availability floor out of range",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
checks: {min_acked_before_fault: -5}
`,
			want: []want{{"5:34", "checks.min_acked_before_fault", "must be between 1 and 1000000, got -5"}},
		},
		{
			name: "expect unknown kind",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
expect:
  lost: 0
  lossed: 0
`,
			want: []want{{"7:3", "expect.lossed", "unknown anomaly kind; allowed: lost, lost-prefix, lost-middle, lost-postfix, unseen, unexpected, duplicate, inconsistent-offset, aborted-read, nonmonotonic-send, nonmonotonic-poll, poll-skip, lost-on-node, nonlinearizable, unexercised"}},
		},
		{
			name: "expect maybe",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
expect: {lost: maybe}
`,
			want: []want{{"5:16", "expect.lost", `unknown value "maybe"; allowed: a count >= 0 or allowed`}},
		},
		{
			name: "missing name",
			yaml: `duration: 60s
cluster: {system: nats}
workload: {kind: queue}
`,
			want: []want{{"1:1", "name", "required: 1-64 letters, digits"}},
		},
		{
			name: "name with a space",
			yaml: `name: my test
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
`,
			want: []want{{"1:7", "name", `invalid name "my test"; use 1-64 letters, digits`}},
		},
		{
			name: "empty file",
			yaml: "",
			want: []want{{"1:1", "", "empty scenario"}},
		},
		{
			name: "only comments",
			yaml: "# nothing here yet\n",
			want: []want{{"1:1", "", "empty scenario"}},
		},
		{
			name: "two documents",
			yaml: `name: t
duration: 60s
cluster: {system: nats}
workload: {kind: queue}
---
name: u
`,
			want: []want{{"5:1", "", "more than one YAML document"}},
		},
		{
			name: "top level is a list",
			yaml: "- name: t\n",
			want: []want{{"1:1", "", "expected a mapping, got a list"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("x.yaml", []byte(tt.yaml))
			require.Nil(t, s)
			requireProblems(t, err, tt.want)
		})
	}
}

// requireProblems checks that err lists exactly the problems want, in
// order, each in x.yaml.
func requireProblems(t *testing.T, err error, want []want) {
	t.Helper()
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	got := probs.List()
	require.Len(t, got, len(want), "problems:\n%v", err)
	for i, w := range want {
		require.Equal(t, "x.yaml", got[i].File)
		require.Equal(t, w.pos, posString(got[i].Pos), "problem %d: %s", i, got[i])
		require.Equal(t, w.field, got[i].Field, "problem %d: %s", i, got[i])
		require.Contains(t, got[i].Msg, w.msg, "problem %d", i)
	}
}

func posString(p scenarios.Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Three independent problems, found by the decoder and by validation in a
// different order, all come back, in line order, one per line of Error().
func TestParseReportsEveryProblemInLineOrder(t *testing.T) {
	src := `name: t
duration: 1h30
cluster:
  system: nats
  nodes: 0
workload:
  kind: queue
  colour: blue
`
	_, err := scenarios.Parse("scenarios/x.yaml", []byte(src))
	require.Error(t, err)
	require.Equal(t, `scenarios/x.yaml:2:11: duration: invalid duration "1h30"; write a number with a unit, e.g. 10s, 500ms, 2m (units: ns, us, ms, s, m, h)
scenarios/x.yaml:5:10: cluster.nodes: must be between 1 and 9, got 0
scenarios/x.yaml:8:3: workload.colour: unknown field; allowed: kind, stream, replicas, producers, consumers, rate, timeout, drain`, err.Error())
}

// Hostile or badly broken input gets a bounded answer, not one line per
// node: here a fault with 300 unknown fields, reused 1000 times by alias.
func TestParseStopsAfterTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("f: &f {kind: kill")
	for i := range 300 {
		fmt.Fprintf(&b, ", x%d: 1", i)
	}
	b.WriteString("}\nfaults: [" + strings.Repeat("*f, ", 1000) + "]\n")
	_, err := scenarios.Parse("x.yaml", []byte(b.String()))
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	list := probs.List()
	require.Len(t, list, 101)
	require.Equal(t, "x.yaml: too many problems; showing the first 100", list[100].String())
}

func TestLoadFullScenario(t *testing.T) {
	s, err := scenarios.Load("../testdata/scenarios/valid-full.yaml")
	require.NoError(t, err)
	require.Equal(t, "../testdata/scenarios/valid-full.yaml", s.File)
	require.Equal(t, "full.scenario_1", s.Name)
	require.Equal(t, "every field set", s.Description)
	require.Equal(t, int64(-42), s.Seed)
	require.Equal(t, 2*time.Minute, s.Duration.D())
	require.Equal(t, scenarios.Cluster{
		System:   "nats",
		Version:  "2.11.0-rc.1",
		Nodes:    5,
		Platform: "docker",
		Image:    "registry.example.com/team/nats:2.11.0-rc.1",
		Config:   map[string]string{"sync_interval": "10s"},
	}, s.Cluster)
	require.Equal(t, scenarios.Workload{
		Kind:      "queue",
		Stream:    "orders_v2",
		Replicas:  5,
		Producers: 8,
		Consumers: 0, // explicit 0 is kept, not replaced by the default 2
		Rate:      1500.5,
		Timeout:   dur("2s"),
		Drain:     dur("1m"),
	}, s.Workload)
	require.Equal(t, []scenarios.Fault{
		{Kind: "kill", Target: "all", At: 0, RestartAfter: dur("3s")},
		{Kind: "kill", Target: "n5", At: dur("10s")},
		{Kind: "partition", Target: "one", Mode: "isolate-one", Clients: "keep", Direction: "both", At: dur("20s"), Duration: dur("15s")},
		// Defaults fill the partition's target, mode, clients and direction...
		{Kind: "partition", Target: "random-one", Mode: "isolate-one", Clients: "cut", Direction: "both", At: dur("40s"), Duration: dur("10s")},
		{Kind: "latency", Target: "n2", Clients: "cut", Direction: "both", At: dur("60s"), Duration: dur("5s"), Latency: dur("200ms")},
		// ...and the latency's target, clients and direction.
		{Kind: "latency", Target: "all-links", Clients: "cut", Direction: "both", At: dur("70s"), Duration: dur("5s"), Latency: dur("1s")},
	}, s.Faults)
	require.Equal(t, map[string]scenarios.Allowance{
		"lost":      {},
		"unseen":    {Any: true},
		"duplicate": {Max: 3},
	}, s.Expect)
	require.Equal(t, scenarios.Checks{MinAckedBeforeFault: 50, Porcupine: true}, s.Checks)
}

func TestLoadMinimalScenarioGetsDefaults(t *testing.T) {
	s, err := scenarios.Load("../testdata/scenarios/valid-minimal.yaml")
	require.NoError(t, err)
	require.Equal(t, scenarios.Cluster{System: "nats", Version: "2.12.1", Nodes: 3, Platform: "process"}, s.Cluster)
	require.Equal(t, scenarios.Workload{
		Kind: "queue", Stream: "riptide", Replicas: 3, Producers: 4, Consumers: 2,
		Rate: 500, Timeout: dur("5s"), Drain: dur("30s"),
	}, s.Workload)
	require.Empty(t, s.Faults)
	require.Empty(t, s.Expect)
}

func TestDefaultReplicasFollowNodes(t *testing.T) {
	s, err := scenarios.Parse("x.yaml", []byte("name: t\nduration: 1m\ncluster: {system: nats, nodes: 2}\nworkload: {kind: queue}\n"))
	require.NoError(t, err)
	require.Equal(t, 2, s.Workload.Replicas)
}

func TestLoadSmokeScenario(t *testing.T) {
	s, err := scenarios.Load("nats-smoke.yaml")
	require.NoError(t, err)
	require.Equal(t, "nats-smoke", s.Name)
	require.Equal(t, 45*time.Second, s.Duration.D())
	require.Equal(t, map[string]string{"sync_interval": "always"}, s.Cluster.Config)
	require.Len(t, s.Faults, 3)
	require.Equal(t, "cut", s.Faults[1].Clients) // the default
	require.Equal(t, []string{"lost", "unexpected", "duplicate", "inconsistent-offset"}, keysOf(s.Expect))
}

func TestLoadMissingFile(t *testing.T) {
	_, err := scenarios.Load("testdata/no-such.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
	var probs *scenarios.Problems
	require.NotErrorAs(t, err, &probs, "a missing file is not a problem of the scenario")
}

// A named pipe that nobody writes to is refused at once: Load does not
// wait for a writer, which may never come.
func TestLoadNamedPipeWithoutWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.yaml")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	err := loadWithin(t, path)
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	require.Equal(t, path+":1:1: empty scenario: nothing was written to this pipe (riptide reads a named pipe only if a writer has it open already)", err.Error())
}

// A named pipe whose writer is there first is read, as far as the size
// limit: opening without waiting still waits for the data.
func TestLoadNamedPipeWithWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.yaml")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	// Read and write, the open does not wait for a reader (Linux).
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer w.Close()
	// One byte past the limit, more than the pipe holds: Load reads it
	// all while it is written, then stops without waiting for the end.
	go func() { _, _ = w.WriteString("name: t\ndescription: " + strings.Repeat("x", 1<<20) + "\n") }()
	require.ErrorContains(t, loadWithin(t, path), "fifo.yaml:1:1: file is larger than 1048576 bytes")
}

// A pipe from the shell (/dev/stdin, <(...)) is read to its end.
func TestLoadPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	_, err = w.WriteString("name: piped\nduration: 1m\ncluster: {system: nats}\nworkload: {kind: queue}\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	s, err := scenarios.Load(fmt.Sprintf("/dev/fd/%d", r.Fd()))
	require.NoError(t, err)
	require.Equal(t, "piped", s.Name)
}

// loadWithin loads path, failing the test if that takes more than a few
// seconds rather than hanging it.
func loadWithin(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := scenarios.Load(path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%s) did not return", path)
		return nil
	}
}

func dur(s string) scenarios.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return scenarios.Duration(d)
}

// keysOf lists the kinds of an expectation in the checkers' report order.
func keysOf(m map[string]scenarios.Allowance) []string {
	var keys []string
	for _, k := range checkers.KindNames() {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	return keys
}
