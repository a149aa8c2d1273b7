package hub

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A port already taken is reported at once with the listener's error, not
// after waiting out the ten-second readiness timeout (`subhub serve
// --embedded-nats-listen` on a busy port sat silent, ignoring Ctrl-C, then
// guessed "port in use?").
func TestStartEmbeddedNATSPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })

	start := time.Now()
	e, err := StartEmbeddedNATS(ln.Addr().String())
	require.Nil(t, e)
	require.ErrorContains(t, err, "address already in use")
	require.ErrorContains(t, err, ln.Addr().String())
	require.Less(t, time.Since(start), 5*time.Second)

	// The address works again once it is free.
	require.NoError(t, ln.Close())
	e, err = StartEmbeddedNATS(ln.Addr().String())
	require.NoError(t, err)
	e.Shutdown()
}
