package loadtest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"github.com/valyala/fastjson"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
)

// Connection states.
const (
	stConnecting = iota
	stUpgrading
	stWaitAck
	stReady
	stClosed
)

const (
	readBufSize     = 64 << 10
	maxHeaderBytes  = 16 << 10
	maxFrameBytes   = 64 << 20
	maxPendingConns = 1024 // concurrent handshakes per process
	wsGUID          = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// conn is one client WebSocket. Every field is guarded by the owning loop's mu.
// pend holds the unparsed tail of the input (nil when empty), frag a
// fragmented message being reassembled, out bytes the socket did not take.
type conn struct {
	fd       int
	state    uint8
	churn    bool
	tgt      *target
	key      string
	deadline int64
	pend     []byte
	frag     []byte
	out      []byte
	subs     []*sub
	byID     map[string]*sub // index of subs when there are many; nil otherwise
}

// manySubs is the subscription count from which a conn indexes subs by id.
const manySubs = 16

// counters are a loop's totals; guarded by loop.mu.
type counters struct {
	delivered      int64 // deliveries to stable subscriptions
	churnDelivered int64
	unstamped      int64 // deliveries timed by the clock although KernelTimestamps asked for stamps
	errors         int64
	connectErrors  map[string]int64
	closes         map[string]int64
	protoErrors    map[string]int64
}

func (c *counters) init() {
	c.connectErrors = map[string]int64{}
	c.closes = map[string]int64{}
	c.protoErrors = map[string]int64{}
}

// loop is one epoll instance with its goroutine. mu guards every conn owned
// by the loop, the counters and both histograms; other goroutines (the
// dialer, churn, snapshots) take mu for short critical sections.
type loop struct {
	e       *engine
	epfd    int
	poller  *nbio.Waiter // parks run on epfd through the Go runtime's poller
	mu      sync.Mutex
	conns   map[int32]*conn
	all     []*conn
	parser  fastjson.Parser
	rbuf    []byte
	stamped nbio.Stamped // reads with kernel receive times (Config.KernelTimestamps)
	mbuf    []byte
	wbuf    []byte
	rng     *rand.Rand
	hist    *hdrhistogram.Histogram
	ivl     *hdrhistogram.Histogram
	cnt     counters
	waiting int // conns still in the handshake
}

func errnoName(err error) string {
	var en unix.Errno
	if errors.As(err, &en) {
		if n := unix.ErrnoName(en); n != "" {
			return n
		}
	}
	return err.Error()
}

func (l *loop) run() {
	defer l.e.wg.Done()
	events := make([]unix.EpollEvent, 256)
	lastCheck := time.Now().UnixNano()
	for !l.e.stopping.Load() {
		n, err := l.poller.Wait(events, 100*time.Millisecond)
		if err != nil {
			return
		}
		l.mu.Lock()
		for i := 0; i < n; i++ {
			ev := &events[i]
			c := l.conns[ev.Fd]
			if c == nil {
				continue
			}
			if c.state == stConnecting {
				if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
					continue
				}
				soerr, gerr := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
				if gerr != nil || soerr != 0 {
					if gerr == nil {
						gerr = unix.Errno(soerr)
					}
					l.fail(c, "connect "+errnoName(gerr))
					continue
				}
				c.state = stUpgrading
				l.writeUpgrade(c)
			} else if ev.Events&unix.EPOLLOUT != 0 && len(c.out) > 0 {
				l.flush(c)
			}
			if c.state != stClosed && ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				l.readAll(c, ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
			}
		}
		if l.waiting > 0 {
			if now := time.Now().UnixNano(); now-lastCheck > int64(200*time.Millisecond) {
				lastCheck = now
				for _, c := range l.conns {
					if c.state < stReady && c.deadline < now {
						l.fail(c, "timeout "+stateName(c.state))
					}
				}
			}
		}
		l.mu.Unlock()
	}
}

func stateName(s uint8) string {
	switch s {
	case stConnecting:
		return "connecting"
	case stUpgrading:
		return "upgrading"
	case stWaitAck:
		return "waiting for connection_ack"
	}
	return "ready"
}

// settle marks the end of c's handshake. Lock held.
func (l *loop) settle(c *conn) {
	l.waiting--
	l.e.settled.Add(1)
	<-l.e.sem
}

