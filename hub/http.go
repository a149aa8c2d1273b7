package hub

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/subhub/subhub/wire"
)

// handleHTTP reads one HTTP request (head and Content-Length body) from the
// start of b and answers it. ok is false while the request is incomplete.
// Plain HTTP responses close the connection (no keep-alive).
func (c *conn) handleHTTP(b []byte) (int, bool) {
	// Empty lines before the request line are ignored (RFC 9112 §2.2).
	skip := 0
	for skip < len(b) {
		if b[skip] == '\n' {
			skip++
		} else if skip+1 < len(b) && b[skip] == '\r' && b[skip+1] == '\n' {
			skip += 2
		} else {
			break
		}
	}
	if skip > 0 {
		return skip, true
	}
	end := headerEnd(b)
	if end < 0 || end > maxHeaderBytes {
		// A head that arrived whole in one read is held to the bound too.
		if end > maxHeaderBytes || len(b) > maxHeaderBytes {
			c.httpError(http.StatusRequestHeaderFieldsTooLarge, "request head larger than 16 KiB")
			return len(b), true
		}
		return 0, false
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b[:end])))
	if err != nil {
		c.httpError(http.StatusBadRequest, "malformed HTTP request")
		return len(b), true
	}
	// Answers from the endpoint, errors included, carry the CORS headers
	// for the request's Origin, so that a page can read why it failed.
	var cors *string
	originOK := true
	if req.URL.Path == c.h.opts.Path {
		cors, originOK = c.h.opts.origins.match(req.Header)
	}
	if cors != nil || req.Method == http.MethodHead {
		c.mu.Lock()
		c.cors = cors
		c.headReq = req.Method == http.MethodHead
		c.mu.Unlock()
	}
	if len(req.TransferEncoding) > 0 {
		c.httpError(http.StatusLengthRequired, "chunked request bodies are not supported; send Content-Length")
		return len(b), true
	}
	n := 0
	if req.ContentLength > 0 {
		if req.ContentLength > int64(c.h.opts.MaxMessageBytes) {
			c.httpError(http.StatusRequestEntityTooLarge, "request body larger than "+strconv.Itoa(c.h.opts.MaxMessageBytes)+" bytes")
			return len(b), true
		}
		n = int(req.ContentLength)
		if len(b) < end+n {
			// curl and others wait for this before sending a body > 1 KiB;
			// HTTP/1.0 has no 100 and its Expect is ignored (RFC 9110 §10.1.1).
			if !c.continued && req.ProtoAtLeast(1, 1) && strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
				c.continued = true
				c.writeIn(stateHTTP, []byte("HTTP/1.1 100 Continue\r\n\r\n"), false)
			}
			return 0, false
		}
	}
	c.route(req, b[:end], b[end:end+n], originOK)
	return end + n, true
}

// route answers one request. originOK is false for a request to the
// endpoint whose Origin Options.AllowedOrigins does not allow (see
// originPolicy.match, done once by handleHTTP).
func (c *conn) route(req *http.Request, head, body []byte, originOK bool) {
	h := c.h
	switch req.URL.Path {
	case h.opts.Path:
		if !originOK {
			c.refuseOrigin(req)
			return
		}
		switch {
		case req.Method == http.MethodOptions:
			c.serveOptions(req)
		case isWebSocketUpgrade(req):
			c.upgrade(req, head)
		case acceptsEventStream(req):
			c.startSSE(req, body)
		case req.Method != http.MethodGet && req.Method != http.MethodPost && req.Method != http.MethodHead:
			// graphql-sse's single connection mode reserves a stream with
			// PUT (and DELETE ends one): say what is served instead.
			c.httpResponse(http.StatusMethodNotAllowed, "text/plain; charset=utf-8",
				[]byte("subhub serves GraphQL over SSE in distinct connections mode only (GET or POST with Accept: text/event-stream; graphql-sse's default), and WebSocket; single connection mode is not supported\n"),
				"Allow: GET, POST, OPTIONS\r\n")
		default:
			c.httpResponse(http.StatusUpgradeRequired, "text/plain; charset=utf-8",
				[]byte("subhub serves GraphQL subscriptions: connect with WebSocket (subprotocol graphql-transport-ws or graphql-ws) or request Accept: text/event-stream\n"),
				"Upgrade: websocket\r\n")
		}
	case "/healthz":
		if h.Healthy() {
			c.httpResponse(http.StatusOK, "text/plain; charset=utf-8", []byte("ok\n"), "")
		} else {
			c.httpResponse(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("NATS not connected\n"), "")
		}
	case "/metrics":
		var buf bytes.Buffer
		h.syncDrops()
		h.stats.writePrometheus(&buf)
		c.httpResponse(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", buf.Bytes(), "")
	case "/publish":
		c.servePublish(req, body)
	default:
		c.httpError(http.StatusNotFound, "not found; GraphQL subscriptions are served at "+h.opts.Path)
	}
}

func isWebSocketUpgrade(req *http.Request) bool {
	return strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
}

// acceptsEventStream reports whether Accept names text/event-stream (media
// types are case-insensitive) without refusing it with q=0 (RFC 9110
// §12.5.1). Wildcards do not count: a client asks for a stream on purpose.
func acceptsEventStream(req *http.Request) bool {
	for _, v := range req.Header.Values("Accept") {
		for _, r := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(r, ";")
			if !strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				continue
			}
			refused := false
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					refused = err == nil && q == 0
				}
			}
			if !refused {
				return true
			}
		}
	}
	return false
}

