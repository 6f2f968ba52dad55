package reports

import (
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
)

// windowRow is one fault of the availability checker's windows.
type windowRow struct {
	ID, Kind, Targets, Span string
	Acked, Reads, P50, P99  [3]string
	// Drop is set when acknowledged throughput during the fault fell below
	// half of what it was before.
	Drop bool
}

func windowRows(results []checkers.Result) []windowRow {
	var out []windowRow
	for _, r := range results {
		for _, w := range r.Windows {
			row := windowRow{ID: w.ID, Kind: w.Kind, Targets: strings.Join(w.Targets, ", "),
				Span: formatDuration(w.Start) + " – " + formatDuration(w.End)}
			if row.Targets == "" {
				row.Targets = allLinks
			}
			for i, s := range []checkers.WindowStats{w.Before, w.During, w.After} {
				row.Acked[i] = formatRate(s.AckedPerSec)
				row.Reads[i] = formatRate(s.ReadsPerSec)
				row.P50[i] = formatLatency(s.P50, s.Acked)
				row.P99[i] = formatLatency(s.P99, s.Acked)
			}
			row.Drop = w.During.AckedPerSec < w.Before.AckedPerSec/2
			out = append(out, row)
		}
	}
	return out
}

func formatRate(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func formatLatency(d time.Duration, n int64) string {
	if n == 0 {
		return "–"
	}
	return formatDuration(d)
}
