package scenarios

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riptidechaos/riptide/injectors/targets"
)

// The rules of the fault schedule: which fields each kind takes, their
// defaults and their limits. docs/faults.md explains them for users.

// Limits of fault settings: wide enough for any experiment, narrow enough
// that a typo (a 10 MB slice, a 5-minute reset delay) is caught.
const (
	minEvery        = time.Second
	maxFaultDelay   = time.Minute
	maxBandwidth    = 10_000_000 // KB/s
	maxSliceSize    = 1 << 20
	maxFaultBytes   = 1 << 30
	maxFlips        = 1 << 20
	defaultFiles    = "*.blk" // NATS JetStream message blocks
	defaultFlips    = 8
	defaultTruncate = 512
)

// Groups of fields shared by kinds, in declaration order of Fault.
var (
	nodeTarget = []string{"target", "nodes"}
	linkTarget = []string{"target", "nodes", "links", "clients", "direction"}
	timing     = []string{"at", "every", "start_jitter"}
)

func fields(groups ...[]string) []string {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	// Declaration order, so that messages list fields as the file does.
	order := fieldsOf(reflect.TypeFor[Fault]())
	slices.SortStableFunc(all, func(a, b string) int {
		return slices.IndexFunc(order, func(f field) bool { return f.name == a }) -
			slices.IndexFunc(order, func(f field) bool { return f.name == b })
	})
	return all
}

// faultFields lists, per fault kind, the fields that apply to it besides kind.
var faultFields = map[string][]string{
	"kill":       fields(nodeTarget, timing, []string{"restart_after"}),
	"stop":       fields(nodeTarget, timing, []string{"restart_after"}),
	"pause":      fields(nodeTarget, timing, []string{"duration"}),
	"restart":    fields(nodeTarget, []string{"mode", "delay"}, timing),
	"partition":  fields(nodeTarget, []string{"mode", "groups", "clients", "direction"}, timing, []string{"duration"}),
	"latency":    fields(linkTarget, timing, []string{"duration", "latency", "jitter"}),
	"bandwidth":  fields(linkTarget, timing, []string{"duration", "bandwidth"}),
	"reset-peer": fields(linkTarget, timing, []string{"duration", "delay"}),
	"slow-close": fields(linkTarget, timing, []string{"duration", "delay"}),
	"slicer":     fields(linkTarget, timing, []string{"duration", "delay", "average_size", "size_variation"}),
	"limit-data": fields(linkTarget, timing, []string{"duration", "bytes"}),
	"down":       fields([]string{"target", "nodes", "links", "clients"}, timing, []string{"duration"}),
	"bitflip":    fields(nodeTarget, timing, []string{"files", "flips", "stop"}),
	"truncate":   fields(nodeTarget, timing, []string{"files", "bytes", "stop"}),
	"random":     fields(timing, []string{"duration", "from"}),
}

// Target words. random-* words draw from the scenario seed at each firing;
// leader asks the system when the fault fires.
var (
	nodeWords = []string{"one", "random-one", "minority", "random-minority", "majority", "random-majority", "all", "leader"}
	linkWords = append([]string{"all-links"}, nodeWords...)
)

// faultTargets lists, per fault kind, the targets allowed besides node
// names; for partition, partitionTargets narrows them down by mode.
var faultTargets = map[string][]string{
	"kill": nodeWords, "stop": nodeWords, "pause": nodeWords, "restart": nodeWords,
	"bitflip": nodeWords, "truncate": nodeWords,
	"partition": {"one", "random-one", "minority", "random-minority", "majority", "random-majority", "leader"},
	"latency":   linkWords, "bandwidth": linkWords, "reset-peer": linkWords, "slow-close": linkWords,
	"slicer": linkWords, "limit-data": linkWords, "down": linkWords,
}

// faultModes lists the modes of the kinds that have them.
var faultModes = map[string][]string{
	"partition": {"isolate-one", "isolate-leader", "halves", "ring", "bridge", "groups"},
	"restart":   {"rolling", "all-at-once"},
}

// partitionTargets says which targets each partition mode takes; nil means
// the mode takes none (its shape names the nodes itself).
var partitionTargets = map[string][]string{
	"isolate-one": {"one", "random-one", "minority", "random-minority", "leader"},
	"halves":      {"one", "random-one", "minority", "random-minority", "majority", "random-majority", "leader"},
	"bridge":      {"one", "random-one", "leader"},
}

