package reports

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/history"
)

// allLinks names the timeline lane of faults without a target node (a
// latency on every link, say).
const allLinks = "all links"

// fault is one fault as the report draws it: a start and, if the history
// holds it, a stop.
type fault struct {
	ID        string
	Kind      string
	Targets   []string
	Params    map[string]string
	Start     time.Duration
	Stop      time.Duration
	Stopped   bool
	StartLag  time.Duration // actuation latency of the start
	StopLag   time.Duration // and of the heal
	Error     string
	ColorSlot int
}

// faultSpans pairs each fault-start with its fault-stop by fault ID. A fault
// never stopped in the history (an interrupted run) lasts until end.
func faultSpans(events []FaultEvent, end time.Duration) []fault {
	var out []fault
	open := map[string]int{}
	slots := map[string]int{}
	for _, e := range events {
		switch e.F {
		case history.FaultStart:
			slot, ok := slots[e.Kind]
			if !ok {
				slot = len(slots) % paletteSize
				slots[e.Kind] = slot
			}
			open[e.ID] = len(out)
			out = append(out, fault{ID: e.ID, Kind: e.Kind, Targets: e.Targets, Params: e.Params,
				Start: e.Time, Stop: end, StartLag: e.Actuation, Error: e.Error, ColorSlot: slot})
		case history.FaultStop:
			i, ok := open[e.ID]
			if !ok {
				continue
			}
			delete(open, e.ID)
			out[i].Stop, out[i].Stopped, out[i].StopLag = e.Time, true, e.Actuation
			if e.Error != "" {
				out[i].Error = strings.TrimPrefix(out[i].Error+"; heal: "+e.Error, "; ")
			}
		}
	}
	return out
}

// paletteSize is how many fault colours the stylesheet defines (.k0 ...).
// Colours go to kinds in order of appearance, so that a new fault kind needs
// no change here.
const paletteSize = 8

// mainParams lists, per fault kind, the parameters that say most about a
// fault, in the order they are read: they come first wherever its
// parameters are listed, so that a clipped label still shows them.
var mainParams = map[string][]string{
	"kill": {"signal"}, "stop": {"signal"},
	"partition": {"mode", "groups"}, "restart": {"mode", "down"},
	"latency": {"latency", "jitter"}, "bandwidth": {"bandwidth"},
	"reset-peer": {"delay"}, "slow-close": {"delay"}, "slicer": {"average_size", "size_variation", "delay"},
	"limit-data": {"bytes"}, "down": {"links"},
	"bitflip": {"flips", "files"}, "truncate": {"bytes", "files"},
}

