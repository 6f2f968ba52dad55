package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/riptidechaos/riptide/internal/run"
)

// A subcommand is the flag set of one command with what its usage says:
// riptide CMD -h, riptide help CMD.
type subcommand struct {
	fs       *flag.FlagSet
	synopsis string // the line after "Usage:", e.g. "riptide run SCENARIO [flags]"
	about    string // what it does and what its arguments are, wrapped
}

func newSubcommand(name, synopsis, about string) *subcommand {
	c := &subcommand{fs: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, about: about}
	// Errors and help are printed by parse, not by the flag package: an
	// error is one line, help goes to stdout.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	return c
}

// usage writes the command's help: synopsis, description, flags.
func (c *subcommand) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis, strings.TrimSpace(c.about))
	hasFlags := false
	c.fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
}

// parse parses flags wherever they appear among the positional arguments
// (everything after "--" is positional). It returns done with the exit
// status when the command should end: -h asked for help (printed to stdout,
// 0), or a flag was wrong (one line on stderr, 3).
func (c *subcommand) parse(args []string, stdout, stderr io.Writer) (pos []string, status int, done bool) {
	for {
		err := c.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout)
			return nil, 0, true
		}
		if err != nil {
			fmt.Fprintf(stderr, "riptide %s: %v (riptide %s -h for help)\n", c.fs.Name(), err, c.fs.Name())
			return nil, run.ExitHarness, true
		}
		rest := c.fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), 0, false
		}
		if len(rest) == 0 {
			return pos, 0, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a wrong number of arguments and the synopsis.
func (c *subcommand) usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "riptide %s: %s; usage: %s\n", c.fs.Name(), fmt.Sprintf(format, args...), c.synopsis)
	return run.ExitHarness
}
