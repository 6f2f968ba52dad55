package scenarios_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/riptidechaos/riptide/scenarios"
)

// TestSchemaUpToDate keeps scenario.schema.json in step with the Go types.
// After changing a scenario type, a tag or a validation table, regenerate
// it with `go generate ./scenarios` (or UPDATE_SCHEMA=1 go test ./scenarios
// -run TestSchemaUpToDate) and commit the file.
func TestSchemaUpToDate(t *testing.T) {
	got, err := scenarios.JSONSchema()
	require.NoError(t, err)
	if os.Getenv("UPDATE_SCHEMA") != "" {
		require.NoError(t, os.WriteFile(scenarios.SchemaFile, got, 0o644))
	}
	want, err := os.ReadFile(scenarios.SchemaFile)
	require.NoError(t, err, "run `go generate ./scenarios` to write it")
	require.Equal(t, string(want), string(got),
		"%s is out of date with the scenario types: run `go generate ./scenarios` and commit it", scenarios.SchemaFile)
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := scenarios.JSONSchema()
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// The schema accepts every scenario the loader accepts that ships with
// riptide: an editor must not flag a correct file.
func TestSchemaAcceptsValidScenarios(t *testing.T) {
	schema := loadSchema(t)
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	more, err := filepath.Glob("../testdata/scenarios/valid-*.yaml")
	require.NoError(t, err)
	for _, file := range append(files, more...) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			_, err = scenarios.Parse(file, data)
			require.NoError(t, err)
			var doc any
			require.NoError(t, yaml.Unmarshal(data, &doc))
			assert.Empty(t, check(schema, doc, ""))
		})
	}
}

// The schema rejects what the loader rejects, for the mistakes an editor
// can catch as they are typed.
func TestSchemaRejectsInvalidScenarios(t *testing.T) {
	schema := loadSchema(t)
	const base = "name: t\nduration: 60s\ncluster: {system: nats}\nworkload: {kind: queue}\n"
	tests := []struct {
		name, yaml, where string
	}{
		{"unknown field", base + "colour: blue\n", "colour"},
		{"missing name", "duration: 60s\ncluster: {system: nats}\nworkload: {kind: queue}\n", "name"},
		{"missing system", "name: t\nduration: 60s\ncluster: {nodes: 3}\nworkload: {kind: queue}\n", "cluster.system"},
		{"unknown system", "name: t\nduration: 60s\ncluster: {system: kafka}\nworkload: {kind: queue}\n", "cluster.system"},
		{"bad name", strings.Replace(base, "name: t", "name: a b", 1), "name"},
		{"bad version", strings.Replace(base, "{system: nats}", "{system: nats, version: latest}", 1), "cluster.version"},
		{"duration without unit", strings.Replace(base, "60s", "60", 1), "duration"},
		{"bad duration", strings.Replace(base, "60s", "10x", 1), "duration"},
		{"negative duration", strings.Replace(base, "60s", "-5s", 1), "duration"},
		{"too many nodes", strings.Replace(base, "{system: nats}", "{system: nats, nodes: 10}", 1), "cluster.nodes"},
		{"unknown setting", strings.Replace(base, "{system: nats}", "{system: nats, config: {colour: red}}", 1), "cluster.config.colour"},
		{"zero rate", strings.Replace(base, "{kind: queue}", "{kind: queue, rate: 0}", 1), "workload.rate"},
		{"short as text", base + "short: \"true\"\n", "short"},
		{"fault without kind", base + "faults: [{at: 1s}]\n", "faults[0].kind"},
		{"field of another fault kind", base + "faults: [{kind: kill, latency: 5ms}]\n", "faults[0].latency"},
		{"target of another fault kind", base + "faults: [{kind: kill, target: all-links}]\n", "faults[0].target"},
		{"unknown anomaly kind", base + "expect: {reordered: 0}\n", "expect.reordered"},
		{"negative allowance", base + "expect: {lost: -1}\n", "expect.lost"},
		{"allowance word", base + "expect: {lost: many}\n", "expect.lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenarios.Parse("bad.yaml", []byte(tt.yaml))
			require.Error(t, err, "the loader accepts it, so the schema must too")
			var doc any
			require.NoError(t, yaml.Unmarshal([]byte(tt.yaml), &doc))
			errs := check(schema, doc, "")
			require.NotEmpty(t, errs, "the schema accepts:\n%s", tt.yaml)
			assert.True(t, slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, tt.where+":") }),
				"want a problem at %s, got %v", tt.where, errs)
		})
	}
}

