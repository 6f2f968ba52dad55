package checkers

import "time"

// Options configure the standard set of checkers. The zero value suits a
// NATS JetStream queue workload.
type Options struct {
	// Log is the shape of the streams' logs (dense from 1 for NATS).
	Log LogModel
	// MinAckedBeforeFault is the availability floor (see Availability).
	MinAckedBeforeFault int
	// Porcupine adds the porcupine checker, bounded by PorcupineTimeout
	// and PorcupineMaxHeap (zero: their defaults). It is off by default:
	// the witness checker decides the same question on any history, while
	// porcupine leaves a busy stream unknown.
	Porcupine        bool
	PorcupineTimeout time.Duration
	PorcupineMaxHeap uint64
}

// Default returns the standard checkers, in report order: the stream
// anomalies (queue), the witness linearizability check (linearizable) and
// traffic around the faults (availability), plus porcupine when asked.
func Default(opts Options) []Checker {
	cs := []Checker{
		Queue{},
		Linearizable{Log: opts.Log},
		Availability{MinAckedBeforeFault: opts.MinAckedBeforeFault},
	}
	if opts.Porcupine {
		cs = append(cs, Porcupine{Log: opts.Log, Timeout: opts.PorcupineTimeout, MaxHeap: opts.PorcupineMaxHeap})
	}
	return cs
}
