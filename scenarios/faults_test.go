package scenarios_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/scenarios"
)

// faultScenario wraps fault lines in a valid scenario of that many nodes
// (the stream on min(nodes, 3) of them); the faults start on line 6.
func faultScenario(nodes string, faults string) string {
	return "name: t\nduration: 60s\ncluster: {system: nats, nodes: " + nodes + "}\nworkload: {kind: queue}\nfaults:\n" + faults
}

// Every fault shape the documentation shows loads, and the defaults fill
// what it leaves out.
func TestFaultShapesLoad(t *testing.T) {
	tests := []struct {
		name, nodes, fault string
		want               scenarios.Fault
	}{
		{"stop", "3", "  - {kind: stop, at: 5s, restart_after: 5s}",
			scenarios.Fault{Kind: "stop", Target: "random-one", At: dur("5s"), RestartAfter: dur("5s")}},
		{"pause repeated with jitter", "3", "  - {kind: pause, target: leader, at: 5s, every: 15s, start_jitter: 2s, duration: 5s}",
			scenarios.Fault{Kind: "pause", Target: "leader", At: dur("5s"), Every: dur("15s"), StartJitter: dur("2s"), Duration: dur("5s")}},
		{"rolling restart", "3", "  - {kind: restart, at: 5s, delay: 1s}",
			scenarios.Fault{Kind: "restart", Target: "all", Mode: "rolling", At: dur("5s"), Delay: dur("1s")}},
		{"restart of a node list", "3", "  - {kind: restart, mode: all-at-once, nodes: [n1, n3], at: 5s}",
			scenarios.Fault{Kind: "restart", Nodes: []string{"n1", "n3"}, Mode: "all-at-once", At: dur("5s")}},
		{"halves", "5", "  - {kind: partition, mode: halves, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Target: "random-minority", Mode: "halves", Clients: "cut", Direction: "both", At: dur("5s"), Duration: dur("10s")}},
		{"isolate-leader one way", "3", "  - {kind: partition, mode: isolate-leader, direction: from, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Mode: "isolate-leader", Clients: "cut", Direction: "from", At: dur("5s"), Duration: dur("10s")}},
		{"ring keeps clients", "5", "  - {kind: partition, mode: ring, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Mode: "ring", Clients: "keep", Direction: "both", At: dur("5s"), Duration: dur("10s")}},
		{"bridge", "3", "  - {kind: partition, mode: bridge, target: n2, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Target: "n2", Mode: "bridge", Clients: "keep", Direction: "both", At: dur("5s"), Duration: dur("10s")}},
		{"groups imply the mode", "3", "  - {kind: partition, groups: [[n1], [n2, n3]], at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Mode: "groups", Groups: [][]string{{"n1"}, {"n2", "n3"}}, Clients: "cut", Direction: "both", At: dur("5s"), Duration: dur("10s")}},
		{"bandwidth on links", "3", "  - {kind: bandwidth, links: [n1-n2, client-n3], direction: to, bandwidth: 64, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "bandwidth", Links: []string{"n1-n2", "client-n3"}, Direction: "to", Bandwidth: 64, At: dur("5s"), Duration: dur("10s")}},
		{"slicer", "3", "  - {kind: slicer, target: n1, average_size: 64, size_variation: 16, delay: 1ms, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "slicer", Target: "n1", Clients: "cut", Direction: "both", AverageSize: 64, SizeVariation: 16, Delay: dur("1ms"), At: dur("5s"), Duration: dur("10s")}},
		{"down of node links only", "3", "  - {kind: down, target: random-one, clients: keep, at: 5s, duration: 3s}",
			scenarios.Fault{Kind: "down", Target: "random-one", Clients: "keep", At: dur("5s"), Duration: dur("3s")}},
		{"bitflip defaults", "3", "  - {kind: bitflip, at: 5s}",
			scenarios.Fault{Kind: "bitflip", Target: "random-one", Files: "*.blk", Flips: 8, Stop: "kill", At: dur("5s")}},
		{"truncate", "3", "  - {kind: truncate, target: n2, files: '*.idx', bytes: 100, stop: graceful, at: 5s}",
			scenarios.Fault{Kind: "truncate", Target: "n2", Files: "*.idx", Bytes: 100, Stop: "graceful", At: dur("5s")}},
		{"random", "3", "  - {kind: random, every: 10s, duration: 5s, from: [kill, pause, partition, latency]}",
			scenarios.Fault{Kind: "random", Every: dur("10s"), Duration: dur("5s"), From: []string{"kill", "pause", "partition", "latency"}}},
		// A strict minority of 2 nodes is no node: halves draws one node,
		// which makes the same cut.
		{"halves of 2 nodes", "2", "  - {kind: partition, mode: halves, at: 5s, duration: 10s}",
			scenarios.Fault{Kind: "partition", Target: "random-one", Mode: "halves", Clients: "cut", Direction: "both", At: dur("5s"), Duration: dur("10s")}},
		{"jitter up to the end", "3", "  - {kind: pause, target: n1, at: 50s, start_jitter: 9s, duration: 1s}",
			scenarios.Fault{Kind: "pause", Target: "n1", At: dur("50s"), StartJitter: dur("9s"), Duration: dur("1s")}},
		{"random without partition on 1 node", "1", "  - {kind: random, every: 10s, duration: 5s, from: [kill, latency]}",
			scenarios.Fault{Kind: "random", Every: dur("10s"), Duration: dur("5s"), From: []string{"kill", "latency"}}},
		{"link fault on 1 node", "1", "  - {kind: down, target: n1, at: 5s, duration: 5s}",
			scenarios.Fault{Kind: "down", Target: "n1", Clients: "cut", At: dur("5s"), Duration: dur("5s")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scenarios.Parse("x.yaml", []byte(faultScenario(tt.nodes, tt.fault)))
			require.NoError(t, err)
			require.Equal(t, tt.want, s.Faults[0])
			roundTrip(t, s)
		})
	}
}

// roundTrip checks that the resolved form reads back to the same faults.
func roundTrip(t *testing.T, s *scenarios.Scenario) {
	t.Helper()
	out, err := s.Marshal()
	require.NoError(t, err)
	back, err := scenarios.Parse("resolved.yaml", out)
	require.NoError(t, err, "resolved:\n%s", out)
	require.Equal(t, s.Faults, back.Faults, "resolved:\n%s", out)
}

func TestFaultRulesReportProblems(t *testing.T) {
	tests := []struct {
		name, nodes, fault string
		want               []want
	}{
		{"unknown kind", "3", "  - {kind: chaos, at: 5s}",
			[]want{{"6:12", "faults[0].kind", `unknown value "chaos"; allowed: kill, stop, pause, restart, partition, latency, bandwidth, reset-peer, slow-close, slicer, limit-data, down, bitflip, truncate, random`}}},
		{"field of another kind", "3", "  - {kind: pause, at: 5s, bandwidth: 10}",
			[]want{{"6:38", "faults[0].bandwidth", "not allowed for kind pause; fields of pause: target, nodes, at, every, start_jitter, duration"}}},
		{"target and nodes", "3", "  - {kind: kill, target: n1, nodes: [n2], at: 5s}",
			[]want{{"6:37", "faults[0].nodes", "give target or nodes, not both"}}},
		{"unknown node in list", "3", "  - {kind: kill, nodes: [n2, n4], at: 5s}",
			[]want{{"6:30", "faults[0].nodes[1]", `unknown node "n4"; allowed: n1..n3`}}},
		{"node listed twice", "3", "  - {kind: kill, nodes: [n2, n2], at: 5s}",
			[]want{{"6:30", "faults[0].nodes[1]", "node n2 listed twice"}}},
		{"restart mode of a partition", "3", "  - {kind: partition, mode: rolling, at: 5s, duration: 5s}",
			[]want{{"6:29", "faults[0].mode", `unknown value "rolling"; allowed: isolate-one, isolate-leader, halves, ring, bridge, groups`}}},
		{"ring of three", "3", "  - {kind: partition, mode: ring, at: 5s, duration: 5s}",
			[]want{{"6:29", "faults[0].mode", "ring needs at least 4 nodes, the cluster has 3 (in a ring of 3 every node already sees both others)"}}},
		{"target for ring", "5", "  - {kind: partition, mode: ring, target: n1, at: 5s, duration: 5s}",
			[]want{{"6:43", "faults[0].target", "not allowed for mode ring: every node, in order, sees only its two neighbours"}}},
		{"bridge with majority", "3", "  - {kind: partition, mode: bridge, target: majority, at: 5s, duration: 5s}",
			[]want{{"6:45", "faults[0].target", `unknown target "majority"; allowed: one, random-one, leader or a node name n1..n3`}}},
		{"bridge cutting clients", "3", "  - {kind: partition, mode: bridge, clients: cut, at: 5s, duration: 5s}",
			[]want{{"6:46", "faults[0].clients", "must be keep for mode bridge: no side holds a majority for the clients to stay with"}}},
		{"groups missing a node", "3", "  - {kind: partition, groups: [[n1], [n2]], at: 5s, duration: 5s}",
			[]want{{"6:31", "faults[0].groups", "every node must be in a group; missing: n3"}}},
		{"node in two groups", "3", "  - {kind: partition, groups: [[n1, n2], [n2, n3]], at: 5s, duration: 5s}",
			[]want{{"6:43", "faults[0].groups[1][0]", "node n2 is in more than one group"}}},
		{"groups with another mode", "3", "  - {kind: partition, mode: halves, groups: [[n1], [n2, n3]], at: 5s, duration: 5s}",
			[]want{{"6:45", "faults[0].groups", "only for mode groups, not halves"}}},
		{"one-way ring", "5", "  - {kind: partition, mode: ring, direction: to, at: 5s, duration: 5s}",
			[]want{{"6:46", "faults[0].direction", "must be both for mode ring: it has no target side for data to flow to or from"}}},
		{"one-way on every link", "3", "  - {kind: latency, latency: 10ms, direction: from, at: 5s, duration: 5s}",
			[]want{{"6:47", "faults[0].direction", "must be both with target all-links: name target nodes or links to cut one way"}}},
		{"bad link", "3", "  - {kind: latency, latency: 10ms, links: [n1-n1, n2-client, n1-n9], at: 5s, duration: 5s}",
			[]want{
				{"6:44", "faults[0].links[0]", `invalid link "n1-n1": a node has no link to itself`},
				{"6:51", "faults[0].links[1]", `invalid link "n2-client"; write two nodes like n1-n2, or client-n2 for the clients of n2 (nodes n1..n3)`},
				{"6:62", "faults[0].links[2]", `invalid link "n1-n9"`},
			}},
		{"same link twice", "3", "  - {kind: latency, latency: 10ms, links: [n1-n2, n2-n1], at: 5s, duration: 5s}",
			[]want{{"6:51", "faults[0].links[1]", "link n2-n1 listed twice (n1-n2 and n2-n1 are the same proxies)"}}},
		{"clients with links", "3", "  - {kind: down, links: [n1-n2], clients: keep, at: 5s, duration: 5s}",
			[]want{{"6:43", "faults[0].clients", "not allowed with links: name the clients' links as client-n2"}}},
		{"every too short", "3", "  - {kind: pause, every: 500ms, duration: 1s, at: 5s}",
			[]want{{"6:26", "faults[0].every", "must be at least 1s and at most 24h, got 500ms"}}},
		{"every shorter than the hold", "3", "  - {kind: partition, every: 5s, duration: 5s, at: 5s}",
			[]want{{"6:30", "faults[0].every", "must be longer than the fault holds (5s), got 5s, so that each firing ends before the next"}}},
		{"kill repeated forever", "3", "  - {kind: kill, every: 10s, at: 5s}",
			[]want{{"6:25", "faults[0].every", "needs restart_after: each firing must end before the next"}}},
		{"jitter overlapping the next firing", "3", "  - {kind: pause, every: 10s, duration: 5s, start_jitter: 6s, at: 5s}",
			[]want{{"6:59", "faults[0].start_jitter", "must be less than every minus how long the fault holds (5s), got 6s, so that firings do not overlap"}}},
		{"bandwidth zero", "3", "  - {kind: bandwidth, bandwidth: 0, at: 5s, duration: 5s}",
			[]want{{"6:34", "faults[0].bandwidth", "must be between 1 and 10000000 KB/s, got 0"}}},
		{"slicer variation", "3", "  - {kind: slicer, average_size: 10, size_variation: 10, at: 5s, duration: 5s}",
			[]want{{"6:54", "faults[0].size_variation", "must be >= 0 and less than average_size (10), got 10"}}},
		{"limit-data without bytes", "3", "  - {kind: limit-data, at: 5s, duration: 5s}",
			[]want{{"6:5", "faults[0].bytes", "must be between 1 and 1073741824, got 0"}}},
		{"glob with a slash", "3", "  - {kind: truncate, files: 'msgs/*.blk', at: 5s}",
			[]want{{"6:29", "faults[0].files", `invalid glob "msgs/*.blk": it is matched against file names, so it cannot hold '/'`}}},
		{"disk fault stopped how", "3", "  - {kind: bitflip, stop: sigterm, at: 5s}",
			[]want{{"6:27", "faults[0].stop", `unknown value "sigterm"; allowed: kill, graceful`}}},
		{"stop on a kill", "3", "  - {kind: kill, stop: graceful, at: 5s}",
			[]want{{"6:24", "faults[0].stop", "not allowed for kind kill"}}},
		{"bad glob", "3", "  - {kind: bitflip, files: '[', at: 5s}",
			[]want{{"6:28", "faults[0].files", `invalid glob "["`}}},
		{"random without every", "3", "  - {kind: random, duration: 5s, from: [kill]}",
			[]want{{"6:5", "faults[0].every", "required for random: how often a fault is drawn, e.g. 10s"}}},
		// Targets that name no node on the cluster, as the run would
		// resolve them, are refused before a cluster starts.
		{"minority of 2 nodes", "2", "  - {kind: kill, target: minority, at: 1s, restart_after: 2s}",
			[]want{{"6:26", "faults[0].target", "minority needs at least 3 nodes, the cluster has 2 (on 2 it names no node); allowed: one, random-one, majority, random-majority, all, leader or a node name n1..n2"}}},
		{"random minority of 1 node", "1", "  - {kind: latency, target: random-minority, latency: 10ms, at: 1s, duration: 2s}",
			[]want{{"6:29", "faults[0].target", "random-minority needs at least 3 nodes, the cluster has 1 (on 1 it names no node); allowed: all-links, one, random-one, majority, random-majority, all, leader or a node name n1"}}},
		{"isolate a minority of 2 nodes", "2", "  - {kind: partition, target: random-minority, at: 1s, duration: 2s}",
			[]want{{"6:31", "faults[0].target", "random-minority needs at least 3 nodes, the cluster has 2 (on 2 it names no node); allowed: one, random-one, leader or a node name n1..n2"}}},
		{"disk fault on a minority of 2 nodes", "2", "  - {kind: truncate, target: minority, at: 1s}",
			[]want{{"6:30", "faults[0].target", "minority needs at least 3 nodes"}}},
		// Partitions that cut nothing, or would ignore what they are told.
		{"bridge of two nodes", "5", "  - {kind: partition, mode: bridge, nodes: [n1, n2], at: 2s, duration: 2s}",
			[]want{{"6:44", "faults[0].nodes", "mode bridge takes exactly one node, the bridge that sees both halves; got 2: n1, n2"}}},
		{"nodes for ring", "5", "  - {kind: partition, mode: ring, nodes: [n1, n2], at: 2s, duration: 2s}",
			[]want{{"6:42", "faults[0].nodes", "not allowed for mode ring: every node, in order, sees only its two neighbours"}}},
		{"nodes for isolate-leader", "3", "  - {kind: partition, mode: isolate-leader, nodes: [n1], at: 2s, duration: 2s}",
			[]want{{"6:52", "faults[0].nodes", "not allowed for mode isolate-leader: it cuts off the stream's leader"}}},
		{"nodes for groups", "3", "  - {kind: partition, groups: [[n1], [n2, n3]], nodes: [n1], at: 2s, duration: 2s}",
			[]want{{"6:56", "faults[0].nodes", "not allowed for mode groups: groups names every node"}}},
		{"halves of every node", "3", "  - {kind: partition, mode: halves, nodes: [n1, n2, n3], at: 2s, duration: 2s}",
			[]want{{"6:44", "faults[0].nodes", "mode halves needs a node on each side: the list holds all 3 nodes; leave out at least one"}}},
		{"halves with a majority of 2 nodes", "2", "  - {kind: partition, mode: halves, target: majority, at: 2s, duration: 2s}",
			[]want{{"6:45", "faults[0].target", "majority is all 2 nodes, which leaves the other side of halves empty; allowed: one, random-one, leader or a node name n1..n2"}}},
		{"random partition of 1 node", "1", "  - {kind: random, from: [partition], every: 5s, duration: 2s}",
			[]want{{"6:27", "faults[0].from[0]", "partition needs at least 2 nodes, the cluster has 1 (a random partition isolates one node, which cuts nothing here); allowed: kill, stop, pause, restart, latency, bandwidth, reset-peer, slow-close, slicer, limit-data, down"}}},
		{"links of 1 node without its clients", "1", "  - {kind: latency, latency: 10ms, clients: keep, at: 1s, duration: 2s}",
			[]want{{"6:45", "faults[0].clients", "keep leaves nothing to act on: a cluster of 1 node has no node-to-node links; allowed here: cut"}}},
		// A firing drawn past the end of the main phase never happens.
		{"jitter past the end", "3", "  - {kind: pause, target: n1, at: 1s, start_jitter: 1000h, duration: 2s}",
			[]want{{"6:53", "faults[0].start_jitter", "at + start_jitter must be before the end of the main phase (duration 1m0s), got 1s + 1000h0m0s"}}},
		{"first repeated firing past the end", "3", "  - {kind: pause, target: n1, at: 55s, every: 10s, start_jitter: 5s, duration: 2s}",
			[]want{{"6:66", "faults[0].start_jitter", "at + start_jitter must be before the end of the main phase (duration 1m0s), got 55s + 5s"}}},
		// An explicit zero is validated, not replaced by the default.
		{"no flips", "3", "  - {kind: bitflip, flips: 0, at: 1s}",
			[]want{{"6:28", "faults[0].flips", "must be between 1 and 1048576, got 0"}}},
		{"truncate nothing", "3", "  - {kind: truncate, bytes: 0, at: 1s}",
			[]want{{"6:29", "faults[0].bytes", "must be between 1 and 1073741824, got 0"}}},
		{"random from a disk fault", "3", "  - {kind: random, every: 10s, duration: 5s, from: [kill, bitflip, kill]}",
			[]want{
				{"6:59", "faults[0].from[1]", `unknown value "bitflip"; allowed: kill, stop, pause, restart, partition, latency, bandwidth, reset-peer, slow-close, slicer, limit-data, down`},
				{"6:68", "faults[0].from[2]", "kind kill listed twice"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenarios.Parse("x.yaml", []byte(faultScenario(tt.nodes, tt.fault)))
			requireProblems(t, err, tt.want)
		})
	}
}
