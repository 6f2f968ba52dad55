package injectors

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"
)

// ScheduleFile is the resolved schedule's name in a run directory.
const ScheduleFile = "schedule.json"

// PlannedFiring is one firing of the resolved schedule: what the seed
// decided before the run began. Targets are as planned; "leader" is named
// when the fault fires, and the history records who it was.
type PlannedFiring struct {
	ID      string            `json:"id"`
	At      string            `json:"at"`
	AtMS    int64             `json:"at_ms"`
	For     string            `json:"for,omitempty"`
	Kind    string            `json:"kind"`
	Targets []string          `json:"targets,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
}

// PlannedSchedule is the content of schedule.json.
type PlannedSchedule struct {
	Seed     int64           `json:"seed"`
	Duration string          `json:"duration"`
	Firings  []PlannedFiring `json:"firings"`
}

// Planned describes steps as the schedule file lists them.
func Planned(seed int64, duration time.Duration, steps []Step) PlannedSchedule {
	out := PlannedSchedule{Seed: seed, Duration: duration.String(), Firings: make([]PlannedFiring, 0, len(steps))}
	for _, st := range steps {
		f := PlannedFiring{
			ID: st.Target.ID, At: st.At.String(), AtMS: st.At.Milliseconds(), Kind: st.Injector.Kind(),
			Targets: st.Target.Nodes, Params: maps.Clone(st.Injector.Params()),
		}
		if _, instant := st.Injector.(Instant); !instant {
			f.For = "end of main phase"
			if st.For > 0 {
				f.For = st.For.String()
			}
		}
		out.Firings = append(out.Firings, f)
	}
	return out
}

// WriteSchedule writes the resolved schedule to dir/schedule.json.
func WriteSchedule(dir string, s PlannedSchedule) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write schedule: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ScheduleFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write schedule: %w", err)
	}
	return nil
}