// upgrade completes the WebSocket handshake (github.com/gobwas/ws) and picks
// the first subprotocol the client offers that subhub speaks. A client that
// offers none gets the handshake and then close 4406, as graphql-ws does.
func (c *conn) upgrade(req *http.Request, head []byte) {
	h := c.h
	if c.atConnectionLimit() {
		return
	}
	// gobwas/ws takes any key of the right length; RFC 6455 §4.2.1 wants
	// exactly one, the base64 of 16 bytes.
	if keys := req.Header.Values("Sec-WebSocket-Key"); len(keys) != 1 || !validWebSocketKey(keys[0]) {
		c.httpError(http.StatusBadRequest, "WebSocket handshake failed: Sec-WebSocket-Key must be one base64-encoded 16-byte value")
		return
	}
	var proto wire.Protocol
	u := ws.Upgrader{
		Protocol: func(p []byte) bool {
			switch string(p) {
			case wire.SubprotocolTransportWS:
				proto = wire.ProtoTransportWS
			case wire.SubprotocolLegacy:
				proto = wire.ProtoLegacy
			default:
				return false
			}
			return true
		},
	}
	// Verified now so that the header need not be kept: a connection_init
	// without a token of its own uses the result.
	c.upgradeCredential(req)
	var resp bytes.Buffer
	if _, err := u.Upgrade(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(head), &resp}); err != nil {
		if resp.Len() == 0 {
			c.httpError(http.StatusBadRequest, "WebSocket handshake failed: "+err.Error())
			return
		}
		c.writeIn(stateHTTP, resp.Bytes(), true)
		return
	}
	c.mu.Lock()
	if c.state != stateHTTP {
		c.mu.Unlock() // answered meanwhile (408)
		return
	}
	c.proto, c.upgraded = proto, true
	c.stopRequestTimerLocked()
	c.state = stateWS
	c.outLocked()
	c.out = append(c.out, resp.Bytes()...)
	if proto == wire.ProtoTransportWS {
		c.initTimer = time.AfterFunc(h.opts.InitTimeout, c.onInitTimeout)
	}
	c.mu.Unlock()
	if proto == 0 {
		c.closeWS(4406, "Subprotocol not acceptable", true)
		return
	}
	c.flush()
}

func validWebSocketKey(k string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
	return err == nil && len(b) == 16
}

// httpResponse writes a complete response and closes the connection. A
// 204 has neither content nor Content-Type and Content-Length (RFC 9110
// §8.6). The request's CORS headers (conn.cors) are added.
func (c *conn) httpResponse(status int, contentType string, body []byte, extraHeaders string) {
	var b []byte
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	if status != http.StatusNoContent {
		b = append(b, "\r\nContent-Type: "...)
		b = append(b, contentType...)
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
	}
	b = append(b, "\r\nConnection: close\r\n"...)
	b = append(b, extraHeaders...)
	c.mu.Lock()
	b = c.h.opts.origins.appendHeaders(b, c.cors)
	b = append(b, "\r\n"...)
	if !c.headReq {
		// A HEAD answer has the headers of the GET answer, no content
		// (RFC 9110 §9.3.2).
		b = append(b, body...)
	}
	c.mu.Unlock()
	c.writeIn(stateHTTP, b, true)
}

// atConnectionLimit answers 503 and returns true when accepting this
// connection as a WebSocket or SSE stream would exceed MaxConnections.
// Only streams count: sockets that have not sent their request yet and
// plain HTTP requests (/healthz, /metrics, /publish) do not take a place.
// An admitted connection holds its place until it closes.
func (c *conn) atConnectionLimit() bool {
	max := c.h.opts.MaxConnections
	if max <= 0 {
		return false
	}
	if c.h.streams.Add(1) > int64(max) {
		c.h.streams.Add(-1)
		c.httpError(http.StatusServiceUnavailable, "connection limit reached")
		return true
	}
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		c.h.streams.Add(-1)
		return true
	}
	c.stream = true
	c.mu.Unlock()
	return false
}

// httpError answers with status and a one-line plain-text reason.
func (c *conn) httpError(status int, reason string) {
	c.httpResponse(status, "text/plain; charset=utf-8", []byte(reason+"\n"), "")
}
