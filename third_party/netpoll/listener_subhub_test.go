// subhub patch test (see SUBHUB-PATCH.md): a listener made from a
// net.Listener closes its descriptor once. Upstream v0.7.2 closed it with
// close(2) and then again through the *os.File that owns it; if another
// goroutine had been given that number in between (an accept, a dial), the
// second close shut that goroutine's socket ("connect: bad file descriptor"
// in subhub's parallel tests).

//go:build linux

package netpoll

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestListenerClosesItsDescriptorOnce(t *testing.T) {
	ln, err := CreateListener("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fd := ln.Fd()
	// A second close(2) of the number fails with EBADF, which Close reports.
	if err := ln.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("fd %d still open after Close (fcntl: %v)", fd, err)
	}
}
