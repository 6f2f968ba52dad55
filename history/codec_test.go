package history

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleOps() []Op {
	return []Op{
		{Index: 0, Process: 0, Type: Invoke, F: Send, Stream: "s", Value: "0-1", Offset: NoOffset, Time: 10},
		{Index: 1, Process: 0, Type: OK, F: Send, Stream: "s", Value: "0-1", Offset: 0, Node: "n1", Time: 20},
		{Index: 2, Process: 1, Type: Invoke, F: Poll, Stream: "s", Offset: NoOffset, Time: 30},
		{Index: 3, Process: 1, Type: OK, F: Poll, Stream: "s", Offset: NoOffset, Time: 40,
			Reads: []Read{{0, "0-1"}, {1, "</script><script>alert(1)</script>"}}},
		{Index: 4, Process: NemesisProcess, Type: OK, F: FaultStart, Offset: NoOffset, Time: 50,
			Fault: &Fault{ID: "f1", Kind: "kill", Targets: []string{"n2"}, Actuation: time.Millisecond}},
		{Index: 5, Process: 2, Type: Info, F: Send, Stream: "s", Value: "bad\xffutf8\u2028\"\\\n", Offset: NoOffset,
			Error: "nats: timeout", Time: 60},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	ops := sampleOps()
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, ops))
	// Each line is plain JSON that the standard library accepts.
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		require.True(t, json.Valid([]byte(line)), line)
	}
	assert.NotContains(t, buf.String(), "<script>", "markup must be escaped in history lines")
	got, info, err := Decode(&buf)
	require.NoError(t, err)
	assert.False(t, info.Torn)
	want := sampleOps()
	want[5].Value = "bad\ufffdutf8\u2028\"\\\n" // invalid UTF-8 is replaced
	assert.Equal(t, want, got)
	assert.Equal(t, int64(0), got[1].Offset, "offset 0 is kept apart from no offset")
}

func TestDecodeToleratesTornLastLine(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, sampleOps()[:3]))
	full := buf.String()
	torn := full + `{"index":3,"process":1,"ty`
	got, info, err := Decode(strings.NewReader(torn))
	require.NoError(t, err)
	assert.True(t, info.Torn)
	assert.Len(t, got, 3)
	assert.Equal(t, 3, info.Lines)
}

func TestDecodeRejectsBadMiddleLine(t *testing.T) {
	in := `{"index":0,"process":0,"type":"invoke","f":"send","time":1}
{"index":1,"process":0,"type":"sideways","f":"send","time":2}
{"index":2,"process":0,"type":"ok","f":"send","time":3}
`
	_, _, err := Decode(strings.NewReader(in))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
}

func TestRecorderStreamsAndChecksProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	r, err := Create(path, time.Now())
	require.NoError(t, err)
	inv, err := r.Record(Op{Process: 3, Type: Invoke, F: Send, Value: "3-1", Offset: NoOffset})
	require.NoError(t, err)
	_, err = r.Record(Op{Process: 3, Type: Invoke, F: Send, Value: "3-2", Offset: NoOffset})
	require.Error(t, err, "second invoke with one in flight")
	_, err = r.Record(Op{Process: 4, Type: OK, F: Send, Offset: NoOffset})
	require.Error(t, err, "completion without invoke")
	done := inv
	done.Type, done.Offset = OK, 7
	_, err = r.Record(done)
	require.NoError(t, err)

	// Flushed within the interval, before Close.
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n") == 4
	}, 2*time.Second, 10*time.Millisecond)

	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	_, err = r.Record(Op{Process: 5, Type: Invoke, F: Send, Offset: NoOffset})
	require.Error(t, err)
	ops, _, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, ops, 4)
	assert.Equal(t, int64(3), ops[3].Index)
	// The bad ops are still written and counted: the checker sees them.
	assert.Equal(t, Counts{Ops: 4, Acked: 2}, r.Counts())
	// The second invoke of process 3 orphans the first; it pairs with the ok.
	assert.Equal(t, []int{-1, 3, -1, 1}, Pairs(ops))
}
