package reports_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/checkers"
	"github.com/riptidechaos/riptide/reports"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		verdict     checkers.Verdict
		interrupted bool
		failOn      reports.FailOn
		want        int
	}{
		{checkers.Valid, false, reports.FailOnUnknown, 0},
		{checkers.Invalid, false, reports.FailOnUnknown, 1},
		{checkers.Unknown, false, reports.FailOnUnknown, 2},
		{"", false, reports.FailOnUnknown, 2}, // no verdict proves nothing
		{checkers.Valid, false, reports.FailOnInvalid, 0},
		{checkers.Invalid, false, reports.FailOnInvalid, 1},
		{checkers.Unknown, false, reports.FailOnInvalid, 0}, // the point of --fail-on invalid
		{checkers.Valid, true, reports.FailOnUnknown, 3},
		{checkers.Invalid, true, reports.FailOnUnknown, 3},
		{checkers.Unknown, true, reports.FailOnInvalid, 3}, // interrupted is never a pass
	} {
		got := reports.ExitCode(tc.verdict, tc.interrupted, tc.failOn)
		assert.Equal(t, tc.want, got, "%s interrupted=%v --fail-on %s", tc.verdict, tc.interrupted, tc.failOn)
		r := &reports.Results{Verdict: tc.verdict, Interrupted: tc.interrupted}
		assert.Equal(t, tc.want, r.ExitCode(tc.failOn))
	}
}

func TestParseFailOn(t *testing.T) {
	for in, want := range map[string]reports.FailOn{"": reports.FailOnUnknown, "unknown": reports.FailOnUnknown, "invalid": reports.FailOnInvalid} {
		got, err := reports.ParseFailOn(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := reports.ParseFailOn("valid")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "allowed: unknown (default), invalid")
}
