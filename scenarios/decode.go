package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree against the scenario's Go types. It is
// written by hand, instead of using yaml.v3's Decode, so that every problem is
// collected rather than the first, unknown and duplicate keys are errors, and
// the position of every value is kept for validation messages.
type decoder struct {
	file     string
	pos      map[string]Pos
	failed   map[string]bool // paths whose value could not be decoded
	problems Problems
	// aliasDepth is how many aliases lead to the value being decoded, and
	// aliased how many values have been reached through one; see maxAliased.
	aliasDepth, aliased int
	// outerAlias and outerPath are the outermost alias being followed,
	// where a problem about aliasing points: in the file, where it is used.
	outerAlias *yaml.Node
	outerPath  string
	// stopped is set when decoding gives up part way: too many problems,
	// or aliases that expand too far.
	stopped bool
}

// maxProblems bounds the work and the output for hostile input (a huge
// mapping reused through aliases); nobody fixes a hundred problems at once.
const maxProblems = 100

// maxAliased bounds the values a file may reach through aliases. yaml.v3
// keeps an alias as one node pointing at its anchor, but the decoder, the
// position map and validation visit the anchor's values at every use:
// aliases of aliases multiply (200 faults each with 200 aliased groups of
// 200 nodes is 8 million values from 3 KB), and neither the size limit nor
// maxProblems stops valid values. yaml.v3's own Decode bounds the ratio of
// aliased to written values, which still lets a small file reach hundreds
// of thousands; a scenario that aliases a few faults or groups needs a few
// hundred, so a plain count is enough and easier to explain.
const maxAliased = 10_000

// keySuffix marks the position of a key, rather than its value, in the pos
// map: problems about the key itself (unknown anomaly kind) point there.
const keySuffix = "#key"

var (
	durationType  = reflect.TypeFor[Duration]()
	allowanceType = reflect.TypeFor[Allowance]()
)

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]Pos{}, failed: map[string]bool{}}
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// full reports whether decoding has stopped; the walk then unwinds.
func (d *decoder) full() bool { return d.stopped }

// add records a problem at node n. At maxProblems the decoder stops, and
// Parse says that the list was cut short.
func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	if d.full() {
		return
	}
	d.problems = append(d.problems, Problem{File: d.file, Pos: nodePos(n), Field: path, Msg: fmt.Sprintf(format, args...)})
	d.stopped = len(d.problems) >= maxProblems
}

// fail records a value that could not be decoded, so that validation does
// not report the same field again as missing or out of range.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.add(n, path, format, args...)
}

// covers reports whether a validation problem about path is already
// explained by a decoding problem of the path or of one of its parents.
func (d *decoder) covers(path string) bool {
	for p := range d.failed {
		if p == "" || path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// value decodes n into v and records its position under path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.full() {
		return
	}
	d.pos[path] = nodePos(n)
	// An alias stands for its anchor's node. The scenario types do not
	// nest, so following aliases always ends, even for a recursive anchor.
	alias := n
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n != alias {
		if d.aliasDepth == 0 {
			d.outerAlias, d.outerPath = alias, path
		}
		d.aliasDepth++
		defer func() { d.aliasDepth-- }()
	}
	if d.aliasDepth > 0 {
		// Counted before the value is decoded, so that the walk stops
		// at the first value past the bound, whatever its kind.
		if d.aliased++; d.aliased > maxAliased {
			d.add(d.outerAlias, d.outerPath, "aliases expand to more than %d values; alias fewer or smaller parts, or write the values out", maxAliased)
			d.stopped = true
			return
		}
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, path)
	case v.Type() == allowanceType:
		d.allowance(n, v, path)
	case v.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case v.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	case v.Kind() == reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// structure decodes a mapping whose keys are the struct's yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && !d.full(); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		p := join(path, name)
		f, ok := byName[name]
		if !ok {
			d.add(k, p, "unknown field; %s", allowedFields(n, v.Type(), fields))
			continue
		}
		d.pos[p+keySuffix] = nodePos(k)
		// An empty value (`drain:`) is the same as leaving the key out,
		// as in yaml.v3: commented-out faults leave `faults:` empty.
		if isNull(val) {
			continue
		}
		d.value(val, v.Field(f.index), p)
	}
}

