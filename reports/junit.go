package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
)

// JUnit XML as CI servers read it (GitHub test reporters, GitLab's
// artifacts:reports:junit, Jenkins): one suite for the run, one test case per
// expectation and per checker, and one for the overall verdict so that the
// failed test count is never zero when the exit status is not.
//
// An invalid outcome is a <failure> (a guarantee is proven broken); an
// unknown one is an <error> (the run could not decide), which every CI
// server shows as not passed without claiming a bug was found.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// RenderJUnit encodes r as JUnit XML.
func RenderJUnit(r *Results) ([]byte, error) {
	name := orElse(r.Scenario.Name, "run")
	class := "riptide." + name
	suite := junitSuite{
		Name: "riptide/" + name,
		Time: seconds(r.Duration),
		Properties: []junitProperty{
			{"seed", strconv.FormatInt(r.Scenario.Seed, 10)},
			{"system", strings.TrimSpace(r.Scenario.System + " " + r.Scenario.RanVersion())},
			{"nodes", strconv.Itoa(r.Scenario.Nodes)},
			{"platform", r.Scenario.Platform},
			{"verdict", string(r.Verdict)},
		},
	}
	if r.Scenario.Unknown != "" {
		// Without its scenario a history tells no seed, system, node
		// count or platform: say so instead of writing zeros as facts.
		suite.Properties = []junitProperty{
			{"scenario", "unknown: " + r.Scenario.Unknown},
			{"verdict", string(r.Verdict)},
		}
	}
	verdict := junitCase{ClassName: class, Name: "verdict", Time: seconds(r.Duration),
		SystemOut: r.Headline()}
	setOutcome(&verdict, r.Verdict, r.Headline())
	suite.Cases = append(suite.Cases, verdict)

	for _, e := range r.Expectations {
		info := kindInfo(r, e.Kind)
		c := junitCase{ClassName: class + ".expect", Name: string(e.Kind), Time: "0",
			SystemOut: fmt.Sprintf("%s: %d found, %s allowed", info.Definition, e.Count, e.Allowed)}
		if e.Tolerated != "" {
			c.SystemOut += "; " + e.Tolerated
		}
		if !e.Pass {
			v := checkers.Invalid
			if !info.Proof {
				v = checkers.Unknown
			}
			msg := fmt.Sprintf("%d %s found, %s allowed", e.Count, e.Kind, e.Allowed)
			setOutcome(&c, v, msg+"\n"+info.Definition+"\n"+examplesText(r, e.Kind, 5))
			c.problem().Message = msg
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, res := range r.Checkers {
		c := junitCase{ClassName: class + ".checker", Name: res.Checker, Time: "0", SystemOut: statsText(res.Stats)}
		why := orElse(res.Reason, string(res.Verdict))
		if res.Error != "" {
			why = res.Error
		}
		setOutcome(&c, res.Verdict, why)
		suite.Cases = append(suite.Cases, c)
	}
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Error != nil {
			suite.Errors++
		}
	}
	doc := junitSuites{Name: "riptide", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode junit.xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// setOutcome records a verdict on a test case: invalid fails it, unknown
// (or an unset verdict) errors it.
func setOutcome(c *junitCase, v checkers.Verdict, text string) {
	msg, _, _ := strings.Cut(text, "\n")
	switch v {
	case checkers.Valid:
	case checkers.Invalid:
		c.Failure = &junitProblem{Message: msg, Type: "invalid", Text: text}
	default:
		c.Error = &junitProblem{Message: msg, Type: "unknown", Text: text}
	}
}

func (c *junitCase) problem() *junitProblem {
	if c.Failure != nil {
		return c.Failure
	}
	return c.Error
}

// examplesText lists up to n examples of kind k, one per line, and says
// how many of the kind's anomalies they are when not all.
func examplesText(r *Results, k checkers.Kind, n int) string {
	var lines []string
	total := 0
	for _, res := range r.Checkers {
		total += res.Anomalies[k].Count
		for _, ex := range res.Anomalies[k].Examples {
			if len(lines) == n {
				break
			}
			line := ex.Message
			if len(ex.Ops) > 0 {
				ops := make([]string, len(ex.Ops))
				for i, o := range ex.Ops {
					ops[i] = "#" + strconv.FormatInt(o, 10)
				}
				line += " (ops " + strings.Join(ops, ", ") + ")"
			}
			lines = append(lines, "- "+line)
		}
	}
	if shown := len(lines); shown < total {
		lines = append(lines, fmt.Sprintf("%d of %d shown; report.html and results.json list more, history.jsonl has every operation.", shown, total))
	}
	return strings.Join(lines, "\n")
}

func statsText(stats map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(stats)) {
		if strings.HasSuffix(k, "-ns") {
			// Nanoseconds: shown as a duration, as report.html does.
			name, d := statValue(k, stats[k])
			parts = append(parts, name+" "+d)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, stats[k]))
	}
	return strings.Join(parts, ", ")
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// WriteJUnit writes junit.xml into dir.
func WriteJUnit(dir string, r *Results) error {
	b, err := RenderJUnit(r)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "junit.xml"), b)
}
