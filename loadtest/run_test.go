package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testConfig(url, natsURL string) Config {
	cfg := DefaultConfig()
	cfg.URLs = []string{url}
	cfg.NATSURL = natsURL
	cfg.Conns = 3
	cfg.SubsPerConn = 2
	cfg.Topics = 2
	cfg.Rate = 200
	cfg.Duration = time.Second
	cfg.Warmup = 300 * time.Millisecond
	cfg.Drain = 500 * time.Millisecond
	cfg.Quiet = true
	return cfg
}

func TestRunAccounting(t *testing.T) {
	natsURL := startNATS(t)
	// 100 messages per topic, per subscription: seq%10==0 dropped (10),
	// seq%7==0 and not dropped sent twice (13), seq%13==0 and not dropped
	// held behind the next message (7).
	tests := []struct {
		name     string
		protocol string
	}{
		{"graphql-transport-ws", ProtocolTransportWS},
		{"graphql-ws", ProtocolLegacyWS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, natsURL, faults{dropEvery: 10, dupEvery: 7, reorderEvery: 13})
			cfg := testConfig(fs.url, natsURL)
			cfg.Protocol = tc.protocol
			r, err := Run(context.Background(), cfg, nil)
			require.NoError(t, err)
			const subs = 6
			require.EqualValues(t, 3, r.ConnectionsEstablished)
			require.EqualValues(t, subs, r.Subscriptions)
			require.EqualValues(t, 200, r.Published)
			require.EqualValues(t, subs*100, r.Expected)
			require.EqualValues(t, subs*10, r.Lost)
			require.EqualValues(t, subs*13, r.Duplicates)
			require.EqualValues(t, subs*7, r.OutOfOrder)
			require.EqualValues(t, subs*90, r.Unique)
			require.EqualValues(t, subs*103, r.Delivered)
			require.InDelta(t, 0.1, r.LossRatio, 1e-9)
			require.Zero(t, r.Errors, "errors: %v %v %v", r.ConnectErrors, r.Closes, r.ProtocolErrors)
		})
	}
}

func TestRunLatency(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{delay: 50 * time.Millisecond})
	cfg := testConfig(fs.url, natsURL)
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Zero(t, r.Lost)
	require.EqualValues(t, 600, r.Delivered)
	require.GreaterOrEqual(t, r.Latency.P50, 50.0)
	require.Less(t, r.Latency.P99, 10000.0, "bounded; generous because CI machines are shared")
	require.EqualValues(t, 600, r.Latency.Count)
}
