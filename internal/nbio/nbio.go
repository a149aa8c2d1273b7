// Package nbio issues read(2), write(2) and recvmsg(2) on non-blocking
// sockets as raw system calls.
//
// unix.Read and unix.Write tell the Go scheduler around every call that the
// goroutine may block, so that its P can be handed to another thread. A
// non-blocking socket never blocks (it answers EAGAIN), and subhub and its
// load tool make tens of thousands of such calls per second: the
// bookkeeping, and the system monitor thread waking every 20 µs to look for
// Ps to take back from them, cost CPU for nothing. Use these only on file
// descriptors opened with O_NONBLOCK.
package nbio

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Write writes b to the non-blocking fd once and returns the bytes written.
// A full socket gives (0, EAGAIN); an interrupted call is retried.
func Write(fd int, b []byte) (int, error) {
	return rw(unix.SYS_WRITE, fd, b)
}

// Read reads into b from the non-blocking fd once. An empty socket gives
// (0, EAGAIN), the peer's EOF (0, nil); an interrupted call is retried.
func Read(fd int, b []byte) (int, error) {
	return rw(unix.SYS_READ, fd, b)
}

func rw(trap uintptr, fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return raw(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// raw issues a system call of up to three arguments (the rest zero)
// without telling the scheduler, retrying when interrupted.
func raw(trap, a1, a2, a3 uintptr) (int, error) {
	for {
		n, _, errno := unix.RawSyscall6(trap, a1, a2, a3, 0, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// EpollPoll collects the ready events of epfd without waiting (epoll_pwait
// with a zero timeout, as a raw system call). To wait for events, register
// epfd with the Go runtime's poller (see Waiter) instead of blocking a
// thread in epoll_wait.
func EpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	// epoll_pwait(epfd, events, maxevents, timeout 0, no sigmask)
	return raw(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)))
}

// Waiter parks a goroutine until an epoll instance has ready events, using
// the Go runtime's own poller: no thread sits in a blocking epoll_wait, so
// the scheduler has no P to take back from a system call. One goroutine at
// a time may use a Waiter; it allocates nothing per call.
type Waiter struct {
	fd int
	f  *os.File
	rc syscall.RawConn
	// the state of the current Wait, read by ready (a method value made
	// once, so that parking allocates no closure)
	events []unix.EpollEvent
	n      int
	err    error
	ready  func(fd uintptr) bool
}

// NewWaiter makes epfd non-blocking and registers it with the runtime
// poller. Close releases the registration and closes epfd.
func NewWaiter(epfd int) (*Waiter, error) {
	if err := unix.SetNonblock(epfd, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &Waiter{fd: epfd, f: f, rc: rc}
	w.ready = w.poll
	return w, nil
}

// Wait collects ready events of the epoll instance into events, parking
// until there are some or until timeout passes (then it returns 0, nil).
func (w *Waiter) Wait(events []unix.EpollEvent, timeout time.Duration) (int, error) {
	if n, err := w.Poll(events); n > 0 || err != nil {
		return n, err // busy: no deadline to arm
	}
	if err := w.f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	w.events, w.n, w.err = events, 0, nil
	err := w.rc.Read(w.ready)
	w.events = nil
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return w.n, w.err
}

// poll is rc.Read's callback: done once events are ready or polling failed.
func (w *Waiter) poll(uintptr) bool {
	w.n, w.err = EpollPoll(w.fd, w.events)
	return w.n > 0 || w.err != nil
}

// Poll collects ready events without waiting.
func (w *Waiter) Poll(events []unix.EpollEvent) (int, error) {
	return EpollPoll(w.fd, events)
}

// Close closes the epoll instance. No Wait or Poll may run or follow.
func (w *Waiter) Close() error { return w.f.Close() }

// Stamped reads from non-blocking TCP sockets that have SO_TIMESTAMPNS set
// (see EnableStamps), returning with the data the kernel's receive time of
// the newest segment read. Its msghdr, iovec and control buffer are reused,
// so a read allocates nothing. One goroutine at a time may use a Stamped.
type Stamped struct {
	msg  unix.Msghdr
	iov  unix.Iovec
	ctrl [64]byte
}

// EnableStamps asks the kernel to record when each segment reaches fd, in
// unix nanoseconds of the real-time clock, for Stamped.Read.
func EnableStamps(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}

// Read reads into b from the non-blocking fd once, like Read, and returns
// the receive time of the newest segment it consumed (unix nanoseconds),
// or 0 when the kernel attached none.
func (s *Stamped) Read(fd int, b []byte) (n int, stamp int64, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	s.iov.Base = &b[0]
	s.iov.SetLen(len(b))
	s.msg.Iov = &s.iov
	s.msg.SetIovlen(1)
	s.msg.Control = &s.ctrl[0]
	s.msg.SetControllen(len(s.ctrl))
	s.msg.Flags = 0
	n, err = raw(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&s.msg)), 0)
	if err != nil || n == 0 {
		return n, 0, err
	}
	return n, s.stamp(), nil
}

// stamp finds SCM_TIMESTAMPNS among the control messages of the last read.
func (s *Stamped) stamp() int64 {
	ctrl := s.ctrl[:min(int(s.msg.Controllen), len(s.ctrl))]
	for len(ctrl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(ctrl) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&ctrl[unix.CmsgLen(0)]))
			return ts.Nano()
		}
		ctrl = ctrl[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(ctrl)):]
	}
	return 0
}
