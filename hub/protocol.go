package hub

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/shard"
	"github.com/subhub/subhub/wire"
)

// Parsers are pooled: client messages are rare next to deliveries, and an
// idle connection should not hold one.
var parserPool = sync.Pool{New: func() any { return new(wire.Parser) }}

// onTransportWS handles one graphql-transport-ws client message.
func (c *conn) onTransportWS(data []byte) {
	p := parserPool.Get().(*wire.Parser)
	defer parserPool.Put(p)
	var m wire.ClientMessage
	if err := p.Parse(wire.ProtoTransportWS, data, &m); err != nil {
		c.failWS(4400, protocolReason(err))
		return
	}
	switch m.Type {
	case wire.TypeConnectionInit:
		if c.isAcked() {
			c.failWS(4429, "Too many initialisation requests")
			return
		}
		cred, err := c.authenticate(m.Payload)
		if err != nil {
			// As graphql-ws's server does when onConnect returns false.
			c.failWS(4403, "Forbidden")
			return
		}
		c.ack(cred)
		c.sendMessage(func(b []byte) []byte { return wire.AppendConnectionAck(b, nil) })
		c.startKeepAlive()
	case wire.TypePing:
		c.sendMessage(func(b []byte) []byte { return wire.AppendPong(b, m.Payload) })
	case wire.TypePong:
	case wire.TypeSubscribe:
		if !c.isAcked() {
			c.failWS(4401, "Unauthorized")
			return
		}
		c.startSub(&m)
	case wire.TypeComplete:
		c.stopSub(string(m.ID))
	default:
		c.failWS(4400, "Invalid message received")
	}
}

// onLegacy handles one subscriptions-transport-ws (graphql-ws) message.
func (c *conn) onLegacy(data []byte) {
	p := parserPool.Get().(*wire.Parser)
	defer parserPool.Put(p)
	var m wire.ClientMessage
	if err := p.Parse(wire.ProtoLegacy, data, &m); err != nil {
		reason := protocolReason(err)
		if errors.Is(err, wire.ErrUnknownType) {
			c.sendMessage(func(b []byte) []byte {
				return wire.AppendLegacyError(b, m.ID, appendMessageObject(nil, reason))
			})
			return
		}
		c.sendMessage(func(b []byte) []byte { return wire.AppendConnectionError(b, reason) })
		return
	}
	switch m.Type {
	case wire.TypeConnectionInit:
		cred, err := c.authenticate(m.Payload)
		if err != nil {
			// As subscriptions-transport-ws's server does when onConnect
			// refuses: connection_error, then close 1011.
			msg := "Forbidden: " + auth.Reason(err)
			c.sendMessage(func(b []byte) []byte { return wire.AppendConnectionError(b, msg) })
			c.failWS(1011, "Forbidden")
			return
		}
		// A connection_init again (the reference server allows it) may
		// bring a fresh token: it replaces the old one.
		c.ack(cred)
		c.sendMessage(func(b []byte) []byte { return wire.AppendConnectionAck(b, nil) })
		c.sendMessage(wire.AppendKeepAlive)
		c.startKeepAlive()
	case wire.TypeStart:
		if !c.isAcked() {
			c.sendMessage(func(b []byte) []byte {
				return wire.AppendLegacyError(b, m.ID, appendMessageObject(nil, "connection_init must come first"))
			})
			return
		}
		// A start with an active id replaces that operation.
		c.stopSub(string(m.ID))
		c.startSub(&m)
	case wire.TypeStop:
		c.stopSub(string(m.ID))
	case wire.TypeConnectionTerminate:
		c.closeWS(1000, "", false)
	default:
		c.sendMessage(func(b []byte) []byte {
			return wire.AppendLegacyError(b, m.ID, appendMessageObject(nil, "Invalid message type"))
		})
	}
}

