package reports

import (
	"fmt"

	"github.com/riptidechaos/riptide/checkers"
)

// Exit statuses of riptide run and riptide check (DESIGN.md).
const (
	ExitValid   = 0
	ExitInvalid = 1
	ExitUnknown = 2
	ExitHarness = 3
)

// FailOn is the CI gate's policy: the least bad verdict that fails the build.
type FailOn string

const (
	// FailOnUnknown (the default) fails the build on every verdict but
	// valid: a run that could not prove the guarantees held (a drain cut
	// short, a checker out of time, a fault the harness could not apply) is
	// not a pass. Exit 1 for invalid, 2 for unknown, as DESIGN.md says.
	FailOnUnknown FailOn = "unknown"
	// FailOnInvalid fails the build only on a proven violation: an unknown
	// verdict exits 0, and junit.xml and summary.md still say unknown. For
	// pipelines on noisy shared runners, where an unproven run should warn
	// rather than block a merge.
	FailOnInvalid FailOn = "invalid"
)

// DefaultFailOn is the policy when --fail-on is not given.
const DefaultFailOn = FailOnUnknown

// ParseFailOn reads a --fail-on value; empty is the default.
func ParseFailOn(s string) (FailOn, error) {
	switch FailOn(s) {
	case "":
		return DefaultFailOn, nil
	case FailOnUnknown, FailOnInvalid:
		return FailOn(s), nil
	}
	return "", fmt.Errorf("--fail-on %q: allowed: %s (default), %s", s, FailOnUnknown, FailOnInvalid)
}

// ExitCode is the exit status of a run under a policy. An interrupted run
// exits 3 whatever it found: it did not run to its end, and a pipeline
// must not mistake a cancelled job for a verdict. Otherwise 0 valid,
// 1 invalid, 2 unknown, except that FailOnInvalid turns unknown into 0.
func ExitCode(v checkers.Verdict, interrupted bool, failOn FailOn) int {
	if interrupted {
		return ExitHarness
	}
	switch v {
	case checkers.Valid:
		return ExitValid
	case checkers.Invalid:
		return ExitInvalid
	default:
		if failOn == FailOnInvalid {
			return ExitValid
		}
		return ExitUnknown
	}
}

// ExitCode is the exit status of these results under a policy.
func (r *Results) ExitCode(failOn FailOn) int {
	return ExitCode(r.Verdict, r.Interrupted, failOn)
}
