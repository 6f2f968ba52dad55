package workloads

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/riptidechaos/riptide/clusters"
	"github.com/riptidechaos/riptide/history"
)

// NATSQueue is the queue workload on NATS JetStream: one file stream
// replicated Replicas times, producers publishing with acknowledgements, and
// consumers sharing one durable pull consumer. The stream allows direct
// gets, which the per-node reads use (natsnode.go).
type NATSQueue struct {
	Nodes    []clusters.Node
	Stream   string
	Replicas int
	// Timeout bounds one operation.
	Timeout time.Duration
	// Net is the cluster's link proxies: a per-node read cuts its node off
	// from its peers through them. Without it there are no per-node reads.
	Net *clusters.Net
}

const (
	queueConsumer = "riptide-queue"
	pollBatch     = 64
)

func (q *NATSQueue) subject() string { return "riptide." + q.Stream }

// connect opens a connection that prefers node home and fails over to the
// others, only ever through the link proxies.
func (q *NATSQueue) connect(name string, home int) (*nats.Conn, map[string]string, error) {
	nodes := make([]clusters.Node, 0, len(q.Nodes))
	byURL := make(map[string]string, len(q.Nodes))
	for i := range q.Nodes {
		n := q.Nodes[(home+i)%len(q.Nodes)]
		nodes = append(nodes, n)
		byURL[n.ClientAddr()] = n.Name()
	}
	nc, err := dial(name, nodes)
	return nc, byURL, err
}

// dial connects to nodes, in order, and only ever to them.
func dial(name string, nodes []clusters.Node) (*nats.Conn, error) {
	urls := make([]string, 0, len(nodes))
	for _, n := range nodes {
		urls = append(urls, "nats://"+n.ClientAddr())
	}
	nc, err := nats.Connect(strings.Join(urls, ","),
		nats.Name(name),
		nats.DontRandomize(),
		// Servers gossip their real addresses: never use them, or the
		// client would bypass the proxies.
		nats.IgnoreDiscoveredServers(),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond),
		nats.Timeout(2*time.Second),
		// Notice a blackholed connection within seconds, not minutes.
		nats.PingInterval(time.Second),
		nats.MaxPingsOutstanding(3),
		nats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", name, err)
	}
	return nc, nil
}

// Setup creates the stream and the shared consumer, retrying while the
// cluster elects its leaders.
func (q *NATSQueue) Setup(ctx context.Context) error {
	nc, _, err := q.connect("riptide-setup", 0)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	return retry(ctx, func(ctx context.Context) error {
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:      q.Stream,
			Subjects:  []string{q.subject()},
			Storage:   jetstream.FileStorage,
			Replicas:  q.Replicas,
			Retention: jetstream.LimitsPolicy,
			// Every replica answers direct gets from its own store: the
			// per-node reads need it. Publishing and consuming are as
			// without it.
			AllowDirect: true,
		}); err != nil {
			return fmt.Errorf("create stream %s: %w", q.Stream, err)
		}
		if _, err := js.CreateOrUpdateConsumer(ctx, q.Stream, jetstream.ConsumerConfig{
			Durable:   queueConsumer,
			AckPolicy: jetstream.AckExplicitPolicy,
			AckWait:   10 * time.Second,
		}); err != nil {
			return fmt.Errorf("create consumer %s: %w", queueConsumer, err)
		}
		return nil
	})
}

// retry calls f until it succeeds or ctx ends.
func retry(ctx context.Context, f func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// natsClient is one connection with its JetStream context.
type natsClient struct {
	q     *NATSQueue
	nc    *nats.Conn
	js    jetstream.JetStream
	nodes map[string]string // proxy address -> node name
}

func (q *NATSQueue) open(name string, home int) (*natsClient, error) {
	nc, byURL, err := q.connect(name, home)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &natsClient{q: q, nc: nc, js: js, nodes: byURL}, nil
}

// node names the server the connection is on now.
func (c *natsClient) node() string {
	u := c.nc.ConnectedUrl()
	return c.nodes[strings.TrimPrefix(u, "nats://")]
}

func (c *natsClient) Close() error {
	c.nc.Close()
	return nil
}

// Producer publishes values with acknowledgements.
func (q *NATSQueue) Producer(w int) (Client, error) {
	c, err := q.open(fmt.Sprintf("riptide-producer-%d", w), w)
	if err != nil {
		return nil, err
	}
	return &natsProducer{c}, nil
}

type natsProducer struct{ *natsClient }

func (p *natsProducer) Invoke(ctx context.Context, inv history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, p.q.Timeout)
	defer cancel()
	node := p.node()
	ack, err := p.js.Publish(ctx, p.q.subject(), []byte(inv.Value))
	var out history.Op
	switch {
	case err == nil:
		out = OK(inv)
		out.Offset = int64(ack.Sequence)
	case definitelyNotStored(err):
		out = Fail(inv, err)
	default:
		out = Info(inv, err)
	}
	out.Node = node
	return out
}

