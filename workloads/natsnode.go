package workloads

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/riptidechaos/riptide/clusters"
	natscluster "github.com/riptidechaos/riptide/clusters/nats"
	"github.com/riptidechaos/riptide/history"
)

// Per-node reads on NATS JetStream.
//
// A stream that allows direct gets has every replica that has caught up
// subscribe to $JS.API.DIRECT.GET.<stream> in one queue group, and answer
// from its own store (nats-server 2.12.1, stream.go: subscribeToDirect,
// getDirectRequest). A request from a client goes to a member of the group
// picked at random among the local one and one per route (client.go:
// processMsgResults prefers local members only for messages that came over
// a route), so a client connected to node N alone is answered by N about a
// third of the time on three nodes, and no answer says which server sent
// it. A reader therefore cuts N off from its peers first: it disables the
// proxies of every route link of N (clients keep theirs), N sees its routes
// close and drops the interest they carried, and from then on only N can
// answer. Nothing is written after the main phase, so the cut changes
// nothing N holds; it is undone as soon as N's copy has been read.
//
// Batch direct gets ({"seq": s, "batch": b}) stream up to b messages from
// s on, stepping over deleted ones, and end with a 204 EOB status that
// says how many messages the node still holds after the last one sent: 0
// is the end of N's log. A message N counts but cannot load (a damaged
// block) answers 404: the reader steps over it and says so.
//
// A follower subscribes to direct gets only once it has caught up with a
// leader (checked every 2 s; not again while cut off), and a restarted one
// takes seconds to: after the cut, Bind asks N for one message, and on "no
// responders" lets N rejoin and tries again, until the node's time is up.

const (
	// nodeBatch is the number of messages one ReadNode op asks for.
	nodeBatch = 1000
	// settlePoll is how often Settle compares a replica with the stream.
	settlePoll = 200 * time.Millisecond
	// unroutedWait bounds the wait for a cut node to drop its routes, and
	// routedWait the wait for a released one to get them back.
	unroutedWait = 5 * time.Second
	routedWait   = 10 * time.Second
)

// replicaMonitor is a node that reports its own replica of a stream and its
// routes from its monitoring endpoint (clusters/nats nodes, process and
// docker alike).
type replicaMonitor interface {
	StreamState(ctx context.Context, stream string) (natscluster.StreamState, error)
	RoutedPeers(ctx context.Context) ([]string, error)
}

// NodeNames lists the nodes that hold a copy of the stream, as its leader
// names them (an R3 stream on five nodes has three); every node when no
// node can say, so that a read that cannot tell is reported, not skipped.
// A member that lost the stream is still listed: its read finds the loss.
func (q *NATSQueue) NodeNames(ctx context.Context) []string {
	all := clusters.NodeNames(q.Nodes)
	p, err := q.streamPlacement(ctx)
	if err != nil {
		return all
	}
	members := p.Members()
	// In the cluster's order, and only nodes of the cluster; members named
	// otherwise than the nodes (which should not happen) read every node
	// rather than none.
	if read := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return !slices.Contains(members, n) }); len(read) > 0 {
		return read
	}
	return all
}

// NodeReader opens a reader of node's copy of the stream: a connection to
// that node alone.
func (q *NATSQueue) NodeReader(node string) (NodeReader, error) {
	i := slices.IndexFunc(q.Nodes, func(n clusters.Node) bool { return n.Name() == node })
	if i < 0 {
		return nil, fmt.Errorf("no node %s", node)
	}
	n := q.Nodes[i]
	mon, ok := n.(replicaMonitor)
	if !ok {
		return nil, fmt.Errorf("node %s cannot report its replica (no monitoring endpoint)", node)
	}
	nc, err := dial("riptide-read-"+node, []clusters.Node{n})
	if err != nil {
		return nil, err
	}
	return &natsNodeReader{q: q, node: n, mon: mon, nc: nc, next: 1, pending: -1, last: -1}, nil
}

type natsNodeReader struct {
	q    *NATSQueue
	node clusters.Node
	mon  replicaMonitor
	nc   *nats.Conn // to node only

	next    uint64 // the offset to read from
	pending int64  // messages the node holds after the last one read; -1 unknown
	last    int64  // the node's last offset, from Settle; -1 unknown
	done    bool
	stuck   error
}

