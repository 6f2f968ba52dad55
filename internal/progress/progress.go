// Package progress shows how a run is going while it runs: on a terminal, a
// single status line redrawn in place under the log lines; anywhere else
// (CI logs, a pipe), a plain status line every few seconds of run time.
//
// The terminal is detected with golang.org/x/term, which also gives its
// width so that the status line never wraps (a wrapped line cannot be
// redrawn with a carriage return). The line itself is a few lines of code:
// a progress-bar library would bring its own render goroutine and its own
// idea of interleaving log output, which is the part that matters here.
package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Status is the state of a run, as the runner knows it.
type Status struct {
	// Phase is the run's phase: launch, main, heal, drain, check, report.
	Phase string
	// Elapsed is the time spent in the run so far (the history's clock);
	// Remaining the time left in the phase, 0 when unknown or unbounded.
	Elapsed   time.Duration
	Remaining time.Duration
	// Acked counts acknowledged sends so far; Failed the sends that failed
	// or ended unknown. The acknowledged rate is derived from Acked.
	Acked  int64
	Failed int64
	// SendsStopped is set once the workload has stopped sending (the
	// phases after the main one): no rate is shown, since none is going on.
	SendsStopped bool
	// ActiveFaults names the faults in effect ("f2 partition n2").
	ActiveFaults []string
	// Anomalies found so far, when the runner checks as it goes; negative
	// when it does not (nothing is shown).
	Anomalies int
}

// DefaultInterval is how often, in run time, a plain status line is
// written when the output is not a terminal.
const DefaultInterval = 5 * time.Second

// Progress renders Status updates and log lines to one writer. It is safe
// for concurrent use and implements io.Writer, so that it can be the
// runner's log: each complete line written goes through Log.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	width    func() int
	interval time.Duration

	status  Status
	has     bool
	drawn   bool // a status line is on screen (terminal)
	printed Status
	anyLine bool // a plain status line was written
	rate    rateMeter
	partial []byte
	closed  bool
}

// Option configures a Progress.
type Option func(*Progress)

// WithTerminal overrides terminal detection, with the width to draw in.
func WithTerminal(tty bool, width int) Option {
	return func(p *Progress) {
		p.tty = tty
		p.width = func() int { return width }
	}
}

// WithInterval sets how often, in run time, plain status lines are written.
func WithInterval(d time.Duration) Option {
	return func(p *Progress) { p.interval = d }
}

// Terminal reports whether w is a terminal a status line is redrawn on:
// a terminal, and TERM is not "dumb".
func Terminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && os.Getenv("TERM") != "dumb" && term.IsTerminal(int(f.Fd()))
}

// ClearLine is what erases a status line drawn on a terminal, for a
// message written past the Progress (a signal handler's).
const ClearLine = "\r\x1b[2K"

