package checkers

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/riptidechaos/riptide/history"
)

// The checkers index histories of millions of operations. These containers
// keep that cheap: values are looked up by an integer key when they have the
// workload's "W-N" form, and per-value and per-offset records live in
// fixed-size chunks, so growing never copies (allocation stays close to what
// is kept).

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// store is an append-only vector of T in fixed-size chunks.
type store[T any] struct {
	chunks [][]T
	n      int32
}

func (s *store[T]) add(v T) int32 {
	if int(s.n)>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, 0, chunkSize))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, v)
	s.n++
	return s.n - 1
}

func (s *store[T]) at(i int32) *T { return &s.chunks[i>>chunkBits][i&chunkMask] }

func (s *store[T]) len() int32 { return s.n }

// valueKey packs a value of the form "W-N" (decimal, no sign, no leading
// zeros, W < 2^31, N < 2^32) into one integer. ok is false for anything
// else, which then goes through a string map: the packing must be
// one-to-one, so "07-1" is not "7-1". It runs for every message read, so
// it is written for speed.
func valueKey(s string) (key uint64, ok bool) {
	n := len(s)
	var w, v uint64
	i := 0
	for ; i < n; i++ {
		c := s[i] - '0'
		if c > 9 {
			break
		}
		w = w*10 + uint64(c)
	}
	if i == 0 || i > 10 || i+1 >= n || s[i] != '-' || (s[0] == '0' && i > 1) || w > math.MaxInt32 {
		return 0, false
	}
	j := i + 1
	if n-j > 10 || (s[j] == '0' && n-j > 1) {
		return 0, false
	}
	for k := j; k < n; k++ {
		c := s[k] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	if v > math.MaxUint32 {
		return 0, false
	}
	return w<<32 | v, true
}

// noKey is the key of a value that is not of the "W-N" form: no valueKey
// has its top bit set.
const noKey = uint64(1) << 63

// valueIndex maps the values of one stream that the keyTable does not
// hold to their ids.
type valueIndex struct {
	byKey  map[uint64]int32
	byName map[string]int32
}

// idKey returns the id of value s (with valueKey k, ok), giving it next
// when it is new.
func (x *valueIndex) idKey(s string, k uint64, ok bool, next int32) (id int32, created bool) {
	if ok {
		if id, found := x.byKey[k]; found {
			return id, false
		}
		if x.byKey == nil {
			x.byKey = make(map[uint64]int32)
		}
		x.byKey[k] = next
		return next, true
	}
	if id, found := x.byName[s]; found {
		return id, false
	}
	if x.byName == nil {
		x.byName = make(map[string]int32)
	}
	x.byName[s] = next
	return next, true
}

// keyTable finds values of the "W-N" form by position instead of by
// hash: each worker W counts its values N up from 1, so a table per worker
// indexed by N is dense, and a worker's sends walk it in order. A slot
// names the stream and value id that first claimed W-N; a value of another
// stream with the same W-N (per-stream counters) falls back to that
// stream's map, as do workers and counters too large to index densely.
type keyTable struct {
	workers [][][]keySlot // W -> chunks of slots indexed by N
}

type keySlot struct {
	stream int32 // stream id + 1; 0 when free
	id     int32
}

const (
	maxDenseWorker  = 4096
	maxDenseCounter = 1 << 31
)

// slot returns the slot of key k, or nil when k is not indexed densely.
func (t *keyTable) slot(k uint64) *keySlot {
	w, n := int(k>>32), int(k&0xffffffff)
	if w >= maxDenseWorker || n >= maxDenseCounter {
		return nil
	}
	if w >= len(t.workers) {
		t.workers = append(t.workers, make([][][]keySlot, w+1-len(t.workers))...)
	}
	chunks := t.workers[w]
	c := n >> chunkBits
	if c >= len(chunks) {
		// A counter far past what the worker has used is not its
		// sequence (a forged value): keep it out of the table.
		if c > len(chunks)+maxDenseJump>>chunkBits {
			return nil
		}
		chunks = append(chunks, make([][]keySlot, c+1-len(chunks))...)
		t.workers[w] = chunks
	}
	if chunks[c] == nil {
		chunks[c] = make([]keySlot, chunkSize)
	}
	return &chunks[c][n&chunkMask]
}

// intern finds the id of value s (with key k when ok) in the stream with
// id stream: through the dense table when it can, else through the
// stream's own index. A value not seen before gets next, and created says
// so: the caller then adds its record.
func (t *keyTable) intern(ids *valueIndex, stream int32, s string, k uint64, ok bool, next int32) (id int32, created bool) {
	var slot *keySlot
	if ok {
		slot = t.slot(k)
	}
	switch {
	case slot != nil && slot.stream == 0:
		*slot = keySlot{stream: stream + 1, id: next}
		return next, true
	case slot != nil && slot.stream == stream+1:
		return slot.id, false
	}
	return ids.idKey(s, k, ok, next)
}

// obsRef is the first value seen at an offset.
type obsRef struct {
	val int32 // value id + 1; 0 when nothing was seen at the offset
	pos int32 // position in the history of the op that showed it
	// readPos is the position + 1 of the first read that returned this
	// offset; 0 when only an ack showed it.
	readPos int32
	// reported marks an offset whose conflict was already reported.
	reported bool
}

// offsetTable maps the offsets of one stream to what was seen there. Offsets
// are dense for the logs riptide tests, so they index chunks directly; far
// or negative offsets (a corrupt history) go to a map.
type offsetTable struct {
	dense  [][]obsRef
	sparse map[int64]*obsRef
	// min and max are the smallest and largest offsets with a value.
	min, max int64
	any      bool
}

// maxDense bounds how far past the known offsets the chunks may grow for
// one new offset, so that a forged offset of 2^40 costs a map entry, not
// terabytes.
const maxDenseJump = 1 << 20

func (t *offsetTable) ref(o int64, create bool) *obsRef {
	// An offset that once went to the map stays there, even after the
	// chunks grow to cover it.
	if t.sparse != nil {
		if r, ok := t.sparse[o]; ok {
			return r
		}
	}
	if o >= 0 && o < math.MaxInt32 {
		c := int(o >> chunkBits)
		if c < len(t.dense) && t.dense[c] != nil {
			return &t.dense[c][o&chunkMask]
		}
		if !create {
			return nil
		}
		if c < len(t.dense) || c <= len(t.dense)+maxDenseJump>>chunkBits {
			for len(t.dense) <= c {
				t.dense = append(t.dense, nil)
			}
			t.dense[c] = make([]obsRef, chunkSize)
			return &t.dense[c][o&chunkMask]
		}
	}
	if !create {
		return nil
	}
	if t.sparse == nil {
		t.sparse = make(map[int64]*obsRef)
	}
	r := &obsRef{}
	t.sparse[o] = r
	return r
}

// get returns what was seen at o (the zero obsRef when nothing).
func (t *offsetTable) get(o int64) obsRef {
	if r := t.ref(o, false); r != nil {
		return *r
	}
	return obsRef{}
}

// note widens [min, max] to cover o.
func (t *offsetTable) note(o int64) {
	if !t.any {
		t.min, t.max, t.any = o, o, true
		return
	}
	t.min = min(t.min, o)
	t.max = max(t.max, o)
}

// each calls f for every offset with a value, in increasing order when up,
// decreasing otherwise, until f returns false.
func (t *offsetTable) each(up bool, f func(o int64, r *obsRef) bool) {
	t.walk(math.MinInt64, math.MaxInt64, up, f)
}

// inRange calls f for every offset with a value in (lo, hi), increasing,
// until f returns false.
func (t *offsetTable) inRange(lo, hi int64, f func(o int64, r *obsRef) bool) {
	if hi == math.MinInt64 || lo >= hi-1 {
		return
	}
	t.walk(lo+1, hi-1, true, f)
}

// walk visits the offsets with a value in [lo, hi], merging the chunks with
// the map.
func (t *offsetTable) walk(lo, hi int64, up bool, f func(o int64, r *obsRef) bool) {
	if !t.any {
		return
	}
	lo, hi = max(lo, t.min), min(hi, t.max)
	if lo > hi {
		return
	}
	var sparse []int64
	for o := range t.sparse {
		if o >= lo && o <= hi {
			sparse = append(sparse, o)
		}
	}
	slices.Sort(sparse)
	denseEnd := int64(len(t.dense)) << chunkBits // one past the chunks
	dlo, dhi := max(lo, 0), min(hi, denseEnd-1)
	if up {
		si := 0
		for o := dlo; o <= dhi; o++ {
			c := t.dense[o>>chunkBits]
			if c == nil {
				o |= chunkMask
				continue
			}
			for si < len(sparse) && sparse[si] < o {
				if !f(sparse[si], t.sparse[sparse[si]]) {
					return
				}
				si++
			}
			if r := &c[o&chunkMask]; r.val != 0 && !f(o, r) {
				return
			}
		}
		for ; si < len(sparse); si++ {
			if !f(sparse[si], t.sparse[sparse[si]]) {
				return
			}
		}
		return
	}
	si := len(sparse) - 1
	for o := dhi; o >= dlo; o-- {
		c := t.dense[o>>chunkBits]
		if c == nil {
			o &^= chunkMask
			continue
		}
		for si >= 0 && sparse[si] > o {
			if !f(sparse[si], t.sparse[sparse[si]]) {
				return
			}
			si--
		}
		if r := &c[o&chunkMask]; r.val != 0 && !f(o, r) {
			return
		}
	}
	for ; si >= 0; si-- {
		if !f(sparse[si], t.sparse[sparse[si]]) {
			return
		}
	}
}

// streamSet holds a scan's per-stream indexes (S), found by name, in order
// of first appearance. Consecutive ops mostly name the same few streams, so
// a small direct-mapped cache answers most lookups without hashing a name.
type streamSet[S any] struct {
	byName map[string]*S
	list   []*S
	names  []string // names[i] is the name of list[i]
	recent [256]struct {
		name string
		st   *S
	}
}

// get returns the index of the named stream, making it with create (given
// the name and the stream's id, its position in list) when it is new.
func (s *streamSet[S]) get(name string, create func(name string, id int32) *S) *S {
	slot := &s.recent[nameSlot(name)]
	if slot.st != nil && slot.name == name {
		return slot.st
	}
	st := s.byName[name]
	if st == nil {
		if s.byName == nil {
			s.byName = map[string]*S{}
		}
		st = create(name, int32(len(s.list)))
		s.byName[name] = st
		s.list = append(s.list, st)
		s.names = append(s.names, name)
	}
	slot.name, slot.st = name, st
	return st
}

// sorted lists the streams in order of name, for reports that must not
// depend on the order of the history.
func (s *streamSet[S]) sorted() []*S {
	idx := make([]int, len(s.list))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(s.names[a], s.names[b]) })
	out := make([]*S, len(idx))
	for i, j := range idx {
		out[i] = s.list[j]
	}
	return out
}