func (r *natsNodeReader) Close() error {
	r.nc.Close()
	return nil
}

func (r *natsNodeReader) Done() (bool, error) { return r.done, r.stuck }

// Settle waits until the node's replica holds the stream's last offset:
// until its /jsz says its last offset is at least the one the stream
// leader's /jsz says. The leader is the node that stream info names (a
// member that lost its leader also answers stream info, from its own
// copy, but names no leader).
func (r *natsNodeReader) Settle(ctx context.Context) (int64, error) {
	name, stream := r.node.Name(), r.q.Stream
	began := time.Now()
	var (
		problem error
		theirs  int64 = -1
		leader  string
	)
	for {
		st, err := r.mon.StreamState(ctx, stream)
		if err == nil {
			r.last = int64(st.LastSeq)
		} else {
			problem = err
		}
		if l, lerr := r.q.leaderState(ctx); lerr == nil {
			leader, theirs = l.name, int64(l.state.LastSeq)
		} else {
			err, problem = lerr, lerr
		}
		if err == nil && r.last >= theirs {
			return r.last, nil
		}
		select {
		case <-ctx.Done():
			if r.last >= 0 && theirs >= 0 {
				return r.last, fmt.Errorf("the replica on %s holds offsets up to %d, the stream (leader %s) up to %d: still catching up after %s",
					name, r.last, leader, theirs, time.Since(began).Round(time.Millisecond))
			}
			return r.last, fmt.Errorf("cannot compare the replica on %s with the stream's leader: %w", name, problem)
		case <-time.After(settlePoll):
		}
	}
}

// leaderReplica is the stream leader's own replica.
type leaderReplica struct {
	name  string
	state natscluster.StreamState
}

// leaderState finds the stream's leader and reads its replica from its
// /jsz.
func (q *NATSQueue) leaderState(ctx context.Context) (leaderReplica, error) {
	name, err := q.streamLeader(ctx)
	if err != nil {
		return leaderReplica{}, err
	}
	i := slices.IndexFunc(q.Nodes, func(n clusters.Node) bool { return n.Name() == name })
	if i < 0 {
		return leaderReplica{}, fmt.Errorf("stream %s: leader %s is not a node of the cluster", q.Stream, name)
	}
	mon, ok := q.Nodes[i].(replicaMonitor)
	if !ok {
		return leaderReplica{}, fmt.Errorf("leader %s cannot report its replica", name)
	}
	st, err := mon.StreamState(ctx, q.Stream)
	if err != nil {
		return leaderReplica{}, err
	}
	return leaderReplica{name: name, state: st}, nil
}

// streamLeader asks every node at once which node leads the stream.
func (q *NATSQueue) streamLeader(ctx context.Context) (string, error) {
	p, err := q.streamPlacement(ctx)
	return p.Leader, err
}

// streamPlacement asks every node at once where the stream lives and
// returns the first answer that names a leader: a node cut off or paused
// cannot answer, and asking in turn would cost seconds for each.
func (q *NATSQueue) streamPlacement(ctx context.Context) (natscluster.StreamPlacement, error) {
	ctx, cancel := context.WithTimeout(ctx, leaderInfoTimeout)
	defer cancel()
	type answer struct {
		p   natscluster.StreamPlacement
		err error
	}
	answers := make(chan answer, len(q.Nodes))
	for _, n := range q.Nodes {
		go func() {
			p, err := natscluster.StreamPlacementOf(ctx, []clusters.Node{n}, q.Stream)
			answers <- answer{p, err}
		}()
	}
	var errs []error
	for range q.Nodes {
		a := <-answers
		if a.err == nil {
			return a.p, nil
		}
		errs = append(errs, a.err)
	}
	return natscluster.StreamPlacement{}, errors.Join(errs...)
}

// leaderInfoTimeout bounds the search for the stream's leader.
const leaderInfoTimeout = 5 * time.Second

