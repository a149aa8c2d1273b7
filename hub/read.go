package hub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/netpoll"
	"github.com/gobwas/ws"

	"github.com/subhub/subhub/wire"
)

type connKey struct{}

// maxHeaderBytes bounds an HTTP request head.
const maxHeaderBytes = 16 << 10

// onPrepare runs once per accepted connection, before any event.
func (h *Hub) onPrepare(nc netpoll.Connection) context.Context {
	shrinkBarrier(nc)
	c := &conn{h: h, nc: nc, state: stateHTTP}
	if fc, ok := nc.(interface{ Fd() int }); ok {
		c.fd = int32(fc.Fd())
	}
	if !h.addConn(c) {
		nc.Close()
		return context.Background()
	}
	h.stats.Connections.Add(1)
	_ = nc.AddCloseCallback(c.onClosed)
	c.timer = time.AfterFunc(h.opts.RequestTimeout, c.onRequestTimeout) // stopped by stopRequestTimerLocked
	return context.WithValue(context.Background(), connKey{}, c)
}

// onClosed runs (once) when netpoll closes the connection, before it closes
// the fd: no raw write may happen after it.
func (c *conn) onClosed(netpoll.Connection) error {
	c.wmu.Lock()
	c.fdClosed = true
	c.wmu.Unlock()

	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return nil
	}
	c.state = stateClosed
	if c.stream {
		c.stream = false
		c.h.streams.Add(-1)
	}
	subs := c.subs
	c.subs = nil
	releaseBuf(c.out, c.outBox) // the writer, if any, holds its own buffer
	c.out, c.outBox = nil, nil
	for _, t := range [...]*time.Timer{c.timer, c.initTimer, c.kaTimer} {
		if t != nil {
			t.Stop()
		}
	}
	for _, s := range subs {
		s.done = true
	}
	c.mu.Unlock()

	for _, s := range subs {
		c.h.unsubscribe(s)
	}
	c.h.removeConn(c)
	c.h.stats.Connections.Add(-1)
	return nil
}

// onRequestTimeout closes a connection that has not completed an HTTP
// request in time (408), so silent sockets cannot pile up.
func (c *conn) onRequestTimeout() {
	// httpError writes only while the connection still waits for its
	// request, so a request that completes at this moment and its answer
	// cannot both go out.
	c.httpError(http.StatusRequestTimeout, "no complete HTTP request within "+c.h.opts.RequestTimeout.String())
}

// stopRequestTimerLocked stops the request timer once the request was
// served and the connection lives on (WebSocket, SSE). c.mu must be held.
func (c *conn) stopRequestTimerLocked() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// onRequest runs on netpoll's worker pool when a connection has input. It
// consumes everything available: complete frames are handled, a partial
// frame is kept in c.in until the rest arrives. No goroutine stays behind.
func (h *Hub) onRequest(ctx context.Context, nc netpoll.Connection) error {
	c, _ := ctx.Value(connKey{}).(*conn)
	r := nc.Reader()
	n := r.Len()
	if c == nil {
		_ = r.Skip(n)
		return nc.Close()
	}
	for n > 0 {
		if n > c.h.maxInbound() || c.discard {
			// netpoll reads whatever arrives into its buffer while we
			// handle the last piece: a client that sends faster than it is
			// served (a flood of pings) would grow it without bound.
			_ = r.Skip(n)
			_ = r.Release()
			c.dropFlooder()
			return nil
		}
		// A piece at a time: a large backlog is never copied out whole,
		// and the bound above is checked again after each piece.
		b, err := r.Next(min(n, readPiece))
		if err != nil {
			return nc.Close()
		}
		data := b
		if len(c.in) > 0 {
			c.in = append(c.in, b...)
			data = c.in
		}
		used := c.process(data)
		rest := data[used:]
		switch {
		case len(rest) == 0:
			c.in = nil
		case len(c.in) > 0:
			c.in = c.in[:copy(c.in, rest)]
		default:
			c.in = append(make([]byte, 0, len(rest)+512), rest...)
		}
		_ = r.Release()
		n = r.Len()
	}
	return nil
}

// readPiece is how much of a connection's input onRequest handles before it
// looks at the backlog again.
const readPiece = 64 << 10

// maxInbound is the input a connection may have waiting unhandled: a few
// of its largest messages, at least 1 MiB. A client never needs more
// in flight; one that has more sends faster than it is served.
func (h *Hub) maxInbound() int {
	return max(1<<20, 4*h.opts.MaxMessageBytes)
}

