package nbio

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func socketPair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func TestReadWrite(t *testing.T) {
	a, b := socketPair(t)
	buf := make([]byte, 16)

	n, err := Read(b, buf)
	require.ErrorIs(t, err, unix.EAGAIN, "nothing to read yet")
	require.Zero(t, n)

	n, err = Write(a, []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, 5, n)
	n, err = Read(b, buf)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:n]))

	n, err = Write(a, nil)
	require.NoError(t, err, "an empty write is a no-op")
	require.Zero(t, n)

	require.NoError(t, unix.Shutdown(a, unix.SHUT_WR))
	n, err = Read(b, buf)
	require.NoError(t, err, "EOF")
	require.Zero(t, n)

	_, err = Read(-1, buf)
	require.ErrorIs(t, err, unix.EBADF)
}

func TestWriteFullSocket(t *testing.T) {
	a, _ := socketPair(t)
	chunk := make([]byte, 64<<10)
	total := 0
	for {
		n, err := Write(a, chunk)
		if err != nil {
			require.ErrorIs(t, err, unix.EAGAIN, "a full socket answers EAGAIN instead of blocking")
			break
		}
		total += n
		require.Less(t, total, 64<<20, "the socket never filled")
	}
	require.Positive(t, total)
}

func TestWaiter(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	require.NoError(t, err)
	w, err := NewWaiter(epfd)
	require.NoError(t, err)
	defer w.Close()
	a, b := socketPair(t)
	require.NoError(t, unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, b, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(b)}))
	events := make([]unix.EpollEvent, 8)

	start := time.Now()
	n, err := w.Wait(events, 50*time.Millisecond)
	require.NoError(t, err)
	require.Zero(t, n, "nothing ready: the timeout ends the wait")
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	// Parked in the runtime poller, then woken by data on a watched socket.
	got := make(chan int, 1)
	go func() {
		n, err := w.Wait(events, 10*time.Second)
		if err != nil {
			n = -1
		}
		got <- n
	}()
	time.Sleep(20 * time.Millisecond)
	_, err = Write(a, []byte("x"))
	require.NoError(t, err)
	select {
	case n := <-got:
		require.Equal(t, 1, n)
		require.EqualValues(t, b, events[0].Fd)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait was not woken by a ready socket")
	}

	n, err = w.Poll(events)
	require.NoError(t, err)
	require.Zero(t, n, "edge-triggered: reported once")
}

// tcpPair returns the two ends of a loopback TCP connection, the receiving
// end non-blocking.
func tcpPair(t *testing.T) (send, recv int) {
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

// stampingOn waits until the kernel stamps received segments. The first
// socket to ask switches stamping on through a deferred work item, so the
// segments of the next moment may carry none; the socket it opens keeps
// stamping on until the test ends.
func stampingOn(t *testing.T) {
	t.Helper()
	send, recv := tcpPair(t)
	require.NoError(t, EnableStamps(recv))
	var s Stamped
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

// stampedPair is tcpPair with stamps enabled on the receiving end, once
// the kernel stamps segments.
func stampedPair(t *testing.T) (send, recv int) {
	t.Helper()
	stampingOn(t)
	send, recv = tcpPair(t)
	require.NoError(t, EnableStamps(recv))
	return send, recv
}

func TestStampedReadGivesArrivalTimeOfNewestSegment(t *testing.T) {
	send, recv := stampedPair(t)
	var s Stamped
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
	send, recv := tcpPair(t)
	var s Stamped
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
	send, recv := stampedPair(t)
	require.NoError(t, unix.Shutdown(send, unix.SHUT_WR))
	var s Stamped
	buf := make([]byte, 8)
	require.Eventually(t, func() bool {
		n, stamp, err := s.Read(recv, buf)
		return err == nil && n == 0 && stamp == 0
	}, time.Second, time.Millisecond, "EOF reads (0, 0, nil)")
}
