package nbio_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
	"github.com/subhub/subhub/internal/nbio/nbiotest"
)

func TestStampedReadGivesArrivalTimeOfNewestSegment(t *testing.T) {
	send, recv := nbiotest.StampedPair(t)
	var s nbio.Stamped
	buf := make([]byte, 64)

	n, stamp, err := s.Read(recv, buf)
	require.ErrorIs(t, err, unix.EAGAIN, "nothing to read yet")
	require.Zero(t, n)
	require.Zero(t, stamp)

	before := time.Now().UnixNano()
	_, err = unix.Write(send, []byte("first"))
	require.NoError(t, err)
	time.Sleep(30 * time.Millisecond)
	mid := time.Now().UnixNano()
	_, err = unix.Write(send, []byte("second"))
	require.NoError(t, err)
	time.Sleep(30 * time.Millisecond)
	readAt := time.Now().UnixNano()

	n, stamp, err = s.Read(recv, buf)
	require.NoError(t, err)
	require.Equal(t, "firstsecond", string(buf[:n]))
	require.GreaterOrEqual(t, stamp, mid, "the stamp is the newer segment's")
	require.Less(t, stamp, readAt-10*int64(time.Millisecond), "the stamp is when the segment arrived, not when it was read")
	require.Greater(t, stamp, before)
}

func TestStampedReadWithoutStampsEnabledGivesZero(t *testing.T) {
	send, recv := nbiotest.TCPPair(t)
	var s nbio.Stamped
	_, err := unix.Write(send, []byte("x"))
	require.NoError(t, err)
	buf := make([]byte, 8)
	require.Eventually(t, func() bool {
		n, stamp, err := s.Read(recv, buf)
		if err != nil {
			return false
		}
		require.Equal(t, 1, n)
		require.Zero(t, stamp, "no SO_TIMESTAMPNS, no stamp")
		return true
	}, time.Second, time.Millisecond)
}

func TestStampedReadSeesEOF(t *testing.T) {
	send, recv := nbiotest.StampedPair(t)
	require.NoError(t, unix.Shutdown(send, unix.SHUT_WR))
	var s nbio.Stamped
	buf := make([]byte, 8)
	require.Eventually(t, func() bool {
		n, stamp, err := s.Read(recv, buf)
		return err == nil && n == 0 && stamp == 0
	}, time.Second, time.Millisecond, "EOF reads (0, 0, nil)")
}