// dropFlooder drops a client whose unhandled input passed maxInbound: 1008
// for a WebSocket, then the socket is closed; its further input is skipped.
func (c *conn) dropFlooder() {
	if c.discard {
		return
	}
	c.discard = true
	c.h.stats.FloodClosed.Add(1)
	c.h.log.Debug("closing client that sends faster than it is served", "remote", c.nc.RemoteAddr())
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st == stateWS && c.upgraded {
		c.closeWS(1008, "client sends faster than it is served", false)
		return
	}
	c.nc.Close()
}

// process handles as much of data as is complete and returns the number of
// bytes consumed.
func (c *conn) process(data []byte) int {
	used := 0
	for used < len(data) {
		c.mu.Lock()
		st := c.state
		c.heard = true // the peer is alive (wsKeepAlive)
		c.mu.Unlock()
		switch st {
		case stateHTTP:
			n, ok := c.handleHTTP(data[used:])
			if !ok {
				return used
			}
			used += n
		case stateWS, stateClosing:
			if !c.upgraded {
				return len(data)
			}
			n, ok := c.readFrame(data[used:])
			if !ok {
				return used
			}
			used += n
		default: // SSE clients send nothing more; closed connections are discarded
			return len(data)
		}
	}
	return used
}

// readFrame handles one complete frame at the start of b. ok is false when b
// does not hold a whole frame yet.
func (c *conn) readFrame(b []byte) (int, bool) {
	hdr, hn, ok, err := wire.ParseFrameHeader(b)
	if err != nil {
		c.failWS(1002, "protocol error: "+err.Error())
		return len(b), true
	}
	if !ok {
		return 0, false
	}
	max := int64(c.h.opts.MaxMessageBytes)
	// Control frames between fragments are not part of the message (RFC
	// 6455 §5.4): only continuations add to it.
	if hdr.Length > max || hdr.OpCode == ws.OpContinuation && int64(len(c.msg))+hdr.Length > max {
		c.failWS(1009, "message too big")
		return len(b), true
	}
	if !hdr.Masked {
		c.failWS(1002, "protocol error: client frames must be masked")
		return len(b), true
	}
	total := hn + int(hdr.Length)
	if len(b) < total {
		return 0, false
	}
	payload := b[hn:total]
	wire.Unmask(payload, hdr.Mask, 0)

	c.mu.Lock()
	closing := c.state == stateClosing
	c.mu.Unlock()

	switch hdr.OpCode {
	case ws.OpClose:
		c.onCloseFrame(payload, closing)
	case ws.OpPing:
		c.queueControl(ws.OpPong, payload)
	case ws.OpPong:
	case ws.OpText, ws.OpBinary:
		if c.inFrag {
			c.failWS(1002, "protocol error: new message inside a fragmented one")
			break
		}
		if !hdr.Fin {
			c.inFrag, c.fragOp = true, hdr.OpCode
			c.msg = append(c.msg[:0], payload...)
			break
		}
		if !closing {
			c.onMessage(hdr.OpCode, payload)
		}
	case ws.OpContinuation:
		if !c.inFrag {
			c.failWS(1002, "protocol error: continuation without a message")
			break
		}
		c.msg = append(c.msg, payload...)
		if hdr.Fin {
			msg := c.msg
			c.inFrag, c.msg = false, nil
			if !closing {
				c.onMessage(c.fragOp, msg)
			}
		}
	default:
		c.failWS(1002, "protocol error: unknown opcode")
	}
	return total, true
}

// onCloseFrame answers the peer's close frame (echoing its code) or, if we
// started the handshake, finishes it.
func (c *conn) onCloseFrame(payload []byte, weInitiated bool) {
	if weInitiated {
		c.nc.Close()
		return
	}
	code, reason := uint16(1000), ""
	if len(payload) > 0 {
		cc, _, err := wire.ParseCloseFrameData(payload)
		switch {
		case errors.Is(err, wire.ErrCloseReasonUTF8):
			code, reason = 1007, "invalid UTF-8 in close reason"
		case err != nil:
			code, reason = 1002, "invalid close frame"
		default:
			code = cc
		}
	}
	c.closeWS(code, reason, false)
}

// onMessage dispatches one complete client message.
func (c *conn) onMessage(op ws.OpCode, msg []byte) {
	if op == ws.OpText && !utf8.Valid(msg) {
		c.failWS(1007, "invalid UTF-8 in text message")
		return
	}
	switch c.proto {
	case wire.ProtoTransportWS:
		c.onTransportWS(msg)
	case wire.ProtoLegacy:
		c.onLegacy(msg)
	}
}

// failWS closes the connection with a protocol-level close code.
func (c *conn) failWS(code uint16, reason string) {
	c.closeWS(code, reason, true)
}

// headerEnd returns the length of the HTTP head at the start of b, up to
// and including its first empty line, or -1. Lines may end in a bare LF
// (RFC 9112 §2.2), as net/http and gobwas/ws, which parse the head, read
// them: the head and the body start where both parsers see them.
func headerEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}
