package progress_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/internal/progress"
)

const clear = "\r\x1b[2K"

func TestPlainLinesFollowRunTimeAndPhases(t *testing.T) {
	var out bytes.Buffer
	p := progress.New(&out, progress.WithInterval(5*time.Second))
	require.False(t, p.Terminal(), "a buffer is not a terminal")
	steps := []struct {
		s     progress.Status
		print bool
	}{
		{progress.Status{Phase: "main", Elapsed: 1 * time.Second, Remaining: 44 * time.Second, Acked: 100, Anomalies: -1}, true},
		{progress.Status{Phase: "main", Elapsed: 2 * time.Second, Remaining: 43 * time.Second, Acked: 400, Anomalies: -1}, false},
		{progress.Status{Phase: "main", Elapsed: 5 * time.Second, Remaining: 40 * time.Second, Acked: 1300, Anomalies: -1}, false},
		{progress.Status{Phase: "main", Elapsed: 6 * time.Second, Remaining: 39 * time.Second, Acked: 1600,
			ActiveFaults: []string{"f2 partition n2"}, Anomalies: -1}, true},
		{progress.Status{Phase: "drain", Elapsed: 7 * time.Second, Acked: 1600, Anomalies: 2}, true},
	}
	for _, st := range steps {
		before := out.Len()
		p.Update(st.s)
		assert.Equal(t, st.print, out.Len() > before, "update at %s", st.s.Elapsed)
	}
	p.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "riptide: main 1s/45s, 44s left, acked 100, no active fault", lines[0])
	// 1300 more acknowledged over the 5 s of run time before 6 s.
	assert.Equal(t, "riptide: main 6s/45s, 39s left, acked 1600 (300/s), faults: f2 partition n2", lines[1])
	assert.Contains(t, lines[2], "riptide: drain 7s")
	assert.Contains(t, lines[2], "anomalies 2")
	assert.NotContains(t, out.String(), "\x1b", "no escape codes outside a terminal")
}

func TestTerminalRedrawsOneLineUnderTheLog(t *testing.T) {
	var out bytes.Buffer
	p := progress.New(&out, progress.WithTerminal(true, 200))
	p.Update(progress.Status{Phase: "main", Elapsed: 10 * time.Second, Remaining: 10 * time.Second, Acked: 50, Anomalies: 0})
	fmt.Fprintf(p, "riptide: fault-start f1 kill on [n1]\nriptide: par")
	fmt.Fprintf(p, "tial line\n")
	p.Update(progress.Status{Phase: "main", Elapsed: 11 * time.Second, Remaining: 9 * time.Second, Acked: 90, Anomalies: 0})
	p.Close()
	got := out.String()

	// Every log line first clears the status line, then the status line is
	// drawn again below it; Close clears it for good.
	first := "main ▕████████░░░░░░░░▏ 10s/20s, 10s left │ acked 50 │ no active fault │ anomalies 0"
	segments := strings.Split(got, clear)
	require.Len(t, segments, 8, "got %q", got)
	assert.Equal(t, []string{"", first, "riptide: fault-start f1 kill on [n1]\n", first, "riptide: partial line\n", first}, segments[:6])
	assert.Equal(t, "main ▕████████░░░░░░░░▏ 11s/20s, 9s left │ acked 90 (40/s) │ no active fault │ anomalies 0", segments[6])
	assert.Equal(t, "", segments[7], "Close clears the status line")
}

// On a terminal of 80 or 60 columns the bar and the long wording give way
// before the anomalies and the faults in effect do (a long fault list is
// cut last).
func TestNarrowTerminalKeepsFaultsAndAnomalies(t *testing.T) {
	st := progress.Status{Phase: "main", Elapsed: 7 * time.Second, Remaining: 13 * time.Second, Acked: 1302, Failed: 1,
		ActiveFaults: []string{"f2 partition n2"}, Anomalies: 0}
	for width, want := range map[int]string{
		80: "main 7s/20s, acked 1302, 1 failed, anomalies 0, faults: f2 partition n2",
		60: "main 7s/20s, acked 1302, 1 failed, anomalies 0, faults: f2…",
	} {
		var out bytes.Buffer
		p := progress.New(&out, progress.WithTerminal(true, width))
		p.Update(st)
		line := strings.TrimPrefix(out.String(), clear)
		assert.LessOrEqual(t, utf8.RuneCountInString(line), width-1, "width %d: %q", width, line)
		assert.Equal(t, want, line, "width %d", width)
	}
}

func TestTerminalLineNeverWraps(t *testing.T) {
	var out bytes.Buffer
	p := progress.New(&out, progress.WithTerminal(true, 40))
	p.Update(progress.Status{Phase: "main", Elapsed: time.Second, Remaining: time.Minute, Acked: 1,
		ActiveFaults: []string{"f1 partition n1", "f2 latency all links"}, Anomalies: -1})
	line := strings.TrimPrefix(out.String(), clear)
	assert.Equal(t, 39, utf8.RuneCountInString(line), "one column short of the width: %q", line)
	assert.True(t, strings.HasSuffix(line, "…"))
}

func TestUpdatesAfterCloseAreIgnored(t *testing.T) {
	var out bytes.Buffer
	p := progress.New(&out)
	p.Close()
	p.Update(progress.Status{Phase: "main"})
	p.Log("riptide: verdict VALID")
	assert.Equal(t, "riptide: verdict VALID\n", out.String())
}

func TestAFileThatIsNotATerminalGetsPlainLines(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	require.NoError(t, err)
	defer f.Close()
	p := progress.New(f)
	assert.False(t, p.Terminal())
}

// Once the workload has stopped sending (the heal, the drain), the status
// shows the counts but no rate: the last one measured is not going on.
func TestNoRateOnceSendsStopped(t *testing.T) {
	var out bytes.Buffer
	p := progress.New(&out, progress.WithInterval(time.Second))
	p.Update(progress.Status{Phase: "main", Elapsed: 43 * time.Second, Remaining: 2 * time.Second, Acked: 6000, Anomalies: -1})
	p.Update(progress.Status{Phase: "main", Elapsed: 44 * time.Second, Remaining: time.Second, Acked: 6300, Anomalies: -1})
	p.Update(progress.Status{Phase: "heal", Elapsed: 45 * time.Second, Acked: 6420, SendsStopped: true, Anomalies: -1})
	p.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "riptide: main 44s/45s, 1s left, acked 6300 (300/s), no active fault", lines[1])
	assert.Equal(t, "riptide: heal 45s, acked 6420, no active fault", lines[2])
}