// ack records connection_init with the client's credential (nil without
// authentication): it stops the init timer and, for a token that expires,
// arms the expiry timer in its place.
func (c *conn) ack(cred *credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acked = true
	c.setCredentialLocked(cred)
}

func (c *conn) isAcked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

func protocolReason(err error) string {
	var pe *wire.ProtocolError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return "Invalid message received"
}

// MaxIDBytes is the longest operation id a client may use. Clients use
// UUIDs or counters; the id is kept per subscription and echoed in every
// frame.
const MaxIDBytes = 256

// startSub compiles the operation and registers the subscription. Errors go
// back as the protocol's error message; the connection stays open.
func (c *conn) startSub(m *wire.ClientMessage) {
	if len(m.ID) > MaxIDBytes {
		// The id is kept and echoed in every frame: a client must not make
		// the server hold arbitrary bytes per subscription.
		if c.proto == wire.ProtoTransportWS {
			c.failWS(4400, "Subscription id longer than "+strconv.Itoa(MaxIDBytes)+" bytes")
			return
		}
		c.sendMessage(func(b []byte) []byte {
			return wire.AppendConnectionError(b, "operation id longer than "+strconv.Itoa(MaxIDBytes)+" bytes")
		})
		return
	}
	id := string(m.ID)
	c.mu.Lock()
	exists := c.findSubLocked(id) >= 0
	n := len(c.subs)
	c.mu.Unlock()
	if exists {
		c.failWS(4409, "Subscriber for "+id+" already exists")
		return
	}
	if max := c.h.opts.MaxSubscriptions; n >= max {
		c.h.stats.SubscriptionsRefused.Add(1)
		c.sendOperationErrors(m.ID, graphql.Errors{{Message: "Too many subscriptions on this connection: at most " + strconv.Itoa(max) + " may be active at once"}})
		return
	}
	req := graphql.Request{Query: string(m.Query), OperationName: string(m.OperationName)}
	if len(m.Variables) > 0 {
		req.Variables = append([]byte(nil), m.Variables...)
	}
	op, errs := c.h.cache.Compile(req)
	if len(errs) > 0 {
		c.sendOperationErrors(m.ID, errs)
		return
	}
	if ok, errs := c.authorize(op.Topic); !ok {
		if len(errs) > 0 {
			c.sendOperationErrors(m.ID, errs)
		}
		return
	}
	s := &sub{
		c:       c,
		id:      id,
		subject: c.h.subjects.Subject(op.Topic),
		key:     groupKey{plan: op.Plan, proto: c.proto},
	}
	s.prefix = wire.AppendNextPrefix(make([]byte, 0, len(id)+48), c.proto, m.ID)
	c.mu.Lock()
	if c.state != stateWS && c.state != stateSSE {
		c.mu.Unlock()
		return
	}
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	c.h.subscribe(s)
}

// sendOperationErrors reports request errors for one operation.
func (c *conn) sendOperationErrors(id []byte, errs graphql.Errors) {
	c.sendMessage(func(b []byte) []byte { return appendOperationErrors(b, c.proto, id, errs) })
}

// appendOperationErrors appends the WebSocket message that ends operation
// id with errs: graphql-transport-ws `error` with the array, legacy `error`
// with the first error object.
func appendOperationErrors(dst []byte, proto wire.Protocol, id []byte, errs graphql.Errors) []byte {
	if proto == wire.ProtoLegacy {
		return wire.AppendLegacyError(dst, id, firstErrorObject(errs))
	}
	return wire.AppendError(dst, id, errs.AppendJSON(nil))
}

// firstErrorObject renders the first error as one GraphQLFormattedError
// object, the payload shape legacy clients expect.
func firstErrorObject(errs graphql.Errors) []byte {
	arr := errs[:1].AppendJSON(nil)
	return arr[1 : len(arr)-1]
}

func appendMessageObject(dst []byte, msg string) []byte {
	dst = append(dst, `{"message":`...)
	dst = wire.AppendJSONStringString(dst, msg)
	return append(dst, '}')
}

