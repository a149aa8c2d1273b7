//go:build !race

package nbio

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestWaiterAllocatesNothing(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	require.NoError(t, err)
	w, err := NewWaiter(epfd)
	require.NoError(t, err)
	defer w.Close()
	events := make([]unix.EpollEvent, 4)
	allocs := testing.AllocsPerRun(20, func() {
		n, err := w.Wait(events, time.Microsecond)
		if err != nil || n != 0 {
			t.Fatalf("Wait = %d, %v", n, err)
		}
	})
	require.Zero(t, allocs, "Wait parks without allocating")
}
