package scenarios

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/checkers"
)

// The patterns keep names and versions to plain characters: they end up in
// file names, stream names and download URLs, where nothing shell-like belongs.
var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// imageRE admits image references (registry/path:tag@digest) and
	// nothing that could mean more to a shell or the engine.
	imageRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9._-]{1,128})?(@sha256:[a-f0-9]{64})?$`)
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$`)
	streamRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	nodeRE    = regexp.MustCompile(`^n([1-9][0-9]?)$`)
)

// Limits. Nodes and clients are bounded by what one machine runs; the time
// limits keep a typo (60m for 60s) from holding a CI runner for hours.
const (
	maxNodes       = 9
	maxReplicas    = 5
	maxClients     = 64
	maxRate        = 100000
	maxDuration    = 24 * time.Hour
	minDuration    = time.Second // of the main phase
	maxOpTimeout   = 5 * time.Minute
	maxDrain       = 10 * time.Minute
	maxLatency     = 60 * time.Second
	maxMinAcked    = 1_000_000
	nameRule       = "1-64 letters, digits, '.', '_' or '-'"
	streamRule     = "1-32 letters, digits, '_' or '-'"
	versionExample = "a release number like 2.12.1 (optionally with a suffix like -rc.1)"
)

// minRate keeps each producer's pace (producers/rate seconds between its
// sends) far from overflowing a time.Duration, which would unpace it.
const minRate = 0.01

// systemConfig lists, per system, the cluster.config keys and a check of
// their values (returning what is allowed, or "" when the value is fine).
var systemConfig = map[string]map[string]func(string) string{
	"nats": {
		"sync_interval": func(v string) string {
			if d, err := time.ParseDuration(v); v == "always" || (err == nil && d > 0) {
				return ""
			}
			return "always or a positive duration such as 2m"
		},
	},
}

// Validate checks the scenario against the rules of the format and returns
// every problem as *Problems, or nil. Call ApplyDefaults first: Validate
// judges the scenario as it will run. Problems of a loaded scenario carry the
// file position; those of a scenario built in Go name the field only.
func (s *Scenario) Validate() error {
	return asError(s.File, s.validate(), false)
}

// validator collects the problems of one scenario.
type validator struct {
	s     *Scenario
	probs Problems
}

func (s *Scenario) validate() Problems {
	v := &validator{s: s}
	v.top()
	v.cluster()
	v.workload()
	for i := range s.Faults {
		v.fault(i)
	}
	v.expect()
	v.checks()
	sortProblems(v.probs)
	return v.probs
}

