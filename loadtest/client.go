package loadtest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"github.com/valyala/fastjson"
	"golang.org/x/sys/unix"
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
	mu      sync.Mutex
	conns   map[int32]*conn
	all     []*conn
	parser  fastjson.Parser
	rbuf    []byte
	mbuf    []byte
	wbuf    []byte
	rng     *rand.Rand
	hist    *hdrhistogram.Histogram
	ivl     *hdrhistogram.Histogram
	cnt     counters
	waiting int // conns still in the handshake
}

// engine owns the client connections of one process.
type engine struct {
	cfg     *Config
	topics  *topicSet
	targets []*target
	loops   []*loop
	sem     chan struct{}

	planned  atomic.Int64 // conns this engine will open
	settled  atomic.Int64 // conns that finished the handshake or failed
	up       atomic.Int64 // conns open and ready
	everUp   atomic.Int64
	subs     atomic.Int64 // stable subscriptions sent
	stopping atomic.Bool
	wg       sync.WaitGroup
	churnSeq atomic.Uint64
	churn    []*conn
	churnLp  []*loop
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

func newEngine(cfg *Config, ts *topicSet, nloops int) (*engine, error) {
	e := &engine{cfg: cfg, topics: ts, sem: make(chan struct{}, maxPendingConns)}
	for _, u := range cfg.URLs {
		t, err := parseTarget(u)
		if err != nil {
			return nil, err
		}
		e.targets = append(e.targets, t)
	}
	if nloops < 1 {
		nloops = 1
	}
	for i := 0; i < nloops; i++ {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			e.close()
			return nil, err
		}
		l := &loop{
			e: e, epfd: fd, conns: map[int32]*conn{},
			rbuf: make([]byte, readBufSize),
			rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i+1)*0x9e37+uint64(cfg.WorkerIndex))),
			hist: newHist(), ivl: newHist(),
		}
		l.cnt.init()
		e.loops = append(e.loops, l)
	}
	for _, l := range e.loops {
		e.wg.Add(1)
		go l.run()
	}
	return e, nil
}

