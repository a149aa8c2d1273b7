package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/nats-io/nats.go"
)

// Subprotocol is the only WebSocket subprotocol served.
const Subprotocol = "graphql-transport-ws"

// outboxSize is the number of frames a connection's writer may lag behind.
const outboxSize = 128

// topicRe finds the topic field's name argument: a string literal (group 1)
// or a variable (group 2).
var topicRe = regexp.MustCompile(`topic\s*\(\s*name\s*:\s*(?:"((?:[^"\\]|\\.)*)"|\$(\w+))\s*\)`)

// server holds what all connections share. Its methods are safe for
// concurrent use.
type server struct {
	nc  *nats.Conn
	log *slog.Logger
	up  ws.HTTPUpgrader

	mu    sync.Mutex
	conns map[*conn]struct{} // live connections, closed on shutdown
}

// serve accepts WebSocket connections on ln until ctx is done, then closes
// the listener and every connection. It does not close nc.
func serve(ctx context.Context, ln net.Listener, nc *nats.Conn, log *slog.Logger) error {
	s := &server{
		nc:    nc,
		log:   log,
		up:    ws.HTTPUpgrader{Protocol: ws.SelectEqual(Subprotocol)},
		conns: make(map[*conn]struct{}),
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shCtx) // hijacked connections are ours to close
	s.mu.Lock()
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ServeHTTP upgrades the request and runs the connection until it ends.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nc, rw, _, err := s.up.Upgrade(r, w)
	if err != nil {
		s.log.Debug("upgrade", "remote", r.RemoteAddr, "err", err)
		if nc != nil {
			nc.Close()
		}
		return
	}
	c := &conn{
		srv:  s,
		nc:   nc,
		out:  make(chan frame, outboxSize),
		done: make(chan struct{}),
		subs: make(map[string]*nats.Subscription),
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.writeLoop()
	c.readLoop(rw.Reader)
}

// frame is one outbound WebSocket frame.
type frame struct {
	op ws.OpCode
	p  []byte
}

// conn is one WebSocket connection. readLoop owns acked, inited and subs;
// writeLoop is the only writer to nc.
type conn struct {
	srv  *server
	nc   net.Conn
	out  chan frame
	done chan struct{} // closed by kill
	once sync.Once

	inited bool
	subs   map[string]*nats.Subscription // by operation id
}

// kill closes the connection at once; safe to call more than once and from
// any goroutine.
func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// send queues f for the writer, blocking while the outbox is full. It fails
// with errClosed once the connection is killed.
func (c *conn) send(f frame) error {
	select {
	case c.out <- f:
		return nil
	case <-c.done:
		return errClosed
	}
}

// sendJSON marshals v and queues it as a text frame.
func (c *conn) sendJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.send(frame{op: ws.OpText, p: b})
}

func (c *conn) writeLoop() {
	for {
		select {
		case f := <-c.out:
			if err := wsutil.WriteServerMessage(c.nc, f.op, f.p); err != nil {
				c.srv.log.Debug("write", "remote", c.nc.RemoteAddr(), "err", err)
				c.kill()
				return
			}
			if f.op == ws.OpClose {
				c.kill()
				return
			}
		case <-c.done:
			return
		}
	}
}

// readLoop reads client messages until the connection ends, then
// unsubscribes everything and lets the writer finish.
func (c *conn) readLoop(r io.Reader) {
	closing := c.readMessages(r)
	for id, sub := range c.subs {
		_ = sub.Unsubscribe()
		delete(c.subs, id)
	}
	if closing != nil {
		_ = c.send(*closing) // the writer kills the connection after it
	} else {
		c.kill()
	}
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	c.srv.mu.Unlock()
}

// readMessages handles messages until the peer goes away (nil) or the
// connection must be closed with a close frame (returned).
func (c *conn) readMessages(r io.Reader) *frame {
	var msgs []wsutil.Message
	for {
		var err error
		msgs, err = wsutil.ReadClientMessage(r, msgs[:0])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.srv.log.Debug("read", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return nil
		}
		for _, m := range msgs {
			switch m.OpCode {
			case ws.OpPing:
				if c.send(frame{op: ws.OpPong, p: m.Payload}) != nil {
					return nil
				}
			case ws.OpPong:
			case ws.OpClose:
				code, _ := ws.ParseCloseFrameData(m.Payload)
				if code.Empty() {
					code = ws.StatusNormalClosure
				}
				return &frame{op: ws.OpClose, p: ws.NewCloseFrameBody(code, "")}
			case ws.OpText:
				if f := c.handle(m.Payload); f != nil {
					return f
				}
			default:
				return closeFrame(4400, "Invalid message received")
			}
		}
	}
}