// stopSub ends the client's subscription id (no message is sent back, as
// both protocols specify). Unknown ids are ignored.
func (c *conn) stopSub(id string) {
	c.mu.Lock()
	i := c.findSubLocked(id)
	if i < 0 {
		c.mu.Unlock()
		return
	}
	s := c.subs[i]
	c.removeSubLocked(i)
	s.done = true
	c.mu.Unlock()
	c.h.unsubscribe(s)
}

// endSub ends s because its topic ended: completed by the publisher (errs
// nil: the client gets `complete`) or refused by the backplane (the client
// gets errs as the operation's `error`; SSE: a `next` with the errors). An
// SSE stream ends with its one subscription. The registry entry is already
// gone.
func (c *conn) endSub(s *sub, errs graphql.Errors) {
	c.mu.Lock()
	if s.done {
		c.mu.Unlock()
		return
	}
	s.done = true
	if i := c.findSubLocked(s.id); i >= 0 && c.subs[i] == s {
		c.removeSubLocked(i)
	}
	c.outLocked()
	switch c.state {
	case stateWS:
		bp := scratchPool.Get().(*[]byte)
		var body []byte
		if errs == nil {
			body = wire.AppendComplete((*bp)[:0], c.proto, []byte(s.id))
		} else {
			body = appendOperationErrors((*bp)[:0], c.proto, []byte(s.id), errs)
		}
		if c.roomLocked(len(body)) {
			c.out = wire.AppendTextFrame(c.out, body)
		}
		*bp = body
		scratchPool.Put(bp)
	case stateSSE:
		c.endSSELocked(errs)
	}
	c.mu.Unlock()
	c.flush()
}

// appendErrorsResult appends the execution result {"errors":errs}.
func appendErrorsResult(dst []byte, errs graphql.Errors) []byte {
	dst = append(dst, `{"errors":`...)
	dst = errs.AppendJSON(dst)
	return append(dst, '}')
}

// sendMessage frames the JSON message built by build and writes it.
func (c *conn) sendMessage(build func([]byte) []byte) {
	bp := scratchPool.Get().(*[]byte)
	body := build((*bp)[:0])
	c.queueText(body)
	*bp = body
	scratchPool.Put(bp)
}

// onInitTimeout closes a graphql-transport-ws client that did not send
// connection_init in time (4408).
func (c *conn) onInitTimeout() {
	if !c.isAcked() {
		c.closeWS(4408, "Connection initialisation timeout", true)
	}
}

// startKeepAlive arms the keep-alive timer (wsKeepAlive) once the
// connection is acked. Before connection_init the init timeout bounds the
// connection instead. Runs on the OnRequest task.
func (c *conn) startKeepAlive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kaTimer != nil || c.state != stateWS {
		return
	}
	// The first interval starts now: the ack just queued does not count,
	// so an idle client is pinged one interval after it.
	c.wrote, c.heard = false, false
	c.kaTimer = time.AfterFunc(c.h.opts.KeepAlive, c.wsKeepAlive)
}

// legacyKeepAlive is the legacy protocol's `ka` message, built once.
var legacyKeepAlive = wire.AppendKeepAlive(nil)

// keepAliveCloseCode and keepAliveCloseReason close a WebSocket peer that
// left a ping unanswered. 1001 (going away, RFC 6455 §7.4.1): the
// peer broke no rule (1002, 1008) and the server did not fail (1011); and
// graphql-ws clients retry after 1001, where they give up after most other
// 1xxx codes, so a client that was only unreachable for a while comes back.
const (
	keepAliveCloseCode   = 1001
	keepAliveCloseReason = "keepalive timeout"
)

