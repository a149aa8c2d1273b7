package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/loadtest"
)

// A short run of the bundled load tool against a real subhub: every
// published message reaches every subscriber exactly once, in order, on
// both WebSocket protocols.
func TestLoadtestSmokeAgainstSubhub(t *testing.T) {
	for _, proto := range []string{loadtest.ProtocolTransportWS, loadtest.ProtocolLegacyWS} {
		t.Run(proto, func(t *testing.T) {
			n := startSubhub(t, nil, nil)
			cfg := loadtest.DefaultConfig()
			cfg.URLs = []string{n.wsURL()}
			cfg.Conns, cfg.SubsPerConn, cfg.Topics = 200, 2, 5
			cfg.Protocol = proto
			cfg.Rate, cfg.Duration, cfg.Warmup, cfg.Drain = 100, 2*time.Second, time.Second, time.Second
			cfg.NATSURL = n.nats.ClientURL()
			cfg.Quiet = true
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := loadtest.Run(ctx, cfg, nil)
			require.NoError(t, err)
			require.Equal(t, int64(200), res.ConnectionsEstablished)
			require.Equal(t, int64(400), res.Subscriptions)
			require.Greater(t, res.Published, int64(150))
			require.Equal(t, res.Expected, res.Unique, "lost %d", res.Lost)
			require.Zero(t, res.Lost)
			require.Zero(t, res.Duplicates)
			require.Zero(t, res.OutOfOrder)
			require.Zero(t, res.Errors, "connect errors %v, closes %v, protocol errors %v", res.ConnectErrors, res.Closes, res.ProtocolErrors)
		})
	}
}
