package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends op as one line of JSON (with the trailing newline).
// It is hand-written because the recorder encodes every operation of a run
// on the clients' hot path; the output is plain JSON that encoding/json reads.
func AppendJSON(b []byte, op Op) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, op.Index, 10)
	b = append(b, `,"process":`...)
	b = strconv.AppendInt(b, int64(op.Process), 10)
	b = append(b, `,"type":"`...)
	b = append(b, op.Type.String()...)
	b = append(b, `","f":`...)
	b = AppendJSONString(b, string(op.F))
	if op.Stream != "" {
		b = append(b, `,"stream":`...)
		b = AppendJSONString(b, op.Stream)
	}
	if op.Value != "" {
		b = append(b, `,"value":`...)
		b = AppendJSONString(b, op.Value)
	}
	if op.Offset != NoOffset {
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, op.Offset, 10)
	}
	if len(op.Reads) > 0 {
		b = append(b, `,"reads":[`...)
		for i, r := range op.Reads {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"offset":`...)
			b = strconv.AppendInt(b, r.Offset, 10)
			b = append(b, `,"value":`...)
			b = AppendJSONString(b, r.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if op.Node != "" {
		b = append(b, `,"node":`...)
		b = AppendJSONString(b, op.Node)
	}
	if op.Error != "" {
		b = append(b, `,"error":`...)
		b = AppendJSONString(b, op.Error)
	}
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, int64(op.Time), 10)
	if op.Fault != nil {
		// Fault ops are rare: the standard encoder is fine here.
		fb, err := json.Marshal(op.Fault)
		if err == nil {
			b = append(b, `,"fault":`...)
			b = append(b, fb...)
		}
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, and <, >, &, DEL and U+2028/9 are escaped, so that a value can
// never close a <script> block or break a script in a report that embeds
// history values.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// opJSON is the decoding shadow of Op: it tells a missing offset from 0.
type opJSON struct {
	Index   int64         `json:"index"`
	Process int           `json:"process"`
	Type    string        `json:"type"`
	F       F             `json:"f"`
	Stream  string        `json:"stream"`
	Value   string        `json:"value"`
	Offset  *int64        `json:"offset"`
	Reads   []Read        `json:"reads"`
	Node    string        `json:"node"`
	Error   string        `json:"error"`
	Time    time.Duration `json:"time"`
	Fault   *Fault        `json:"fault"`
}

// UnmarshalJSON reads the format AppendJSON writes.
func (op *Op) UnmarshalJSON(data []byte) error {
	var j opJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	t, err := ParseType(j.Type)
	if err != nil {
		return err
	}
	*op = Op{Index: j.Index, Process: j.Process, Type: t, F: j.F, Stream: j.Stream,
		Value: j.Value, Offset: NoOffset, Reads: j.Reads, Node: j.Node, Error: j.Error,
		Time: j.Time, Fault: j.Fault}
	if j.Offset != nil {
		op.Offset = *j.Offset
	}
	return nil
}

// MarshalJSON writes the same line as AppendJSON, without the newline.
func (op Op) MarshalJSON() ([]byte, error) {
	b := AppendJSON(nil, op)
	return b[:len(b)-1], nil
}

// ReadInfo says what Decode found besides the operations.
type ReadInfo struct {
	// Lines is the number of complete lines decoded.
	Lines int
	// Torn is set when the last line was cut short, as a harness killed in
	// the middle of a write leaves it; that line is dropped.
	Torn bool
}

// Decode reads a JSONL history. A torn last line (no newline at the end and
// not valid JSON) is tolerated and reported in ReadInfo; a bad line anywhere
// else is an error that names its line number.
func Decode(r io.Reader) ([]Op, ReadInfo, error) {
	var (
		ops  []Op
		info ReadInfo
	)
	br := bufio.NewReaderSize(r, 1<<20)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && errors.Is(err, io.EOF) {
			return ops, info, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return ops, info, fmt.Errorf("read history line %d: %w", line, err)
		}
		last := errors.Is(err, io.EOF) // no newline: the final, maybe torn, line
		if len(bytes.TrimSpace(b)) == 0 {
			if last {
				return ops, info, nil
			}
			continue
		}
		var op Op
		if jerr := json.Unmarshal(b, &op); jerr != nil {
			if last {
				info.Torn = true
				return ops, info, nil
			}
			return ops, info, fmt.Errorf("history line %d: %w", line, jerr)
		}
		ops = append(ops, op)
		info.Lines++
		if last {
			return ops, info, nil
		}
	}
}

// ReadFile decodes the history stored at path.
func ReadFile(path string) ([]Op, ReadInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ReadInfo{}, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	ops, info, err := Decode(f)
	if err != nil {
		return ops, info, fmt.Errorf("%s: %w", path, err)
	}
	return ops, info, nil
}

// Encode writes ops as JSONL.
func Encode(w io.Writer, ops []Op) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for _, op := range ops {
		buf = AppendJSON(buf[:0], op)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