// partitionMinNodes is the smallest cluster each partition mode can cut:
// a ring of three is every node seeing both others, which cuts nothing.
var partitionMinNodes = map[string]int{
	"isolate-one": 2, "isolate-leader": 2, "halves": 2, "groups": 2, "bridge": 3, "ring": 4,
}

// RandomKinds are the kinds a random fault may draw. Disk faults destroy
// data on purpose and are never drawn by chance.
var RandomKinds = []string{"kill", "stop", "pause", "restart", "partition", "latency", "bandwidth",
	"reset-peer", "slow-close", "slicer", "limit-data", "down"}

// linkKinds are the faults that act on link proxies.
var linkKinds = []string{"latency", "bandwidth", "reset-peer", "slow-close", "slicer", "limit-data", "down"}

// IsLinkKind reports whether kind acts on link proxies.
func IsLinkKind(kind string) bool { return slices.Contains(linkKinds, kind) }

// applyDefaults fills in what a fault leaves out, on a cluster of nodes
// nodes (0: not known). unset says whether a number field (flips, bytes)
// was left out, given whether it is zero: in a loaded file an explicit 0
// stays, for validation to report.
func (f *Fault) applyDefaults(nodes int, unset func(field string, zero bool) bool) {
	named := len(f.Nodes) > 0 || len(f.Links) > 0
	switch {
	case f.Kind == "partition":
		if f.Mode == "" && len(f.Groups) > 0 {
			f.Mode = "groups"
		}
		f.Mode = or(f.Mode, "isolate-one")
		if !named {
			switch f.Mode {
			case "isolate-one", "bridge":
				f.Target = or(f.Target, "random-one")
			case "halves":
				f.Target = or(f.Target, halvesTarget(nodes))
			}
		}
		// Ring and bridge have no side that clients could stay with.
		if f.Mode == "ring" || f.Mode == "bridge" {
			f.Clients = or(f.Clients, "keep")
		}
		f.Clients = or(f.Clients, "cut")
		f.Direction = or(f.Direction, "both")
	case IsLinkKind(f.Kind):
		if !named {
			f.Target = or(f.Target, "all-links")
		}
		if len(f.Links) == 0 {
			f.Clients = or(f.Clients, "cut")
		}
		if f.Kind != "down" {
			f.Direction = or(f.Direction, "both")
		}
	case f.Kind == "restart":
		if !named {
			f.Target = or(f.Target, "all")
		}
		f.Mode = or(f.Mode, "rolling")
	case f.Kind == "bitflip" || f.Kind == "truncate":
		if !named {
			f.Target = or(f.Target, "random-one")
		}
		f.Files = or(f.Files, defaultFiles)
		f.Stop = or(f.Stop, "kill")
		if f.Kind == "bitflip" && unset("flips", f.Flips == 0) {
			f.Flips = defaultFlips
		}
		if f.Kind == "truncate" && unset("bytes", f.Bytes == 0) {
			f.Bytes = defaultTruncate
		}
	case f.Kind == "kill" || f.Kind == "stop" || f.Kind == "pause":
		if !named {
			f.Target = or(f.Target, "random-one")
		}
	}
}

// held is how long one firing of f holds (0: until the end of the main
// phase, or nothing to hold for instant faults).
func (f Fault) held() time.Duration {
	if f.Kind == "kill" || f.Kind == "stop" {
		return f.RestartAfter.D()
	}
	return f.Duration.D()
}

// instant kinds do their whole work when they fire.
func (f Fault) instant() bool {
	return f.Kind == "restart" || f.Kind == "bitflip" || f.Kind == "truncate"
}

