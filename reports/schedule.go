package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// plannedSchedule is schedule.json as the runner writes it before the main
// phase: every firing of every fault, drawn from the seed. The report shows
// it so that a reader can see that one seed gives one schedule, and which
// targets were only chosen when the fault fired (leader, random draws).
type plannedSchedule struct {
	Seed     int64           `json:"seed"`
	Duration string          `json:"duration"`
	Firings  []plannedFiring `json:"firings"`
}

type plannedFiring struct {
	ID      string            `json:"id"`
	At      string            `json:"at"`
	For     string            `json:"for"`
	Kind    string            `json:"kind"`
	Targets []string          `json:"targets"`
	Params  map[string]string `json:"params"`
}

// readSchedule reads dir/schedule.json; nil when there is none or it does
// not parse (a report must not fail for the want of it).
func readSchedule(dir string) *plannedSchedule {
	b, err := os.ReadFile(filepath.Join(dir, "schedule.json"))
	if err != nil {
		return nil
	}
	var s plannedSchedule
	if json.Unmarshal(b, &s) != nil || len(s.Firings) == 0 {
		return nil
	}
	return &s
}
