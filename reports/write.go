package reports

import (
	"errors"

	"github.com/riptidechaos/riptide/history"
)

// Write writes every report file of a run directory: results.json,
// junit.xml, summary.md and report.html. h is the run's history (the
// report's charts and operation table come from it); node logs are read
// from dir/nodes/NAME/node.log and dir/porcupine-*.html files are linked.
// Each file is replaced atomically; a failure to write one does not stop
// the others, and all failures are returned.
func Write(dir string, r *Results, h []history.Op) error {
	// results.json first: it is what `riptide check` and tools rely on.
	return errors.Join(
		WriteJSON(dir, r),
		WriteJUnit(dir, r),
		WriteSummary(dir, r),
		writeHTML(dir, r, h),
	)
}
