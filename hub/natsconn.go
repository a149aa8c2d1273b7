package hub

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
)

// natsDialer dials the pooled NATS connections (nats.SetCustomDialer) and
// hands nats.go a connection whose reads are raw system calls.
//
// Why: nats.go's read loop reads its socket once per burst of messages. When
// messages come one at a time (many topics, a few messages per second
// each), that is one read(2) per message, and a read through the net
// package tells the scheduler that the goroutine may block. If the process
// was idle, that wakes the runtime's system monitor thread, which then
// polls every 20 µs until the process is idle again: a measurable share of
// the CPU of a hub that fans out many small messages. The socket is
// non-blocking, so the read never blocks; an empty socket parks the read
// loop on the runtime's poller exactly as net.Conn.Read does (see nbio).
type natsDialer struct{ d net.Dialer }

func newNATSDialer(timeout time.Duration) *natsDialer {
	return &natsDialer{d: net.Dialer{Timeout: timeout}}
}

// Dial implements nats.CustomDialer.
func (d *natsDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := d.d.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	return newRawReadConn(tc)
}

// rawReadConn is a TCP connection whose Read issues read(2) as a raw system
// call; everything else (writes, deadlines, close) is net.TCPConn's.
type rawReadConn struct {
	*net.TCPConn
	rc syscall.RawConn

	mu sync.Mutex // one Read at a time: the fields below are its state
	b  []byte
	n  int
	// err is read(2)'s error; readFn is the method value c.read, made once
	// so that a Read allocates nothing.
	err    error
	readFn func(fd uintptr) bool
}

func newRawReadConn(tc *net.TCPConn) (*rawReadConn, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		tc.Close()
		return nil, err
	}
	c := &rawReadConn{TCPConn: tc, rc: rc}
	c.readFn = c.read
	return c, nil
}

// Read reads what the socket holds, parking on the runtime poller while it
// is empty. It honours read deadlines and returns io.EOF when the peer has
// closed.
func (c *rawReadConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b, c.n, c.err = b, 0, nil
	perr := c.rc.Read(c.readFn)
	c.b = nil
	switch {
	case perr != nil: // closed, or the deadline passed
		return 0, c.opError(perr)
	case c.err != nil:
		return 0, c.opError(os.NewSyscallError("read", c.err))
	case c.n == 0:
		return 0, io.EOF
	}
	return c.n, nil
}

// read is rc.Read's callback: done unless the socket is empty.
func (c *rawReadConn) read(fd uintptr) bool {
	c.n, c.err = nbio.Read(int(fd), c.b)
	return c.err != unix.EAGAIN
}

func (c *rawReadConn) opError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