// The duration pattern reads what time.ParseDuration reads, signs aside.
func TestSchemaDurationPattern(t *testing.T) {
	schema := loadSchema(t)
	pattern := schema["properties"].(map[string]any)["duration"].(map[string]any)["pattern"].(string)
	re := regexp.MustCompile(pattern)
	for _, s := range []string{"0", "0s", "10s", "1.5h", ".5s", "5.s", "1h2m3s", "300ms", "2us", "2µs", "2μs", "7ns",
		"10", "s", "", "-1s", "+1s", "1d", "1.2.3s", "1e3s", "10 s", "10S", ".s"} {
		_, err := time.ParseDuration(s)
		want := err == nil && !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "+")
		assert.Equal(t, want, re.MatchString(s), "%q", s)
	}
}

// Enums come from the enum tags: a new fault kind reaches editors.
func TestSchemaEnumsFromTags(t *testing.T) {
	schema := loadSchema(t)
	kind := dig(schema, "properties", "faults", "items", "properties", "kind", "enum")
	f, ok := reflect.TypeFor[scenarios.Fault]().FieldByName("Kind")
	require.True(t, ok)
	want := strings.Split(f.Tag.Get("enum"), ",")
	require.Len(t, kind, len(want))
	for i, k := range kind.([]any) {
		assert.Equal(t, want[i], k)
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		v = v.(map[string]any)[k]
	}
	return v
}

// check validates v against the part of JSON Schema draft-07 that the
// generated schema uses, and returns "PATH: problem" for each violation.
// It is deliberately small: a test needs to know whether the schema says
// yes or no, not a general validator.
func check(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if typ, ok := s["type"].(string); ok && !hasType(v, typ) {
		fail("want %s, got %T", typ, v)
		return errs
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("want %v", c)
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return x == v }) {
		fail("%v not in %v", v, e)
	}
	if p, ok := s["pattern"].(string); ok {
		if str, isStr := v.(string); isStr && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if n, ok := number(v); ok {
		if m, has := s["minimum"].(float64); has && n < m {
			fail("%v < minimum %v", n, m)
		}
		if m, has := s["exclusiveMinimum"].(float64); has && n <= m {
			fail("%v <= exclusive minimum %v", n, m)
		}
		if m, has := s["maximum"].(float64); has && n > m {
			fail("%v > maximum %v", n, m)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, has := obj[r.(string)]; !has {
				errs = append(errs, join(path, r.(string))+": required")
			}
		}
		for k, val := range obj {
			if ps, has := props[k]; has {
				errs = append(errs, check(ps.(map[string]any), val, join(path, k))...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, join(path, k)+": not allowed")
				}
			case map[string]any:
				errs = append(errs, check(ap, val, join(path, k))...)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, has := s["items"].(map[string]any); has {
			for i, el := range arr {
				errs = append(errs, check(items, el, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	if alts := asList(s["anyOf"]); len(alts) > 0 {
		if !slices.ContainsFunc(alts, func(sub any) bool { return len(check(sub.(map[string]any), v, path)) == 0 }) {
			fail("matches none of anyOf")
		}
	}
	for _, sub := range asList(s["allOf"]) {
		errs = append(errs, check(sub.(map[string]any), v, path)...)
	}
	if cond, ok := s["if"].(map[string]any); ok && len(check(cond, v, path)) == 0 {
		if then, has := s["then"].(map[string]any); has {
			errs = append(errs, check(then, v, path)...)
		}
	}
	return errs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		n, ok := number(v)
		return ok && n == float64(int64(n))
	case "number":
		_, ok := number(v)
		return ok
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
