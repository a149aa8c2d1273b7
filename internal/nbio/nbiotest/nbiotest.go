// Package nbiotest has test helpers for code that reads with kernel
// receive stamps (nbio.Stamped): loopback TCP pairs, and a wait for the
// kernel to start stamping.
package nbiotest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
)

// TCPPair returns the two ends of a loopback TCP connection, the receiving
// end non-blocking. Both are closed when the test ends.
func TCPPair(t testing.TB) (send, recv int) {
	t.Helper()
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(ln)
	require.NoError(t, unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, unix.Listen(ln, 1))
	sa, err := unix.Getsockname(ln)
	require.NoError(t, err)
	send, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(send) })
	require.NoError(t, unix.Connect(send, sa))
	recv, _, err = unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(recv) })
	return send, recv
}

// StampingOn waits until the kernel stamps received segments. The first
// socket to ask switches stamping on through a deferred work item, so the
// segments of the next moment may carry none; the socket it opens keeps
// stamping on until the test ends.
func StampingOn(t testing.TB) {
	t.Helper()
	send, recv := TCPPair(t)
	require.NoError(t, nbio.EnableStamps(recv))
	var s nbio.Stamped
	buf := make([]byte, 64)
	require.Eventually(t, func() bool {
		if _, err := unix.Write(send, []byte("p")); err != nil {
			return false
		}
		time.Sleep(time.Millisecond)
		_, stamp, err := s.Read(recv, buf)
		return err == nil && stamp != 0
	}, 5*time.Second, 10*time.Millisecond, "the kernel never stamped a segment")
}

// StampedPair is TCPPair with stamps enabled on the receiving end, once
// the kernel stamps segments.
func StampedPair(t testing.TB) (send, recv int) {
	t.Helper()
	StampingOn(t)
	send, recv = TCPPair(t)
	require.NoError(t, nbio.EnableStamps(recv))
	return send, recv
}
