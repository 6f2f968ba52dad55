package reports

import (
	"fmt"
	"strings"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/history"
)

// Headline says the verdict in one sentence.
func (r *Results) Headline() string {
	switch {
	case r.Stopped != "":
		return "The run could not go on, so nothing can be concluded: " + sentence(r.Stopped)
	case r.Interrupted:
		if r.Verdict == checkers.Invalid {
			return "The run was interrupted, but a guarantee had already broken: " + sentence(orElse(r.why(), "see the anomalies"))
		}
		return "The run was interrupted before the heal and the final drain, so nothing can be concluded."
	case r.Verdict == checkers.Valid:
		head := fmt.Sprintf("Every expectation held: %d acknowledged sends, %s injected", r.Acked, plural(r.faultsInjected(), "fault"))
		var tolerated []string
		for _, e := range r.Expectations {
			if info := kindInfo(r, e.Kind); e.Count > 0 && !info.Counted && info.Parent == "" {
				tolerated = append(tolerated, fmt.Sprintf("%d %s", e.Count, e.Kind))
			}
		}
		if len(tolerated) > 0 {
			return head + "; found, within what the scenario allows: " + strings.Join(tolerated, ", ") + "."
		}
		return head + ", nothing lost, duplicated or corrupted."
	case r.Verdict == checkers.Invalid:
		return "A guarantee broke: " + sentence(orElse(r.why(), "a checker found an anomaly the scenario does not allow"))
	default:
		return "Nothing was proven wrong, but the run could not prove the guarantees held: " +
			sentence(orElse(r.why(), "the verdict is unknown"))
	}
}

// why says what made the verdict, naming the checkers: "the queue checker
// found 1 lost". Reason says the same in the form "queue: 1 lost", which reads
// well in a log but not in a sentence; a reason the runner set itself
// (harness problems) has no checker to name and is used as it is.
func (r *Results) why() string {
	var parts []string
	for _, c := range r.Checkers {
		switch {
		case c.Reason == "" || c.Verdict == checkers.Valid:
		case c.Error != "":
			parts = append(parts, c.Reason)
		default:
			parts = append(parts, "the "+c.Checker+" checker found "+c.Reason)
		}
	}
	own := r.Reason
	for _, c := range r.Checkers {
		if c.Reason != "" {
			own = strings.TrimPrefix(strings.TrimPrefix(own, c.Checker+": "+c.Reason), "; ")
		}
	}
	if own != "" {
		parts = append(parts, own)
	}
	return strings.Join(parts, "; ")
}

func (r *Results) faultsInjected() int {
	n := 0
	for _, f := range r.Faults {
		if f.F == history.FaultStart && f.Error == "" {
			n++
		}
	}
	return n
}

// plural writes "1 fault", "3 faults".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
