package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/riptidechaos/riptide/internal/run"
	"github.com/riptidechaos/riptide/scenarios"
)

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
		if *long {
			fmt.Fprintf(tw, "\t\t\tShows: %s\n\t\t\tRuns: %s\n\t\t\tExpect: %s\n", e.Shows, e.Runs, e.Expect)
		}
	}
	if err := tw.Flush(); err != nil {
		return run.ExitHarness
	}
	fmt.Fprintln(stdout, "\nrun one with: riptide run catalog:NAME; print its file with: riptide list NAME")
	if catErr != nil {
		return run.ExitHarness
	}
	return 0
}
