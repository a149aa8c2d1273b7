package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/nats-io/nats.go"
)

// Subprotocol is the only WebSocket subprotocol served.
const Subprotocol = "graphql-transport-ws"

// readBufferSize is the size of a connection's client-message read buffer.
const readBufferSize = 1024

// nextSuffix closes the next message around the event bytes.
const nextSuffix = "}}}"

// topicRe finds the topic field's string literal name argument.
var topicRe = regexp.MustCompile(`topic\s*\(\s*name\s*:\s*"((?:[^"\\]|\\.)*)"\s*\)`)

var (
	ackFrame  = appendFrame(nil, ws.OpText, []byte(`{"type":"connection_ack"}`))
	pongFrame = appendFrame(nil, ws.OpText, []byte(`{"type":"pong"}`))
)

// server holds the topic registry. mu guards topics, conns and every
// topic's subscriber list writes.
type server struct {
	nc  *nats.Conn
	log *slog.Logger

	mu     sync.Mutex
	topics map[string]*topic
	conns  map[*conn]struct{}
}

// topic is one NATS subject with its local subscribers.
type topic struct {
	name string
	// subs is the subscriber list, replaced copy-on-write under server.mu:
	// appends may reuse spare capacity (readers never look past their
	// length), removals always build a fresh array.
	subs atomic.Pointer[[]subscriber]
	sub  *nats.Subscription
	// prefix is `{"id":"T","type":"next","payload":{"data":{"topic":`.
	prefix []byte
	// frame and own are scratch owned by the NATS callback goroutine: the
	// shared frame and the frame of a subscriber with its own id.
	frame, own []byte
}

// subscriber is one subscription of a topic. prefix is nil when the
// operation id is the topic name (the shared frame serves it); otherwise it
// is the subscriber's own next-message prefix and its frame is built for it.
type subscriber struct {
	c      *conn
	id     string
	prefix []byte
}

// conn is one WebSocket connection. Its reader goroutine owns inited and
// topics; Write on nc is safe from any goroutine and each call carries one
// whole frame.
type conn struct {
	nc     net.Conn
	inited bool
	topics map[string]string // operation id → topic name
	dead   atomic.Bool
}

// serve accepts WebSocket connections on ln until ctx is done, then closes
// the listener and every connection and waits for their goroutines. It
// unsubscribes every topic but does not close nc.
func serve(ctx context.Context, ln net.Listener, nc *nats.Conn, log *slog.Logger) error {
	s := &server{nc: nc, log: log, topics: make(map[string]*topic), conns: make(map[*conn]struct{})}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for {
		var c net.Conn
		c, err = ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			break
		}
		if err != nil {
			// EMFILE and friends pass; back off a little as net/http does.
			s.log.Warn("accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(c)
		}()
	}
	if ctx.Err() != nil {
		err = nil
	}
	s.mu.Lock()
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	wg.Wait()
	return err
}

// handle upgrades nc and reads client messages until the connection ends.
func (s *server) handle(nc net.Conn) {
	up := ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == Subprotocol }}
	if _, err := up.Upgrade(nc); err != nil {
		s.log.Debug("upgrade", "remote", nc.RemoteAddr(), "err", err)
		nc.Close()
		return
	}
	c := &conn{nc: nc, topics: make(map[string]string)}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	if closing := s.readMessages(c, bufio.NewReaderSize(nc, readBufferSize)); closing != nil {
		c.write(closing)
	}
	c.kill()
	s.mu.Lock()
	for id, name := range c.topics {
		s.removeLocked(c, id, name)
	}
	delete(s.conns, c)
	s.mu.Unlock()
}

// kill closes the connection; safe from any goroutine, more than once.
func (c *conn) kill() {
	if c.dead.CompareAndSwap(false, true) {
		c.nc.Close()
	}
}

// write sends one whole frame with one Write and kills the connection on
// error. f is not retained.
func (c *conn) write(f []byte) {
	if _, err := c.nc.Write(f); err != nil {
		c.kill()
	}
}

// readMessages handles client messages until the peer goes away (nil) or
// the connection must end with the returned close frame.
func (s *server) readMessages(c *conn, r io.Reader) []byte {
	var msgs []wsutil.Message
	for {
		var err error
		msgs, err = wsutil.ReadClientMessage(r, msgs[:0])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("read", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return nil
		}
		for _, m := range msgs {
			switch m.OpCode {
			case ws.OpPing:
				c.write(appendFrame(nil, ws.OpPong, m.Payload))
			case ws.OpPong:
			case ws.OpClose:
				return closeFrame(ws.StatusNormalClosure, "")
			case ws.OpText:
				if f := s.handleText(c, m.Payload); f != nil {
					return f
				}
			default:
				return closeFrame(4400, "Invalid message received")
			}
		}
	}
}

// clientMessage is any graphql-transport-ws client message.
type clientMessage struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Payload struct {
		Query string `json:"query"`
	} `json:"payload"`
}

