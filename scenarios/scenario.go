// Package scenarios holds the scenario file format: its Go types, the strict
// loader that reads YAML into them (every problem named by file:line:column,
// field and allowed values), validation, and the built-in catalog.
//
// Struct tags drive both the loader and the documentation:
//   - yaml: the field's name in the file;
//   - enum: the allowed values, comma separated;
//   - doc: one sentence for error messages and the JSON Schema.
package scenarios

import (
	"strconv"
	"time"
)

// Scenario is one chaos experiment: a cluster, a workload, a fault schedule
// and the guarantees that must hold.
type Scenario struct {
	Name        string   `yaml:"name" doc:"short identifier of the scenario: letters, digits, '-', '_' or '.'"`
	Description string   `yaml:"description" doc:"what the scenario shows, in a sentence or two"`
	Seed        int64    `yaml:"seed" doc:"seed for every random choice (targets, schedules); 0 picks one at run time"`
	Duration    Duration `yaml:"duration" doc:"length of the main phase (workload and faults), at least 1s, e.g. 60s"`
	Cluster     Cluster  `yaml:"cluster" doc:"the system under test and where it runs"`
	Workload    Workload `yaml:"workload" doc:"what the clients do"`
	Faults      []Fault  `yaml:"faults" doc:"the fault schedule"`
	// Expect maps an anomaly kind to the number of anomalies of that kind
	// allowed: a count, or "allowed" for any number. Kinds not listed allow 0.
	Expect map[string]Allowance `yaml:"expect" doc:"allowed count per anomaly kind: a number or 'allowed'; unlisted kinds allow 0"`
	// Checks tunes the checkers.
	Checks Checks `yaml:"checks" doc:"settings of the checkers"`
	// Short marks a scenario quick enough (a minute or less in all) to run
	// under go test -short, where riptidetest skips the others.
	Short bool `yaml:"short" doc:"true when the whole run takes a minute or less: riptidetest runs it even under go test -short"`

	// File is where the scenario was loaded from ("" for one built in Go).
	File string `yaml:"-"`
	// pos records where each field was found, by dotted path ("cluster.nodes",
	// "faults[1].at"), so that validation can point at the line.
	pos map[string]Pos
}

// Cluster names the system under test and where it runs.
type Cluster struct {
	System   string `yaml:"system" enum:"nats" doc:"the streaming system"`
	Version  string `yaml:"version" doc:"the system's version, e.g. 2.12.1 (default for nats: 2.12.1)"`
	Nodes    int    `yaml:"nodes" doc:"number of nodes, 1 to 9 (default 3)"`
	Platform string `yaml:"platform" enum:"process,docker" doc:"how nodes run: local processes or Docker containers (default process)"`
	// Binary points at an existing server binary instead of building one.
	Binary string `yaml:"binary" doc:"process platform: path of an existing server binary to run instead of building the pinned version"`
	// Image names the server image instead of the official one.
	Image string `yaml:"image" doc:"docker platform: the server image to run (default: the official image of the version, e.g. nats:2.12.1)"`
	// ToxiproxyImage names the docker platform's Toxiproxy image, so that a
	// scenario for an engine that cannot pull is complete on its own.
	ToxiproxyImage string `yaml:"toxiproxy_image" doc:"docker platform: the Toxiproxy image (default ghcr.io/shopify/toxiproxy:2.12.0)"`
	// Config holds system-specific settings, validated by the system.
	Config map[string]string `yaml:"config" doc:"system settings; nats: sync_interval (always or a duration such as 2m)"`
}

// Checks tunes the checkers.
type Checks struct {
	// MinAckedBeforeFault is the availability floor: with fewer
	// acknowledged sends before the first fault, the faults never met
	// traffic and the run is unknown (kind unexercised; allow it in
	// expect: to accept such runs).
	MinAckedBeforeFault int `yaml:"min_acked_before_fault" doc:"acknowledged sends needed before the first fault, else the run is unknown (unexercised); 1 to 1000000 (default 20)"`
	// Porcupine adds a porcupine check of each stream next to the witness
	// check, bounded in time and memory (a blown bound is unknown).
	Porcupine bool `yaml:"porcupine" doc:"also check each stream's log with porcupine, bounded in time and memory (default false: the witness check decides the same question on any size)"`
}

// Workload says what the clients do.
type Workload struct {
	Kind      string   `yaml:"kind" enum:"queue" doc:"queue: producers send unique values, consumers read them, a final drain reads what is left"`
	Stream    string   `yaml:"stream" doc:"name of the stream the workload uses (default riptide)"`
	Replicas  int      `yaml:"replicas" doc:"replication factor of the stream, 1 to 5 and at most the node count (default: the node count, at most 3)"`
	Producers int      `yaml:"producers" doc:"number of producing clients, 1 to 64 (default 4)"`
	Consumers int      `yaml:"consumers" doc:"number of consuming clients, 0 to 64 (default 2)"`
	Rate      float64  `yaml:"rate" doc:"target sends per second over all producers, 0.01 to 100000 (default 500)"`
	Timeout   Duration `yaml:"timeout" doc:"how long one operation may take before its outcome is unknown (default 5s)"`
	Drain     Duration `yaml:"drain" doc:"time limit of the final reads after the faults are healed (default 30s)"`
}