// Bind cuts the node off from its peers: every route link of the node, in
// both directions, is disabled (connections closed, new ones refused) on
// behalf of this read, and Bind returns once the node reports no route.
func (r *natsNodeReader) Bind(ctx context.Context) (func(context.Context) error, error) {
	name := r.node.Name()
	if r.q.Net == nil {
		return nil, fmt.Errorf("no link proxies to cut %s off its peers", name)
	}
	links := r.q.Net.Touching(name, false)
	holder := "read-node " + name
	// The peers to wait for after the read: those the node is routed to
	// now (one that is down or cut off by something else is not waited for).
	peers, _ := r.mon.RoutedPeers(ctx)
	release := func(ctx context.Context) error {
		var errs []error
		for _, l := range links {
			errs = append(errs, l.EnableFor(holder))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("reconnect %s to its peers: %w", name, err)
		}
		// Let the node route again before the next node is cut off, so
		// that two cuts never overlap; a node that stays apart is the
		// next Settle's business, not an error of this read.
		wctx, cancel := context.WithTimeout(ctx, routedWait)
		defer cancel()
		_ = r.waitRoutes(wctx, func(got []string) bool {
			return !slices.ContainsFunc(peers, func(p string) bool { return !slices.Contains(got, p) })
		})
		return nil
	}
	for {
		if err := r.cut(ctx, links, holder); err != nil {
			return nil, errors.Join(err, release(ctx))
		}
		err := r.probe(ctx)
		if err == nil {
			return release, nil
		}
		rerr := release(ctx)
		if !errors.Is(err, errNoDirectGet) || rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		// A follower subscribes to direct gets once it has caught up,
		// checking every 2 s, and cannot catch up while cut off: let it
		// rejoin for a while and try again.
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(rebindWait):
		}
	}
}

// rebindWait is how long a node that did not answer direct gets yet
// rejoins its peers before the next try.
const rebindWait = 3 * time.Second

// cut disables links on behalf of holder and waits until the node reports
// no route.
func (r *natsNodeReader) cut(ctx context.Context, links []*clusters.Link, holder string) error {
	name := r.node.Name()
	for _, l := range links {
		if err := l.DisableFor(holder); err != nil {
			return fmt.Errorf("cut %s off its peers: %w", name, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, unroutedWait)
	defer cancel()
	if err := r.waitRoutes(wctx, func(got []string) bool { return len(got) == 0 }); err != nil {
		return fmt.Errorf("cut %s off its peers: %w", name, err)
	}
	return nil
}

// errNoDirectGet: the node has no direct-get responder for the stream.
var errNoDirectGet = errors.New("no responders")

func (r *natsNodeReader) noDirectGet() error {
	return fmt.Errorf("%s does not answer direct gets of stream %s: %w (it had not caught up when it was cut off, or the stream does not allow direct gets)",
		r.node.Name(), r.q.Stream, errNoDirectGet)
}

// probe asks the cut-off node for one message: any answer but "no
// responders" shows that the node serves direct gets itself.
func (r *natsNodeReader) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, r.q.Timeout)
	defer cancel()
	_, err := r.request(pctx, r.next, 1)
	r.stuck = nil
	return err
}

// waitRoutes polls the node's routes until ok says they are as wanted.
func (r *natsNodeReader) waitRoutes(ctx context.Context, ok func([]string) bool) error {
	var (
		got []string
		err error
	)
	for {
		if got, err = r.mon.RoutedPeers(ctx); err == nil && ok(got) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("routes of %s: %w", r.node.Name(), err)
			}
			return fmt.Errorf("%s still routed to %v", r.node.Name(), got)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Invoke reads the next batch of the node's log with one batch direct get.
// Messages that arrived are recorded even when the batch then fails: they
// were seen.
func (r *natsNodeReader) Invoke(ctx context.Context, inv history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, r.q.Timeout)
	defer cancel()
	reads, err := r.batch(ctx)
	out := OK(inv)
	if err != nil && len(reads) == 0 {
		out = Fail(inv, err)
	}
	out.Reads = reads
	out.Node = r.node.Name()
	return out
}

