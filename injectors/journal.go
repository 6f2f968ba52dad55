package injectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/riptidechaos/riptide/clusters/process"
)

// JournalFile is the heal journal's name in a run directory.
const JournalFile = "heal-journal.jsonl"

// Journal events, one JSON line each.
const (
	// EventBegin opens the journal: the platform and the run directory.
	EventBegin = "begin"
	// EventApply is written before a fault is applied, with what to undo.
	EventApply = "apply"
	// EventHealed: the fault's heal undid it.
	EventHealed = "healed"
	// EventTornDown: the cluster was torn down with the fault still on;
	// stopping every node and proxy undid it.
	EventTornDown = "torn-down"
	// EventCleaned: `riptide clean` undid it after the harness died.
	EventCleaned = "cleaned"
	// EventEnd: the run is over and left nothing behind.
	EventEnd = "end"
)

// Undo actions: what a fault does that could outlive a crashed harness.
const (
	// UndoToxic: a toxic on a link proxy (remove it).
	UndoToxic = "toxic"
	// UndoLinkDown: a link proxy turned off (turn it on).
	UndoLinkDown = "link-down"
	// UndoPause: a node process frozen with SIGSTOP (SIGCONT, or kill it).
	UndoPause = "pause"
	// UndoStopped: a node process killed or stopped, to be started again.
	UndoStopped = "stopped"
	// UndoFiles: data files changed on purpose; nothing undoes that, but
	// the journal says which.
	UndoFiles = "files"
)

// Undo is one thing a fault does that a crash of the harness would leave
// behind. Toxics record the proxy's listen address too: the docker
// platform's Toxiproxy outlives the harness and is found by address.
type Undo struct {
	Action string `json:"action"`
	Link   string `json:"link,omitempty"`
	Listen string `json:"listen,omitempty"`
	Toxic  string `json:"toxic,omitempty"`
	Node   string `json:"node,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Note   string `json:"note,omitempty"`
}

// JournalEntry is one line of the heal journal.
type JournalEntry struct {
	Time     time.Time         `json:"time"`
	Event    string            `json:"event"`
	ID       string            `json:"id,omitempty"`
	Kind     string            `json:"kind,omitempty"`
	Targets  []string          `json:"targets,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	Undo     []Undo            `json:"undo,omitempty"`
	Platform string            `json:"platform,omitempty"`
	Dir      string            `json:"dir,omitempty"`
	// HarnessPID and HarnessStart (begin line) name the riptide process
	// that ran, so that riptide clean leaves a run that is still going alone.
	HarnessPID   int    `json:"harness_pid,omitempty"`
	HarnessStart uint64 `json:"harness_start,omitempty"`
	Note         string `json:"note,omitempty"`
}

// Journal is the heal journal of a run: a line before each fault is
// applied and a line when it is undone, so that whatever kills the harness,
// `riptide clean` knows what was left on. Each line is one write to a file
// opened for appending: a harness killed with SIGKILL loses nothing the
// kernel has accepted. There is no fsync: a machine that crashes takes its
// nodes and proxies with it. A nil *Journal journals nothing.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	open []string // ids applied and not yet undone, in order
}

// CreateJournal creates dir/heal-journal.jsonl and writes its begin line.
func CreateJournal(dir, platform string) (*Journal, error) {
	path := filepath.Join(dir, JournalFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create heal journal: %w", err)
	}
	j := &Journal{f: f}
	start, _ := process.StartTime(os.Getpid())
	begin := JournalEntry{Event: EventBegin, Platform: platform, Dir: dir, HarnessPID: os.Getpid(), HarnessStart: start}
	if err := j.write(begin); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal) write(e JournalEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("heal journal: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("heal journal: %w", err)
	}
	return nil
}

// Apply records a fault about to be applied. The fault must not be applied
// when Apply fails: nothing could undo it after a crash.
func (j *Journal) Apply(e JournalEntry) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Event = EventApply
	if err := j.write(e); err != nil {
		return err
	}
	j.open = append(j.open, e.ID)
	return nil
}

