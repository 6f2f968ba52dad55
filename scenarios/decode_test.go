package scenarios

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// kinds has one field of each scalar kind the decoder supports, including
// those no scenario field uses yet.
type kinds struct {
	B   bool    `yaml:"b"`
	I8  int8    `yaml:"i8"`
	I64 int64   `yaml:"i64"`
	F   float64 `yaml:"f"`
	S   string  `yaml:"s"`
	Pos Pos     `yaml:"-"`
}

func TestDecodeScalars(t *testing.T) {
	tests := []struct {
		src  string
		want kinds
		msg  string // the problem, if any
	}{
		{src: "b: true\ni8: -128\ni64: 0x10\nf: 1e3\ns: 2.12", want: kinds{B: true, I8: -128, I64: 16, F: 1000, S: "2.12"}},
		{src: "i64: 1_000\nf: 7", want: kinds{I64: 1000, F: 7}},
		{src: "b: yes", msg: `b: expected true or false, got "yes"`},
		{src: "i8: 128", msg: "i8: number 128 is out of range"},
		{src: "i64: 1.5", msg: `i64: expected a whole number, got "1.5"`},
		{src: `i64: "3"`, msg: `i64: expected a whole number, got "3"`},
		{src: "f: fast", msg: `f: expected a number, got "fast"`},
		{src: "s: [a]", msg: "s: expected a text value, got a list"},
		{src: "Pos: {}", msg: "Pos: unknown field; allowed: b, i8, i64, f, s"},
		{src: "b: &x true\nf: *x", msg: `f: expected a number, got "true"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var n yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte(tt.src), &n))
			var got kinds
			d := newDecoder("k.yaml")
			d.value(n.Content[0], reflect.ValueOf(&got).Elem(), "")
			if tt.msg == "" {
				require.Empty(t, d.problems)
				require.Equal(t, tt.want, got)
				return
			}
			require.Len(t, d.problems, 1)
			require.Equal(t, tt.msg, d.problems[0].Field+": "+d.problems[0].Msg)
		})
	}
}