// definitelyNotStored tells errors after which the message was certainly not
// written: nobody received the request, or the stream answered with an error.
// Everything else (timeouts, lost connections) is an unknown outcome.
func definitelyNotStored(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.As(err, &apiErr)
}

// Consumer reads through the shared durable consumer.
func (q *NATSQueue) Consumer(w int) (Client, error) {
	c, err := q.open(fmt.Sprintf("riptide-consumer-%d", w), w)
	if err != nil {
		return nil, err
	}
	return &natsConsumer{natsClient: c}, nil
}

type natsConsumer struct {
	*natsClient
	cons jetstream.Consumer
}

func (c *natsConsumer) Invoke(ctx context.Context, inv history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.q.Timeout)
	defer cancel()
	node := c.node()
	if c.cons == nil {
		cons, err := c.js.Consumer(ctx, c.q.Stream, queueConsumer)
		if err != nil {
			out := Fail(inv, fmt.Errorf("look up consumer: %w", err))
			out.Node = node
			return out
		}
		c.cons = cons
	}
	wait := min(time.Second, c.q.Timeout/2)
	out := fetch(c.cons, inv, wait, true)
	out.Node = node
	return out
}

// fetch reads one batch. Reads are recorded even when the batch ends in an
// error: they were seen. A fetch that saw nothing and failed did nothing.
func fetch(cons jetstream.Consumer, inv history.Op, wait time.Duration, ack bool) history.Op {
	batch, err := cons.Fetch(pollBatch, jetstream.FetchMaxWait(wait))
	if err != nil {
		return Fail(inv, err)
	}
	var reads []history.Read
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		reads = append(reads, history.Read{Offset: int64(md.Sequence.Stream), Value: string(m.Data())})
		if ack {
			_ = m.Ack()
		}
	}
	if err := batch.Error(); err != nil && len(reads) == 0 && !errors.Is(err, nats.ErrTimeout) {
		return Fail(inv, err)
	}
	out := OK(inv)
	out.Reads = reads
	return out
}

// Drainer reads the whole stream from its first message with an ordered
// consumer, which recreates itself across failures.
func (q *NATSQueue) Drainer() (Drainer, error) {
	c, err := q.open("riptide-drain", 0)
	if err != nil {
		return nil, err
	}
	return &natsDrainer{natsClient: c}, nil
}

type natsDrainer struct {
	*natsClient
	cons jetstream.Consumer
}

func (d *natsDrainer) Last(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, d.q.Timeout)
	defer cancel()
	s, err := d.js.Stream(ctx, d.q.Stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", d.q.Stream, err)
	}
	// A member that lost its leader answers from its own copy, naming no
	// leader: its last offset may be behind the stream's.
	info := s.CachedInfo()
	if info.Cluster != nil && info.Cluster.Leader == "" && d.q.Replicas > 1 {
		return 0, fmt.Errorf("stream %s info names no leader (answered by a member without one)", d.q.Stream)
	}
	return int64(info.State.LastSeq), nil
}

func (d *natsDrainer) Invoke(ctx context.Context, inv history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, d.q.Timeout)
	defer cancel()
	node := d.node()
	if d.cons == nil {
		cons, err := d.js.OrderedConsumer(ctx, d.q.Stream, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverAllPolicy,
			// Each Fetch recreates the consumer under the hood, retrying
			// forever by default and blind to any context: one attempt
			// (10 s at most) per poll keeps the drain within its time.
			MaxResetAttempts: 1,
		})
		if err != nil {
			out := Fail(inv, fmt.Errorf("create ordered consumer: %w", err))
			out.Node = node
			return out
		}
		d.cons = cons
	}
	out := fetch(d.cons, inv, min(2*time.Second, d.q.Timeout/2), false)
	out.Node = node
	return out
}
