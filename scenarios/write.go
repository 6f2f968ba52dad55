package scenarios

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"
)

// Marshal writes the scenario as YAML with defaults applied, in the form
// Parse reads back to an equal scenario. A run directory keeps this resolved
// form, so a run can be repeated exactly even after the defaults change.
// Text fields left empty are omitted, and a fault carries only the fields
// of its kind, since Parse refuses the others.
func (s *Scenario) Marshal() ([]byte, error) {
	r := *s
	r.Faults = slices.Clone(s.Faults) // ApplyDefaults writes into faults
	r.ApplyDefaults()
	root, err := encodeStruct(reflect.ValueOf(r))
	if err != nil {
		return nil, fmt.Errorf("write scenario %s: %w", s.Name, err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("write scenario %s: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write scenario %s: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// encodeStruct builds a mapping of the struct's keys in declaration order.
func encodeStruct(v reflect.Value) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	var applies []string
	if f, ok := v.Interface().(Fault); ok {
		applies = faultFields[f.Kind]
		m.Style = yaml.FlowStyle // one line per fault reads like a schedule
	}
	for _, fd := range fieldsOf(v.Type()) {
		fv := v.Field(fd.index)
		if omit(fd.name, fv, applies) {
			continue
		}
		val, err := encodeValue(fv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fd.name, err)
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: fd.name}
		m.Content = append(m.Content, key, val)
	}
	return m, nil
}

// omit leaves out empty text, lists and maps and false flags (absent reads
// back the same), and fault fields that do not apply to the fault's kind.
// Numbers and durations stay, because for them absent and zero can differ
// (consumers).
func omit(name string, v reflect.Value, applies []string) bool {
	if applies != nil && name != "kind" && !slices.Contains(applies, name) {
		return true
	}
	// In a fault, a zero number or duration reads back the same as an
	// absent one (every: 0s does not repeat), so only at is always written.
	if applies != nil && name != "at" && v.IsZero() {
		return true
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	}
	return false
}

func encodeValue(v reflect.Value) (*yaml.Node, error) {
	switch {
	case v.Type() == allowanceType:
	case v.Kind() == reflect.Struct:
		return encodeStruct(v)
	case v.Kind() == reflect.Slice:
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			el, err := encodeValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, el)
		}
		return seq, nil
	}
	// Scalars and maps: yaml.v3 quotes what needs it and calls MarshalYAML.
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return &n, nil
}