// nameSlot places a stream name in a small direct-mapped cache. Names of
// one run differ mostly in their length and last characters
// ("stream-7", "stream-12"), which is all it looks at.
func nameSlot(s string) uint8 {
	n := len(s)
	switch n {
	case 0:
		return 0
	case 1:
		return s[0]
	}
	return uint8(n*37) ^ s[n-1] ^ s[n-2]<<4
}

// nodeIDs numbers node names in order of first appearance.
type nodeIDs struct {
	ids   map[string]int
	names []string
}

func (n *nodeIDs) id(name string) int {
	// A cluster has a handful of nodes: a scan beats hashing the name.
	if len(n.names) <= 8 {
		for i, s := range n.names {
			if s == name {
				return i
			}
		}
	}
	if id, ok := n.ids[name]; ok {
		return id
	}
	if n.ids == nil {
		n.ids = make(map[string]int)
	}
	n.ids[name] = len(n.names)
	n.names = append(n.names, name)
	return len(n.names) - 1
}

// procTable tracks, per process, the operation it has in flight.
type procTable struct {
	dense  []openOp
	sparse map[int]*openOp
}

// openOp is an invoke waiting for its completion.
type openOp struct {
	pos    int32 // position of the invoke + 1; 0 when none is open
	stream int32
	val    int32
}