// fail closes c during its handshake and counts a connect error. Lock held.
func (l *loop) fail(c *conn, kind string) {
	if c.state >= stReady {
		l.drop(c, kind)
		return
	}
	l.cnt.connectErrors[kind]++
	l.cnt.errors++
	l.closeFD(c)
	l.settle(c)
}

// drop closes a ready connection and counts the close under kind. Lock held.
func (l *loop) drop(c *conn, kind string) {
	if c.state == stClosed {
		return
	}
	if c.state < stReady {
		l.fail(c, kind)
		return
	}
	l.cnt.closes[kind]++
	l.cnt.errors++
	l.e.up.Add(-1)
	l.closeFD(c)
}

func (l *loop) closeFD(c *conn) {
	delete(l.conns, int32(c.fd))
	unix.Close(c.fd)
	c.state = stClosed
	c.pend, c.frag, c.out = nil, nil, nil
}

func (l *loop) writeUpgrade(c *conn) {
	b := l.mbuf[:0]
	b = append(b, "GET "...)
	b = append(b, c.tgt.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.tgt.host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	b = append(b, c.key...)
	b = append(b, "\r\nSec-WebSocket-Protocol: "...)
	b = append(b, l.e.cfg.Protocol...)
	b = append(b, "\r\n\r\n"...)
	l.mbuf = b
	l.write(c, b)
}

// write sends b or queues what the socket did not take. b is not retained. Lock held.
func (l *loop) write(c *conn, b []byte) {
	if c.state == stClosed {
		return
	}
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		return
	}
	for len(b) > 0 {
		n, err := nbio.Write(c.fd, b)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				c.out = append(c.out, b...)
				return
			}
			l.drop(c, "1006")
			return
		}
		b = b[n:]
	}
}

func (l *loop) flush(c *conn) {
	for len(c.out) > 0 {
		n, err := nbio.Write(c.fd, c.out)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				return
			}
			l.drop(c, "1006")
			return
		}
		c.out = c.out[n:]
	}
	c.out = nil
}

// sendFrame writes one masked frame. Lock held.
func (l *loop) sendFrame(c *conn, op ws.OpCode, payload []byte) {
	b := l.wbuf[:0]
	b = append(b, 0x80|byte(op))
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	m := l.rng.Uint32()
	mask := [4]byte{byte(m), byte(m >> 8), byte(m >> 16), byte(m >> 24)}
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, payload...)
	ws.Cipher(b[start:], mask, 0)
	l.wbuf = b
	l.write(c, b)
}

func (l *loop) sendText(c *conn, msg []byte) { l.sendFrame(c, ws.OpText, msg) }

// read reads from fd into l.rbuf once, with the kernel's receive stamp
// when Config.KernelTimestamps asks for it (0: none, or not asked for).
func (l *loop) read(fd int) (n int, stamp int64, err error) {
	if l.e.cfg.KernelTimestamps {
		return l.stamped.Read(fd, l.rbuf)
	}
	n, err = nbio.Read(fd, l.rbuf)
	return n, 0, err
}

// readAll reads what the socket holds (edge-triggered). A short read means
// the receive queue was empty at that moment and new data raises a new
// edge, so it stops there and saves the EAGAIN read, unless hup says the
// peer closed (then it reads on to the EOF). Lock held.
func (l *loop) readAll(c *conn, hup bool) {
	for c.state != stClosed {
		n, now, err := l.read(c.fd)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				return
			}
			l.drop(c, "1006")
			return
		}
		if n == 0 {
			l.drop(c, "1006")
			return
		}
		// a read that asked for a stamp and got none: its deliveries are
		// timed by the clock, and counted
		unstamped := now == 0 && l.e.cfg.KernelTimestamps
		if now == 0 {
			now = time.Now().UnixNano()
		}
		before := l.cnt.delivered + l.cnt.churnDelivered
		data := l.rbuf[:n]
		inPend := len(c.pend) > 0
		if inPend {
			c.pend = append(c.pend, data...)
			data = c.pend
		}
		used := l.process(c, data, now)
		if unstamped {
			l.cnt.unstamped += l.cnt.delivered + l.cnt.churnDelivered - before
		}
		if c.state == stClosed {
			return
		}
		rest := data[used:]
		switch {
		case len(rest) == 0:
			if cap(c.pend) > 4096 {
				c.pend = nil
			} else {
				c.pend = c.pend[:0]
			}
		case inPend:
			c.pend = c.pend[:copy(c.pend, rest)]
		default:
			c.pend = append(c.pend[:0], rest...)
		}
		if n < len(l.rbuf) && !hup {
			return
		}
	}
}

