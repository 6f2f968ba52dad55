package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/riptidechaos/riptide/checkers"
)

// SchemaFile is the JSON Schema of scenario files, relative to this
// package's directory. Editors use it for completion and checks (see the
// README); TestSchemaUpToDate fails when it no longer matches the Go types.
const SchemaFile = "scenario.schema.json"

//go:generate env UPDATE_SCHEMA=1 go test -run ^TestSchemaUpToDate$ .

// schemaID is where editors can fetch the schema without a checkout.
const schemaID = "https://raw.githubusercontent.com/riptidechaos/riptide/main/scenarios/" + SchemaFile

// durationPattern is what time.ParseDuration reads, without a sign: a
// negative duration is never valid in a scenario.
const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

// schema is one node of a JSON Schema (draft-07, which VS Code's YAML
// extension and JetBrains IDEs support best). Fields are in the order a
// reader of the file wants them.
type schema struct {
	Schema      string             `json:"$schema,omitempty"`
	ID          string             `json:"$id,omitempty"`
	Title       string             `json:"title,omitempty"`
	Description string             `json:"description,omitempty"`
	Type        string             `json:"type,omitempty"`
	Const       any                `json:"const,omitempty"`
	Enum        []string           `json:"enum,omitempty"`
	Pattern     string             `json:"pattern,omitempty"`
	Minimum     *float64           `json:"minimum,omitempty"`
	ExclMinimum *float64           `json:"exclusiveMinimum,omitempty"`
	Maximum     *float64           `json:"maximum,omitempty"`
	Properties  map[string]*schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	// AdditionalProperties is false or a schema for the values of a map.
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	Items                *schema   `json:"items,omitempty"`
	AnyOf                []*schema `json:"anyOf,omitempty"`
	AllOf                []*schema `json:"allOf,omitempty"`
	If                   *schema   `json:"if,omitempty"`
	Then                 *schema   `json:"then,omitempty"`
}

func num(f float64) *float64 { return &f }

// The limits and patterns of validate.go that a schema can express, by
// field path. JSONSchema fails on a path that names no field, so a renamed
// field cannot leave a stale entry here.
var (
	schemaBounds = map[string]struct {
		min, max  float64
		exclusive bool // min itself is not allowed
	}{
		"cluster.nodes":      {1, maxNodes, false},
		"workload.replicas":  {1, maxReplicas, false},
		"workload.producers": {1, maxClients, false},
		"workload.consumers": {0, maxClients, false},
		"workload.rate":      {minRate, maxRate, false},
	}
	schemaPatterns = map[string]string{
		"name":            nameRE.String(),
		"cluster.version": versionRE.String(),
		"workload.stream": streamRE.String(),
	}
)

// JSONSchema returns the JSON Schema of scenario files, built by reflection
// over the Go types and their yaml, enum and doc tags, so that it follows
// every field added to them: descriptions come from doc, allowed values
// from enum, and additionalProperties is false everywhere, as the loader
// refuses unknown fields. Which fields each fault kind takes, the anomaly
// kinds of expect and the settings of cluster.config come from the tables
// the validator uses.
func JSONSchema() ([]byte, error) {
	g := &schemaGen{used: map[string]bool{}}
	root := g.structure(reflect.TypeFor[Scenario](), "")
	root.Schema = "http://json-schema.org/draft-07/schema#"
	root.ID = schemaID
	root.Title = "riptide scenario"
	root.Description = "One chaos experiment: a cluster, a workload, a fault schedule and the guarantees that must hold. Reference: https://github.com/riptidechaos/riptide#readme"
	if err := g.required(root); err != nil {
		return nil, err
	}
	for path := range schemaBounds {
		if !g.used[path] {
			return nil, fmt.Errorf("schema: bounds for %s, which is not a field", path)
		}
	}
	for path := range schemaPatterns {
		if !g.used[path] {
			return nil, fmt.Errorf("schema: pattern for %s, which is not a field", path)
		}
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return append(b, '\n'), nil
}

type schemaGen struct {
	used map[string]bool // paths given bounds or patterns
}

// structure is an object with one property per yaml key.
func (g *schemaGen) structure(t reflect.Type, path string) *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{}, AdditionalProperties: false}
	for _, f := range fieldsOf(t) {
		sf := t.Field(f.index)
		p := join(path, f.name)
		prop := g.value(sf.Type, p)
		prop.Description = sf.Tag.Get("doc")
		if f.enum != nil {
			prop.Enum = f.enum
		}
		s.Properties[f.name] = prop
	}
	if t == reflect.TypeFor[Fault]() {
		s.AllOf = faultKindSchemas()
	}
	return s
}