const maxDenseProcess = 1 << 20

// invoke notes that process invoked the op at pos, forgetting any op it had
// left open, and returns the record so that a send can note its value (val
// stays -1 for an op that names none).
func (p *procTable) invoke(process int, pos int32) *openOp {
	o := p.get(process)
	*o = openOp{pos: pos + 1, val: -1}
	return o
}

// complete closes process's open op and returns it; its pos is 0 when no
// invoke was open (a history cut at the start).
func (p *procTable) complete(process int) openOp {
	o := p.get(process)
	done := *o
	*o = openOp{}
	return done
}

func (p *procTable) get(process int) *openOp {
	if process >= 0 && process < maxDenseProcess {
		for len(p.dense) <= process {
			p.dense = append(p.dense, openOp{})
		}
		return &p.dense[process]
	}
	if r, ok := p.sparse[process]; ok {
		return r
	}
	if p.sparse == nil {
		p.sparse = make(map[int]*openOp)
	}
	r := &openOp{}
	p.sparse[process] = r
	return r
}

// infinity stands for the return time of an operation that never returned
// (info or still pending): it may take effect at any later time.
const infinity = math.MaxInt64

// noOffset is history.NoOffset under a shorter name.
const noOffset = history.NoOffset

// spell is the text of value id: from names (values only read), else from
// the first op at the given positions (-1 for none) that carries it.
func spell(h []history.Op, names map[int32]string, id int32, pos ...int32) string {
	if s, ok := names[id]; ok {
		return s
	}
	for _, p := range pos {
		if p >= 0 {
			return h[p].Value
		}
	}
	return fmt.Sprintf("value#%d", id)
}

// opIndex is the index of the op at position pos of h, -1 for none.
func opIndex(h []history.Op, pos int32) int64 {
	if pos < 0 {
		return -1
	}
	return h[pos].Index
}

// opIndices lists the indices of the ops at the given positions of h, in
// the order given, skipping missing positions (-1) and repeats: an example
// names each op once, in the order its message proves the anomaly in.
func opIndices(h []history.Op, pos ...int32) []int64 {
	var out []int64
	for _, p := range pos {
		if p < 0 {
			continue
		}
		if i := h[p].Index; !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}