// process consumes complete units (the HTTP response, frames) from data and
// returns how many bytes it used. Lock held.
func (l *loop) process(c *conn, data []byte, now int64) int {
	pos := 0
	if c.state == stUpgrading {
		end := bytes.Index(data, []byte("\r\n\r\n"))
		if end < 0 {
			if len(data) > maxHeaderBytes {
				l.fail(c, "upgrade: response header too large")
			}
			return 0
		}
		if kind := l.checkUpgrade(c, data[:end]); kind != "" {
			l.fail(c, kind)
			return 0
		}
		pos = end + 4
		c.state = stWaitAck
		l.sendText(c, []byte(`{"type":"connection_init"}`))
	}
	for c.state != stClosed {
		d := data[pos:]
		if len(d) < 2 {
			break
		}
		fin, op := d[0]&0x80 != 0, ws.OpCode(d[0]&0x0f)
		if d[1]&0x80 != 0 {
			l.protoErr(c, "masked server frame")
			l.drop(c, "protocol error")
			return pos
		}
		hl, ln := 2, uint64(d[1]&0x7f)
		switch ln {
		case 126:
			if len(d) < 4 {
				return pos
			}
			hl, ln = 4, uint64(d[2])<<8|uint64(d[3])
		case 127:
			if len(d) < 10 {
				return pos
			}
			hl, ln = 10, 0
			for _, x := range d[2:10] {
				ln = ln<<8 | uint64(x)
			}
		}
		if ln > maxFrameBytes {
			l.protoErr(c, "frame too large")
			l.drop(c, "protocol error")
			return pos
		}
		if uint64(len(d)-hl) < ln {
			break
		}
		payload := d[hl : hl+int(ln)]
		pos += hl + int(ln)
		switch op {
		case ws.OpText, ws.OpBinary:
			if fin {
				l.onMessage(c, payload, now)
			} else {
				c.frag = append(c.frag[:0], payload...)
			}
		case ws.OpContinuation:
			c.frag = append(c.frag, payload...)
			if fin {
				l.onMessage(c, c.frag, now)
				if cap(c.frag) > 4096 {
					c.frag = nil
				} else {
					c.frag = c.frag[:0]
				}
			}
		case ws.OpPing:
			l.sendFrame(c, ws.OpPong, payload)
		case ws.OpPong:
		case ws.OpClose:
			code := "1005"
			if len(payload) >= 2 {
				code = strconv.Itoa(int(payload[0])<<8 | int(payload[1]))
			}
			if c.state < stReady {
				l.fail(c, "close "+code)
				return pos
			}
			l.sendFrame(c, ws.OpClose, payload[:min(2, len(payload))])
			l.drop(c, code)
			return pos
		default:
			l.protoErr(c, "unknown opcode")
		}
	}
	return pos
}

func (l *loop) checkUpgrade(c *conn, hdr []byte) string {
	line, rest, _ := bytes.Cut(hdr, []byte("\r\n"))
	parts := bytes.SplitN(line, []byte(" "), 3)
	if len(parts) < 2 || !bytes.HasPrefix(parts[0], []byte("HTTP/1.")) {
		return "upgrade: malformed response"
	}
	if string(parts[1]) != "101" {
		return "upgrade: HTTP " + string(parts[1])
	}
	h := sha1.Sum([]byte(c.key + wsGUID))
	want := base64.StdEncoding.EncodeToString(h[:])
	okAccept, okProto := false, false
	for len(rest) > 0 {
		var ln []byte
		ln, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(ln, []byte(":"))
		if !ok {
			continue
		}
		k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Sec-WebSocket-Accept")):
			okAccept = string(v) == want
		case bytes.EqualFold(k, []byte("Sec-WebSocket-Protocol")):
			okProto = string(v) == l.e.cfg.Protocol
		}
	}
	if !okAccept {
		return "upgrade: bad Sec-WebSocket-Accept"
	}
	if !okProto {
		return "upgrade: subprotocol not accepted"
	}
	return ""
}