// wsKeepAlive is a WebSocket connection's keep-alive tick, run by kaTimer
// every KeepAlive after connection_ack. If the peer left the
// previous tick's ping unanswered (nothing at all read since), it is closed
// as dead, without waiting for its close frame. Otherwise a ping control
// frame goes out when nothing was queued during the interval (proxies and
// load balancers close idle connections), or when the peer was silent for
// two whole intervals although messages flowed (so that a busy subscriber,
// which sends nothing, is checked too, every third interval). A socket that
// is full is WriteTimeout's to judge: no ping, no verdict.
//
// A legacy (subscriptions-transport-ws) connection gets a `ka` message every
// tick, as that protocol wants, which also keeps proxies from taking it for
// idle; so it is pinged only when the peer was silent for two intervals, as
// legacy clients usually are: every third interval. The pong is answered by
// the client's WebSocket itself (RFC 6455 §5.5.2), not by the protocol
// library, so a live client of any library answers it.
//
// It allocates nothing: the timer is reset, not replaced, and the ping goes
// into the pooled outbound buffer.
func (c *conn) wsKeepAlive() {
	c.mu.Lock()
	if c.state != stateWS {
		c.mu.Unlock()
		return
	}
	if c.kaPinged && !c.heard && !c.blocked {
		c.h.stats.KeepAliveClosed.Add(1)
		c.closeWSLocked(keepAliveCloseCode, keepAliveCloseReason, false)
		c.mu.Unlock()
		c.flush()
		return
	}
	legacy := c.proto != wire.ProtoTransportWS
	quiet := !c.heard && c.kaQuiet
	ping := ((!c.wrote && !legacy) || quiet) && !c.blocked
	c.kaQuiet = !c.heard
	c.wrote, c.heard, c.kaPinged = false, false, false
	need := 0
	if legacy {
		need += len(legacyKeepAlive)
	}
	if ping {
		need += 2
	}
	if need > 0 {
		c.outLocked()
		if !c.roomLocked(need) { // closed as slow
			c.mu.Unlock()
			c.flush()
			return
		}
		if legacy {
			c.out = wire.AppendTextFrame(c.out, legacyKeepAlive)
		}
		if ping {
			c.out = wire.AppendFrameHeader(c.out, ws.OpPing, 0)
			c.kaPinged = true
			c.h.stats.KeepAlivePings.Add(1)
		}
	}
	c.kaTimer.Reset(c.h.opts.KeepAlive)
	c.mu.Unlock()
	if need > 0 {
		c.flush()
	}
}

// goAway closes the client for a server shutdown: 1001 so it reconnects
// elsewhere.
func (c *conn) goAway() {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	switch st {
	case stateWS:
		c.closeWS(1001, "server shutting down", true)
	case stateSSE:
		c.mu.Lock()
		end := c.appendSSEEnd(nil)
		c.mu.Unlock()
		c.writeIn(stateSSE, end, true)
	default:
		c.nc.Close()
	}
}

// findSubLocked returns the index of subscription id in c.subs, or -1.
// Connections hold few subscriptions, so a slice beats a map in memory.
// c.mu must be held.
func (c *conn) findSubLocked(id string) int {
	for i, s := range c.subs {
		if s.id == id {
			return i
		}
	}
	return -1
}

// subsShrinkMin is the smallest capacity at which c.subs is reallocated
// once it holds less than a quarter of it. Lower than shard.ShrinkMin
// because it is per connection.
const subsShrinkMin = 64

// removeSubLocked removes c.subs[i]; the slice is dropped when empty and
// reallocated when it holds less than a quarter of a large capacity. c.mu
// must be held.
func (c *conn) removeSubLocked(i int) {
	last := len(c.subs) - 1
	c.subs[i] = c.subs[last]
	c.subs[last] = nil
	c.subs = c.subs[:last]
	switch {
	case len(c.subs) == 0:
		c.subs = nil
	case shard.ShouldShrink(len(c.subs), cap(c.subs), subsShrinkMin):
		c.subs = append([]*sub(nil), c.subs...)
	}
}
