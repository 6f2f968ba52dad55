package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// leaderTarget is how schedule.json names a target chosen when the fault
// fires (injectors.Leader).
const leaderTarget = "leader"

// targetText is a planned firing's targets: those the seed fixed before the
// run, and those chosen only when it fires.
type targetText struct {
	Fixed string
	Drawn string
}

// TargetText says what a firing acts on. random-* targets are drawn from
// the seed when the schedule is planned, so they are listed like named
// nodes; only the stream's leader is chosen when the fault fires. A link
// fault without targets acts on every link (or the links it names), a
// ring or groups partition on the nodes its mode arranges.
func (f plannedFiring) TargetText() targetText {
	var t targetText
	var fixed []string
	for _, n := range f.Targets {
		if n == leaderTarget {
			t.Drawn = "the stream's leader, chosen when it fires"
			continue
		}
		fixed = append(fixed, n)
	}
	t.Fixed = strings.Join(fixed, ", ")
	if len(f.Targets) > 0 {
		return t
	}
	switch {
	case f.Params["links"] != "":
		t.Fixed = "links " + strings.ReplaceAll(f.Params["links"], ",", ", ")
	case f.Kind != "partition":
		t.Fixed = allLinks
	case f.Params["mode"] == "isolate-leader":
		t.Drawn = "the stream's leader, chosen when it fires"
	case f.Params["groups"] != "":
		t.Fixed = "groups " + f.Params["groups"]
	default:
		t.Fixed = "every node, as mode " + orElse(f.Params["mode"], "?") + " arranges them"
	}
	return t
}