// Healed records that the fault id was undone.
func (j *Journal) Healed(id string) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.close(id, EventHealed, "")
}

func (j *Journal) close(id, event, note string) error {
	i := slices.Index(j.open, id)
	if i < 0 {
		return nil
	}
	if err := j.write(JournalEntry{Event: event, ID: id, Note: note}); err != nil {
		return err
	}
	j.open = slices.Delete(j.open, i, i+1)
	return nil
}

// TornDown records that every fault still open was undone by tearing the
// cluster down (every node and proxy stopped), as on Ctrl-C.
func (j *Journal) TornDown(note string) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for _, id := range slices.Clone(j.open) {
		errs = append(errs, j.close(id, EventTornDown, note))
	}
	return errors.Join(errs...)
}

// Open lists the faults applied and not yet undone.
func (j *Journal) Open() []string {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.open)
}

// End writes the end line and closes the journal. Faults still open are
// reported as an error: the caller should have healed or torn them down.
func (j *Journal) End() error { return j.EndBecause("") }

// EndBecause is End for a run that stopped before its end on its own (its
// cluster did not start): the end line keeps why, which riptide check of
// the run directory quotes.
func (j *Journal) EndBecause(why string) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	if len(j.open) > 0 {
		errs = append(errs, fmt.Errorf("heal journal: faults %v still open at the end of the run", j.open))
	}
	errs = append(errs, j.write(JournalEntry{Event: EventEnd, Note: why}), j.f.Close())
	return errors.Join(errs...)
}

// ReadJournal reads the heal journal of a run directory. A torn line (the
// harness was killed while writing it, and `riptide clean` may have
// appended after it) is left out: a fault whose apply line is torn was
// never applied, since Apply returns before the fault is applied.
func ReadJournal(dir string) ([]JournalEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		return nil, fmt.Errorf("read heal journal: %w", err)
	}
	var out []JournalEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e JournalEntry
		if len(bytes.TrimSpace(sc.Bytes())) == 0 || json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read heal journal %s: %w", dir, err)
	}
	return out, nil
}

// Unhealed lists the apply entries that no healed, torn-down or cleaned
// line follows: what a crashed harness left on.
func Unhealed(entries []JournalEntry) []JournalEntry {
	var open []JournalEntry
	for _, e := range entries {
		switch e.Event {
		case EventApply:
			open = append(open, e)
		case EventHealed, EventTornDown, EventCleaned:
			open = slices.DeleteFunc(open, func(o JournalEntry) bool { return o.ID == e.ID })
		}
	}
	return open
}

// Running reports whether the harness that wrote the journal still runs:
// its run is going on, and nothing of it is left over.
func Running(entries []JournalEntry) (pid int, running bool) {
	for _, e := range entries {
		if e.Event == EventBegin {
			return e.HarnessPID, !Ended(entries) && process.Alive(e.HarnessPID, e.HarnessStart)
		}
	}
	return 0, false
}

// Ended reports whether the journal has its end line: the run finished
// and tore everything down itself.
func Ended(entries []JournalEntry) bool {
	return len(entries) > 0 && entries[len(entries)-1].Event == EventEnd
}

// CleanedNote is the note of an end line that riptide clean wrote.
const CleanedNote = "closed by riptide clean"

// MarkCleaned appends a cleaned line for each id and, when the journal has
// no end line yet, an end line noting `riptide clean`.
func MarkCleaned(dir string, ids []string, note string) error {
	entries, err := ReadJournal(dir)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mark heal journal: %w", err)
	}
	j := &Journal{f: f}
	var errs []error
	// After a torn last line, start on a line of our own.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if rf, err := os.Open(f.Name()); err == nil {
			if _, err := rf.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				_, _ = f.Write([]byte{'\n'})
			}
			rf.Close()
		}
	}
	for _, id := range ids {
		errs = append(errs, j.write(JournalEntry{Event: EventCleaned, ID: id, Note: note}))
	}
	if !Ended(entries) {
		errs = append(errs, j.write(JournalEntry{Event: EventEnd, Note: CleanedNote}))
	}
	errs = append(errs, f.Close())
	return errors.Join(errs...)
}
