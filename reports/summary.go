package reports

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/riptidechaos/riptide/checkers"
)

// summaryExamples bounds the examples summary.md quotes per failing kind:
// the summary is read on a CI job page, report.html has the rest.
const summaryExamples = 3

// RenderSummary writes summary.md: the verdict, a table of expectations and
// one line of facts, short enough for $GITHUB_STEP_SUMMARY or a merge
// request comment. Every value from the run is escaped for Markdown and
// HTML, which GitHub renders in summaries.
func RenderSummary(r *Results) []byte {
	var b bytes.Buffer
	icon := map[checkers.Verdict]string{checkers.Valid: "✅", checkers.Invalid: "❌"}[r.Verdict]
	if icon == "" {
		icon = "⚠️"
	}
	verdict := strings.ToUpper(orElse(string(r.Verdict), "unknown"))
	switch {
	case r.Stopped != "":
		verdict += " (could not run)"
	case r.Interrupted:
		verdict += " (interrupted)"
	}
	fmt.Fprintf(&b, "### %s riptide %s: %s\n\n", icon, mdName(orElse(r.Scenario.Name, "run")), verdict)
	fmt.Fprintf(&b, "%s\n\n", md(r.Headline()))
	if r.Scenario.Unknown != "" {
		fmt.Fprintf(&b, "Scenario unknown: %s.\n\n", md(r.Scenario.Unknown))
	}

	// Only the expectations with something to say get a row: a summary
	// is read on a CI job page, and a dozen "0 of 0 allowed" rows hide the
	// one that matters. The rest are named in one line.
	var quiet []string
	var rows []string
	for _, e := range r.Expectations {
		if e.Pass && e.Count == 0 && e.Allowed == "0" {
			quiet = append(quiet, mdName(string(e.Kind)))
			continue
		}
		result := "✅ pass"
		if e.Tolerated != "" {
			result += " (" + md(e.Tolerated) + ")"
		}
		if kindInfo(r, e.Kind).Counted {
			result = "counted"
		} else if !e.Pass {
			result = "❌ fail"
			if !kindInfo(r, e.Kind).Proof {
				result = "⚠️ unproven"
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %d | %s |\n", mdName(string(e.Kind)), md(e.Allowed), e.Count, result))
	}
	if len(rows) > 0 {
		b.WriteString("| expectation | allowed | found | result |\n| --- | ---: | ---: | --- |\n")
		for _, row := range rows {
			b.WriteString(row)
		}
		b.WriteString("\n")
	}
	if len(quiet) > 0 {
		fmt.Fprintf(&b, "None found, none allowed: %s.\n\n", strings.Join(quiet, ", "))
	}

	counts := map[checkers.Kind]int{}
	for _, res := range r.Checkers {
		for k, a := range res.Anomalies {
			counts[k] += a.Count
		}
	}
	for _, k := range kindOrder(r) {
		info := kindInfo(r, k)
		if counts[k] == 0 || (info.Parent != "" && counts[info.Parent] > 0) {
			continue // a child's examples are its parent's
		}
		var lines []string
		for _, res := range r.Checkers {
			for _, ex := range res.Anomalies[k].Examples {
				if len(lines) < summaryExamples {
					lines = append(lines, "- "+md(ex.Message))
				}
			}
		}
		what := "for example"
		if info.Counted {
			what = "counted, not an anomaly; for example"
		}
		fmt.Fprintf(&b, "**%d %s**, %s:\n%s\n\n", counts[k], mdName(string(k)), what, strings.Join(lines, "\n"))
	}

	for _, res := range r.Checkers {
		if res.Error != "" {
			fmt.Fprintf(&b, "Checker %s could not finish: %s\n\n", mdName(res.Checker), md(firstLine(res.Error)))
		}
	}
	for _, e := range r.HarnessErrors {
		fmt.Fprintf(&b, "Harness problem: %s\n\n", md(e))
	}

	drain := "not run"
	switch {
	case r.Drain.Complete:
		drain = "complete"
	case r.Drain.Ran:
		drain = "cut short"
	}
	// Without its scenario a history tells no seed, cluster or main phase:
	// zeros there would read as facts.
	seed, cluster, mainPhase := strconv.FormatInt(r.Scenario.Seed, 10), md(clusterText(r.Scenario)), formatDuration(r.Scenario.Duration)
	if r.Scenario.Unknown != "" {
		seed, cluster, mainPhase = "unknown", "unknown", "unknown"
	}
	fmt.Fprintf(&b, "| seed | cluster | main phase | sends | acked | read | faults | drain | run took |\n")
	fmt.Fprintf(&b, "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %s | %s |\n\n",
		seed, cluster, mainPhase,
		formatInt(r.Sends), formatInt(r.Acked), formatInt(r.Reads), r.faultsInjected(), drain, formatDuration(r.Duration))
	b.WriteString("Full report: `report.html` in the run directory; every operation in `history.jsonl`.\n")
	return b.Bytes()
}

func clusterText(s Scenario) string {
	t := strings.TrimSpace(s.System + " " + s.RanVersion())
	if s.Nodes > 0 {
		t += fmt.Sprintf(", %d nodes", s.Nodes)
	}
	if s.Platform != "" {
		t += " (" + s.Platform + ")"
	}
	return t
}

// md escapes text for a Markdown table cell or paragraph: HTML is inert,
// Markdown syntax is literal and a line break cannot end the cell. Values
// are never put in code spans, where entities are not decoded and so HTML
// could not be made inert.
var mdReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"|", `\|`, "\\", `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"#", `\#`, "!", `\!`, "~", `\~`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

func md(s string) string { return mdReplacer.Replace(s) }

var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// mdName writes a name (a kind, a scenario) in code font when it is a
// plain identifier, and escaped as text otherwise.
func mdName(s string) string {
	if plainName.MatchString(s) {
		return "`" + s + "`"
	}
	return md(s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// WriteSummary writes summary.md into dir.
func WriteSummary(dir string, r *Results) error {
	return writeFile(filepath.Join(dir, "summary.md"), RenderSummary(r))
}