// close stops the loops and closes every socket. Safe to call once.
func (e *engine) close() {
	e.stopping.Store(true)
	e.wg.Wait()
	for _, l := range e.loops {
		l.mu.Lock()
		for _, c := range l.conns {
			if c.state == stReady {
				l.sendFrame(c, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
			}
			unix.Close(c.fd)
			c.state = stClosed
		}
		clear(l.conns)
		l.mu.Unlock()
		unix.Close(l.epfd)
	}
}

// dialAll opens the stable connections with global indices idx (and nChurn
// churn connections), paced by cfg.Ramp. It returns when all are dialed or
// ctx ends. The caller sets e.planned to len(idx)+nChurn before.
func (e *engine) dialAll(ctx context.Context, idx []int, nChurn int) {
	start := time.Now()
	ramp := e.cfg.Ramp
	total := len(idx) + nChurn
	for k := 0; k < total; k++ {
		if ramp > 0 {
			due := start.Add(time.Duration(float64(k) / ramp * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if e.stopping.Load() {
			return
		}
		if k < len(idx) {
			e.dial(idx[k], false, k)
		} else {
			e.dial(k-len(idx), true, k)
		}
	}
}

func (e *engine) newConn(global int, churn bool) *conn {
	c := &conn{churn: churn, tgt: e.targets[global%len(e.targets)]}
	if churn {
		return c
	}
	S := e.cfg.SubsPerConn
	seen := map[int]int{}
	for k := 0; k < S; k++ {
		t := e.topics.pick(0, uint64(global*S+k))
		id := e.topics.names[t]
		if n := seen[t]; n > 0 {
			id += "#" + strconv.Itoa(n)
		}
		seen[t]++
		c.subs = append(c.subs, &sub{id: []byte(id), topic: int32(t), stable: true})
	}
	if len(c.subs) >= manySubs {
		c.byID = make(map[string]*sub, len(c.subs))
		for _, s := range c.subs {
			c.byID[string(s.id)] = s
		}
	}
	return c
}

func (e *engine) dial(global int, churn bool, k int) {
	c := e.newConn(global, churn)
	l := e.loops[k%len(e.loops)]
	fail := func(kind string) {
		l.mu.Lock()
		c.state = stClosed
		l.all = append(l.all, c)
		l.cnt.connectErrors[kind]++
		l.cnt.errors++
		l.mu.Unlock()
		e.settled.Add(1)
		<-e.sem
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket " + errnoName(err))
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if ips := e.cfg.SourceIPs; len(ips) > 0 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		sa := &unix.SockaddrInet4{}
		copy(sa.Addr[:], ips[global%len(ips)].To4())
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			fail("bind " + errnoName(err))
			return
		}
	}
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: c.tgt.port, Addr: c.tgt.addr})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		fail("connect " + errnoName(err))
		return
	}
	c.fd = fd
	c.deadline = time.Now().Add(e.cfg.HandshakeTimeout).UnixNano()
	var kb [16]byte
	l.mu.Lock()
	if e.stopping.Load() { // close already ran or is running: do not leak fd
		l.mu.Unlock()
		unix.Close(fd)
		<-e.sem
		return
	}
	for i := range kb {
		kb[i] = byte(l.rng.Uint32())
	}
	c.key = base64.StdEncoding.EncodeToString(kb[:])
	l.conns[int32(fd)] = c
	l.all = append(l.all, c)
	l.waiting++
	err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd),
	})
	if err != nil {
		l.fail(c, "epoll "+errnoName(err))
	}
	if churn {
		e.churn = append(e.churn, c)
		e.churnLp = append(e.churnLp, l)
	}
	l.mu.Unlock()
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
		n, err := unix.EpollWait(l.epfd, events, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
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
		n, err := unix.Write(c.fd, b)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
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
		n, err := unix.Write(c.fd, c.out)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
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

// readAll reads what the socket holds (edge-triggered). A short read means
// the receive queue was empty at that moment and new data raises a new
// edge, so it stops there and saves the EAGAIN read, unless hup says the
// peer closed (then it reads on to the EOF). Lock held.
func (l *loop) readAll(c *conn, hup bool) {
	for c.state != stClosed {
		n, err := unix.Read(c.fd, l.rbuf)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
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
		now := time.Now().UnixNano()
		data := l.rbuf[:n]
		inPend := len(c.pend) > 0
		if inPend {
			c.pend = append(c.pend, data...)
			data = c.pend
		}
		used := l.process(c, data, now)
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

func (l *loop) protoErr(c *conn, kind string) {
	l.cnt.protoErrors[kind]++
	l.cnt.errors++
}

// onMessage handles one complete text message. msg is valid only during the call. Lock held.
func (l *loop) onMessage(c *conn, msg []byte, now int64) {
	v, err := l.parser.ParseBytes(msg)
	if err != nil {
		l.protoErr(c, "invalid JSON")
		return
	}
	typ := v.GetStringBytes("type")
	switch string(typ) {
	case "next", "data":
		l.onDelivery(c, v, now)
	case "connection_ack":
		if c.state != stWaitAck {
			l.protoErr(c, "duplicate connection_ack")
			return
		}
		c.state = stReady
		l.e.up.Add(1)
		l.e.everUp.Add(1)
		l.settle(c)
		for _, s := range c.subs {
			l.subscribe(c, s)
			l.e.subs.Add(1)
		}
	case "ka", "pong":
	case "ping":
		l.sendText(c, []byte(`{"type":"pong"}`))
	case "complete":
		if s := c.find(v.GetStringBytes("id")); s != nil {
			s.active = false
			if !c.churn {
				l.protoErr(c, "server complete")
			}
		}
	case "error":
		l.protoErr(c, "error message")
		if s := c.find(v.GetStringBytes("id")); s != nil {
			s.active = false
		}
	case "connection_error":
		l.fail(c, "connection_error")
	default:
		l.protoErr(c, "unknown message type")
	}
}

// find returns the subscription with id, or nil. Lock held.
func (c *conn) find(id []byte) *sub {
	if c.byID != nil {
		return c.byID[string(id)]
	}
	for _, s := range c.subs {
		if bytes.Equal(s.id, id) {
			return s
		}
	}
	return nil
}

func (l *loop) onDelivery(c *conn, v *fastjson.Value, now int64) {
	s := c.find(v.GetStringBytes("id"))
	if s == nil {
		if !c.churn {
			l.protoErr(c, "delivery for unknown id")
		}
		return
	}
	seq, ts, ok := findSeqTS(v.Get("payload"), 0)
	if !ok || seq == 0 {
		l.protoErr(c, "delivery without seq/ts")
		return
	}
	lat := (now - ts) / 1000
	if lat < 1 {
		lat = 1
	} else if lat > 60_000_000 {
		lat = 60_000_000
	}
	_ = l.hist.RecordValue(lat)
	_ = l.ivl.RecordValue(lat)
	if !s.stable {
		l.cnt.churnDelivered++
		return
	}
	l.cnt.delivered++
	s.record(uint64(seq))
}

// findSeqTS searches v depth-first for the first object holding both numeric
// "seq" and "ts" keys.
func findSeqTS(v *fastjson.Value, depth int) (seq, ts int64, ok bool) {
	if v == nil || depth > 32 {
		return 0, 0, false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		if s, t := v.Get("seq"), v.Get("ts"); s != nil && t != nil &&
			s.Type() == fastjson.TypeNumber && t.Type() == fastjson.TypeNumber {
			return s.GetInt64(), t.GetInt64(), true
		}
		o, _ := v.Object()
		o.Visit(func(_ []byte, child *fastjson.Value) {
			if !ok {
				seq, ts, ok = findSeqTS(child, depth+1)
			}
		})
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, child := range arr {
			if seq, ts, ok = findSeqTS(child, depth+1); ok {
				return
			}
		}
	}
	return
}

// subscribe sends the subscribe (or legacy start) message for s. Lock held.
func (l *loop) subscribe(c *conn, s *sub) {
	b := l.mbuf[:0]
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.id)
	if l.e.cfg.Protocol == ProtocolLegacyWS {
		b = append(b, `,"type":"start","payload":{"query":`...)
	} else {
		b = append(b, `,"type":"subscribe","payload":{"query":`...)
	}
	b = append(b, l.e.topics.queryJSON[s.topic]...)
	b = append(b, "}}"...)
	l.mbuf = b
	s.active, s.sent = true, true
	l.sendText(c, b)
}

// unsubscribe sends complete (or legacy stop) for s. Lock held.
func (l *loop) unsubscribe(c *conn, s *sub) {
	b := l.mbuf[:0]
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.id)
	if l.e.cfg.Protocol == ProtocolLegacyWS {
		b = append(b, `,"type":"stop"}`...)
	} else {
		b = append(b, `,"type":"complete"}`...)
	}
	l.mbuf = b
	s.active = false
	l.sendText(c, b)
}

func appendJSONString(dst, s []byte) []byte {
	q, _ := json.Marshal(string(s))
	return append(dst, q...)
}

// churnOp performs churn operation n: on churn connection n%len, complete
// the active subscription if there is one, otherwise subscribe to a topic.
// It reports whether an operation was sent.
func (e *engine) churnOp(n uint64) bool {
	if len(e.churn) == 0 {
		return false
	}
	i := int(n % uint64(len(e.churn)))
	c, l := e.churn[i], e.churnLp[i]
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.state != stReady {
		return false
	}
	if len(c.subs) > 0 {
		s := c.subs[0]
		l.unsubscribe(c, s)
		c.subs = c.subs[:0]
		return true
	}
	t := e.topics.pick(2, n)
	id := e.topics.names[t] + "#c" + strconv.FormatUint(e.churnSeq.Add(1), 10)
	s := &sub{id: []byte(id), topic: int32(t)}
	c.subs = append(c.subs, s)
	l.subscribe(c, s)
	return true
}

// snapshot is a point-in-time view of an engine (or a worker's engine).
type snapshot struct {
	Planned   int64  `json:"planned"`
	Settled   int64  `json:"settled"`
	Up        int64  `json:"up"`
	Delivered int64  `json:"delivered"`
	Churn     int64  `json:"churn_delivered"`
	Errors    int64  `json:"errors"`
	Interval  string `json:"interval,omitempty"` // encoded histogram since the previous snapshot
	ivl       *hdrhistogram.Histogram
}

// snapshot returns the totals and the latency histogram since the previous snapshot.
func (e *engine) snapshot() snapshot {
	s := snapshot{Planned: e.planned.Load(), Settled: e.settled.Load(), Up: e.up.Load(), ivl: newHist()}
	for _, l := range e.loops {
		l.mu.Lock()
		s.Delivered += l.cnt.delivered
		s.Churn += l.cnt.churnDelivered
		s.Errors += l.cnt.errors
		s.ivl.Merge(l.ivl)
		l.ivl.Reset()
		l.mu.Unlock()
	}
	return s
}

// tally is the final accounting of one process's connections, mergeable
// across workers.
type tally struct {
	Planned        int64            `json:"planned"`
	EverUp         int64            `json:"ever_up"`
	Up             int64            `json:"up"`
	Subs           int64            `json:"subs"`
	Delivered      int64            `json:"delivered"`
	ChurnDelivered int64            `json:"churn_delivered"`
	Unique         int64            `json:"unique"`
	Duplicates     int64            `json:"duplicates"`
	OutOfOrder     int64            `json:"out_of_order"`
	Late           int64            `json:"late"`
	TopicSubs      []int64          `json:"topic_subs"`
	TopicUnique    []int64          `json:"topic_unique"`
	ConnectErrors  map[string]int64 `json:"connect_errors"`
	Closes         map[string]int64 `json:"closes"`
	ProtoErrors    map[string]int64 `json:"protocol_errors"`
	Hist           string           `json:"hist"`
	RSS            int64            `json:"rss_bytes"`
	hist           *hdrhistogram.Histogram
}

func newTally(topics int) *tally {
	return &tally{
		TopicSubs: make([]int64, topics), TopicUnique: make([]int64, topics),
		ConnectErrors: map[string]int64{}, Closes: map[string]int64{}, ProtoErrors: map[string]int64{},
		hist: newHist(),
	}
}

// collect returns the engine's final accounting.
func (e *engine) collect() *tally {
	t := newTally(len(e.topics.names))
	t.Planned, t.EverUp, t.Up = e.planned.Load(), e.everUp.Load(), e.up.Load()
	for _, l := range e.loops {
		l.mu.Lock()
		t.Delivered += l.cnt.delivered
		t.ChurnDelivered += l.cnt.churnDelivered
		addMap(t.ConnectErrors, l.cnt.connectErrors)
		addMap(t.Closes, l.cnt.closes)
		addMap(t.ProtoErrors, l.cnt.protoErrors)
		t.hist.Merge(l.hist)
		for _, c := range l.all {
			for _, s := range c.subs {
				if !s.stable || !s.sent {
					continue
				}
				t.Subs++
				t.TopicSubs[s.topic]++
				t.TopicUnique[s.topic] += int64(s.unique)
				t.Unique += int64(s.unique)
				t.Duplicates += int64(s.dups)
				t.OutOfOrder += int64(s.ooo)
				t.Late += int64(s.late)
			}
		}
		l.mu.Unlock()
	}
	return t
}

func addMap(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}
