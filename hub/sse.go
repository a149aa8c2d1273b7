package hub

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/wire"
)

const sseHead = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream; charset=utf-8\r\n" +
	"Cache-Control: no-cache\r\n" +
	"X-Accel-Buffering: no\r\n"

// sseHead11 starts the head for HTTP/1.1 clients, sseHead10 for HTTP/1.0
// ones, which must not get a chunked body (RFC 9112 §6.1): theirs ends when
// the connection closes. Both say "Connection: close": the connection is
// closed when the stream ends, and a client told keep-alive would reuse it
// for its next request, which then fails (RFC 9112 §9.6). The CORS header
// lines (conn.cors) and the empty line that ends the head follow them.
const (
	sseHead11 = sseHead + "Connection: close\r\nTransfer-Encoding: chunked\r\n"
	sseHead10 = sseHead + "Connection: close\r\n"
)

// startSSE serves one subscription as text/event-stream (GraphQL over SSE,
// distinct connections mode). The stream lives on the same event loop and
// outbound bound as WebSockets; it ends with the topic's completion or when
// the client closes.
func (c *conn) startSSE(req *http.Request, body []byte) {
	cred, ok := c.sseCredential(req)
	if !ok {
		return
	}
	var greq graphql.Request
	switch req.Method {
	case http.MethodPost:
		p := parserPool.Get().(*wire.Parser)
		var m wire.ClientMessage
		err := p.Parse(wire.ProtoSSE, body, &m)
		if err == nil {
			greq = graphql.Request{Query: string(m.Query), OperationName: string(m.OperationName)}
			if len(m.Variables) > 0 {
				greq.Variables = append([]byte(nil), m.Variables...)
			}
		}
		parserPool.Put(p)
		if err != nil {
			c.httpError(http.StatusBadRequest, "request body must be a JSON object {query, variables, operationName}: "+protocolReason(err))
			return
		}
	case http.MethodGet:
		q := req.URL.Query()
		greq = graphql.Request{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" && v != "null" {
			if !json.Valid([]byte(v)) || v[0] != '{' {
				c.httpError(http.StatusBadRequest, "variables must be a JSON object")
				return
			}
			greq.Variables = []byte(v)
		}
	default:
		c.httpResponse(http.StatusMethodNotAllowed, "text/plain; charset=utf-8",
			[]byte("use GET or POST with Accept: text/event-stream\n"), "Allow: GET, POST\r\n")
		return
	}
	if greq.Query == "" {
		c.httpError(http.StatusBadRequest, "missing query")
		return
	}
	if c.atConnectionLimit() {
		return
	}
	c.proto = wire.ProtoSSE
	c.mu.Lock()
	if c.state != stateHTTP {
		c.mu.Unlock() // answered meanwhile (408)
		return
	}
	c.stopRequestTimerLocked()
	c.state = stateSSE
	c.sseBare = !req.ProtoAtLeast(1, 1)
	c.outLocked()
	if c.sseBare {
		c.out = append(c.out, sseHead10...)
	} else {
		c.out = append(c.out, sseHead11...)
	}
	c.out = c.h.opts.origins.appendHeaders(c.out, c.cors)
	c.out = append(c.out, "\r\n"...)
	c.mu.Unlock()

	op, errs := c.h.cache.Compile(greq)
	if len(errs) > 0 {
		c.endSSEWithErrors(errs)
		return
	}
	c.mu.Lock()
	c.setCredentialLocked(cred)
	c.mu.Unlock()
	if ok, errs := c.authorize(op.Topic); !ok {
		if len(errs) > 0 {
			c.endSSEWithErrors(errs)
		}
		return
	}
	s := &sub{
		c:       c,
		id:      "sse",
		subject: c.h.subjects.Subject(op.Topic),
		key:     groupKey{plan: op.Plan, proto: wire.ProtoSSE},
	}
	c.mu.Lock()
	c.subs = []*sub{s}
	c.kaTimer = time.AfterFunc(c.h.opts.KeepAlive, c.sseKeepAlive)
	c.mu.Unlock()
	c.h.subscribe(s)
	c.flush()
}

// endSSEWithErrors answers a request error on the accepted stream: as
// graphql-sse does, a `next` with the errors, then `complete`.
func (c *conn) endSSEWithErrors(errs graphql.Errors) {
	c.mu.Lock()
	c.outLocked()
	c.endSSELocked(errs)
	c.mu.Unlock()
	c.flush()
}

// endSSELocked queues the end of an SSE stream: a `next` with errs unless
// they are nil, `complete`, the end of the body; the connection closes once
// it is written. c.mu must be held and c.out be ready (outLocked).
func (c *conn) endSSELocked(errs graphql.Errors) {
	if errs != nil {
		c.out = c.appendSSEEvent(c.out, "next", appendErrorsResult(nil, errs))
	}
	c.out = c.appendSSEEvent(c.out, "complete", nil)
	c.out = c.appendSSEEnd(c.out)
	c.state = stateClosing
	c.closeMode = closeNow
}

// sseCredential authenticates an SSE request by its Authorization: Bearer
// header or else its token query parameter (for EventSource, which cannot
// set headers). A missing or refused token is answered with 401 and
// WWW-Authenticate before any stream starts (ok false). The credential is
// nil without authentication.
func (c *conn) sseCredential(req *http.Request) (cred *credential, ok bool) {
	h := c.h
	if h.opts.verifier == nil {
		return nil, true
	}
	tok, found := bearerToken(req.Header.Get("Authorization"))
	if !found {
		tok = req.URL.Query().Get("token")
	}
	cred = h.verifyCredential(tok)
	if cred.err == nil {
		return cred, true
	}
	h.stats.AuthFailures.Add(1)
	reason := auth.Reason(cred.err)
	h.log.Debug("client refused", "reason", reason, "remote", c.nc.RemoteAddr())
	// RFC 6750 §3: no error code when the request had no token at all.
	challenge := `WWW-Authenticate: Bearer realm="subhub"`
	if tok != "" {
		challenge += `, error="invalid_token", error_description="` + reason + `"`
	}
	c.httpResponse(http.StatusUnauthorized, "text/plain; charset=utf-8", []byte(reason+"\n"), challenge+"\r\n")
	return nil, false
}

// sseKeepAlive writes a comment line so proxies keep the stream open.
func (c *conn) sseKeepAlive() {
	c.mu.Lock()
	if c.state != stateSSE {
		c.mu.Unlock()
		return
	}
	c.outLocked()
	if !c.roomLocked(32) {
		c.mu.Unlock()
		c.flush()
		return
	}
	c.out = c.appendSSEComment(c.out)
	c.kaTimer.Reset(c.h.opts.KeepAlive)
	c.mu.Unlock()
	c.flush()
}

// appendSSEComment appends a keep-alive comment. c.mu must be held.
func (c *conn) appendSSEComment(dst []byte) []byte {
	if c.sseBare {
		return wire.AppendSSEComment(dst, "keep-alive")
	}
	dst, start := beginChunk(dst)
	return endChunk(wire.AppendSSEComment(dst, "keep-alive"), start)
}