// allowedFields says which fields mapping n may hold: for a fault of a
// known kind, those of its kind (the kind key may come after the typo),
// else every field of the type.
func allowedFields(n *yaml.Node, t reflect.Type, fields []field) string {
	if t == reflect.TypeFor[Fault]() {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			for val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			if k.Value != "kind" || val.Kind != yaml.ScalarNode {
				continue
			}
			if kf, known := faultFields[val.Value]; known {
				return fmt.Sprintf("fields of %s: kind, %s", val.Value, strings.Join(kf, ", "))
			}
		}
	}
	return "allowed: " + fieldNames(fields)
}

// key checks one mapping key: a plain scalar, not seen before in the mapping.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	if k.Kind != yaml.ScalarNode || isNull(k) {
		d.add(k, path, "expected a plain key, got %s", describe(k))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		d.add(k, path, "merge keys (<<) are not supported; write the fields out")
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.add(k, join(path, k.Value), "duplicate key; first at line %d", first)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

// sequence decodes a list; an empty list leaves the slice nil, the same as
// leaving the key out.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, el := range n.Content {
		d.value(el, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// mapping decodes a map with string keys; an empty mapping leaves it nil.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && !d.full(); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		p := join(path, name)
		d.pos[p+keySuffix] = nodePos(k)
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(val, ev, p)
		m.SetMapIndex(reflect.ValueOf(name), ev)
	}
	v.Set(m)
}

// scalar decodes strings, integers, floats and booleans. Strings take any
// scalar's text, as yaml.v3 does (version: 2.12 is the string "2.12" and is
// judged by validation); numbers and booleans must be written as such.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(n, path, "expected %s, got %s", wants(v.Kind()), describe(n))
		return
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil {
			d.fail(n, path, "expected %s, got %q", wants(v.Kind()), n.Value)
			return
		}
		if v.OverflowInt(i) {
			d.fail(n, path, "number %s is out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			d.fail(n, path, "expected %s, got %q", wants(v.Kind()), n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "expected %s, got %q", wants(v.Kind()), n.Value)
			return
		}
		v.SetBool(b)
	default:
		// A scenario type this decoder does not know: a bug here, not in
		// the file, but still a problem rather than a panic.
		d.fail(n, path, "internal error: cannot decode into %s", v.Type())
	}
}

// duration decodes "10s", "500ms", "2m". A bare number is refused: 10 could
// mean seconds or nanoseconds, and guessing is how faults fire at the wrong time.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(n, path, "expected a duration such as 10s, got %s", describe(n))
		return
	}
	t, err := time.ParseDuration(n.Value)
	if err == nil {
		v.SetInt(int64(t))
		return
	}
	if _, numErr := strconv.ParseFloat(n.Value, 64); numErr == nil {
		d.fail(n, path, "duration %s has no unit; write e.g. %ss (units: ns, us, ms, s, m, h)", n.Value, n.Value)
		return
	}
	d.fail(n, path, "invalid duration %q; write a number with a unit, e.g. 10s, 500ms, 2m (units: ns, us, ms, s, m, h)", n.Value)
}

// allowance decodes a count or the word "allowed". Whether the count is
// negative is for validation, which also sees scenarios built in Go.
func (d *decoder) allowance(n *yaml.Node, v reflect.Value, path string) {
	var a Allowance
	var i int64
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == "allowed":
		a.Any = true
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && n.Decode(&i) == nil:
		if int64(int(i)) != i {
			d.fail(n, path, "number %s is out of range", n.Value)
			return
		}
		a.Max = int(i)
	case n.Kind == yaml.ScalarNode && !isNull(n):
		d.fail(n, path, "unknown value %q; allowed: a count >= 0 or allowed", n.Value)
		return
	default:
		d.fail(n, path, "expected a count >= 0 or allowed, got %s", describe(n))
		return
	}
	v.Set(reflect.ValueOf(a))
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's kind for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a YAML document"
}

// wants names what a Go kind expects, in the words of a scenario author.
func wants(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a text value"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a value"
}

// join builds a dotted path; the top level has the empty path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
