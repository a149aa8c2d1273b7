//go:build !race

package nbio_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
	"github.com/subhub/subhub/internal/nbio/nbiotest"
)

func TestStampedReadAllocatesNothing(t *testing.T) {
	send, recv := nbiotest.StampedPair(t)
	var s nbio.Stamped
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := unix.Write(send, []byte("x")); err != nil {
			t.Fatal(err)
		}
		for {
			n, stamp, err := s.Read(recv, buf)
			if err == unix.EAGAIN {
				continue
			}
			if err != nil || n != 1 || stamp == 0 {
				t.Fatalf("Read = %d, %d, %v", n, stamp, err)
			}
			return
		}
	})
	require.Zero(t, allocs, "a stamped read allocates nothing")
}
