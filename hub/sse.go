package hub

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/wire"
)

const sseHead = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream; charset=utf-8\r\n" +
	"Cache-Control: no-cache\r\n" +
	"X-Accel-Buffering: no\r\n"

// sseHead11 ends the head for HTTP/1.1 clients, sseHead10 for HTTP/1.0
// ones, which must not get a chunked body (RFC 9112 §6.1): theirs ends when
// the connection closes.
const (
	sseHead11 = sseHead + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
	sseHead10 = sseHead + "Connection: close\r\n\r\n"
)

// startSSE serves one subscription as text/event-stream (GraphQL over SSE,
// distinct connections mode). The stream lives on the same event loop and
// outbound bound as WebSockets; it ends with the topic's completion or when
// the client closes.
func (c *conn) startSSE(req *http.Request, body []byte) {
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
	c.mu.Unlock()

	op, errs := c.h.cache.Compile(greq)
	if len(errs) > 0 {
		// graphql-sse: request errors are a `next` on the accepted stream,
		// followed by `complete`.
		res := append([]byte(`{"errors":`), errs.AppendJSON(nil)...)
		res = append(res, '}')
		c.mu.Lock()
		c.outLocked()
		c.out = c.appendSSEEvent(c.out, "next", res)
		c.out = c.appendSSEEvent(c.out, "complete", nil)
		c.out = c.appendSSEEnd(c.out)
		c.state = stateClosing
		c.closeMode = closeNow
		c.mu.Unlock()
		c.flush()
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