// paramKeys orders p's keys: the kind's main parameters, then the rest by
// name.
func paramKeys(kind string, p map[string]string) []string {
	var keys []string
	for _, k := range mainParams[kind] {
		if _, ok := p[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// params formats fault parameters in a stable order, the kind's main
// parameters first.
func params(kind string, p map[string]string) string {
	keys := paramKeys(kind, p)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, " ")
}

// paramsLabel is params in the short form of a timeline bar: the main
// parameter's value first, without its name where the value says it
// (latency 50ms±10ms, kill SIGKILL, partition isolate-one), then the rest.
func paramsLabel(kind string, p map[string]string) string {
	var lead string
	used := map[string]bool{}
	take := func(k string) string { used[k] = true; return p[k] }
	switch kind {
	case "latency":
		if p["latency"] != "" {
			lead = take("latency")
			if j := take("jitter"); j != "" && j != "0s" {
				lead += "±" + j
			}
		}
	case "kill", "stop":
		lead = take("signal")
	case "partition", "restart":
		lead = take("mode")
	case "bandwidth":
		lead = take("bandwidth")
	case "limit-data", "truncate":
		if p["bytes"] != "" {
			lead = take("bytes") + " bytes"
		}
	case "bitflip":
		if p["flips"] != "" {
			lead = take("flips") + " flips"
		}
	}
	parts := []string{}
	if lead != "" {
		parts = append(parts, lead)
	}
	for _, k := range paramKeys(kind, p) {
		if !used[k] {
			parts = append(parts, k+"="+p[k])
		}
	}
	return strings.Join(parts, " ")
}

func (f fault) TargetList() string {
	if len(f.Targets) == 0 {
		return allLinks
	}
	return strings.Join(f.Targets, ", ")
}

// tooltip says everything about a fault in a few lines.
func (f fault) tooltip() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s on %s\n", f.ID, f.Kind, f.TargetList())
	if len(f.Params) > 0 {
		fmt.Fprintf(&sb, "%s\n", params(f.Kind, f.Params))
	}
	stop := "not stopped in the history"
	if f.Stopped {
		stop = formatDuration(f.Stop)
	}
	fmt.Fprintf(&sb, "from %s to %s (%s)\n", formatDuration(f.Start), stop, formatDuration(f.Stop-f.Start))
	fmt.Fprintf(&sb, "actuation: %s to apply", formatDuration(f.StartLag))
	if f.Stopped {
		fmt.Fprintf(&sb, ", %s to heal", formatDuration(f.StopLag))
	}
	if f.Error != "" {
		fmt.Fprintf(&sb, "\nerror: %s", f.Error)
	}
	return sb.String()
}

// lane is one row of the fault timeline.
type lane struct {
	Name string
	Bars []bar
}

// bar is a fault drawn on a lane, or a band shading a chart.
type bar struct {
	Left, Width string
	Label       string
	Title       string
	Class       string
}

// minBarWidth keeps an instant fault (a kill restarted at once) visible.
const minBarWidth = 0.35

func spanBar(f fault, end time.Duration, label string) bar {
	left := float64(f.Start) / float64(end) * 100
	width := max(float64(f.Stop-f.Start)/float64(end)*100, minBarWidth)
	class := fmt.Sprintf("k%d", f.ColorSlot)
	if f.Error != "" {
		class += " errored"
	}
	if !f.Stopped {
		class += " open"
	}
	return bar{Left: pct(left), Width: pct(min(width, 100-left)), Label: label, Title: f.tooltip(), Class: class}
}

// lanes puts each fault on the lane of every node it targets; nodes come in
// the run's order, then any other target, then the lane of untargeted faults.
func lanes(faults []fault, nodes []string, end time.Duration) []lane {
	var out []lane
	index := map[string]int{}
	get := func(name string) *lane {
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, lane{Name: name})
		}
		return &out[i]
	}
	for _, n := range nodes {
		get(n)
	}
	for _, f := range faults {
		label := f.ID + " " + f.Kind
		if len(f.Params) > 0 {
			label += " " + paramsLabel(f.Kind, f.Params)
		}
		names := f.Targets
		if len(names) == 0 {
			names = []string{allLinks}
		}
		for _, n := range names {
			l := get(n)
			l.Bars = append(l.Bars, spanBar(f, end, label))
		}
	}
	// Untargeted faults last: they concern every node.
	if i, ok := index[allLinks]; ok && i != len(out)-1 {
		l := out[i]
		out = append(append(out[:i:i], out[i+1:]...), l)
	}
	return out
}

// bands shade each fault's window on the charts.
func bands(faults []fault, end time.Duration) []bar {
	out := make([]bar, len(faults))
	for i, f := range faults {
		out[i] = spanBar(f, end, f.ID)
	}
	return out
}

// legendEntry is one fault kind and its colour.
type legendEntry struct {
	Kind  string
	Class string
}

func legend(faults []fault) []legendEntry {
	var out []legendEntry
	seen := map[string]bool{}
	for _, f := range faults {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			out = append(out, legendEntry{Kind: f.Kind, Class: fmt.Sprintf("k%d", f.ColorSlot)})
		}
	}
	return out
}
