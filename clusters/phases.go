package clusters

import (
	"strings"
	"time"
)

// Phase is one step of a launch and how long it took.
type Phase struct {
	Name string
	Took time.Duration
}

// Phases is where a launch spent its time, in order: the launch log prints
// it, and the launch benchmark reports each phase, so that a slow launch
// says which step was slow.
type Phases []Phase

// Stopwatch records Phases: each Lap ends the phase that began at the
// previous Lap (or at Start).
type Stopwatch struct {
	last   time.Time
	phases Phases
}

// StartStopwatch begins the first phase now.
func StartStopwatch() *Stopwatch { return &Stopwatch{last: time.Now()} }

// Lap ends the current phase under name and begins the next.
func (s *Stopwatch) Lap(name string) {
	now := time.Now()
	s.phases = append(s.phases, Phase{Name: name, Took: now.Sub(s.last)})
	s.last = now
}

// Phases returns the phases ended so far.
func (s *Stopwatch) Phases() Phases { return append(Phases(nil), s.phases...) }

// Total is the sum of the phases.
func (p Phases) Total() time.Duration {
	var t time.Duration
	for _, ph := range p {
		t += ph.Took
	}
	return t
}

// String is "name 12ms, name 340ms, ...".
func (p Phases) String() string {
	var b strings.Builder
	for i, ph := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ph.Name)
		b.WriteByte(' ')
		b.WriteString(ph.Took.Round(time.Millisecond).String())
	}
	return b.String()
}
