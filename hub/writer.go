package hub

import (
	"errors"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
	"github.com/subhub/subhub/wire"
)

// closeMode says what happens once a connection's queue has drained after
// a close frame was queued.
const (
	closeNone     uint8 = iota
	closeWaitPeer       // we initiated: wait (bounded) for the peer's close frame
	closeNow            // close the socket as soon as the queue is written
)

// closeWait bounds how long we wait for the peer's answer to our close frame.
const closeWait = time.Second

// maxKeptBuffer is the largest outbound buffer returned to the pool after
// a flush; bigger ones (after a burst) are left to the GC.
const maxKeptBuffer = 64 << 10

// outPool holds outbound buffers. A connection takes one when something is
// queued and gives it back once it is written, so idle connections hold no
// buffer. Boxed as *[]byte so that Get and Put allocate nothing.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, outBufSize); return &b }}

// outBufSize is the capacity of a new outbound buffer: one frame of a
// typical event. Every connection of a fan-out holds a buffer from the
// moment its frame is queued until it is written, so one message to 10,000
// connections takes 10,000 buffers at once; at 2 KiB that was 20 MiB of new
// heap on the first large fan-out (and after every GC that emptied the
// pool), enough to start GC cycles during the fan-out. A larger frame grows
// its buffer once, and the grown buffer is what goes back to the pool.
const outBufSize = 512

// outLocked makes sure c.out is backed by a pooled buffer. c.mu must be held.
func (c *conn) outLocked() {
	if c.outBox == nil {
		c.outBox = outPool.Get().(*[]byte)
		c.out = (*c.outBox)[:0]
	}
}

// releaseBuf returns a written buffer to the pool.
func releaseBuf(buf []byte, box *[]byte) {
	if box != nil && cap(buf) <= maxKeptBuffer {
		*box = buf[:0]
		outPool.Put(box)
	}
}

var errFDClosed = errors.New("hub: connection closed")

// scratch buffers for control messages (rare; not on the fan-out path)
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// enqueueDelivery appends one delivery frame for s and reports whether c
// just became dirty (the caller must then flush it later). Called by fan-out
// loops under the registry's read lock: it never writes to the socket.
func (c *conn) enqueueDelivery(s *sub, payload []byte) bool {
	c.mu.Lock()
	if c.state != stateWS && c.state != stateSSE || s.done {
		c.mu.Unlock()
		return false
	}
	c.outLocked()
	if !c.roomLocked(len(s.prefix) + len(payload)) {
		// closed as slow
	} else if c.state == stateSSE {
		c.out = c.appendSSEEvent(c.out, "next", payload)
	} else {
		c.out = wire.AppendWSDelivery(c.out, s.prefix, payload)
	}
	became := !c.dirty
	c.dirty = true
	c.wrote = true
	c.mu.Unlock()
	return became
}

// roomLocked reports whether n more bytes fit the connection's outbound
// bound. If not, the client is closed as slow (overflowLocked): everything
// queued for it counts, replies to its own pings and messages included, so
// a client that sends without reading cannot grow the queue either.
// c.mu must be held.
func (c *conn) roomLocked(n int) bool {
	if len(c.out)+n+32 > c.h.opts.MaxOutboundBytes {
		c.overflowLocked()
		return false
	}
	return true
}

// overflowLocked handles a client that fell more than MaxOutboundBytes
// behind: its queued frames are dropped and replaced by a close frame (1008),
// and the socket is closed once that is written (or WriteTimeout passes).
// c.mu must be held.
func (c *conn) overflowLocked() {
	c.h.stats.SlowClosed.Add(1)
	c.h.log.Debug("closing slow client", "remote", c.nc.RemoteAddr())
	c.out = c.out[:0]
	if c.state == stateWS {
		c.out = wire.AppendCloseFrame(c.out, 1008, "slow consumer: outbound queue limit exceeded")
	}
	c.state = stateClosing
	c.closeMode = closeNow
	if c.blocked {
		// Its socket is full: the close frame could not leave anyway. Close
		// now (not here: we hold c.mu and maybe a registry lock).
		go c.nc.Close()
	}
}

// queueText frames body as a text message and writes it.
func (c *conn) queueText(body []byte) {
	c.mu.Lock()
	if c.state != stateWS {
		c.mu.Unlock()
		return
	}
	c.outLocked()
	if c.roomLocked(len(body)) {
		c.out = wire.AppendTextFrame(c.out, body)
		c.wrote = true
	}
	c.mu.Unlock()
	c.flush()
}

// queueControl queues a WebSocket control frame (ping/pong) and writes it.
func (c *conn) queueControl(op ws.OpCode, payload []byte) {
	c.mu.Lock()
	if c.state != stateWS {
		c.mu.Unlock()
		return
	}
	c.outLocked()
	if c.roomLocked(len(payload)) {
		c.out = wire.AppendFrameHeader(c.out, op, len(payload))
		c.out = append(c.out, payload...)
	}
	c.mu.Unlock()
	c.flush()
}

// closeWS starts the closing handshake with code and reason. With waitPeer
// the socket stays open (at most closeWait) for the peer's close frame;
// otherwise it is closed as soon as the close frame is written.
func (c *conn) closeWS(code uint16, reason string, waitPeer bool) {
	c.mu.Lock()
	c.closeWSLocked(code, reason, waitPeer)
	c.mu.Unlock()
	c.flush()
}

// closeWSLocked queues the close frame for closeWS if the connection is
// open. c.mu must be held; the caller flushes after releasing it.
func (c *conn) closeWSLocked(code uint16, reason string, waitPeer bool) {
	if c.state != stateWS {
		return
	}
	c.outLocked()
	c.out = wire.AppendCloseFrame(c.out, code, reason)
	c.state = stateClosing
	if waitPeer {
		c.closeMode = closeWaitPeer
	} else {
		c.closeMode = closeNow
	}
}

