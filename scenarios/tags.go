package scenarios

import (
	"reflect"
	"strings"
)

// field is one YAML key of a scenario struct, as its tags describe it. The
// decoder, the validator and the writer all read the keys from here, so a
// field added to a struct is loaded, checked and written without more code.
type field struct {
	name  string // the key in the file
	index int    // the Go field index
	enum  []string
}

// fieldsOf lists the keys of a struct type in declaration order; fields
// without a yaml tag, or tagged "-", are not keys.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f := field{name: name, index: i}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = strings.Split(e, ",")
		}
		fs = append(fs, f)
	}
	return fs
}

// fieldNames lists the keys of a struct type, for "allowed:" messages.
func fieldNames(fs []field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// enumOf returns the allowed values of the field with the given key.
func enumOf(t reflect.Type, name string) []string {
	for _, f := range fieldsOf(t) {
		if f.name == name {
			return f.enum
		}
	}
	return nil
}