func (v *validator) fault(i int) {
	f, s := v.s.Faults[i], v.s
	p := fmt.Sprintf("faults[%d]", i)
	if !v.enum(p+".kind", f.Kind, enumOf(reflect.TypeFor[Fault](), "kind")) {
		return // which fields apply depends on the kind
	}
	applies := faultFields[f.Kind]
	// A field given for a kind it does not apply to is an error rather than
	// ignored: `latency:` on a kill means the author expected something else.
	fv := reflect.ValueOf(f)
	for _, fd := range fieldsOf(fv.Type()) {
		if fd.name == "kind" || slices.Contains(applies, fd.name) {
			continue
		}
		if s.given(p+"."+fd.name, fv.Field(fd.index)) {
			v.addf(p+"."+fd.name, "not allowed for kind %s; fields of %s: %s", f.Kind, f.Kind, strings.Join(applies, ", "))
		}
	}
	has := func(name string) bool { return slices.Contains(applies, name) }

	if modes := faultModes[f.Kind]; modes != nil {
		v.enum(p+".mode", f.Mode, modes)
	}
	if has("target") {
		v.faultTarget(p, f)
	}
	if f.Kind == "partition" {
		v.partition(p, f)
	}
	if has("links") && len(f.Links) > 0 {
		v.links(p, f.Links)
	}
	if has("clients") && f.Clients != "" {
		v.enum(p+".clients", f.Clients, enumOf(fv.Type(), "clients"))
		// Without its clients' links, a link fault on 1 node has no link
		// to act on (partitions of 1 node are refused by mode).
		if IsLinkKind(f.Kind) && f.Clients == "keep" && len(f.Links) == 0 && v.clusterSize() == 1 {
			v.addf(p+".clients", "keep leaves nothing to act on: a cluster of 1 node has no node-to-node links; allowed here: cut (the clients' links)")
		}
	}
	if has("stop") {
		v.enum(p+".stop", f.Stop, enumOf(fv.Type(), "stop"))
	}
	if has("direction") {
		v.direction(p, f)
	}
	v.timing(p, f)
	v.faultSettings(p, f)
}

// faultTarget checks target, nodes and links: exactly one way of naming
// what the fault acts on, and one that names nodes on this cluster.
func (v *validator) faultTarget(p string, f Fault) {
	switch {
	case len(f.Nodes) > 0 && len(f.Links) > 0:
		v.addf(p+".links", "give nodes or links, not both")
	case len(f.Nodes) > 0 && f.Target != "":
		v.addf(p+".nodes", "give target or nodes, not both")
	case len(f.Links) > 0 && f.Target != "":
		v.addf(p+".links", "give target or links, not both")
	case len(f.Links) > 0 && f.Clients != "":
		v.addf(p+".clients", "not allowed with links: name the clients' links as client-n2")
	}
	words := faultTargets[f.Kind]
	if f.Kind == "partition" {
		words = partitionTargets[f.Mode]
		if words == nil && slices.Contains(faultModes["partition"], f.Mode) {
			// The mode's shape names its nodes: a target or a node list
			// would be silently ignored.
			if f.Target != "" {
				v.addf(p+".target", "not allowed for mode %s: %s", f.Mode, modeShape(f.Mode))
			}
			if len(f.Nodes) > 0 {
				v.addf(p+".nodes", "not allowed for mode %s: %s", f.Mode, modeShape(f.Mode))
			}
			return
		}
	}
	if len(f.Nodes) > 0 {
		v.nodeList(p, f)
		return
	}
	if len(f.Links) > 0 || words == nil {
		return
	}
	v.target(p+".target", f, words)
}

// nodeList checks an explicit list of nodes: known, each once, and as
// many as a partition's mode can cut with.
func (v *validator) nodeList(p string, f Fault) {
	seen := map[string]bool{}
	ok := true
	for j, n := range f.Nodes {
		path := fmt.Sprintf("%s.nodes[%d]", p, j)
		if !v.nodeName(n) {
			v.addf(path, "unknown node %q; allowed: %s", n, v.nodeNames())
			ok = false
		} else if seen[n] {
			v.addf(path, "node %s listed twice", n)
			ok = false
		}
		seen[n] = true
	}
	n := v.clusterSize()
	if !ok || n == 0 || f.Kind != "partition" || !v.modeFits(f) {
		return
	}
	switch {
	case f.Mode == "bridge" && len(f.Nodes) != 1:
		v.addf(p+".nodes", "mode bridge takes exactly one node, the bridge that sees both halves; got %d: %s",
			len(f.Nodes), strings.Join(f.Nodes, ", "))
	case f.Mode == "halves" && len(f.Nodes) >= n:
		v.addf(p+".nodes", "mode halves needs a node on each side: the list holds all %d nodes; leave out at least one", n)
	}
}

func modeShape(mode string) string {
	switch mode {
	case "isolate-leader":
		return "it cuts off the stream's leader, asked from the system when the fault fires"
	case "ring":
		return "every node, in order, sees only its two neighbours"
	case "groups":
		return "groups names every node"
	}
	return "the mode names its nodes"
}

