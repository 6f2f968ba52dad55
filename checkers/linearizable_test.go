package checkers

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

func TestLinearizable(t *testing.T) {
	dense, sparse := LogModel{}, LogModel{Sparse: true}
	cases := []struct {
		name    string
		model   LogModel
		h       *builder
		want    int
		message string
		ops     []int64
	}{
		{name: "clean", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3)},
		{name: "concurrent sends in either order", h: new(builder).send(0, "0-1").send(1, "1-1").
			ack(1, "1-1", 1, "n1").ack(0, "0-1", 2, "n1")},
		{name: "acknowledged before a lower offset began", h: new(builder).sent(0, "0-1", 2).sent(1, "1-1", 1), want: 1,
			message: `send of "0-1" was acknowledged at offset 2 (op #1) at 2ms, before the send of "1-1" at offset 1 began (op #2, at 3ms)`,
			ops:     []int64{0, 1, 2}},
		{name: "read from the future", h: new(builder).sent(0, "0-1", 1).read(8, rd(1, "0-1"), rd(2, "1-1")).sent(1, "1-1", 2), want: 1,
			message: `read op #3 returned offset 2 at 4ms, but offset 2 must hold "1-1", whose send (op #4) began only at 5ms`,
			ops:     []int64{3, 4}},
		{name: "read past a hole filled later", h: new(builder).sent(0, "0-1", 1).send(0, "0-3").
			read(8, rd(3, "0-3")).sent(1, "1-2", 2).ack(0, "0-3", 3, "n1"), want: 1},
		{name: "a read may lag", h: three().read(8, rd(1, "0-1"))},
		{name: "an offset nothing filled", model: dense, h: new(builder).sent(0, "0-1", 1).sent(0, "0-3", 3), want: 1,
			message: `offsets 2 to 2 hold no value anyone saw, yet offset 3 does (op #3), and only 0 send(s) with an unknown outcome could fill them`},
		{name: "sparse logs may skip offsets", model: sparse, h: new(builder).sent(0, "0-1", 1).sent(0, "0-3", 3)},
		{name: "an unknown send fills the hole", h: new(builder).send(1, "1-1").sent(0, "0-1", 1).sent(0, "0-3", 3).sendInfo(1, "1-1")},
		{name: "a pending send fills the hole", h: new(builder).send(1, "1-1").sent(0, "0-1", 1).sent(0, "0-3", 3)},
		{name: "the filler began too late", h: new(builder).sent(0, "0-1", 1).sent(0, "0-3", 3).send(1, "1-1").sendInfo(1, "1-1"), want: 1},
		{name: "a failed send fills nothing", h: new(builder).send(1, "1-1").sent(0, "0-1", 1).sent(0, "0-3", 3).sendFailed(1, "1-1", "no"), want: 1},
		{name: "below the first offset", h: new(builder).sent(0, "0-1", 0), want: 1},
		{name: "zero-based", model: LogModel{ZeroBased: true}, h: new(builder).sent(0, "0-1", 0)},
		{name: "duplicate", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "0-1")), want: 1,
			message: `value "0-1" is at offset 1 (op #1) and offset 4 (op #7): a send appends once`},
		{name: "inconsistent offset", h: three().read(9, rd(1, "0-1"), rd(2, "0-3")), want: 2},
		{name: "unexpected", h: three().read(9, rd(4, "9-9")), want: 1},
		{name: "aborted read", h: three().send(1, "1-1").sendFailed(1, "1-1", "no").read(9, rd(4, "1-1")), want: 1},
		{name: "recovered", h: three().send(1, "1-1").sendInfo(1, "1-1").read(9, rd(4, "1-1"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := check(Linearizable{Log: c.model}, c.h.h)
			require.Empty(t, res.Error)
			assert.Equal(t, c.want, res.Count(Nonlinearizable), "%v", res.Anomalies)
			if c.message != "" && c.want > 0 {
				ex := res.Anomalies[Nonlinearizable].Examples[0]
				assert.Equal(t, c.message, ex.Message)
				if c.ops != nil {
					assert.Equal(t, c.ops, ex.Ops)
				}
			}
			wantBad := int64(0)
			if c.want > 0 {
				wantBad = 1
			}
			assert.Equal(t, wantBad, res.Stats["nonlinearizable-streams"])
		})
	}
}

func TestLinearizableCountsBeyondExamples(t *testing.T) {
	b := new(builder)
	var reads []history.Read
	for i := 1; i <= 30; i++ {
		v := fmt.Sprintf("0-%d", i)
		b.sent(0, v, int64(i))
		reads = append(reads, rd(int64(100+i), v)) // each value at a second offset
	}
	res := check(Linearizable{Log: LogModel{Sparse: true}}, b.read(9, reads...).h)
	assert.Equal(t, 30, res.Count(Nonlinearizable))
	assert.Len(t, res.Anomalies[Nonlinearizable].Examples, MaxExamples)
}