// value is the schema of one field's value, by its Go type.
func (g *schemaGen) value(t reflect.Type, path string) *schema {
	switch {
	case t == durationType:
		return &schema{Type: "string", Pattern: durationPattern}
	case t == allowanceType:
		return &schema{AnyOf: []*schema{{Type: "integer", Minimum: num(0)}, {Const: "allowed"}}}
	case path == "expect":
		return expectSchema()
	case path == "cluster.config":
		return configSchema()
	}
	var s *schema
	switch t.Kind() {
	case reflect.Struct:
		return g.structure(t, path)
	case reflect.Slice:
		return &schema{Type: "array", Items: g.value(t.Elem(), path+"[]")}
	case reflect.Map:
		return &schema{Type: "object", AdditionalProperties: g.value(t.Elem(), path+".*")}
	case reflect.String:
		s = &schema{Type: "string"}
	case reflect.Bool:
		s = &schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s = &schema{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		s = &schema{Type: "number"}
	default:
		// The decoder refuses such a field too; an empty schema accepts
		// anything rather than mislead an editor.
		return &schema{}
	}
	if b, ok := schemaBounds[path]; ok {
		g.used[path] = true
		if b.exclusive {
			s.ExclMinimum = num(b.min)
		} else {
			s.Minimum = num(b.min)
		}
		s.Maximum = num(b.max)
	}
	if p, ok := schemaPatterns[path]; ok {
		g.used[path] = true
		s.Pattern = p
	}
	return s
}

// faultKindSchemas says, per fault kind, which fields apply and which
// targets are allowed: the conditions the validator checks, so that an
// editor flags `latency:` on a kill as the loader does.
func faultKindSchemas() []*schema {
	var all []*schema
	for _, kind := range sortedKeys(faultFields) {
		then := &schema{Properties: map[string]*schema{"kind": {}}, AdditionalProperties: false}
		for _, name := range faultFields[kind] {
			then.Properties[name] = &schema{}
		}
		if _, ok := then.Properties["target"]; ok {
			target := &schema{AnyOf: []*schema{{Type: "string", Pattern: nodeRE.String()}}}
			if words := faultTargets[kind]; len(words) > 0 {
				target.AnyOf = append([]*schema{{Enum: words}}, target.AnyOf...)
			}
			then.Properties["target"] = target
		}
		all = append(all, &schema{
			If:   &schema{Properties: map[string]*schema{"kind": {Const: kind}}, Required: []string{"kind"}},
			Then: then,
		})
	}
	return all
}

// expectSchema lists the anomaly kinds with their definitions.
func expectSchema() *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{}, AdditionalProperties: false}
	for _, k := range checkers.Kinds {
		s.Properties[string(k.Kind)] = &schema{
			Description: "how many " + string(k.Kind) + " anomalies are allowed: a count, or 'allowed' for any number. " + upperFirst(k.Definition) + ".",
			AnyOf:       []*schema{{Type: "integer", Minimum: num(0)}, {Const: "allowed"}},
		}
	}
	return s
}

// configSchema lists the settings of every system; which apply depends on
// cluster.system, which the validator checks.
func configSchema() *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{}, AdditionalProperties: false}
	for _, system := range sortedKeys(systemConfig) {
		for _, key := range sortedKeys(systemConfig[system]) {
			if p, ok := s.Properties[key]; ok {
				p.Description = strings.Replace(p.Description, ", checked", " and "+system+", checked", 1)
				continue
			}
			s.Properties[key] = &schema{Type: "string", Description: "a setting of " + system + ", checked when the scenario is loaded"}
		}
	}
	return s
}

// required marks the fields that the validator requires of every scenario.
// Rather than keep a second list that could disagree with the loader, it
// asks the validator about an empty scenario (with one empty fault) and
// takes the fields reported as required, whatever their value would be;
// fields required only for some values ("required for partition") are not.
// The mappings above a required field are required with it.
func (g *schemaGen) required(root *schema) error {
	empty := &Scenario{Faults: []Fault{{}}}
	empty.ApplyDefaults()
	for _, p := range empty.validate() {
		if !strings.HasPrefix(p.Msg, "required:") && !strings.HasPrefix(p.Msg, "required;") {
			continue
		}
		parent, name := root, p.Field
		for {
			head, rest, nested := strings.Cut(name, ".")
			if !nested {
				break
			}
			head, _, list := strings.Cut(head, "[")
			next := parent.Properties[head]
			if next == nil {
				return fmt.Errorf("schema: required field %s is not in the schema", p.Field)
			}
			if list {
				next = next.Items // a list may be absent: its items' fields bind only its items
			} else if !slices.Contains(parent.Required, head) {
				// A mapping that holds a required field is required too
				// (cluster, for cluster.system).
				parent.Required = append(parent.Required, head)
			}
			parent, name = next, rest
		}
		if parent == nil || parent.Properties[name] == nil {
			return fmt.Errorf("schema: required field %s is not in the schema", p.Field)
		}
		if !slices.Contains(parent.Required, name) {
			parent.Required = append(parent.Required, name)
		}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
