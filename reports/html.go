package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

var reportTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"dur": func(d time.Duration) string {
		switch {
		case d >= time.Second:
			return d.Round(10 * time.Millisecond).String()
		case d >= time.Millisecond:
			return d.Round(10 * time.Microsecond).String()
		default:
			return d.String()
		}
	},
	"definition": func(k checkers.Kind) string {
		info, _ := checkers.KindInfoOf(k)
		return info.Definition
	},
	"deref": func(p *int) int { return *p },
	"join":  func(s []string) string { return strings.Join(s, ", ") },
}).ParseFS(templates, "templates/report.html.tmpl"))

// Headline says the verdict in one sentence.
func (r *Results) Headline() string {
	switch {
	case r.Interrupted:
		return "The run was interrupted before it finished: " + orElse(r.Reason, "nothing can be concluded") + "."
	case r.Verdict == checkers.Valid:
		faults := 0
		for _, f := range r.Faults {
			if f.F == "fault-start" && f.Error == "" {
				faults++
			}
		}
		return fmt.Sprintf("Every expectation held: %d acknowledged sends, %d faults injected, nothing lost, duplicated or corrupted.", r.Acked, faults)
	default:
		return orElse(r.Reason, string(r.Verdict)) + "."
	}
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// RenderHTML renders the report.
func RenderHTML(r *Results) ([]byte, error) {
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, r); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteHTML writes report.html into dir.
func WriteHTML(dir string, r *Results) error {
	b, err := RenderHTML(r)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "report.html"), b)
}
