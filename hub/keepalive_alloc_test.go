//go:build !race

package hub

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/wire"
)

// keepAliveConn returns an acknowledged WebSocket conn of proto whose
// socket's other end is peer, with an armed (hour-long) keep-alive timer
// for wsKeepAlive to reset.
func keepAliveConn(t *testing.T, proto wire.Protocol) (*Hub, *conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	h := &Hub{opts: Options{MaxOutboundBytes: 1 << 20, KeepAlive: time.Hour}}
	c := &conn{h: h, fd: int32(fds[0]), state: stateWS, proto: proto}
	c.kaTimer = time.AfterFunc(time.Hour, func() {})
	t.Cleanup(func() { c.kaTimer.Stop() })
	return h, c, fds[1]
}

// A keep-alive tick that pings allocates nothing once the outbound pool is
// warm: the timer is reset, not replaced, and the ping is written from the
// pooled buffer. With 100,000 connections at 12 s that is 8,000 ticks a
// second that must not feed the GC.
func TestKeepAliveTickAllocatesNothing(t *testing.T) {
	h, c, peer := keepAliveConn(t, wire.ProtoTransportWS)
	buf := make([]byte, 16)
	tick := func() {
		c.mu.Lock()
		c.heard = true // the pong to the previous ping
		c.mu.Unlock()
		c.wsKeepAlive()
		if n, err := unix.Read(peer, buf); err != nil || n != 2 || buf[0] != 0x89 || buf[1] != 0 {
			t.Fatalf("read %x, %v: want a ping frame", buf[:max(n, 0)], err)
		}
	}
	tick()
	require.Zero(t, testing.AllocsPerRun(100, tick))
	require.Equal(t, stateWS, c.state, "a peer that answers stays")
	require.Equal(t, int64(1+1+100), h.stats.KeepAlivePings.Load(), "warm-up, AllocsPerRun's own warm-up, runs")
}

// A legacy connection's tick, which writes a `ka` message every interval,
// allocates nothing either: the message is built once.
func TestLegacyKeepAliveTickAllocatesNothing(t *testing.T) {
	h, c, peer := keepAliveConn(t, wire.ProtoLegacy)
	want := wire.AppendTextFrame(nil, []byte(`{"type":"ka"}`))
	buf := make([]byte, 64)
	tick := func() {
		c.mu.Lock()
		c.heard = true // the client spoke: no ping
		c.mu.Unlock()
		c.wsKeepAlive()
		if n, err := unix.Read(peer, buf); err != nil || string(buf[:n]) != string(want) {
			t.Fatalf("read %q, %v: want %q", buf[:max(n, 0)], err, want)
		}
	}
	tick()
	require.Zero(t, testing.AllocsPerRun(100, tick))
	require.Zero(t, h.stats.KeepAlivePings.Load())
}