func closeFrame(code ws.StatusCode, reason string) *frame {
	return &frame{op: ws.OpClose, p: ws.NewCloseFrameBody(code, reason)}
}

// clientMessage is any graphql-transport-ws client message.
type clientMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type subscribePayload struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

type graphQLError struct {
	Message string `json:"message"`
}

// nextMessage is the server's next message for the topic field.
type nextMessage struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Payload struct {
		Data struct {
			Topic any `json:"topic"`
		} `json:"data"`
	} `json:"payload"`
}

// handle acts on one text message and returns a close frame if the
// connection must end.
func (c *conn) handle(p []byte) *frame {
	var m clientMessage
	if err := json.Unmarshal(p, &m); err != nil || m.Type == "" {
		return closeFrame(4400, "Invalid message received")
	}
	switch m.Type {
	case "connection_init":
		if c.inited {
			return closeFrame(4429, "Too many initialisation requests")
		}
		c.inited = true
		if c.sendJSON(clientMessage{Type: "connection_ack"}) != nil {
			return nil
		}
	case "ping":
		if c.sendJSON(clientMessage{Type: "pong"}) != nil {
			return nil
		}
	case "pong":
	case "subscribe":
		return c.subscribe(m)
	case "complete":
		if sub, ok := c.subs[m.ID]; ok {
			_ = sub.Unsubscribe()
			delete(c.subs, m.ID)
		}
	default:
		return closeFrame(4400, "Invalid message received")
	}
	return nil
}

func (c *conn) subscribe(m clientMessage) *frame {
	if !c.inited {
		return closeFrame(4401, "Unauthorized")
	}
	var p subscribePayload
	if m.ID == "" || json.Unmarshal(m.Payload, &p) != nil || p.Query == "" {
		return closeFrame(4400, "Invalid message received")
	}
	if _, dup := c.subs[m.ID]; dup {
		reason := "Subscriber for " + m.ID + " already exists"
		if len(reason) > 123 {
			reason = reason[:123]
		}
		return closeFrame(4409, reason)
	}
	topic, err := topicName(p)
	if err == nil {
		var sub *nats.Subscription
		sub, err = c.srv.nc.Subscribe(topic, c.deliver(m.ID))
		if err == nil {
			c.subs[m.ID] = sub
			return nil
		}
	}
	_ = c.sendJSON(struct {
		ID      string         `json:"id"`
		Type    string         `json:"type"`
		Payload []graphQLError `json:"payload"`
	}{ID: m.ID, Type: "error", Payload: []graphQLError{{Message: err.Error()}}})
	return nil
}

// topicName extracts the topic field's name argument from the query.
func topicName(p subscribePayload) (string, error) {
	g := topicRe.FindStringSubmatch(p.Query)
	switch {
	case g == nil:
		return "", errNoTopic
	case g[2] != "":
		s, ok := p.Variables[g[2]].(string)
		if !ok || s == "" {
			return "", errNoTopic
		}
		return s, nil
	default:
		var s string
		if err := json.Unmarshal([]byte(`"`+g[1]+`"`), &s); err != nil || s == "" {
			return "", errNoTopic
		}
		return s, nil
	}
}

// deliver returns the NATS handler of subscription id: decode the event,
// wrap it, encode it, queue it. Messages that are not one JSON value are
// dropped.
func (c *conn) deliver(id string) nats.MsgHandler {
	return func(msg *nats.Msg) {
		dec := json.NewDecoder(bytes.NewReader(msg.Data))
		dec.UseNumber() // keep integers such as unix-nanosecond stamps exact
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			c.srv.log.Debug("drop non-JSON message", "subject", msg.Subject)
			return
		}
		var n nextMessage
		n.ID, n.Type = id, "next"
		n.Payload.Data.Topic = v
		_ = c.sendJSON(n)
	}
}