// New writes progress to w, redrawing a status line in place when w is a
// terminal (and TERM is not "dumb").
func New(w io.Writer, opts ...Option) *Progress {
	p := &Progress{w: w, interval: DefaultInterval, width: func() int { return 80 }}
	if Terminal(w) {
		fd := int(w.(interface{ Fd() uintptr }).Fd())
		p.tty = true
		p.width = func() int {
			if w, _, err := term.GetSize(fd); err == nil && w > 0 {
				return w
			}
			return 80
		}
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Terminal reports whether the status line is drawn in place.
func (p *Progress) Terminal() bool { return p.tty }

// Update records the run's status. On a terminal the status line is
// redrawn; otherwise a plain line is written when the phase changed or
// Interval of run time passed since the last one.
func (p *Progress) Update(s Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.rate.add(s.Elapsed, s.Acked)
	p.status, p.has = s, true
	if p.tty {
		p.draw()
		return
	}
	if !p.anyLine || s.Phase != p.printed.Phase || s.Elapsed-p.printed.Elapsed >= p.interval {
		fmt.Fprintf(p.w, "riptide: %s\n", p.line(false, false))
		p.printed, p.anyLine = s, true
	}
}

// Log writes one line above the status line.
func (p *Progress) Log(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logLocked(strings.TrimRight(line, "\n"))
}

func (p *Progress) logLocked(line string) {
	if p.tty && p.drawn {
		io.WriteString(p.w, ClearLine)
		p.drawn = false
	}
	io.WriteString(p.w, line+"\n")
	if p.tty && p.has && !p.closed {
		p.draw()
	}
}

// Write logs every complete line of b; an incomplete last line waits for
// the rest (or for Close).
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.logLocked(string(p.partial[:i]))
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

// Close removes the status line from a terminal and writes any incomplete
// log line. Later updates are ignored; later log lines are written plainly.
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.tty && p.drawn {
		io.WriteString(p.w, ClearLine)
		p.drawn = false
	}
	p.closed = true
	if len(p.partial) > 0 {
		p.logLocked(string(p.partial))
		p.partial = nil
	}
}

// draw replaces the terminal's current line with the status, fitted to
// the terminal's width: the bar goes first, then the long wording, so that
// the faults in effect and the anomalies stay in sight; what still does
// not fit is cut.
func (p *Progress) draw() {
	width := p.width() - 1
	line := p.line(true, false)
	for _, compact := range []bool{false, true} {
		if utf8.RuneCountInString(line) <= width {
			break
		}
		line = p.line(false, compact)
	}
	if utf8.RuneCountInString(line) > width && width > 1 {
		r := []rune(line)
		line = string(r[:width-1]) + "…"
	}
	io.WriteString(p.w, ClearLine+line)
	p.drawn = true
}

const barWidth = 16

// line formats the status: "main ▕█████░░░▏ 12s/45s, 33s left │ acked
// 1234 (310/s), 2 failed or unknown │ faults: f2 partition n2 │ anomalies
// 0"; compact, for a narrow terminal: "main 12s/45s, acked 1234 (310/s),
// 2 failed, anomalies 0, faults: f2 partition n2".
func (p *Progress) line(bar, compact bool) string {
	s := p.status
	var parts []string
	head := orDash(s.Phase)
	total := s.Elapsed + s.Remaining
	if s.Remaining > 0 && bar {
		done := int(float64(barWidth) * float64(s.Elapsed) / float64(total))
		done = min(max(done, 0), barWidth)
		head += " ▕" + strings.Repeat("█", done) + strings.Repeat("░", barWidth-done) + "▏"
	}
	head += " " + short(s.Elapsed)
	switch {
	case s.Remaining > 0 && compact:
		head += "/" + short(total)
	case s.Remaining > 0:
		head += fmt.Sprintf("/%s, %s left", short(total), short(s.Remaining))
	}
	parts = append(parts, head)
	acked := fmt.Sprintf("acked %d", s.Acked)
	if r, ok := p.rate.perSecond(); ok && !s.SendsStopped {
		acked += fmt.Sprintf(" (%.0f/s)", r)
	}
	switch {
	case s.Failed > 0 && compact:
		acked += fmt.Sprintf(", %d failed", s.Failed)
	case s.Failed > 0:
		acked += fmt.Sprintf(", %d failed or unknown", s.Failed)
	}
	parts = append(parts, acked)
	switch {
	case len(s.ActiveFaults) > 0:
		parts = append(parts, "faults: "+strings.Join(s.ActiveFaults, ", "))
	case compact:
		parts = append(parts, "no fault")
	default:
		parts = append(parts, "no active fault")
	}
	if s.Anomalies >= 0 {
		parts = append(parts, fmt.Sprintf("anomalies %d", s.Anomalies))
		if compact {
			// Short, and kept in sight: a long fault list is cut instead.
			n := len(parts)
			parts[n-1], parts[n-2] = parts[n-2], parts[n-1]
		}
	}
	sep := ", "
	if bar {
		sep = " │ "
	}
	return strings.Join(parts, sep)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short rounds a duration for a status line: 12s, 1m05s.
func short(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return d.String()
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// rateWindow is the span of run time the acknowledged rate is measured
// over: long enough to smooth a batch of acknowledgements, short enough to
// show a partition within a couple of seconds.
const rateWindow = 3 * time.Second

// rateMeter derives a rate from cumulative counts sampled at run times.
type rateMeter struct {
	samples []sample
}

type sample struct {
	at time.Duration
	n  int64
}

func (m *rateMeter) add(at time.Duration, n int64) {
	if k := len(m.samples); k > 0 && (at < m.samples[k-1].at || n < m.samples[k-1].n) {
		m.samples = m.samples[:0] // a new phase or a reset counter
	}
	m.samples = append(m.samples, sample{at, n})
	// Keep one sample at or before the window's start.
	for len(m.samples) > 2 && m.samples[1].at <= at-rateWindow {
		m.samples = m.samples[1:]
	}
}

func (m *rateMeter) perSecond() (float64, bool) {
	if len(m.samples) < 2 {
		return 0, false
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	dt := last.at - first.at
	if dt < 500*time.Millisecond {
		return 0, false
	}
	return float64(last.n-first.n) / dt.Seconds(), true
}