// target checks a fault's target: a word the kind allows, and that names
// nodes on this cluster, or a node name.
func (v *validator) target(path string, f Fault, words []string) {
	target := f.Target
	if v.nodeName(target) {
		return
	}
	if slices.Contains(words, target) {
		n := v.clusterSize()
		if n == 0 || (f.Kind == "partition" && !v.modeFits(f)) {
			return // the node count or the mode has its own problem
		}
		if why := targetProblem(f, target, n); why != "" {
			var fit []string
			for _, w := range words {
				if targetProblem(f, w, n) == "" {
					fit = append(fit, w)
				}
			}
			v.addf(path, "%s; allowed: %s or a node name %s", why, strings.Join(fit, ", "), v.nodeNames())
		}
		return
	}
	if target == "" {
		v.addf(path, "required; allowed: %s or a node name %s", strings.Join(words, ", "), v.nodeNames())
		return
	}
	v.addf(path, "unknown target %q; allowed: %s or a node name %s", target, strings.Join(words, ", "), v.nodeNames())
}

// targetProblem says why the target word cannot act on a cluster of n
// nodes in fault f, or "" when it can.
func targetProblem(f Fault, target string, n int) string {
	if target == "all-links" {
		return ""
	}
	// The rule the injectors resolve the word with when the fault fires,
	// so that validation and the run cannot disagree.
	k, _ := targets.Count(target, n)
	if k == 0 {
		least := n + 1
		for ; least < maxNodes; least++ {
			if k, _ := targets.Count(target, least); k > 0 {
				break
			}
		}
		return fmt.Sprintf("%s needs at least %d nodes, the cluster has %d (on %d it names no node)", target, least, n, n)
	}
	if f.Kind == "partition" && f.Mode == "halves" && k >= n {
		return fmt.Sprintf("%s is all %d nodes, which leaves the other side of halves empty", target, n)
	}
	return ""
}

// clusterSize is the node count when it is valid, else 0: checks that
// depend on it are left out, and the count has its own problem.
func (v *validator) clusterSize() int {
	if n := v.s.Cluster.Nodes; n >= 1 && n <= maxNodes {
		return n
	}
	return 0
}

// modeFits reports whether the cluster is large enough for the fault's
// partition mode (partition reports it when it is not).
func (v *validator) modeFits(f Fault) bool {
	least := partitionMinNodes[f.Mode]
	n := v.clusterSize()
	return n == 0 || n >= least
}

// nodes is the node count to check names against: with an invalid count,
// only the form of a name is checked; the count has its own problem.
func (v *validator) nodes() int {
	if n := v.s.Cluster.Nodes; n >= 1 && n <= maxNodes {
		return n
	}
	return maxNodes
}

func (v *validator) nodeName(name string) bool {
	m := nodeRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	k, _ := strconv.Atoi(m[1])
	return k <= v.nodes()
}

func (v *validator) nodeNames() string {
	if v.nodes() == 1 {
		return "n1"
	}
	return fmt.Sprintf("n1..n%d", v.nodes())
}

func (v *validator) partition(p string, f Fault) {
	if least := partitionMinNodes[f.Mode]; !v.modeFits(f) {
		why := ""
		if f.Mode == "ring" {
			why = " (in a ring of 3 every node already sees both others)"
		}
		v.addf(p+".mode", "%s needs at least %d nodes, the cluster has %d%s", f.Mode, least, v.s.Cluster.Nodes, why)
	}
	switch {
	case f.Mode == "groups" && len(f.Groups) == 0:
		v.addf(p+".groups", "required for mode groups: the sides, e.g. [[n1, n2], [n3]]")
	case f.Mode == "groups":
		v.groups(p, f.Groups)
	case len(f.Groups) > 0 && slices.Contains(faultModes["partition"], f.Mode):
		v.addf(p+".groups", "only for mode groups, not %s", f.Mode)
	}
	if (f.Mode == "ring" || f.Mode == "bridge") && f.Clients == "cut" {
		v.addf(p+".clients", "must be keep for mode %s: no side holds a majority for the clients to stay with", f.Mode)
	}
}

