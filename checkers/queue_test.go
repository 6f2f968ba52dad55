package checkers

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/history"
)

// three is the start of most cases: producer 0 sends 0-1, 0-2, 0-3,
// acknowledged at offsets 1, 2, 3 (ops #0-#5).
func three() *builder {
	return new(builder).sent(0, "0-1", 1).sent(0, "0-2", 2).sent(0, "0-3", 3)
}

// example pins down the first example of the case's kind.
type example struct {
	value    string
	offset   int64
	ops      []int64
	producer int // -1: none
	node     string
	message  string
}

// TestQueueKinds has one case per kind the queue checker reports, over
// small handwritten histories, plus the cases that must stay quiet. Counts
// are exact: a case fails on a missing kind and on an extra one.
func TestQueueKinds(t *testing.T) {
	cases := []struct {
		name string
		h    *builder
		want map[Kind]int
		kind Kind
		ex   *example
	}{
		{name: "clean", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{}},
		{name: "lost-prefix", h: three().read(9, rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{Lost: 1, LostPrefix: 1}, kind: LostPrefix,
			ex: &example{value: "0-1", offset: 1, ops: []int64{0, 1}, producer: 0, node: "n1",
				message: `value "0-1" sent by process 0, acknowledged at offset 1 (op #1) by n1, was never read; the drain (op #9) reached the end of the stream (lost-prefix)`}},
		{name: "lost-middle", h: three().read(9, rd(1, "0-1"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{Lost: 1, LostMiddle: 1}, kind: LostMiddle,
			ex: &example{value: "0-2", offset: 2, ops: []int64{2, 3}, producer: 0, node: "n1"}},
		{name: "lost-postfix", h: three().read(9, rd(1, "0-1"), rd(2, "0-2")).drain(9, 3),
			want: map[Kind]int{Lost: 1, LostPostfix: 1}, kind: LostPostfix,
			ex: &example{value: "0-3", offset: 3, ops: []int64{4, 5}, producer: 0, node: "n1"}},
		{name: "lost split per producer", h: three().sent(1, "1-1", 4).sent(1, "1-2", 5).
			read(9, rd(2, "0-2"), rd(5, "1-2")).drain(9, 5),
			// 0-1 precedes 0's first read; 0-3 follows its last; 1-1 precedes 1's.
			want: map[Kind]int{Lost: 3, LostPrefix: 2, LostPostfix: 1}},
		{name: "unseen", h: three().read(9, rd(1, "0-1")).drainCut(9, 1),
			want: map[Kind]int{Unseen: 2}, kind: Unseen,
			ex: &example{value: "0-2", offset: 2, ops: []int64{2, 3}, producer: 0, node: "n1",
				message: `value "0-2" sent by process 0, acknowledged at offset 2 (op #3) by n1, was not read before the drain was cut short (op #9)`}},
		{name: "unseen without drain", h: three().read(9, rd(1, "0-1"), rd(2, "0-2")),
			want: map[Kind]int{Unseen: 1}},
		{name: "unexpected", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "7-7")).drain(9, 4),
			want: map[Kind]int{Unexpected: 1}, kind: Unexpected,
			ex: &example{value: "7-7", offset: 4, ops: []int64{7}, producer: -1,
				message: `value "7-7" read at offset 4 (op #7) was never sent`}},
		{name: "duplicate", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "0-1")).drain(9, 4),
			want: map[Kind]int{Duplicate: 1}, kind: Duplicate,
			ex: &example{value: "0-1", offset: 4, ops: []int64{1, 7}, producer: 0, node: "n1",
				message: `value "0-1" is at offsets 1 (op #1) and 4 (op #7)`}},
		{name: "redelivery is not a duplicate", h: three().read(8, rd(1, "0-1"), rd(2, "0-2")).read(7, rd(1, "0-1")).
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{}},
		{name: "inconsistent-offset", h: three().send(1, "1-1").sendInfo(1, "1-1").
			read(8, rd(2, "1-1")).read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{InconsistentOffset: 1, Recovered: 1}, kind: InconsistentOffset,
			ex: &example{value: "1-1", offset: 2, ops: []int64{3, 9}, producer: -1,
				message: `offset 2 holds "0-2" (op #3) and "1-1" (op #9)`}},
		{name: "aborted-read", h: three().send(1, "1-1").sendFailed(1, "1-1", "no responders").
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "1-1")).drain(9, 4),
			want: map[Kind]int{AbortedRead: 1}, kind: AbortedRead,
			ex: &example{value: "1-1", offset: 4, ops: []int64{6, 7, 9}, producer: 1,
				message: `value "1-1", whose send by process 1 failed (op #7: no responders), was read at offset 4 (op #9)`}},
		{name: "recovered", h: three().send(1, "1-1").sendInfo(1, "1-1").
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "1-1")).drain(9, 4),
			want: map[Kind]int{Recovered: 1}, kind: Recovered,
			ex: &example{value: "1-1", offset: 4, ops: []int64{6, 7, 9}, producer: 1}},
		{name: "info never read is nothing", h: three().send(1, "1-1").sendInfo(1, "1-1").
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{}},
		{name: "nonmonotonic-send", h: new(builder).sent(0, "0-1", 2).sent(1, "1-1", 1).
			read(9, rd(1, "1-1"), rd(2, "0-1")).drain(9, 2),
			want: map[Kind]int{NonmonotonicSend: 1}, kind: NonmonotonicSend,
			ex: &example{value: "1-1", offset: 1, ops: []int64{0, 1, 2, 3}, producer: 1, node: "n1",
				message: `send of "0-1" by process 0 was acknowledged at offset 2 (op #1, at 2ms) before send of "1-1" by process 1 began (op #2, at 3ms), which got the lower offset 1`}},
		{name: "concurrent sends may land in any order", h: new(builder).send(0, "0-1").send(1, "1-1").
			ack(0, "0-1", 2, "n1").ack(1, "1-1", 1, "n1").read(9, rd(1, "1-1"), rd(2, "0-1")).drain(9, 2),
			want: map[Kind]int{}},
		{name: "nonmonotonic-poll", h: three().read(9, rd(1, "0-1"), rd(3, "0-3"), rd(2, "0-2")).drain(9, 3),
			want: map[Kind]int{NonmonotonicPoll: 1}, kind: NonmonotonicPoll,
			ex: &example{value: "0-2", offset: 2, ops: []int64{7}, producer: -1,
				message: `drain process 9 read offset 2 (op #7) after offset 3 (op #7), with no re-subscribe in between`}},
		{name: "a re-subscribe excuses going back", h: three().read(9, rd(1, "0-1"), rd(2, "0-2")).poll(9).pollFailed(9).
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{}},
		{name: "queue consumers are not ordered readers", h: three().read(7, rd(3, "0-3")).read(7, rd(1, "0-1")).
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{}},
		{name: "poll-skip", h: three().read(7, rd(2, "0-2")).read(9, rd(1, "0-1"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{PollSkip: 1}, kind: PollSkip,
			ex: &example{value: "0-2", offset: 2, ops: []int64{9, 7}, producer: -1,
				message: `drain process 9 read offset 3 (op #9) after offset 1 (op #9), skipping 1 offset(s) that hold values, first 2 with "0-2" (op #7), and never read them`}},
		{name: "poll-skip at the start", h: three().read(7, rd(1, "0-1")).read(9, rd(2, "0-2"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{PollSkip: 1}},
		{name: "poll-skip at the end", h: three().read(7, rd(3, "0-3")).read(9, rd(1, "0-1"), rd(2, "0-2")).drain(9, 3),
			want: map[Kind]int{PollSkip: 1}, kind: PollSkip,
			ex: &example{value: "0-3", offset: 3, ops: []int64{9, 11, 7}, producer: -1,
				message: `drain process 9 declared the end of the log at offset 3 (op #11) after offset 2 (op #9), skipping 1 offset(s) that hold values, first 3 with "0-3" (op #7), and never read them`}},
		{name: "an offset only acknowledged is lost, not skipped", h: three().read(9, rd(1, "0-1"), rd(3, "0-3")).drain(9, 3),
			want: map[Kind]int{Lost: 1, LostMiddle: 1}},
		{name: "lost-on-node", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drainNode(10, "n1", 3).
			readNode(11, "n2", rd(1, "0-1"), rd(3, "0-3")).drainNode(11, "n2", 3),
			want: map[Kind]int{LostOnNode: 1}, kind: LostOnNode,
			// The ack, the drain's read, n1's read that holds it, n2's read
			// that steps over its offset and n2's end.
			ex: &example{value: "0-2", offset: 2, ops: []int64{3, 7, 11, 15, 17}, producer: 0, node: "n2",
				message: `value "0-2" was read at offset 2 (op #7) and held by node n1 (op #11), but node n2's read reached the end of its log at offset 3 (op #17) without it: it read offset 1 then offset 3 (op #15)`}},
		{name: "lost-on-node between two reads of the node", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drainNode(10, "n1", 3).
			readNode(11, "n2", rd(1, "0-1")).readNodeFailed(11, "n2", "n2 counts messages at offsets 2 to 2 but cannot load them").
			readNode(11, "n2", rd(3, "0-3")).drainNode(11, "n2", 3),
			want: map[Kind]int{LostOnNode: 1}, kind: LostOnNode,
			// n2's reads on either side of offset 2, and the failed one
			// in between that names it.
			ex: &example{value: "0-2", offset: 2, ops: []int64{3, 7, 11, 15, 17, 19, 21}, producer: 0, node: "n2",
				message: `value "0-2" was read at offset 2 (op #7) and held by node n1 (op #11), but node n2's read reached the end of its log at offset 3 (op #21) without it: it read offset 1 (op #15), failed (op #17: n2 counts messages at offsets 2 to 2 but cannot load them), then read offset 3 (op #19)`}},
		{name: "lost-on-node past the end of the node's log", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drainNode(10, "n1", 3).
			readNode(11, "n2", rd(1, "0-1"), rd(2, "0-2")).drainNode(11, "n2", 2),
			want: map[Kind]int{LostOnNode: 1}, kind: LostOnNode,
			ex: &example{value: "0-3", offset: 3, ops: []int64{5, 7, 11, 15, 17}, producer: 0, node: "n2",
				message: `value "0-3" was read at offset 3 (op #7) and held by node n1 (op #11), but node n2's read reached the end of its log at offset 2 (op #17) without it: its last read was offset 2 (op #15)`}},
		{name: "lost-on-node with another value at its offset", h: three().send(1, "1-1").sendInfo(1, "1-1").
			read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drainNode(10, "n1", 3).
			readNode(11, "n2", rd(1, "0-1"), rd(2, "1-1"), rd(3, "0-3")).drainNode(11, "n2", 3),
			// n2 lacks 0-2 and n1 lacks 1-1, which n2 holds at 0-2's offset.
			want: map[Kind]int{LostOnNode: 2, InconsistentOffset: 1, Recovered: 1}, kind: LostOnNode,
			ex: &example{value: "0-2", offset: 2, ops: []int64{3, 9, 13, 17, 19}, producer: 0, node: "n2",
				message: `value "0-2" was read at offset 2 (op #9) and held by node n1 (op #13), but node n2's read reached the end of its log at offset 3 (op #19) without it: it read "1-1" at offset 2 (op #17)`}},
		{name: "a node read cut short proves nothing", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drainNode(10, "n1", 3).
			readNode(11, "n2", rd(1, "0-1")),
			want: map[Kind]int{}},
		{name: "per-node readers are ordered", h: three().read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3")).drain(9, 3).
			readNode(10, "n1", rd(1, "0-1"), rd(3, "0-3"), rd(2, "0-2")).drainNode(10, "n1", 3),
			want: map[Kind]int{NonmonotonicPoll: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := check(Queue{}, c.h.h)
			require.Empty(t, res.Error)
			assert.Equal(t, c.want, countsOf(res))
			assertUniqueOps(t, res)
			if c.ex == nil {
				return
			}
			require.NotEmpty(t, res.Anomalies[c.kind].Examples)
			ex := res.Anomalies[c.kind].Examples[0]
			assert.Equal(t, "s", ex.Stream)
			assert.Equal(t, c.ex.value, ex.Value)
			assert.Equal(t, c.ex.offset, ex.Offset)
			assert.Equal(t, c.ex.ops, ex.Ops)
			assert.Equal(t, c.ex.node, ex.Node)
			if c.ex.producer < 0 {
				assert.Nil(t, ex.Producer)
			} else if assert.NotNil(t, ex.Producer) {
				assert.Equal(t, c.ex.producer, *ex.Producer)
			}
			if c.ex.message != "" {
				assert.Equal(t, c.ex.message, ex.Message)
			}
		})
	}
}

func TestQueueStats(t *testing.T) {
	h := three().send(1, "1-1").sendInfo(1, "1-1").send(2, "2-1").sendFailed(2, "2-1", "no").
		read(9, rd(1, "0-1"), rd(2, "0-2"), rd(3, "0-3"), rd(4, "1-1")).read(8, rd(1, "0-1")).drain(9, 4).h
	res := check(Queue{}, h)
	assert.Equal(t, map[string]int64{"streams": 1, "sends": 5, "acked": 3, "failed": 1, "indeterminate": 1,
		"reads": 5, "distinct-reads": 4, "recovered": 1, "ordered-readers": 1}, res.Stats)
}

func TestQueueIsDeterministic(t *testing.T) {
	b := new(builder)
	for s := range 5 {
		stream := string(rune('a' + 4 - s)) // streams appear in reverse name order
		b.add(history.Op{Process: s, Type: history.Invoke, F: history.Send, Stream: stream, Value: "0-1", Offset: noOffset})
		b.add(history.Op{Process: s, Type: history.OK, F: history.Send, Stream: stream, Value: "0-1", Offset: 1})
	}
	res1 := check(Queue{}, b.h)
	for range 10 {
		assert.Equal(t, res1, check(Queue{}, b.h))
	}
	var streams []string
	for _, ex := range res1.Anomalies[Unseen].Examples {
		streams = append(streams, ex.Stream)
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, streams)
}

func TestManyAnomaliesKeepCountsAndCapExamples(t *testing.T) {
	b := new(builder)
	for i := 1; i <= 50; i++ {
		b.sent(0, fmt.Sprintf("0-%d", i), int64(i))
	}
	b.send(1, "1-1").sendInfo(1, "1-1")
	res := check(Queue{}, b.read(9, rd(51, "1-1")).drain(9, 51).h)
	for _, k := range []Kind{Lost, LostPostfix} {
		assert.Equal(t, 50, res.Count(k), k)
		assert.Len(t, res.Anomalies[k].Examples, MaxExamples, k)
	}
	assert.Equal(t, "0-1", res.Anomalies[Lost].Examples[0].Value, "examples are the first ones, in order")
	assert.Equal(t, 1, res.Count(Recovered))
}
