//go:build !race

package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoRaceManyConnections runs a few thousand connections in one process
// against the fake server: every delivery must arrive exactly once.
func TestNoRaceManyConnections(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{})
	cfg := testConfig(fs.url, natsURL)
	cfg.Conns, cfg.SubsPerConn, cfg.Topics = 3000, 2, 20
	cfg.Rate, cfg.Duration, cfg.Drain = 100, time.Second, 2*time.Second
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Zero(t, r.Errors, "%v %v %v", r.ConnectErrors, r.Closes, r.ProtocolErrors)
	require.EqualValues(t, 3000, r.ConnectionsEstablished)
	require.EqualValues(t, 6000, r.Subscriptions)
	require.EqualValues(t, 100, r.Published)
	require.EqualValues(t, 6000*100/20, r.Expected)
	require.Equal(t, r.Expected, r.Delivered)
	require.Zero(t, r.Lost)
	require.Positive(t, r.RSSPerConn) // includes the in-process fake server's goroutines: not asserted further
}
