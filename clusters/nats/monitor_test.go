package nats

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeNode answers waitHealthy from canned states.
type fakeNode struct {
	name    string
	gone    bool
	problem error
}

func (f fakeNode) Name() string { return f.name }
func (f fakeNode) exited(context.Context) error {
	if f.gone {
		return errors.New("the process is gone")
	}
	return nil
}
func (f fakeNode) healthy(context.Context, []string) error { return f.problem }
func (f fakeNode) LogTail(int) string                      { return "[ERR] " + f.name + " route failed" }

func TestWaitHealthyNamesTheNodeAndItsLastWords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := waitHealthy(ctx, []fakeNode{{name: "n1"}, {name: "n2", problem: errors.New("n2: not routed to n3")}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "n2: not routed to n3")
	require.ErrorContains(t, err, "[ERR] n2 route failed")

	err = waitHealthy(context.Background(), []fakeNode{{name: "n1", gone: true}})
	require.ErrorContains(t, err, "node n1 exited")

	require.NoError(t, waitHealthy(context.Background(), []fakeNode{{name: "n1"}, {name: "n2"}}))
}

func TestMonitorHealthyListsMissingPeers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			fmt.Fprint(w, `{"status":"ok"}`)
		case "/routez":
			fmt.Fprint(w, `{"routes":[{"remote_name":"n2"},{"remote_name":"n2"}]}`)
		}
	}))
	defer srv.Close()
	m := monitor{name: "n1", base: func() (string, error) { return srv.URL, nil }}
	err := m.healthy(context.Background(), []string{"n1", "n2", "n3", "n4"})
	require.EqualError(t, err, "n1: not routed to n3, n4")
	require.NoError(t, m.healthy(context.Background(), []string{"n1", "n2"}))
	peers, err := m.RoutedPeers(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"n2"}, peers)
}