func (v *validator) addf(path, format string, args ...any) {
	v.probs = append(v.probs, Problem{File: v.s.File, Pos: v.s.position(path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

// keyf reports a problem with a map key itself, at the key.
func (v *validator) keyf(path, format string, args ...any) {
	pos, ok := v.s.pos[path+keySuffix]
	if !ok {
		pos = v.s.position(path)
	}
	v.probs = append(v.probs, Problem{File: v.s.File, Pos: pos, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// position finds where path was written; for a missing field, where its
// key or, failing that, its parent was written.
func (s *Scenario) position(path string) Pos {
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		if p, ok := s.pos[path+keySuffix]; ok {
			return p
		}
		if path == "" {
			return Pos{}
		}
		i := strings.LastIndexAny(path, ".[")
		path = path[:max(i, 0)]
	}
}

func (v *validator) top() {
	s := v.s
	switch {
	case s.Name == "":
		v.addf("name", "required: %s", nameRule)
	case !nameRE.MatchString(s.Name):
		v.addf("name", "invalid name %q; use %s", s.Name, nameRule)
	}
	switch d := s.Duration.D(); {
	case d == 0:
		v.addf("duration", "required: the length of the main phase, e.g. 60s")
	case d < 0 || d > maxDuration:
		v.addf("duration", "must be > 0 and at most 24h, got %s", d)
	case d < minDuration:
		v.addf("duration", "must be at least %s, got %s: the workload needs time to run, and to be acknowledged before the first fault", minDuration, d)
	}
}

func (v *validator) cluster() {
	c := v.s.Cluster
	systemOK := v.enum("cluster.system", c.System, enumOf(reflect.TypeFor[Cluster](), "system"))
	switch {
	case c.Version == "" && systemOK:
		v.addf("cluster.version", "required: %s", versionExample)
	case c.Version != "" && !versionRE.MatchString(c.Version):
		v.addf("cluster.version", "invalid version %q; use %s", c.Version, versionExample)
	}
	if c.Nodes < 1 || c.Nodes > maxNodes {
		v.addf("cluster.nodes", "must be between 1 and %d, got %d", maxNodes, c.Nodes)
	}
	v.enum("cluster.platform", c.Platform, enumOf(reflect.TypeFor[Cluster](), "platform"))
	// Each platform runs one kind of artefact: naming the other kind is a
	// mistake that would otherwise surface only at launch.
	switch {
	case c.Binary != "" && c.Platform == "docker":
		v.addf("cluster.binary", "applies to the process platform only; on docker name an image (cluster.image)")
	case c.Image != "" && c.Platform == "process":
		v.addf("cluster.image", "applies to the docker platform only; on the process platform name a binary (cluster.binary)")
	case c.Image != "" && !imageRE.MatchString(c.Image):
		v.addf("cluster.image", "invalid image reference %q; use a name like nats:2.12.1 or registry.example.com/team/nats:2.12.1", c.Image)
	}
	switch {
	case c.ToxiproxyImage != "" && c.Platform == "process":
		v.addf("cluster.toxiproxy_image", "applies to the docker platform only; the process platform embeds Toxiproxy")
	case c.ToxiproxyImage != "" && !imageRE.MatchString(c.ToxiproxyImage):
		v.addf("cluster.toxiproxy_image", "invalid image reference %q; use a name like ghcr.io/shopify/toxiproxy:2.12.0", c.ToxiproxyImage)
	}
	if !systemOK {
		return // config keys depend on the system
	}
	settings := systemConfig[c.System]
	allowed := sortedKeys(settings)
	for _, key := range sortedKeys(c.Config) {
		path := "cluster.config." + key
		check, ok := settings[key]
		if !ok {
			v.keyf(path, "unknown setting for %s; allowed: %s", c.System, strings.Join(allowed, ", "))
			continue
		}
		if want := check(c.Config[key]); want != "" {
			v.addf(path, "invalid value %q; allowed: %s", c.Config[key], want)
		}
	}
}

func (v *validator) workload() {
	w, nodes := v.s.Workload, v.s.Cluster.Nodes
	v.enum("workload.kind", w.Kind, enumOf(reflect.TypeFor[Workload](), "kind"))
	if !streamRE.MatchString(w.Stream) {
		v.addf("workload.stream", "invalid stream name %q; use %s", w.Stream, streamRule)
	}
	switch {
	case w.Replicas < 1 || w.Replicas > maxReplicas:
		v.addf("workload.replicas", "must be between 1 and %d, got %d", maxReplicas, w.Replicas)
	case nodes >= 1 && nodes <= maxNodes && w.Replicas > nodes:
		v.addf("workload.replicas", "must be at most cluster.nodes (%d), got %d", nodes, w.Replicas)
	}
	v.between("workload.producers", w.Producers, 1, maxClients)
	v.between("workload.consumers", w.Consumers, 0, maxClients)
	switch {
	case !(w.Rate > 0 && w.Rate <= maxRate): // also refuses NaN
		v.addf("workload.rate", "must be > 0 and at most %d sends per second, got %s", maxRate, strconv.FormatFloat(w.Rate, 'g', -1, 64))
	case w.Rate < minRate:
		v.addf("workload.rate", "must be at least %g sends per second, got %s", minRate, strconv.FormatFloat(w.Rate, 'g', -1, 64))
	}
	v.positive("workload.timeout", w.Timeout, maxOpTimeout)
	v.positive("workload.drain", w.Drain, maxDrain)
}

func (v *validator) checks() {
	v.between("checks.min_acked_before_fault", v.s.Checks.MinAckedBeforeFault, 1, maxMinAcked)
}

func (v *validator) expect() {
	kinds := checkers.KindNames()
	for _, key := range sortedKeys(v.s.Expect) {
		path := "expect." + key
		if !slices.Contains(kinds, key) {
			v.keyf(path, "unknown anomaly kind; allowed: %s", strings.Join(kinds, ", "))
			continue
		}
		if a := v.s.Expect[key]; !a.Any && a.Max < 0 {
			v.addf(path, "must be a count >= 0 or allowed, got %d", a.Max)
		}
	}
}

// enum checks a value against a field's allowed values and reports whether
// it is one of them.
func (v *validator) enum(path, value string, allowed []string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	if value == "" {
		v.addf(path, "required; allowed: %s", strings.Join(allowed, ", "))
	} else {
		v.addf(path, "unknown value %q; allowed: %s", value, strings.Join(allowed, ", "))
	}
	return false
}

func (v *validator) between(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.addf(path, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (v *validator) positive(path string, d Duration, limit time.Duration) {
	if d <= 0 || d.D() > limit {
		v.addf(path, "must be > 0 and at most %s, got %s", shortDuration(limit), d)
	}
}

// given says whether a field was written: present in a loaded file, or
// non-zero in a scenario built in Go.
func (s *Scenario) given(path string, v reflect.Value) bool {
	if s.pos == nil {
		return !v.IsZero()
	}
	return s.has(path)
}

// shortDuration writes whole minutes as "5m" rather than "5m0s".
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 && d < time.Hour {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
