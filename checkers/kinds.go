package checkers

// Kind names an anomaly.
type Kind string

const (
	Lost               Kind = "lost"
	Unseen             Kind = "unseen"
	Unexpected         Kind = "unexpected"
	Duplicate          Kind = "duplicate"
	InconsistentOffset Kind = "inconsistent-offset"
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
}

// Kinds lists every anomaly kind the checkers report, in report order.
var Kinds = []KindInfo{
	{Lost, "an acknowledged send that no read returned, after a drain that reached the end of the stream", true},
	{Unseen, "an acknowledged send not read because the drain was cut short: not proof of loss", false},
	{Unexpected, "a read returned a value that no client ever tried to send", true},
	{Duplicate, "one value was read at more than one offset", true},
	{InconsistentOffset, "one offset was read with two different values, across readers or nodes", true},
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

// KindNames lists the kind names, for validation messages.
func KindNames() []string {
	names := make([]string, len(Kinds))
	for i, info := range Kinds {
		names[i] = string(info.Kind)
	}
	return names
}
