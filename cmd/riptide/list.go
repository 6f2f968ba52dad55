package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/scenarios"
)

// listWidth is the width riptide list -v wraps its paragraphs to.
const listWidth = 78

// wrap breaks text into lines of at most width characters, each starting
// with indent (a word longer than that stands on a line of its own).
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// cmdList prints the built-in catalog as a table, or with names the files
// themselves, so that a user without a checkout can start from one:
// riptide list nats-kill > my-scenario.yaml
func cmdList(args []string, stdout, stderr io.Writer) int {
	c := newSubcommand("list", "riptide list [-v] [NAME...]", `
Without NAME, list the built-in scenarios: name, main phase, expected
verdict and what each is. With NAMEs (nats-kill or catalog:nats-kill),
print their files, to start one of your own from:
riptide list nats-kill > mine.yaml`)
	long := c.fs.Bool("v", false, "also print what each scenario shows, how long it runs and the verdict to expect")
	names, status, done := c.parse(args, stdout, stderr)
	if done {
		return status
	}
	if len(names) > 0 {
		// Every name is looked up before any file is printed: a typo in
		// the last one leaves no partial output behind.
		files := make([][]byte, len(names))
		for i, name := range names {
			// catalog:NAME, as riptide run takes it, works too.
			data, err := scenarios.CatalogFile(strings.TrimPrefix(name, scenarios.CatalogPrefix))
			if err != nil {
				fmt.Fprintf(stderr, "riptide list: %v\n", err)
				return run.ExitHarness
			}
			files[i] = data
		}
		for i, data := range files {
			if i > 0 {
				fmt.Fprintln(stdout, "---")
			}
			stdout.Write(data)
		}
		return 0
	}
	entries, catErr := scenarios.Catalog()
	if catErr != nil {
		// A broken entry is a bug of this build; list the others anyway.
		fmt.Fprintf(stderr, "riptide list: %v\n", catErr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMAIN PHASE\tEXPECT\tWHAT IT IS")
	for _, e := range entries {
		phase := e.Scenario.Duration.String()
		if e.Scenario.Short {
			phase += " (short)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, phase, e.Verdict, e.Title)
	}
	if err := tw.Flush(); err != nil {
		return run.ExitHarness
	}
	if *long {
		// Paragraphs below the table, wrapped for an 80-column terminal:
		// in the table they made lines of 600 characters.
		for _, e := range entries {
			fmt.Fprintf(stdout, "\n%s\n", e.Name)
			for _, p := range []struct{ label, text string }{{"Shows", e.Shows}, {"Runs", e.Runs}, {"Expect", e.Expect}} {
				fmt.Fprint(stdout, wrap(p.label+": "+p.text, "  ", listWidth))
			}
		}
	}
	fmt.Fprintln(stdout, "\nrun one with: riptide run catalog:NAME; print its file with: riptide list NAME")
	if catErr != nil {
		return run.ExitHarness
	}
	return 0
}
