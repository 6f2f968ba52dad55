package history

// Pairs returns, for each position i in ops, the position of its partner:
// the completion of an invoke, or the invoke of a completion. It is -1 for an
// invoke that never completed (the run ended first) and for nemesis ops.
// ops must be in recorded order.
func Pairs(ops []Op) []int {
	pair := make([]int, len(ops))
	open := make(map[int]int) // process -> position of its open invoke
	for i, op := range ops {
		pair[i] = -1
		if op.Process == NemesisProcess {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = i
			continue
		}
		if j, ok := open[op.Process]; ok {
			pair[i], pair[j] = j, i
			delete(open, op.Process)
		}
	}
	return pair
}
