package injectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riptidechaos/riptide/clusters"
)

// testCluster is a cluster of real TCP servers behind a real clusters.Net:
// every node is an echo server, with a client link and a link from every
// other node, wired as the process platform wires nats-server.
type testCluster struct {
	nodes   []clusters.Node
	net     *clusters.Net
	servers map[string]*echoServer
}

type testNode struct {
	name   string
	client *clusters.Link
}

func (n testNode) Name() string       { return n.name }
func (n testNode) ClientAddr() string { return n.client.Listen }

func (c *testCluster) Nodes() []clusters.Node          { return c.nodes }
func (c *testCluster) Net() *clusters.Net              { return c.net }
func (c *testCluster) Close(ctx context.Context) error { return c.net.Close() }

func newTestCluster(t testing.TB, n int) *testCluster {
	t.Helper()
	c := &testCluster{net: clusters.NewNet("127.0.0.1"), servers: map[string]*echoServer{}}
	t.Cleanup(func() { _ = c.net.Close() })
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		c.servers[name] = newEchoServer(t)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		l, err := c.net.Add(clusters.ClientSide, name, c.servers[name].addr())
		require.NoError(t, err)
		c.nodes = append(c.nodes, testNode{name, l})
	}
	for _, from := range c.nodes {
		for _, to := range c.nodes {
			if from != to {
				_, err := c.net.Add(from.Name(), to.Name(), c.servers[to.Name()].addr())
				require.NoError(t, err)
			}
		}
	}
	return c
}

// link returns the link from->to.
func (c *testCluster) link(t testing.TB, from, to string) *clusters.Link {
	t.Helper()
	l, ok := c.net.Link(from, to)
	require.True(t, ok, "no link %s->%s", from, to)
	return l
}

// echoServer echoes what it reads, counting bytes and reads, and closes a
// connection when it reads 'Q'.
type echoServer struct {
	l        net.Listener
	received atomic.Int64
	reads    atomic.Int64
	maxRead  atomic.Int64
	wg       sync.WaitGroup
}

func newEchoServer(t testing.TB) *echoServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &echoServer{l: l}
	var conns sync.Map
	s.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		s.wg.Wait()
	})
	return s
}

func (s *echoServer) addr() string { return s.l.Addr().String() }

func (s *echoServer) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			s.received.Add(int64(n))
			s.reads.Add(1)
			for {
				m := s.maxRead.Load()
				if int64(n) <= m || s.maxRead.CompareAndSwap(m, int64(n)) {
					break
				}
			}
			if buf[n-1] == 'Q' {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// dial connects through a link and makes sure the connection is live (a
// first round trip), so that faults act on an established connection.
func dial(t testing.TB, l *clusters.Link) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Listen, 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, roundTrip(c, "hello", 2*time.Second), "fresh connection through %s", l.Name())
	return c
}

// roundTrip writes msg and waits up to wait for its echo.
func roundTrip(c net.Conn, msg string, wait time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return fmt.Errorf("echo %q, want %q", buf, msg)
	}
	return nil
}

// silence is how long a test waits to conclude that no data gets through.
// Waiting longer only makes a wrongly passing fault less likely to slip
// by; a slow machine cannot make a correct fault fail the test.
const silence = 300 * time.Millisecond

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