// groups checks an explicit partition: two or more sides, every node of
// the cluster in exactly one.
func (v *validator) groups(p string, groups [][]string) {
	if len(groups) < 2 {
		v.addf(p+".groups", "needs at least two groups, got %d", len(groups))
	}
	seen := map[string]bool{}
	for g, group := range groups {
		if len(group) == 0 {
			v.addf(fmt.Sprintf("%s.groups[%d]", p, g), "empty group")
		}
		for j, n := range group {
			path := fmt.Sprintf("%s.groups[%d][%d]", p, g, j)
			switch {
			case !v.nodeName(n):
				v.addf(path, "unknown node %q; allowed: %s", n, v.nodeNames())
			case seen[n]:
				v.addf(path, "node %s is in more than one group", n)
			}
			seen[n] = true
		}
	}
	if n := v.s.Cluster.Nodes; n >= 1 && n <= maxNodes {
		var missing []string
		for k := 1; k <= n; k++ {
			if name := fmt.Sprintf("n%d", k); !seen[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 && len(groups) >= 2 {
			v.addf(p+".groups", "every node must be in a group; missing: %s", strings.Join(missing, ", "))
		}
	}
}

// links checks link names: n1-n2 for the proxies between two nodes,
// client-n2 for the clients of a node.
func (v *validator) links(p string, links []string) {
	seen := map[string]bool{}
	for j, l := range links {
		path := fmt.Sprintf("%s.links[%d]", p, j)
		a, b, ok := strings.Cut(l, "-")
		switch {
		case !ok || !(a == "client" || v.nodeName(a)) || !v.nodeName(b):
			v.addf(path, "invalid link %q; write two nodes like n1-n2, or client-n2 for the clients of n2 (nodes %s)", l, v.nodeNames())
			continue
		case a == b:
			v.addf(path, "invalid link %q: a node has no link to itself", l)
			continue
		}
		key := min(a, b) + "-" + max(a, b)
		if seen[key] {
			v.addf(path, "link %s listed twice (n1-n2 and n2-n1 are the same proxies)", l)
		}
		seen[key] = true
	}
}

func (v *validator) direction(p string, f Fault) {
	if !v.enum(p+".direction", f.Direction, enumOf(reflect.TypeFor[Fault](), "direction")) || f.Direction == "both" {
		return
	}
	switch {
	case f.Kind == "partition" && (f.Mode == "ring" || f.Mode == "bridge"):
		v.addf(p+".direction", "must be both for mode %s: it has no target side for data to flow to or from", f.Mode)
	case f.Kind != "partition" && len(f.Nodes) == 0 && len(f.Links) == 0 && f.Target == "all-links":
		v.addf(p+".direction", "must be both with target all-links: name target nodes or links to cut one way")
	}
}

func (v *validator) timing(p string, f Fault) {
	end := v.s.Duration.D()
	inRange := end > 0 && end <= maxDuration
	switch at := f.At.D(); {
	case at < 0:
		v.addf(p+".at", "must be >= 0, got %s", at)
	case inRange && at >= end:
		v.addf(p+".at", "must be before the end of the main phase (duration %s), got %s", end, at)
	}
	held := f.held()
	switch d := f.Duration.D(); {
	case !slices.Contains(faultFields[f.Kind], "duration"):
	case d < 0:
		v.addf(p+".duration", "must be > 0, got %s", d)
	case d == 0 && f.Kind != "pause":
		v.addf(p+".duration", "required for %s: how long the fault holds, e.g. 10s", f.Kind)
	case d > maxDuration:
		v.addf(p+".duration", "must be at most 24h, got %s", d)
	}
	switch {
	case f.RestartAfter < 0:
		v.addf(p+".restart_after", "must be >= 0, got %s", f.RestartAfter)
	case f.RestartAfter.D() > maxDuration:
		v.addf(p+".restart_after", "must be at most 24h, got %s", f.RestartAfter)
	}
	every := f.Every.D()
	switch {
	case every == 0:
	case every < minEvery || every > maxDuration:
		v.addf(p+".every", "must be at least %s and at most 24h, got %s", minEvery, every)
	case held == 0 && !f.instant():
		what := "duration"
		if f.Kind == "kill" || f.Kind == "stop" {
			what = "restart_after"
		}
		v.addf(p+".every", "needs %s: each firing must end before the next", what)
	case held > 0 && every <= held:
		v.addf(p+".every", "must be longer than the fault holds (%s), got %s, so that each firing ends before the next", held, every)
	}
	switch j := f.StartJitter.D(); {
	case j < 0:
		v.addf(p+".start_jitter", "must be >= 0, got %s", j)
	case every >= minEvery && held < every && j >= every-held:
		v.addf(p+".start_jitter", "must be less than every minus how long the fault holds (%s), got %s, so that firings do not overlap", every-held, j)
	case inRange && f.At >= 0 && f.At.D() < end && j > 0 && j >= end-f.At.D():
		// A first firing drawn past the end never fires: the fault (all
		// of it, without every) would silently not happen.
		v.addf(p+".start_jitter", "at + start_jitter must be before the end of the main phase (duration %s), got %s + %s", end, f.At, j)
	}
}

// faultSettings checks the settings of each kind.
func (v *validator) faultSettings(p string, f Fault) {
	has := func(name string) bool { return slices.Contains(faultFields[f.Kind], name) }
	if f.Kind == "latency" {
		lat := f.Latency.D()
		latencyOK := lat > 0 && lat <= maxLatency
		if !latencyOK {
			v.addf(p+".latency", "must be > 0 and at most 60s, got %s", lat)
		}
		switch j := f.Jitter.D(); {
		case j < 0:
			v.addf(p+".jitter", "must be >= 0, got %s", j)
		case latencyOK && j > lat:
			v.addf(p+".jitter", "must be at most the latency (%s), got %s", lat, j)
		}
	}
	if f.Kind == "bandwidth" && (f.Bandwidth < 1 || f.Bandwidth > maxBandwidth) {
		v.addf(p+".bandwidth", "must be between 1 and %d KB/s, got %d", maxBandwidth, f.Bandwidth)
	}
	if has("delay") {
		if d := f.Delay.D(); d < 0 || d > maxFaultDelay {
			v.addf(p+".delay", "must be >= 0 and at most 1m, got %s", d)
		}
	}
	if f.Kind == "slicer" {
		switch {
		case f.AverageSize < 1 || f.AverageSize > maxSliceSize:
			v.addf(p+".average_size", "must be between 1 and %d bytes, got %d", maxSliceSize, f.AverageSize)
		case f.SizeVariation < 0 || f.SizeVariation >= f.AverageSize:
			v.addf(p+".size_variation", "must be >= 0 and less than average_size (%d), got %d", f.AverageSize, f.SizeVariation)
		}
	}
	if has("bytes") && (f.Bytes < 1 || f.Bytes > maxFaultBytes) {
		v.addf(p+".bytes", "must be between 1 and %d, got %d", maxFaultBytes, f.Bytes)
	}
	if has("files") {
		_, err := filepath.Match(f.Files, "")
		switch {
		case f.Files == "":
			v.addf(p+".files", "required: a glob of file names such as *.blk")
		case err != nil:
			v.addf(p+".files", "invalid glob %q: %v", f.Files, err)
		case strings.Contains(f.Files, "/"):
			v.addf(p+".files", "invalid glob %q: it is matched against file names, so it cannot hold '/'", f.Files)
		}
	}
	if has("flips") && (f.Flips < 1 || f.Flips > maxFlips) {
		v.addf(p+".flips", "must be between 1 and %d, got %d", maxFlips, f.Flips)
	}
	if f.Kind == "random" {
		if f.Every == 0 {
			v.addf(p+".every", "required for random: how often a fault is drawn, e.g. 10s")
		}
		if len(f.From) == 0 {
			v.addf(p+".from", "required for random: the kinds to draw from; allowed: %s", strings.Join(RandomKinds, ", "))
		}
		seen := map[string]bool{}
		// A random partition isolates one node below 3 nodes: on 1 node
		// that cuts nothing.
		least := partitionMinNodes["isolate-one"]
		n := v.clusterSize()
		for j, k := range f.From {
			path := fmt.Sprintf("%s.from[%d]", p, j)
			switch {
			case !slices.Contains(RandomKinds, k):
				v.addf(path, "unknown value %q; allowed: %s", k, strings.Join(RandomKinds, ", "))
			case seen[k]:
				v.addf(path, "kind %s listed twice", k)
			case k == "partition" && n > 0 && n < least:
				v.addf(path, "partition needs at least %d nodes, the cluster has %d (a random partition isolates one node, which cuts nothing here); allowed: %s",
					least, n, strings.Join(slices.DeleteFunc(slices.Clone(RandomKinds), func(k string) bool { return k == "partition" }), ", "))
			}
			seen[k] = true
		}
	}
}

// halvesTarget is the default target of a halves partition: a drawn
// minority, or on 2 nodes, where a strict minority is no node, a drawn
// node (the same cut: the target side is filled up to n/2 nodes anyway).
func halvesTarget(nodes int) string {
	if nodes == 2 {
		return "random-one"
	}
	return "random-minority"
}

// Resolved returns the fault with its defaults filled in, for faults built
// in Go (the runner draws the faults of a random entry this way): zero
// numbers take their defaults, and the defaults are those of a cluster of
// 3 nodes or more.
func (f Fault) Resolved() Fault {
	f.applyDefaults(0, func(_ string, zero bool) bool { return zero })
	return f
}