// writeIn queues pre-framed bytes (HTTP responses, the end of an SSE
// stream) if the connection is still in state want, and optionally closes
// the socket after they are written. The check and the queueing are one
// step, so of two answers that race for one request (a request completing
// as its timer fires: 408) only the first is written.
func (c *conn) writeIn(want connState, b []byte, thenClose bool) {
	c.mu.Lock()
	if c.state != want {
		c.mu.Unlock()
		return
	}
	c.outLocked()
	c.out = append(c.out, b...)
	if thenClose {
		c.state = stateClosing
		c.closeMode = closeNow
	}
	c.mu.Unlock()
	c.flush()
}

// flush writes everything queued unless another writer owns the socket (it
// will pick the new bytes up). Never call it with a registry lock held.
func (c *conn) flush() {
	c.mu.Lock()
	c.dirty = false
	if c.writing || c.state == stateClosed || (len(c.out) == 0 && c.closeMode == closeNone) {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.writeLoopLocked()
}

// writeLoopLocked writes c.out until it is empty. c.mu must be held and
// c.writing set; it returns with c.mu released. A full socket hands the rest
// to slowWrite, which keeps c.writing until the queue is empty.
func (c *conn) writeLoopLocked() {
	for {
		if len(c.out) == 0 || c.state == stateClosed {
			c.writing = false
			mode := c.closeMode
			if c.state == stateClosed {
				mode = closeNone
			}
			if mode == closeWaitPeer {
				c.closeMode = closeNone
				c.timer = time.AfterFunc(closeWait, func() { c.nc.Close() })
			}
			c.mu.Unlock()
			if mode == closeNow {
				c.nc.Close()
			}
			return
		}
		buf, box := c.out, c.outBox
		c.out, c.outBox = nil, nil
		c.mu.Unlock()

		n, err := c.rawWrite(buf)
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			c.nc.Close()
			return
		}
		if n < len(buf) {
			go c.slowWrite(buf, box, n)
			return
		}
		releaseBuf(buf, box)
		c.mu.Lock()
	}
}

// rawWrite is one non-blocking write of b (everything queued, many frames)
// to the socket, as a raw system call (internal/nbio: with ~20,000 writes/s
// the scheduler's syscall bookkeeping kept sysmon polling; its share of the
// hub's CPU samples fell from 10 % to 6 % in the tail scenario). wmu keeps
// it from racing netpoll closing the fd.
func (c *conn) rawWrite(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.fdClosed {
		return 0, errFDClosed
	}
	return nbio.Write(int(c.fd), b)
}

// bufferWrite copies b into netpoll's output buffer for its Flush. wmu
// keeps it from racing netpoll's close, which frees that buffer right after
// onClosed (a copy into a freed buffer dereferences nil); closing the client
// as slow while its writer waits on a full socket made that race.
func (c *conn) bufferWrite(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.fdClosed {
		return errFDClosed
	}
	_, err := c.nc.Writer().WriteBinary(b)
	return err
}

// slowWrite runs only while a client's socket is full: netpoll parks this
// goroutine until the socket is writable or WriteTimeout passes (then the
// client is closed). Frames queued meanwhile are bounded by
// MaxOutboundBytes.
func (c *conn) slowWrite(buf []byte, box *[]byte, off int) {
	c.mu.Lock()
	c.blocked = true
	c.mu.Unlock()
	for {
		err := c.bufferWrite(buf[off:])
		if err == nil {
			// Safe against a concurrent close: netpoll's close waits for
			// a running Flush, and a Flush after it fails.
			err = c.nc.Writer().Flush()
		}
		c.mu.Lock()
		if err != nil {
			c.writing, c.blocked = false, false
			if c.state != stateClosed && c.state != stateClosing {
				c.h.stats.SlowClosed.Add(1)
			}
			c.mu.Unlock()
			c.nc.Close()
			return
		}
		releaseBuf(buf, box)
		if len(c.out) == 0 || c.state == stateClosed {
			c.blocked = false
			c.writeLoopLocked() // handles close modes and clears writing
			return
		}
		buf, box, off = c.out, c.outBox, 0
		c.out, c.outBox = nil, nil
		c.mu.Unlock()
	}
}

// appendSSEEvent appends one SSE event as one HTTP/1.1 chunk, or bare for
// an HTTP/1.0 client (whose stream ends when the connection does). c.mu
// must be held.
func (c *conn) appendSSEEvent(dst []byte, event string, data []byte) []byte {
	if c.sseBare {
		return wire.AppendSSEEvent(dst, event, data)
	}
	dst, start := beginChunk(dst)
	return endChunk(wire.AppendSSEEvent(dst, event, data), start)
}

// appendSSEEnd appends the end of the chunked body (nothing for a bare
// stream). c.mu must be held.
func (c *conn) appendSSEEnd(dst []byte) []byte {
	if c.sseBare {
		return dst
	}
	return append(dst, "0\r\n\r\n"...)
}

// beginChunk reserves an HTTP/1.1 chunk header (fixed-width hex size,
// patched by endChunk) and returns the index of the chunk's start.
func beginChunk(dst []byte) ([]byte, int) {
	return append(dst, "00000000\r\n"...), len(dst)
}

// endChunk patches the size of the chunk begun at start and terminates it.
func endChunk(dst []byte, start int) []byte {
	n := len(dst) - start - 10
	const hex = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		dst[start+i] = hex[n&0xf]
		n >>= 4
	}
	return append(dst, '\r', '\n')
}
