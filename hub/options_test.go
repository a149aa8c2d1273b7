package hub

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOptionsDurations(t *testing.T) {
	o, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, WriteTimeout: time.Second}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, defaultRequestTimeout, o.RequestTimeout, "zero means the default")
	require.Equal(t, defaultInitTimeout, o.InitTimeout)
	require.Equal(t, defaultKeepAlive, o.KeepAlive)
	require.Equal(t, time.Second, o.WriteTimeout, "a set value is kept")

	for _, tc := range []struct {
		set  func(*Options)
		want string
	}{
		{func(o *Options) { o.RequestTimeout = -time.Second }, "request-timeout -1s must be positive"},
		{func(o *Options) { o.InitTimeout = -time.Second }, "init-timeout -1s must be positive"},
		{func(o *Options) { o.WriteTimeout = -time.Second }, "write-timeout -1s must be positive"},
		{func(o *Options) { o.KeepAlive = -time.Second }, "keepalive -1s must be positive"},
		{func(o *Options) { o.Coalesce = time.Second }, "coalesce 1s must be between 0 and 100ms"},
		{func(o *Options) { o.KeepAlive = time.Nanosecond }, "keepalive 1ns must be at least 100ms"},
	} {
		o := Options{NATSURLs: []string{"nats://127.0.0.1:1"}}
		tc.set(&o)
		_, err := o.withDefaults()
		require.ErrorIs(t, err, ErrInvalidOption)
		require.ErrorContains(t, err, tc.want)
	}
}

// A subject prefix that is not a literal subject was accepted: every NATS
// subscription then failed (empty token, white space) or was a wildcard no
// message matched, and clients stayed subscribed without ever an event.
func TestOptionsSubjectPrefix(t *testing.T) {
	for _, bad := range []string{"tenant1.", ".tenant1", "a..b", "tenant *", "ten.*", "ten.>", "a b", "t\x01"} {
		_, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, SubjectPrefix: bad}.withDefaults()
		require.ErrorIs(t, err, ErrInvalidOption, "%q", bad)
		require.ErrorContains(t, err, "subject-prefix", "%q", bad)
	}
	for _, good := range []string{"tenant1", "acme.prod", "ünï"} {
		_, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, SubjectPrefix: good}.withDefaults()
		require.NoError(t, err, "%q", good)
	}
}

// A path with a query never matched a request (routing is by path alone),
// and /healthz, /metrics or /publish shadowed that endpoint.
func TestOptionsPath(t *testing.T) {
	for _, bad := range []string{"graphql", "/graphql?x=1", "/g#f", "/a b", "/healthz", "/metrics", "/publish"} {
		_, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, Path: bad}.withDefaults()
		require.ErrorIs(t, err, ErrInvalidOption, "%q", bad)
		require.ErrorContains(t, err, "path", "%q", bad)
	}
	for _, good := range []string{"/graphql", "/", "/api/v1/subscriptions"} {
		_, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, Path: good}.withDefaults()
		require.NoError(t, err, "%q", good)
	}
}

func TestNetpollLogLevels(t *testing.T) {
	var buf bytes.Buffer
	w := netpollLog{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	_, err := w.Write([]byte("2026/12/04 11:00:00 NETPOLL: readall(fd=9) before close: connection reset by peer\n"))
	require.NoError(t, err)
	_, err = w.Write([]byte("2026/12/04 11:00:00 NETPOLL: poller wait failed: bad file descriptor\n"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[0], "level=DEBUG")
	require.Contains(t, lines[0], "connection reset by peer")
	require.Contains(t, lines[1], "level=WARN")
}
