package hub

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/hub/graphql"
)

// credential is the outcome of verifying one client token: a grant, or
// the reason it was refused. Read-only once made.
type credential struct {
	grant *auth.Grant
	err   error
}

// verifyCredential verifies token; the result is nil when authentication
// is disabled.
func (h *Hub) verifyCredential(token string) *credential {
	v := h.opts.verifier
	if v == nil {
		return nil
	}
	g, err := v.Verify(token)
	return &credential{grant: g, err: err}
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// value (the scheme is case-insensitive, RFC 6750 §2.1); ok is false for
// another scheme or none.
func bearerToken(authorization string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// payloadToken finds the token of a connection_init payload: its
// "Authorization" (or "authorization") value, "Bearer <jwt>" or a bare JWT,
// or else its "token" value. found is false when the payload names none;
// a value that is not a string is found and empty, so it is refused
// rather than passed over for the upgrade request's header.
func payloadToken(payload []byte) (token string, found bool) {
	if len(payload) == 0 {
		return "", false
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(payload)
	if err != nil || v.Type() != fastjson.TypeObject {
		return "", false
	}
	for _, key := range [...]string{"Authorization", "authorization", "token"} {
		f := v.Get(key)
		if f == nil {
			continue
		}
		b, err := f.StringBytes()
		if err != nil {
			return "", true
		}
		s := strings.TrimSpace(string(b))
		if t, ok := bearerToken(s); ok {
			s = t
		}
		return s, true
	}
	return "", false
}

// upgradeCredential verifies the token of a WebSocket upgrade request's
// Authorization header, if it has one, for a connection_init without one.
func (c *conn) upgradeCredential(req *http.Request) {
	if c.h.opts.verifier == nil {
		return
	}
	if tok, ok := bearerToken(req.Header.Get("Authorization")); ok {
		cred := c.h.verifyCredential(tok)
		c.mu.Lock()
		c.cred = cred
		c.mu.Unlock()
	}
}

// authenticate checks the token of a connection_init (payload first, then
// the upgrade request's header) and returns the credential to keep; nil
// without authentication. A refused token is counted and logged (reason
// only) and err says why.
func (c *conn) authenticate(payload []byte) (*credential, error) {
	h := c.h
	if h.opts.verifier == nil {
		return nil, nil
	}
	var cred *credential
	if tok, found := payloadToken(payload); found {
		cred = h.verifyCredential(tok)
	} else {
		c.mu.Lock()
		cred = c.cred
		c.mu.Unlock()
	}
	err := auth.ErrNoToken
	if cred != nil {
		err = cred.err
	}
	if err == nil && cred.grant.Expired(time.Now()) {
		err = auth.ErrExpired // verified at the upgrade, expired since
	}
	if err != nil {
		h.stats.AuthFailures.Add(1)
		h.log.Debug("client refused", "reason", auth.Reason(err), "remote", c.nc.RemoteAddr())
		return nil, err
	}
	return cred, nil
}

// grant returns the connection's grant; nil without authentication.
// Called by the OnRequest task, the only writer of cred.
func (c *conn) grant() *auth.Grant {
	if c.cred == nil {
		return nil
	}
	return c.cred.grant
}

// authorize reports whether the connection's token allows subscribing to
// topic (the subject before any prefix or hashing); if not, the
// operation's errors say so and the refusal is counted. A token that has
// expired ends the connection.
func (c *conn) authorize(topic string) (ok bool, errs graphql.Errors) {
	g := c.grant()
	if g == nil {
		return true, nil
	}
	if g.Expired(time.Now()) {
		c.onTokenExpired()
		return false, nil
	}
	if g.Allows(topic) {
		return true, nil
	}
	c.h.stats.Forbidden.Add(1)
	return false, graphql.Errors{{Message: "Forbidden: the token does not allow subscribing to " + strconv.Quote(topic)}}
}

// setCredentialLocked keeps cred and arms the expiry timer (the init
// timer's slot: initTimer is stopped first) for its deadline. c.mu must
// be held.
func (c *conn) setCredentialLocked(cred *credential) {
	if c.initTimer != nil {
		c.initTimer.Stop()
		c.initTimer = nil
	}
	c.cred = cred
	if cred == nil || cred.grant == nil || cred.grant.Deadline.IsZero() {
		return
	}
	c.initTimer = time.AfterFunc(time.Until(cred.grant.Deadline), c.onTokenExpired)
}

// tokenExpiredReason is the close reason of a WebSocket whose token expired.
const tokenExpiredReason = "Forbidden: token expired"

// onTokenExpired ends a connection whose token's deadline passed: close
// 4403 for a WebSocket, the end of the stream for SSE. A timer of a token
// that was replaced meanwhile (legacy connection_init again) does nothing.
func (c *conn) onTokenExpired() {
	c.mu.Lock()
	st := c.state
	expired := c.cred != nil && c.cred.grant != nil && c.cred.grant.Expired(time.Now())
	c.mu.Unlock()
	if !expired {
		return
	}
	switch st {
	case stateWS:
		c.h.stats.AuthExpired.Add(1)
		c.closeWS(4403, tokenExpiredReason, true)
	case stateSSE:
		c.h.stats.AuthExpired.Add(1)
		c.mu.Lock()
		end := c.appendSSEEnd(nil)
		c.mu.Unlock()
		c.writeIn(stateSSE, end, true)
	}
}
