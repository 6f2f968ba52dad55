package checkers

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testStream struct {
	name string
	id   int32
}

func newTestStream(name string, id int32) *testStream { return &testStream{name: name, id: id} }

// TestStreamSet finds each stream again through the cache and through the
// map, numbers them in order of first appearance, and sorts them by name,
// including names that share a cache slot.
func TestStreamSet(t *testing.T) {
	var s streamSet[testStream]
	// 600 names share 256 cache slots: the cache must compare names.
	var names []string
	for i := range 600 {
		names = append(names, fmt.Sprintf("s-%d", 599-i))
	}
	slots := map[uint8]int{}
	for _, n := range names {
		slots[nameSlot(n)]++
	}
	require.Less(t, len(slots), len(names), "the names must collide in the cache for this test")

	for round := range 3 {
		for i, n := range names {
			st := s.get(n, newTestStream)
			require.Equal(t, n, st.name, "round %d", round)
			require.Equal(t, int32(i), st.id, "round %d: ids are the order of first appearance", round)
		}
	}
	require.Len(t, s.list, len(names))
	sorted := s.sorted()
	require.Len(t, sorted, len(names))
	for i := 1; i < len(sorted); i++ {
		assert.Less(t, sorted[i-1].name, sorted[i].name)
	}
	assert.Same(t, s.byName["s-7"], s.get("s-7", newTestStream))
}

// TestProcTable pairs completions with the invoke of their own process
// only, and says when there was none.
func TestProcTable(t *testing.T) {
	var p procTable
	o := p.invoke(3, 10)
	o.stream, o.val = 2, 5
	p.invoke(1<<30, 11) // beyond the dense range
	assert.Equal(t, openOp{}, p.complete(4), "process 4 invoked nothing")
	assert.Equal(t, openOp{pos: 12, val: -1}, p.complete(1<<30))
	assert.Equal(t, openOp{pos: 11, stream: 2, val: 5}, p.complete(3))
	assert.Equal(t, openOp{}, p.complete(3), "a completion closes the op")
}
