package hub

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/subhub/subhub/hub/publish"
)

// publishRequest is the body of POST /publish.
type publishRequest struct {
	Topic    string          `json:"topic"`
	Payload  json.RawMessage `json:"payload"`
	Complete bool            `json:"complete"`
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
	auth := req.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(h.opts.PublishToken)) != 1 {
		c.httpResponse(http.StatusUnauthorized, "text/plain; charset=utf-8",
			[]byte("missing or wrong bearer token\n"), "WWW-Authenticate: Bearer\r\n")
		return
	}
	var r publishRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
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
	var err error
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
	default:
		c.httpError(http.StatusServiceUnavailable, "publish failed: "+err.Error())
	}
}
