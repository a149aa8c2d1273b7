package hub

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/valyala/fastjson"

	"github.com/subhub/subhub/hub/publish"
)

// publishRequest is the body of POST /publish.
type publishRequest struct {
	Topic    string
	Payload  []byte // raw JSON; nil when absent
	Complete bool
}

// parsePublishRequest reads the body strictly: one JSON object with the
// keys topic, payload and complete spelled exactly so, each at most once,
// and nothing after it. A lenient parser (encoding/json matches keys in any
// case and keeps the last duplicate) would let a body that a gateway in
// front read as one topic publish on another.
func parsePublishRequest(body []byte) (publishRequest, error) {
	var r publishRequest
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return r, err
	}
	obj, err := v.Object()
	if err != nil {
		return r, errors.New("the body must be a JSON object")
	}
	seen := map[string]bool{}
	obj.Visit(func(k []byte, item *fastjson.Value) {
		key := string(k)
		if err != nil {
			return
		}
		if seen[key] {
			err = fmt.Errorf("duplicate key %q", key)
			return
		}
		seen[key] = true
		switch key {
		case "topic":
			var b []byte
			if b, err = item.StringBytes(); err != nil {
				err = errors.New(`"topic" must be a string`)
			}
			r.Topic = string(b)
		case "payload":
			r.Payload = item.MarshalTo(nil)
		case "complete":
			if r.Complete, err = item.Bool(); err != nil {
				err = errors.New(`"complete" must be true or false`)
			}
		default:
			err = fmt.Errorf("unknown key %q; want topic, payload or complete", key)
		}
	})
	return r, err
}

// publisher returns the Publisher of topic's pooled NATS connection.
func (h *Hub) publisher(topic string) *publish.Publisher {
	return h.publishers[poolIndex(topic, len(h.publishers))]
}

// servePublish is POST /publish: {"topic":"...","payload":<json>} or
// {"topic":"...","complete":true}. Disabled unless Options.PublishToken is
// set; then it requires "Authorization: Bearer <token>".
func (c *conn) servePublish(req *http.Request, body []byte) {
	h := c.h
	if h.opts.PublishToken == "" {
		c.httpError(http.StatusNotFound, "publishing over HTTP is disabled; start subhub with --publish-token")
		return
	}
	if req.Method != http.MethodPost {
		c.httpResponse(http.StatusMethodNotAllowed, "text/plain; charset=utf-8", []byte("use POST\n"), "Allow: POST\r\n")
		return
	}
	// The scheme is case-insensitive (RFC 9110 §11.1, RFC 6750 §2.1).
	token, ok := bearerToken(req.Header.Get("Authorization"))
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(h.opts.PublishToken)) != 1 {
		c.httpResponse(http.StatusUnauthorized, "text/plain; charset=utf-8",
			[]byte("missing or wrong bearer token\n"), "WWW-Authenticate: Bearer\r\n")
		return
	}
	r, err := parsePublishRequest(body)
	if err != nil {
		c.httpError(http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	if r.Topic == "" {
		c.httpError(http.StatusBadRequest, `missing "topic"`)
		return
	}
	if !r.Complete && len(r.Payload) == 0 {
		c.httpError(http.StatusBadRequest, `missing "payload" (or "complete": true)`)
		return
	}
	if r.Complete && len(r.Payload) > 0 {
		c.httpError(http.StatusBadRequest, `send either "payload" or "complete": true, not both`)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := h.publisher(r.Topic)
	if r.Complete {
		err = p.Complete(ctx, r.Topic)
	} else {
		err = p.PublishRaw(ctx, r.Topic, r.Payload)
	}
	switch {
	case err == nil:
		h.stats.Published.Add(1)
		c.httpResponse(http.StatusAccepted, "application/json", []byte(`{"status":"accepted"}`+"\n"), "")
	case errors.Is(err, publish.ErrInvalidTopic), errors.Is(err, publish.ErrInvalidJSON):
		c.httpError(http.StatusBadRequest, err.Error())
	case errors.Is(err, nats.ErrMaxPayload):
		// Over the NATS server's max_payload: retrying will not help.
		c.httpError(http.StatusRequestEntityTooLarge, "publish failed: "+err.Error())
	default:
		c.httpError(http.StatusServiceUnavailable, "publish failed: "+err.Error())
	}
}
