package scenarios

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// The built-in catalog is every *.yaml file of this directory, embedded: the
// scenarios users read in scenarios/ are the ones `riptide run catalog:NAME`
// runs, and a file dropped here joins the catalog without more code.
//
// Each file opens with a comment header in this form, which `riptide list`
// shows and the catalog test enforces:
//
//	# NAME: one line saying what the scenario is.
//	#
//	# What it shows: the behaviour under test, in a few lines.
//	# How long: the main phase and the whole run, e.g. "20 s main phase;
//	# about 40 s in all".
//	# Expected verdict: valid (exit status 0), then why.
//
// A labelled entry runs until the next label or an empty "#" line. The first
// word of "Expected verdict" is valid, invalid or unknown. NAME is the file
// name without .yaml and equals the scenario's name.
//
//go:embed *.yaml
var catalogFiles embed.FS

// CatalogPrefix marks a reference to a catalog scenario, as in
// "catalog:nats-smoke".
const CatalogPrefix = "catalog:"

// Entry describes one catalog scenario.
type Entry struct {
	// Name is the file name without .yaml: run it as catalog:Name.
	Name string
	// Title is the header's first line, after "NAME: ".
	Title string
	// Shows, Runs and Expect are the header's "What it shows", "How long"
	// and "Expected verdict" entries, joined into one line each.
	Shows, Runs, Expect string
	// Verdict is the first word of Expect: valid, invalid or unknown.
	Verdict string
	// Scenario is the file loaded, with defaults applied.
	Scenario *Scenario
}

// Ref is how the entry is named on the command line and in Open.
func (e Entry) Ref() string { return CatalogPrefix + e.Name }

// Catalog lists the built-in scenarios by name. A file that does not load
// is an error naming it (the catalog test keeps that from shipping).
func Catalog() ([]Entry, error) {
	names, err := CatalogNames()
	if err != nil {
		return nil, err
	}
	var errs []error
	entries := make([]Entry, 0, len(names))
	for _, name := range names {
		e, err := catalogEntry(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		entries = append(entries, e)
	}
	return entries, errors.Join(errs...)
}

// CatalogNames lists the names of the built-in scenarios, sorted.
func CatalogNames() ([]string, error) {
	files, err := fs.Glob(catalogFiles, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list the catalog: %w", err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".yaml")
	}
	slices.Sort(names)
	return names, nil
}

// CatalogFile returns the text of the built-in scenario name, as shipped.
func CatalogFile(name string) ([]byte, error) {
	// A name with a slash or dots could not be a file of the catalog, and
	// must not be taken for a path.
	if name == "" || strings.ContainsAny(name, `/\`) || !fs.ValidPath(name+".yaml") {
		return nil, unknownEntry(name)
	}
	data, err := catalogFiles.ReadFile(name + ".yaml")
	if err != nil {
		return nil, unknownEntry(name)
	}
	return data, nil
}

func unknownEntry(name string) error {
	names, _ := CatalogNames()
	return fmt.Errorf("%s%s: no such scenario in the catalog; built in: %s (riptide list)", CatalogPrefix, name, strings.Join(names, ", "))
}

// Open loads a scenario from a file path, or from the catalog when ref is
// "catalog:NAME"; problems name "catalog:NAME" as the file. It is Load for
// every command that takes a scenario.
func Open(ref string) (*Scenario, error) {
	name, ok := strings.CutPrefix(ref, CatalogPrefix)
	if !ok {
		return Load(ref)
	}
	data, err := CatalogFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(ref, data)
}

func catalogEntry(name string) (Entry, error) {
	data, err := CatalogFile(name)
	if err != nil {
		return Entry{}, err
	}
	s, err := Parse(CatalogPrefix+name, data)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Name: name, Scenario: s}
	h := parseHeader(data)
	e.Title = h.title
	if t, ok := strings.CutPrefix(h.title, name+":"); ok {
		e.Title = strings.TrimSpace(t)
	}
	e.Shows, e.Runs, e.Expect = h.labels[labelShows], h.labels[labelRuns], h.labels[labelExpect]
	e.Verdict, _, _ = strings.Cut(e.Expect, " ")
	e.Verdict = strings.ToLower(strings.TrimRight(e.Verdict, ".,;:"))
	return e, nil
}

// The labels of the header convention above.
const (
	labelShows  = "What it shows"
	labelRuns   = "How long"
	labelExpect = "Expected verdict"
)

var headerLabels = []string{labelShows, labelRuns, labelExpect}

// header is a catalog file's leading comment block.
type header struct {
	title  string            // the first line
	labels map[string]string // labelled entries, each joined into one line
}

// parseHeader reads the comment lines before the first line of YAML.
func parseHeader(data []byte) header {
	h := header{labels: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	current := "" // the label whose text continues on the next lines
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		text = strings.TrimSpace(text)
		if strings.HasPrefix(text, "yaml-language-server:") {
			continue // an editor's modeline, not documentation
		}
		if first {
			h.title, first = text, false
			continue
		}
		if text == "" {
			current = ""
			continue
		}
		if label, rest, ok := strings.Cut(text, ":"); ok && slices.Contains(headerLabels, label) {
			current = label
			h.labels[label] = strings.TrimSpace(rest)
			continue
		}
		if current != "" {
			h.labels[current] = strings.TrimSpace(h.labels[current] + " " + text)
		}
	}
	return h
}
