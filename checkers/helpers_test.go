package checkers

import (
	"context"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// timeOf turns a small test clock into a history time.
func timeOf(t int) time.Duration { return time.Duration(t) * time.Millisecond }

// builder writes small histories by hand: each op is one millisecond after
// the previous one unless at moves the clock. Everything is on stream "s".
type builder struct {
	h   []history.Op
	now time.Duration
}

func (b *builder) at(ms int) *builder { b.now = timeOf(ms) - time.Millisecond; return b }

func (b *builder) add(op history.Op) *builder {
	b.now += time.Millisecond
	op.Index, op.Time = int64(len(b.h)), b.now
	if op.Stream == "" && op.Process != history.NemesisProcess {
		op.Stream = "s"
	}
	b.h = append(b.h, op)
	return b
}

func (b *builder) send(p int, v string) *builder {
	return b.add(history.Op{Process: p, Type: history.Invoke, F: history.Send, Value: v, Offset: noOffset})
}

func (b *builder) ack(p int, v string, off int64, node string) *builder {
	return b.add(history.Op{Process: p, Type: history.OK, F: history.Send, Value: v, Offset: off, Node: node})
}

func (b *builder) sendFailed(p int, v, err string) *builder {
	return b.add(history.Op{Process: p, Type: history.Fail, F: history.Send, Value: v, Offset: noOffset, Error: err})
}

func (b *builder) sendInfo(p int, v string) *builder {
	return b.add(history.Op{Process: p, Type: history.Info, F: history.Send, Value: v, Offset: noOffset, Error: "timeout"})
}

// sent is a send and its ack in a row.
func (b *builder) sent(p int, v string, off int64) *builder {
	return b.send(p, v).ack(p, v, off, "n1")
}

func (b *builder) poll(p int) *builder {
	return b.add(history.Op{Process: p, Type: history.Invoke, F: history.Poll, Offset: noOffset})
}

func (b *builder) polled(p int, reads ...history.Read) *builder {
	return b.add(history.Op{Process: p, Type: history.OK, F: history.Poll, Offset: noOffset, Reads: reads, Node: "n2"})
}

func (b *builder) pollFailed(p int) *builder {
	return b.add(history.Op{Process: p, Type: history.Fail, F: history.Poll, Offset: noOffset, Error: "timeout"})
}

// read is a poll and its batch in a row.
func (b *builder) read(p int, reads ...history.Read) *builder { return b.poll(p).polled(p, reads...) }

func (b *builder) drain(p int, last int64) *builder {
	b.add(history.Op{Process: p, Type: history.Invoke, F: history.Drain, Offset: noOffset})
	return b.add(history.Op{Process: p, Type: history.OK, F: history.Drain, Offset: last})
}

func (b *builder) drainCut(p int, reached int64) *builder {
	b.add(history.Op{Process: p, Type: history.Invoke, F: history.Drain, Offset: noOffset})
	return b.add(history.Op{Process: p, Type: history.Info, F: history.Drain, Offset: reached, Error: "drain cut short"})
}

func (b *builder) readNode(p int, node string, reads ...history.Read) *builder {
	b.add(history.Op{Process: p, Type: history.Invoke, F: ReadNode, Offset: noOffset, Node: node})
	return b.add(history.Op{Process: p, Type: history.OK, F: ReadNode, Offset: noOffset, Node: node, Reads: reads})
}

// readNodeFailed is a read-node op that failed, as a reader stepping over
// messages the node cannot load records it.
func (b *builder) readNodeFailed(p int, node, err string) *builder {
	b.add(history.Op{Process: p, Type: history.Invoke, F: ReadNode, Offset: noOffset, Node: node})
	return b.add(history.Op{Process: p, Type: history.Fail, F: ReadNode, Offset: noOffset, Node: node, Error: err})
}

func (b *builder) drainNode(p int, node string, last int64) *builder {
	b.add(history.Op{Process: p, Type: history.Invoke, F: DrainNode, Offset: noOffset, Node: node})
	return b.add(history.Op{Process: p, Type: history.OK, F: DrainNode, Offset: last, Node: node})
}

func (b *builder) fault(f history.F, id, kind string, targets ...string) *builder {
	return b.add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: f, Offset: noOffset,
		Fault: &history.Fault{ID: id, Kind: kind, Targets: targets}})
}

// rd is one read message.
func rd(off int64, v string) history.Read { return history.Read{Offset: off, Value: v} }

// counts lists the anomaly counts of results, kinds with none left out.
func countsOf(results ...Result) map[Kind]int {
	out := map[Kind]int{}
	for _, r := range results {
		for k, a := range r.Anomalies {
			if a.Count > 0 {
				out[k] += a.Count
			}
		}
	}
	return out
}

func check(c Checker, h []history.Op) Result { return Safe(context.Background(), c, h) }
