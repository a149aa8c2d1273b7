package loadtest

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

func TestRunCloseCodes(t *testing.T) {
	natsURL := startNATS(t)
	tests := []struct {
		name string
		code ws.StatusCode
		key  string
	}{
		{"init timeout", 4408, "4408"},
		{"internal error", 4500, "4500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, natsURL, faults{closeAfter: 1, closeCode: tc.code})
			cfg := testConfig(fs.url, natsURL)
			cfg.SubsPerConn = 1
			r, err := Run(context.Background(), cfg, nil)
			require.NoError(t, err)
			require.Equal(t, map[string]int64{tc.key: 3}, r.Closes)
			require.EqualValues(t, 3, r.ConnectionsEstablished)
			require.Zero(t, r.ConnectionsOpen)
			require.EqualValues(t, 3, r.Subscriptions)
			require.Equal(t, r.Expected, r.Lost, "a closed subscription misses everything")
			require.EqualValues(t, 3, r.Errors)
		})
	}
}

func TestRunConnectErrors(t *testing.T) {
	natsURL := startNATS(t)
	// A listener that accepts and never answers: the handshake times out.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	// A port with nothing listening.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "ws://" + closed.Addr().String() + "/graphql"
	closed.Close()
	rejecting := startFake(t, natsURL, faults{rejectEvery: 1})
	forbidding := startFake(t, natsURL, faults{closeOnInit: 4403})

	tests := []struct {
		name string
		url  string
		kind string
	}{
		{"refused", closedURL, "connect ECONNREFUSED"},
		{"http 403", rejecting.url, "upgrade: HTTP 403"},
		{"closed before ack", forbidding.url, "close 4403"},
		{"timeout", "ws://" + silent.Addr().String() + "/graphql", "timeout upgrading"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(tc.url, natsURL)
			cfg.HandshakeTimeout = 300 * time.Millisecond
			cfg.Warmup, cfg.Duration, cfg.Drain = 0, 100*time.Millisecond, 0
			r, err := Run(context.Background(), cfg, nil)
			require.NoError(t, err)
			require.Equal(t, map[string]int64{tc.kind: 3}, r.ConnectErrors)
			require.Zero(t, r.ConnectionsEstablished)
			require.Zero(t, r.Subscriptions)
			require.EqualValues(t, 3, r.Errors)
			require.Equal(t, []string{"--max-errors 0: 3 errors"}, r.Check(Config{MaxLoss: -1, MaxErrors: 0}))
		})
	}
}

func TestRunFragmentsAndPings(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{fragment: true, gqlPing: true})
	cfg := testConfig(fs.url, natsURL)
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Zero(t, r.Errors, "%v %v", r.ProtocolErrors, r.Closes)
	require.EqualValues(t, 600, r.Expected)
	require.EqualValues(t, 600, r.Delivered)
	require.Zero(t, r.Lost)
	require.Positive(t, fs.pings.Load())
	require.Eventually(t, func() bool { return fs.gqlPong.Load() == int64(cfg.Conns) },
		5*time.Second, 10*time.Millisecond, "every graphql-transport-ws ping answered")
	require.Eventually(t, func() bool { return fs.pongs.Load() >= fs.pings.Load()-int64(cfg.Conns) },
		5*time.Second, 10*time.Millisecond, "pongs %d pings %d", fs.pongs.Load(), fs.pings.Load())
}

func TestRunSourceIPsAndURLs(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{})
	other := startFake(t, natsURL, faults{})
	cfg := testConfig(fs.url, natsURL)
	cfg.URLs = append(cfg.URLs, other.url)
	cfg.Conns = 8
	ips, err := ParseSourceIPs("127.0.0.2-127.0.0.3")
	require.NoError(t, err)
	cfg.SourceIPs = ips
	cfg.Rate = 0
	cfg.Warmup, cfg.Duration, cfg.Drain = 0, 200*time.Millisecond, 0
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, r.Phases.Publish, 0.2, "--rate 0 holds the connections for --duration")
	require.Zero(t, r.Published)
	require.EqualValues(t, 8, r.ConnectionsEstablished)
	require.EqualValues(t, 4, fs.upgrade.Load(), "connections round-robin over --url")
	require.EqualValues(t, 4, other.upgrade.Load())
	got := map[string]int64{}
	for _, srv := range []*fakeServer{fs, other} {
		srv.remotes.Range(func(k, v any) bool {
			got[k.(string)] += v.(*atomic.Int64).Load()
			return true
		})
	}
	require.Equal(t, map[string]int64{"127.0.0.2": 4, "127.0.0.3": 4}, got)
}

func TestRunChurn(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{})
	cfg := testConfig(fs.url, natsURL)
	cfg.Churn = 100
	cfg.ChurnConns = 4
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.InDelta(t, 100, r.ChurnOps, 20, "one op per 10ms of the 1s schedule (slack for a loaded machine)")
	require.Positive(t, r.ChurnDelivered)
	require.EqualValues(t, 7, r.ConnectionsEstablished)
	require.EqualValues(t, 6, r.Subscriptions, "churn subscriptions are not stable subscriptions")
	require.EqualValues(t, 600, r.Expected)
	require.Zero(t, r.Lost)
	require.Zero(t, r.Errors, "%v %v %v", r.ProtocolErrors, r.Closes, r.ConnectErrors)
	require.Greater(t, fs.subs.Load(), int64(6+25), "churn subscribed on the server")
}