// handleText acts on one client message and returns a close frame if the
// connection must end.
func (s *server) handleText(c *conn, p []byte) []byte {
	var m clientMessage
	if err := json.Unmarshal(p, &m); err != nil {
		return closeFrame(4400, "Invalid message received")
	}
	switch m.Type {
	case "connection_init":
		if c.inited {
			return closeFrame(4429, "Too many initialisation requests")
		}
		c.inited = true
		c.write(ackFrame)
	case "ping":
		c.write(pongFrame)
	case "pong":
	case "subscribe":
		if !c.inited {
			return closeFrame(4401, "Unauthorized")
		}
		if _, dup := c.topics[m.ID]; dup {
			return closeFrame(4409, "Subscriber for "+m.ID+" already exists")
		}
		if err := s.subscribe(c, m.ID, m.Payload.Query); err != nil {
			e, _ := json.Marshal(struct {
				ID      string              `json:"id"`
				Type    string              `json:"type"`
				Payload []map[string]string `json:"payload"`
			}{ID: m.ID, Type: "error", Payload: []map[string]string{{"message": err.Error()}}})
			c.write(appendFrame(nil, ws.OpText, e))
		}
	case "complete":
		if name, ok := c.topics[m.ID]; ok {
			s.mu.Lock()
			s.removeLocked(c, m.ID, name)
			s.mu.Unlock()
			delete(c.topics, m.ID)
		}
	default:
		return closeFrame(4400, "Invalid message received")
	}
	return nil
}

// subscribe adds operation id of c to the topic named in query.
func (s *server) subscribe(c *conn, id, query string) error {
	g := topicRe.FindStringSubmatch(query)
	if g == nil || g[1] == "" {
		return errNoTopic
	}
	var name string
	if err := json.Unmarshal([]byte(`"`+g[1]+`"`), &name); err != nil {
		return errNoTopic
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[name]
	if t == nil {
		t = &topic{name: name, prefix: nextPrefix(name)}
		t.subs.Store(new([]subscriber))
		sub, err := s.nc.Subscribe(name, t.deliver)
		if err != nil {
			return err
		}
		t.sub = sub
		s.topics[name] = t
	}
	sb := subscriber{c: c, id: id}
	if id != name {
		sb.prefix = nextPrefix(id)
	}
	next := append(*t.subs.Load(), sb)
	t.subs.Store(&next)
	c.topics[id] = name
	return nil
}

// nextPrefix returns `{"id":<id>,"type":"next","payload":{"data":{"topic":`.
func nextPrefix(id string) []byte {
	q, _ := json.Marshal(id)
	return append(append([]byte(`{"id":`), q...), `,"type":"next","payload":{"data":{"topic":`...)
}

// removeLocked drops operation id of c from topic name and unsubscribes
// the topic when it was the last subscriber. server.mu must be held.
func (s *server) removeLocked(c *conn, id, name string) {
	t := s.topics[name]
	if t == nil {
		return
	}
	old := *t.subs.Load()
	next := make([]subscriber, 0, len(old))
	for _, x := range old {
		if x.c != c || x.id != id {
			next = append(next, x)
		}
	}
	if len(next) == 0 {
		_ = t.sub.Unsubscribe()
		delete(s.topics, name)
	}
	t.subs.Store(&next)
}

// deliver is the topic's NATS callback: one frame built once, one Write per
// subscriber. It runs on the subscription's own goroutine, which owns
// t.frame and t.own.
func (t *topic) deliver(m *nats.Msg) {
	t.frame = appendNext(t.frame[:0], t.prefix, m.Data)
	for _, sb := range *t.subs.Load() {
		if sb.prefix == nil {
			sb.c.write(t.frame)
			continue
		}
		t.own = appendNext(t.own[:0], sb.prefix, m.Data)
		sb.c.write(t.own)
	}
}

// appendNext appends the text frame of a next message: prefix, data, "}}}".
func appendNext(dst, prefix, data []byte) []byte {
	dst = appendHeader(dst, ws.OpText, len(prefix)+len(data)+len(nextSuffix))
	dst = append(dst, prefix...)
	dst = append(dst, data...)
	return append(dst, nextSuffix...)
}

// appendHeader appends an unmasked final-frame header for a payload of n
// bytes.
func appendHeader(dst []byte, op ws.OpCode, n int) []byte {
	dst = append(dst, 0x80|byte(op))
	switch {
	case n <= 125:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// appendFrame appends a whole unmasked final frame carrying p.
func appendFrame(dst []byte, op ws.OpCode, p []byte) []byte {
	return append(appendHeader(dst, op, len(p)), p...)
}

// closeFrame returns a close frame with code and reason (at most 123 bytes).
func closeFrame(code ws.StatusCode, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return appendFrame(nil, ws.OpClose, ws.NewCloseFrameBody(code, reason))
}
