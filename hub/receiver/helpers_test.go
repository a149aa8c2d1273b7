package receiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/publish"
)

const waitFor = 5 * time.Second

// runNATS starts an embedded NATS server on a free loopback port.
func runNATS(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	require.True(t, srv.ReadyForConnections(10*time.Second), "nats server not ready")
	return srv
}

// connect opens a connection named name, closed at cleanup.
func connect(t *testing.T, srv *server.Server, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name(name))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// serverSubs returns the subjects subscribed by connections whose name
// starts with prefix, as the server sees them.
func serverSubs(t *testing.T, srv *server.Server, prefix string) []string {
	t.Helper()
	cz, err := srv.Connz(&server.ConnzOptions{Subscriptions: true, Limit: 1 << 16})
	require.NoError(t, err)
	var subs []string
	for _, ci := range cz.Conns {
		if strings.HasPrefix(ci.Name, prefix) {
			subs = append(subs, ci.Subs...)
		}
	}
	return subs
}

// requireServerSubs waits until the server sees n subscriptions of
// connections named prefix*.
func requireServerSubs(t *testing.T, srv *server.Server, prefix string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(serverSubs(t, srv, prefix)) == n },
		waitFor, time.Millisecond, "want %d server subscriptions for %q", n, prefix)
}

// newReceiver returns a Receiver on a new connection named name, closed at
// cleanup.
func newReceiver(t *testing.T, srv *server.Server, name string, opts Options) *Receiver {
	t.Helper()
	r, err := New(connect(t, srv, name), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// newPublisher returns a Publisher on a connection of its own.
func newPublisher(t *testing.T, srv *server.Server, opts Options) *publish.Publisher {
	t.Helper()
	return publish.New(connect(t, srv, "publisher"), publish.Options{
		Serializer: opts.Serializer, Envelope: opts.Envelope,
		TopicPrefix: opts.TopicPrefix, SubjectPrefix: opts.SubjectPrefix,
	})
}

// recv returns the next value of ch, failing if ch is closed or nothing
// arrives in time.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(waitFor):
		require.FailNow(t, "nothing received")
	}
	panic("unreachable")
}

// requireClosed checks that ch is closed with nothing left in it.
func requireClosed[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.False(t, ok, "want closed channel, got %v", v)
	case <-time.After(waitFor):
		require.FailNow(t, "channel not closed")
	}
}

// subscribe subscribes with a context cancelled at cleanup.
func subscribe(t *testing.T, r *Receiver, topic string) <-chan Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := r.Subscribe(ctx, topic)
	require.NoError(t, err)
	return ch
}
