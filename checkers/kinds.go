package checkers

// Kind names an anomaly.
type Kind string

const (
	// Lost is the total of the three lost-* kinds: an acknowledged send
	// that no read returned after a complete drain.
	Lost        Kind = "lost"
	LostPrefix  Kind = "lost-prefix"
	LostMiddle  Kind = "lost-middle"
	LostPostfix Kind = "lost-postfix"
	Unseen      Kind = "unseen"
	Unexpected  Kind = "unexpected"
	Duplicate   Kind = "duplicate"
	// InconsistentOffset: one offset read (or acknowledged) with two values.
	InconsistentOffset Kind = "inconsistent-offset"
	AbortedRead        Kind = "aborted-read"
	NonmonotonicSend   Kind = "nonmonotonic-send"
	NonmonotonicPoll   Kind = "nonmonotonic-poll"
	PollSkip           Kind = "poll-skip"
	LostOnNode         Kind = "lost-on-node"
	Nonlinearizable    Kind = "nonlinearizable"
	// Unexercised: too little traffic before the first fault.
	Unexercised Kind = "unexercised"
	// Recovered is counted, never judged: an info send that was read.
	Recovered Kind = "recovered"
)

// KindInfo defines an anomaly kind for users: results.json and the report
// carry the definition next to the count.
type KindInfo struct {
	Kind       Kind   `json:"kind"`
	Definition string `json:"definition"`
	// Proof is true when one anomaly of this kind proves a guarantee broke
	// (the verdict is invalid); false when it only leaves the run unproven
	// (unknown), as for unseen messages after a drain that was cut short.
	Proof bool `json:"proof"`
	// Parent is the kind this one refines: every lost-prefix is also
	// counted as lost. An expectation on the parent covers its children.
	Parent Kind `json:"parent,omitempty"`
	// Counted kinds are facts worth a number, not anomalies: Judge never
	// turns them into a verdict (recovered sends).
	Counted bool `json:"counted,omitempty"`
}

// Kinds lists every kind the checkers report, in report order.
var Kinds = []KindInfo{
	{Kind: Lost, Proof: true,
		Definition: "an acknowledged send that no read returned, after a drain that reached the end of the stream"},
	{Kind: LostPrefix, Proof: true, Parent: Lost,
		Definition: "a lost send that its producer made before its first send that was read"},
	{Kind: LostMiddle, Proof: true, Parent: Lost,
		Definition: "a lost send between two sends of the same producer that were read"},
	{Kind: LostPostfix, Proof: true, Parent: Lost,
		Definition: "a lost send that its producer made after its last send that was read (or none of its sends was read)"},
	{Kind: Unseen,
		Definition: "an acknowledged send not read because the drain was cut short: not proof of loss"},
	{Kind: Unexpected, Proof: true,
		Definition: "a read returned a value that no client ever tried to send"},
	{Kind: Duplicate, Proof: true,
		Definition: "one value was read (or acknowledged) at more than one offset"},
	{Kind: InconsistentOffset, Proof: true,
		Definition: "one offset was read (or acknowledged) with two different values, across readers or nodes"},
	{Kind: AbortedRead, Proof: true,
		Definition: "a read returned a value whose send definitely failed"},
	{Kind: NonmonotonicSend, Proof: true,
		Definition: "send A was acknowledged before send B began, yet A's offset is greater than B's"},
	{Kind: NonmonotonicPoll, Proof: true,
		Definition: "an ordered reader (the drain, a per-node reader) read an offset at or below one it had already read, with no re-subscribe in between"},
	{Kind: PollSkip, Proof: true,
		Definition: "an ordered reader jumped over an offset that other reads show holds a value, and never read it"},
	{Kind: LostOnNode, Proof: true,
		Definition: "a value read elsewhere is missing from a node whose per-node read reached the end of its log (divergence, split brain)"},
	{Kind: Nonlinearizable, Proof: true,
		Definition: "the stream's log cannot be ordered to agree with real time, the acknowledged offsets and every read"},
	{Kind: Unexercised,
		Definition: "too few sends were acknowledged before the first fault: the faults never met traffic"},
	{Kind: Recovered, Counted: true,
		Definition: "a send with an unknown outcome (info) that a read returned: it did happen; counted, not an anomaly"},
}

// KindInfoOf looks a kind up.
func KindInfoOf(k Kind) (KindInfo, bool) {
	for _, info := range Kinds {
		if info.Kind == k {
			return info, true
		}
	}
	return KindInfo{}, false
}

// KindNames lists the kinds a scenario's expect: block may name. Counted
// kinds (recovered) are left out: Judge never judges them, so an allowance
// for one would be a promise the checkers do not keep.
func KindNames() []string {
	names := make([]string, 0, len(Kinds))
	for _, info := range Kinds {
		if !info.Counted {
			names = append(names, string(info.Kind))
		}
	}
	return names
}

// children lists the kinds that refine k.
func children(k Kind) []Kind {
	var out []Kind
	for _, info := range Kinds {
		if info.Parent == k {
			out = append(out, info.Kind)
		}
	}
	return out
}
