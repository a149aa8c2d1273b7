package hub

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer is a log sink the hub's callbacks may write concurrently.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// unusedAddr returns a loopback address nobody listens on: a NATS server
// that is down.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// A NATS server that is down at start (or a mistyped --nats-url) is retried
// in the background; the log says so at once, and says when it connects,
// instead of staying silent while /healthz answers 503.
func TestStartWithNATSDownIsLogged(t *testing.T) {
	t.Parallel()
	addr := unusedAddr(t)

	var logs lockedBuffer
	h, err := New(Options{
		Listen:   "127.0.0.1:0",
		NATSURLs: []string{"nats://" + addr},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	require.NoError(t, h.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	require.False(t, h.Healthy())
	require.Contains(t, logs.String(), `msg="nats not reachable, retrying in the background" conn=0 url=nats://`+addr)
	require.NotContains(t, logs.String(), "nats connected")

	e, err := StartEmbeddedNATS(addr)
	require.NoError(t, err)
	t.Cleanup(e.Shutdown)
	require.Eventually(t, func() bool {
		return h.Healthy() && strings.Contains(logs.String(), `msg="nats connected" conn=0 url=nats://`+addr)
	}, 10*time.Second, 20*time.Millisecond)
}

// A shutdown while NATS was down waited 2 s for a connection that was
// never drained to report closed, though no client was left.
func TestShutdownWithNATSDownIsPrompt(t *testing.T) {
	t.Parallel()
	addr := unusedAddr(t)
	h, err := New(Options{
		Listen:   "127.0.0.1:0",
		NATSURLs: []string{"nats://" + addr},
		NATSPool: 2,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	require.NoError(t, h.Start())
	require.False(t, h.Healthy())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, h.Shutdown(ctx))
	require.Less(t, time.Since(start), time.Second)
}
