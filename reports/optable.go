package reports

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// DefaultTableRows bounds the operations embedded in report.html. About 100
// bytes a row, it keeps the file of a 1M-op run well under 10 MB; the full
// history stays in history.jsonl.
const DefaultTableRows = 40_000

// Reads shown per poll in the table: a batch can hold thousands of messages,
// and all of them would dwarf the rest of the report.
const (
	tableReads   = 4
	exampleReads = 200
)

// Context kept around each op of an anomaly example, so that a reader who
// follows its link sees what the process did just before and after.
const exampleContext = 5

// sampleBlock is the length of the contiguous runs the even sample is made
// of: a run of neighbouring operations reads better than isolated ones.
const sampleBlock = 25

// sample picks the positions of h to embed, in increasing order. Every fault
// op, every op of an anomaly example (with its invoke or completion and a
// few neighbours) is always kept, so that the report's links resolve; failed
// and unknown operations come next, and the rest of the budget is an even
// sample of contiguous blocks.
func sample(h []history.Op, pos func(int64) (int, bool), results []checkers.Result, budget int) (keep []int, examples map[int]bool) {
	examples = make(map[int]bool)
	for _, r := range results {
		for _, a := range r.Anomalies {
			for _, ex := range a.Examples {
				refs := ex.Ops
				// Operations a message names ("the drain (op #9)") are
				// links in the report too.
				for _, m := range opRef.FindAllStringSubmatch(ex.Message, -1) {
					if idx, err := strconv.ParseInt(m[1], 10, 64); err == nil {
						refs = append(refs[:len(refs):len(refs)], idx)
					}
				}
				for _, idx := range refs {
					if i, ok := pos(idx); ok {
						examples[i] = true
					}
				}
			}
		}
	}
	if len(h) <= budget {
		keep = make([]int, len(h))
		for i := range keep {
			keep[i] = i
		}
		return keep, examples
	}
	pair := history.Pairs(h)
	mark := make([]bool, len(h))
	n := 0
	add := func(i int) {
		if i >= 0 && i < len(h) && !mark[i] {
			mark[i] = true
			n++
		}
	}
	for i, op := range h {
		if op.Fault != nil || op.Process == history.NemesisProcess {
			add(i)
		}
	}
	for i := range examples {
		for j := i - exampleContext; j <= i+exampleContext; j++ {
			add(j)
		}
		add(pair[i])
	}
	// Failures and unknown outcomes cluster around faults: they are what a
	// reader of the table looks for, so they come before the even sample.
	for i, op := range h {
		if n >= budget*2/5 {
			break
		}
		if op.Type == history.Fail || op.Type == history.Info {
			add(i)
			add(pair[i])
		}
	}
	if rest := budget - n; rest > 0 {
		blocks := rest / sampleBlock
		if blocks < 1 {
			blocks = 1
		}
		stride := len(h) / blocks
		for b := 0; b < blocks; b++ {
			start := b * stride
			for j := start; j < start+sampleBlock && j < len(h); j++ {
				add(j)
			}
		}
	}
	keep = make([]int, 0, n)
	for i, m := range mark {
		if m {
			keep = append(keep, i)
		}
	}
	return keep, examples
}

// appendTable encodes the chosen rows as a JSON array of arrays:
// [index, process, type, f, stream, value, offset, node, error, time_ns,
// reads] where reads is null or [count, [offset, value]...]. Arrays, not
// objects, because the keys would double the size of the report. The time
// is in nanoseconds, so that the table shows it as the anomaly sections do
// (formatOpTime): a test history's ops are a microsecond apart. The output
// is safe inside <script type="application/json">: <, >, & and U+2028/9 are
// escaped, so no value can close the block.
func appendTable(b []byte, h []history.Op, keep []int, examples map[int]bool) []byte {
	b = append(b, '[')
	for n, i := range keep {
		op := h[i]
		if n > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, op.Index, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(op.Process), 10)
		b = append(b, ',')
		b = history.AppendJSONString(b, op.Type.String())
		b = append(b, ',')
		f := string(op.F)
		if op.Fault != nil {
			f += " " + op.Fault.ID + " " + op.Fault.Kind
		}
		b = history.AppendJSONString(b, f)
		b = append(b, ',')
		b = history.AppendJSONString(b, op.Stream)
		b = append(b, ',')
		b = history.AppendJSONString(b, clip(op.Value, maxCell))
		b = append(b, ',')
		b = strconv.AppendInt(b, op.Offset, 10)
		b = append(b, ',')
		node := op.Node
		if op.Fault != nil && len(op.Fault.Targets) > 0 {
			node = strings.Join(op.Fault.Targets, ",")
		}
		b = history.AppendJSONString(b, clip(node, maxCell))
		b = append(b, ',')
		b = history.AppendJSONString(b, clip(op.Error, maxError))
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(op.Time), 10)
		b = append(b, ',')
		if len(op.Reads) == 0 {
			b = append(b, "null"...)
		} else {
			limit := tableReads
			if examples[i] {
				limit = exampleReads
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(len(op.Reads)), 10)
			for k, r := range op.Reads {
				if k == limit {
					break
				}
				b = append(b, ",["...)
				b = strconv.AppendInt(b, r.Offset, 10)
				b = append(b, ',')
				b = history.AppendJSONString(b, clip(r.Value, maxCell))
				b = append(b, ']')
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// Bounds of one cell of the table. Message bodies and errors can be long
// (a workload with large values, a stack in an error); the table shows the
// start of them, the anomaly section and history.jsonl the whole.
const (
	maxCell  = 160
	maxError = 400
)

// MaxTableBytes bounds the encoded operation table. With long values even
// a sampled table could outgrow the 10 MB the report must stay under, so
// the sample is halved until it fits.
const MaxTableBytes = 7 << 20

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
