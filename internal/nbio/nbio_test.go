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