// batch reads up to nodeBatch messages from r.next on. When the node
// counts a message there but cannot load it (404 although it holds more),
// batch steps over it one offset at a time until a message loads; the op
// then fails, naming the offsets, and the next one reads from that message.
func (r *natsNodeReader) batch(ctx context.Context) ([]history.Read, error) {
	a, err := r.request(ctx, r.next, nodeBatch)
	r.take(a)
	if err != nil || a.status != "404" {
		return a.reads, err
	}
	from := r.next
	unreadable := func() error {
		return fmt.Errorf("%s counts messages at offsets %d to %d but cannot load them", r.node.Name(), from, r.next-1)
	}
	for r.holdsMore() {
		r.next++
		if ctx.Err() != nil {
			return nil, unreadable()
		}
		p, err := r.request(ctx, r.next, 1)
		if err != nil {
			return nil, errors.Join(unreadable(), err)
		}
		if len(p.reads) > 0 {
			// Leave the message to the next op, which starts after the gap.
			r.next = uint64(p.reads[0].Offset)
			if p.pending >= 0 {
				r.pending = p.pending + 1
			}
			return nil, unreadable()
		}
	}
	r.done = true
	if r.next == from {
		return nil, nil
	}
	return nil, unreadable()
}

// holdsMore says whether the node holds messages at or after r.next, as
// far as it has said (the pending count of its last answer, or the last
// offset of its replica).
func (r *natsNodeReader) holdsMore() bool {
	if r.last >= 0 && int64(r.next) > r.last {
		return false
	}
	if r.pending >= 0 {
		return r.pending > 0
	}
	return r.last >= int64(r.next)
}

// answer is the node's reply to one batch direct get.
type answer struct {
	reads []history.Read
	// status is "204" (end of batch), "404" (nothing to load at or after
	// the offset asked for) or "" (cut short by an error).
	status string
	// pending is the number of messages the node holds after the last one
	// sent; -1 when it did not say.
	pending int64
}

// take advances the reader past what a answered.
func (r *natsNodeReader) take(a answer) {
	if n := len(a.reads); n > 0 {
		r.next = uint64(a.reads[n-1].Offset) + 1
	}
	if a.pending >= 0 {
		r.pending = a.pending
	}
	if a.status == "204" && a.pending == 0 {
		r.done = true
	}
}

// request sends one batch direct get for up to batch messages from seq on
// and collects the answer until its end.
func (r *natsNodeReader) request(ctx context.Context, seq uint64, batch int) (answer, error) {
	name := r.node.Name()
	a := answer{pending: -1}
	inbox := r.nc.NewInbox()
	sub, err := r.nc.SubscribeSync(inbox)
	if err != nil {
		return a, fmt.Errorf("direct get from %s: %w", name, err)
	}
	defer sub.Unsubscribe()
	req := fmt.Sprintf(`{"seq":%d,"batch":%d}`, seq, batch)
	if err := r.nc.PublishRequest("$JS.API.DIRECT.GET."+r.q.Stream, inbox, []byte(req)); err != nil {
		return a, fmt.Errorf("direct get from %s: %w", name, err)
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if errors.Is(err, nats.ErrNoResponders) {
			r.stuck = r.noDirectGet()
			return a, r.stuck
		}
		if err != nil {
			return a, fmt.Errorf("direct get from %s at offset %d: %w", name, seq, err)
		}
		pending, perr := strconv.ParseInt(m.Header.Get("Nats-Num-Pending"), 10, 64)
		if perr == nil {
			a.pending = pending
		}
		switch status := m.Header.Get("Status"); status {
		case "":
			off, err := strconv.ParseInt(m.Header.Get("Nats-Sequence"), 10, 64)
			if err != nil {
				return a, fmt.Errorf("direct get from %s: a message without its sequence: %w", name, err)
			}
			a.reads = append(a.reads, history.Read{Offset: off, Value: string(m.Data)})
		case "204", "404":
			a.status = status
			return a, nil
		case "503":
			r.stuck = r.noDirectGet()
			return a, r.stuck
		default:
			return a, fmt.Errorf("direct get from %s: %s %s", name, status, m.Header.Get("Description"))
		}
	}
}

// Compile-time check: the NATS queue reads per node.
var _ NodeReading = (*NATSQueue)(nil)
