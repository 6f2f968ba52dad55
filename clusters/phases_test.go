package clusters

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStopwatchLapsInOrder(t *testing.T) {
	w := StartStopwatch()
	time.Sleep(2 * time.Millisecond)
	w.Lap("first")
	w.Lap("second")
	p := w.Phases()
	if assert.Len(t, p, 2) {
		assert.Equal(t, "first", p[0].Name)
		assert.GreaterOrEqual(t, p[0].Took, 2*time.Millisecond, "a lap ends the phase begun at the start")
		assert.Equal(t, "second", p[1].Name)
		assert.Less(t, p[1].Took, p[0].Took+time.Second)
	}
	p[0].Name = "changed"
	assert.Equal(t, "first", w.Phases()[0].Name, "Phases is a copy")
}

func TestPhasesTotalAndString(t *testing.T) {
	p := Phases{{"connect", 1500 * time.Microsecond}, {"healthy", 340 * time.Millisecond}}
	assert.Equal(t, 341500*time.Microsecond, p.Total())
	assert.Equal(t, "connect 2ms, healthy 340ms", p.String())
	assert.Empty(t, Phases(nil).String())
}