// Fault is one entry of the schedule. Which fields apply depends on the
// kind; a field given for a kind it does not apply to is an error.
type Fault struct {
	Kind string `yaml:"kind" enum:"kill,stop,pause,restart,partition,latency,bandwidth,reset-peer,slow-close,slicer,limit-data,down,bitflip,truncate,random" doc:"the fault: kill, stop, pause, restart (processes); partition, latency, bandwidth, reset-peer, slow-close, slicer, limit-data, down (links); bitflip, truncate (data files); random (drawn from a list)"`
	// Target picks nodes. random-* words are drawn from the scenario seed
	// at every firing; leader is asked from the system when the fault fires.
	Target string     `yaml:"target" doc:"nodes to act on: one, random-one, minority, random-minority, majority, random-majority, all, leader, all-links (link faults) or a node name like n2"`
	Nodes  []string   `yaml:"nodes" doc:"an explicit list of nodes to act on, e.g. [n1, n3], instead of target"`
	Links  []string   `yaml:"links" doc:"link faults: the links to act on instead of target, as node pairs n1-n2 (both proxies between them) or client-n2 (the clients of n2)"`
	Mode   string     `yaml:"mode" enum:"isolate-one,isolate-leader,halves,ring,bridge,groups,rolling,all-at-once" doc:"partition: isolate-one, isolate-leader, halves, ring, bridge or groups; restart: rolling (one node at a time) or all-at-once"`
	Groups [][]string `yaml:"groups" doc:"partition mode groups: the sides, every node in exactly one, e.g. [[n1, n2], [n3]]"`
	// Clients says whether clients are cut off together with the node they
	// talk to (cut) or keep their links (keep, as Jepsen does).
	Clients   string   `yaml:"clients" enum:"cut,keep" doc:"partition: also cut the clients of nodes outside the largest side (cut) or only node-to-node links (keep, as Jepsen); link faults: act on clients' links too (cut) or not (keep)"`
	Direction string   `yaml:"direction" enum:"both,to,from" doc:"which data the fault acts on: both ways, only data flowing to the target nodes, or only data flowing from them"`
	At        Duration `yaml:"at" doc:"when the fault starts, from the start of the main phase"`
	Every     Duration `yaml:"every" doc:"fire again this long after each firing, until the end of the main phase"`
	// StartJitter is not called jitter: latency's jitter came first.
	StartJitter   Duration `yaml:"start_jitter" doc:"delay each firing by a random time up to this, drawn from the seed"`
	Duration      Duration `yaml:"duration" doc:"how long the fault holds before it is healed"`
	RestartAfter  Duration `yaml:"restart_after" doc:"kill, stop: start the node again this long after (default: at the end of the main phase)"`
	Latency       Duration `yaml:"latency" doc:"latency: delay added to every packet, e.g. 100ms"`
	Jitter        Duration `yaml:"jitter" doc:"latency: random variation of the delay, at most the latency"`
	Bandwidth     int      `yaml:"bandwidth" doc:"bandwidth: the rate limit in KB per second"`
	Delay         Duration `yaml:"delay" doc:"reset-peer: time before the reset; slow-close: delay of each close; slicer: delay between slices; restart: how long each node stays down"`
	AverageSize   int      `yaml:"average_size" doc:"slicer: average size of a slice in bytes"`
	SizeVariation int      `yaml:"size_variation" doc:"slicer: random variation of the slice size in bytes, less than average_size"`
	Bytes         int      `yaml:"bytes" doc:"limit-data: close each connection after this many bytes; truncate: bytes cut off the end of each file"`
	Files         string   `yaml:"files" doc:"bitflip, truncate: a glob matched against file names in the node's data directory (default *.blk)"`
	Flips         int      `yaml:"flips" doc:"bitflip: bits flipped in each matching file (default 8)"`
	// Stop says how a disk fault takes its node down before it changes
	// files: a crash (kill) or a clean shutdown (graceful), which a
	// store may trust more on restart.
	Stop string   `yaml:"stop" enum:"kill,graceful" doc:"bitflip, truncate: how the node goes down before its files change: kill (SIGKILL, a crash; default) or graceful (SIGTERM, a clean shutdown)"`
	From []string `yaml:"from" doc:"random: the fault kinds to draw from, e.g. [kill, pause, partition, latency]"`
}

// Allowance is how many anomalies of one kind are tolerated.
type Allowance struct {
	// Any is set for "allowed": any number is tolerated.
	Any bool
	// Max is the number tolerated when Any is false.
	Max int
}

// Allows reports whether n anomalies are within the allowance.
func (a Allowance) Allows(n int) bool { return a.Any || n <= a.Max }

// MarshalYAML writes the allowance in the form it is read.
func (a Allowance) MarshalYAML() (any, error) {
	if a.Any {
		return "allowed", nil
	}
	return a.Max, nil
}

func (a Allowance) String() string {
	if a.Any {
		return "allowed"
	}
	if a.Max == 0 {
		return "0"
	}
	return "<= " + strconv.Itoa(a.Max)
}

// Duration is a time.Duration written as "500ms", "10s", "2m" in YAML.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration in the form it is read.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Pos is a place in a scenario file.
type Pos struct {
	Line, Column int
}
