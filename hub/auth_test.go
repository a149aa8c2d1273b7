package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/wire"
)

var testSecret = []byte("test-secret-test-secret-test-secret")

// withJWT enables authentication with testSecret and no leeway, so that
// expiry tests need not wait 30 s.
func withJWT(o *Options) { o.JWT = auth.Config{Secret: testSecret, Leeway: -1} }

// token signs claims with testSecret (HS256).
func token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testSecret)
	require.NoError(t, err)
	return s
}

func (c *wsClient) initWith(payload map[string]any) {
	c.t.Helper()
	c.sendJSON(map[string]any{"type": "connection_init", "payload": payload})
}

func TestAuthConnectionInit(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWT)
	good := token(t, jwt.MapClaims{"sub": "u1"})
	wrongKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1"}).SignedString([]byte("another-secret-another-secret-12345"))
	require.NoError(t, err)
	expired := token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()})

	refused := []struct {
		name    string
		header  http.Header
		payload map[string]any
	}{
		{"no token", nil, nil},
		{"empty payload", nil, map[string]any{}},
		{"wrong key", nil, map[string]any{"Authorization": "Bearer " + wrongKey}},
		{"expired", nil, map[string]any{"Authorization": "Bearer " + expired}},
		{"garbage", nil, map[string]any{"token": "not-a-jwt"}},
		{"not a string", nil, map[string]any{"Authorization": 42}},
		{"another scheme", nil, map[string]any{"Authorization": "Basic dTpw"}},
		{"bad header token", http.Header{"Authorization": {"Bearer " + wrongKey}}, nil},
		{"bad payload token wins over a good header", http.Header{"Authorization": {"Bearer " + good}}, map[string]any{"token": wrongKey}},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			c := dialWSHeader(t, h, tc.header)
			if tc.payload == nil {
				c.send(`{"type":"connection_init"}`)
			} else {
				c.initWith(tc.payload)
			}
			code, reason := c.expectClose()
			require.Equal(t, uint16(4403), code)
			require.Equal(t, "Forbidden", reason)
		})
	}
	require.Equal(t, int64(len(refused)), h.Stats().AuthFailures.Load())

	accepted := []struct {
		name    string
		header  http.Header
		payload map[string]any
	}{
		{"Authorization Bearer", nil, map[string]any{"Authorization": "Bearer " + good}},
		{"authorization bare", nil, map[string]any{"authorization": good}},
		{"lower-case bearer", nil, map[string]any{"Authorization": "bearer " + good}},
		{"token field", nil, map[string]any{"token": good}},
		{"upgrade header", http.Header{"Authorization": {"Bearer " + good}}, nil},
		{"good payload token wins over a bad header", http.Header{"Authorization": {"Bearer " + wrongKey}}, map[string]any{"Authorization": good}},
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			c := dialWSHeader(t, h, tc.header)
			if tc.payload == nil {
				c.send(`{"type":"connection_init"}`)
			} else {
				c.initWith(tc.payload)
			}
			require.Equal(t, "connection_ack", c.next()["type"])
		})
	}
	require.Equal(t, int64(len(refused)), h.Stats().AuthFailures.Load())

	_, body := httpGet(t, h, "/metrics", nil)
	require.Contains(t, body, "subhub_auth_failures_total "+strconv.Itoa(len(refused))+"\n")
}

// Without --jwt-* a token in connection_init is ignored, as before.
func TestAuthDisabledIgnoresTokens(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	c := dialWSHeader(t, h, http.Header{"Authorization": {"Bearer junk"}})
	c.initWith(map[string]any{"Authorization": "Bearer junk"})
	require.Equal(t, "connection_ack", c.next()["type"])
	c.subscribe("1", topicQuery("open"))
	waitSubs(t, h, 1)
	require.Zero(t, h.Stats().AuthFailures.Load())
}

func TestAuthEventsFlowAndForbiddenSubjects(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		withJWT(o)
		o.SubjectPrefix = "tenant1" // authorization sees the topic, not the subject
	})
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.initWith(map[string]any{"Authorization": "Bearer " + token(t, jwt.MapClaims{
		"exp":      time.Now().Add(time.Hour).Unix(),
		"subjects": []string{"prices.>", "news.*"},
	})})
	require.Equal(t, "connection_ack", c.next()["type"])

	for i, topic := range []string{"orders.1", "prices", "news.a.b", "tenant1.prices.eur"} {
		id := "no" + strconv.Itoa(i)
		c.subscribe(id, topicQuery(topic))
		m := c.next()
		require.Equal(t, "error", m["type"], topic)
		require.Equal(t, id, m["id"])
		errs := m["payload"].([]any)
		require.Len(t, errs, 1)
		require.Equal(t, "Forbidden: the token does not allow subscribing to "+strconv.Quote(topic), errs[0].(map[string]any)["message"])
	}
	require.Equal(t, int64(4), h.Stats().Forbidden.Load())
	require.Zero(t, h.Stats().Subscriptions.Load())

	// The connection stays usable, and ids refused before can be used again.
	c.subscribe("no0", topicQuery("prices.eur"))
	c.subscribe("b", topicQuery("news.sport"))
	waitNATSSubs(t, e, 2)
	require.NoError(t, nc.Publish("tenant1.prices.eur", []byte(`{"p":1}`)))
	m := c.next()
	require.Equal(t, "next", m["type"])
	require.Equal(t, "no0", m["id"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"p": float64(1)}}}, m["payload"])
	require.NoError(t, nc.Publish("tenant1.news.sport", []byte(`2`)))
	require.Equal(t, "b", c.next()["id"])

	_, body := httpGet(t, h, "/metrics", nil)
	require.Contains(t, body, "subhub_forbidden_subscriptions_total 4\n")
}

func TestAuthTokenExpiryClosesWebSocket(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWT)
	c := dialWS(t, h)
	// exp has one-second resolution: the token expires within 2–3 s.
	c.initWith(map[string]any{"token": token(t, jwt.MapClaims{"exp": time.Now().Add(3 * time.Second).Unix()})})
	require.Equal(t, "connection_ack", c.next()["type"])
	c.subscribe("1", topicQuery("x"))
	waitSubs(t, h, 1)
	code, reason := c.expectClose()
	require.Equal(t, uint16(4403), code)
	require.Equal(t, "Forbidden: token expired", reason)
	waitSubs(t, h, 0)
	require.Equal(t, int64(1), h.Stats().AuthExpired.Load())
}

func TestAuthLegacyProtocol(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWT)

	c := dialWS(t, h, wire.SubprotocolLegacy)
	c.send(`{"type":"connection_init","payload":{}}`)
	m := c.next()
	require.Equal(t, "connection_error", m["type"])
	require.Equal(t, map[string]any{"message": "Forbidden: missing token"}, m["payload"])
	code, _ := c.expectClose()
	require.Equal(t, uint16(1011), code, "as subscriptions-transport-ws closes")

	c = dialWS(t, h, wire.SubprotocolLegacy)
	c.initWith(map[string]any{"authToken": "x", "Authorization": "Bearer " + token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})})
	m = c.next()
	require.Equal(t, "connection_error", m["type"])
	require.Equal(t, map[string]any{"message": "Forbidden: token expired"}, m["payload"])

	c = dialWS(t, h, wire.SubprotocolLegacy)
	c.initWith(map[string]any{"Authorization": "Bearer " + token(t, jwt.MapClaims{"subjects": []string{"ok.*"}})})
	require.Equal(t, "connection_ack", c.next()["type"])
	require.Equal(t, "ka", c.next()["type"])
	c.send(`{"id":"1","type":"start","payload":{"query":"subscription { topic(name: \"no.1\") }"}}`)
	m = c.next()
	require.Equal(t, "error", m["type"])
	require.Equal(t, "1", m["id"])
	require.Contains(t, m["payload"].(map[string]any)["message"], "Forbidden")
	c.send(`{"id":"2","type":"start","payload":{"query":"subscription { topic(name: \"ok.1\") }"}}`)
	waitSubs(t, h, 1)
	require.Equal(t, int64(2), h.Stats().AuthFailures.Load())
}

// sseRequest sends a GET SSE request for topic with extra header lines and
// query parameters and returns the response.
func sseRequest(t *testing.T, h *Hub, topic, query, headers string) *http.Response {
	t.Helper()
	br, _ := rawHTTP(t, h, "GET /graphql?query="+url.QueryEscape(topicQuery(topic))+query+" HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"+headers+"\r\n")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	return resp
}

func TestAuthSSE(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWT)
	nc := connectNATS(t, e.ClientURL())
	good := token(t, jwt.MapClaims{"subjects": []string{"sse.>"}})

	t.Run("no token is 401", func(t *testing.T) {
		resp := sseRequest(t, h, "sse.a", "", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, `Bearer realm="subhub"`, resp.Header.Get("WWW-Authenticate"))
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, "missing token\n", string(b))
	})
	t.Run("bad token is 401 and not echoed", func(t *testing.T) {
		bad := token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})
		resp := sseRequest(t, h, "sse.a", "", "Authorization: Bearer "+bad+"\r\n")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, `Bearer realm="subhub", error="invalid_token", error_description="token expired"`, resp.Header.Get("WWW-Authenticate"))
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, "token expired\n", string(b))
		resp = sseRequest(t, h, "sse.a", "&token=abc.def.ghi", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		b, _ = io.ReadAll(resp.Body)
		require.NotContains(t, string(b), "abc")
		require.NotContains(t, resp.Header.Get("WWW-Authenticate"), "abc")
	})
	for name, tc := range map[string]struct{ query, headers, topic string }{
		"header": {"", "Authorization: Bearer " + good + "\r\n", "sse.h"},
		"query":  {"&token=" + url.QueryEscape(good), "", "sse.q"},
	} {
		t.Run("token in "+name, func(t *testing.T) {
			resp := sseRequest(t, h, tc.topic, tc.query, tc.headers)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Eventually(t, func() bool {
				for _, s := range h.reg.Subjects() {
					if s == tc.topic {
						return true
					}
				}
				return false
			}, 5*time.Second, 5*time.Millisecond)
			require.NoError(t, h.pool[0].Flush())
			require.NoError(t, nc.Publish(tc.topic, []byte(`1`)))
			events := bufio.NewReader(resp.Body)
			require.Equal(t, "event: next\n", readLine(t, events))
			require.Equal(t, `data: {"data":{"topic":1}}`+"\n", readLine(t, events))
		})
	}
	t.Run("forbidden subject is an error on the stream", func(t *testing.T) {
		resp := sseRequest(t, h, "other", "", "Authorization: Bearer "+good+"\r\n")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		all, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, "event: next\ndata: {\"errors\":[{\"message\":\"Forbidden: the token does not allow subscribing to \\\"other\\\"\"}]}\n\nevent: complete\ndata: \n\n", string(all))
	})
	t.Run("expiry ends the stream", func(t *testing.T) {
		soon := token(t, jwt.MapClaims{"exp": time.Now().Add(3 * time.Second).Unix()})
		resp := sseRequest(t, h, "sse.exp", "", "Authorization: Bearer "+soon+"\r\n")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		before := h.Stats().AuthExpired.Load()
		_, err := io.ReadAll(resp.Body) // the stream ends (no complete event)
		require.NoError(t, err)
		require.Equal(t, before+1, h.Stats().AuthExpired.Load())
	})
}

func TestAuthOptions(t *testing.T) {
	base := Options{NATSURLs: []string{"nats://127.0.0.1:1"}}
	o, err := base.withDefaults()
	require.NoError(t, err)
	require.Nil(t, o.verifier, "disabled by default")

	for _, tc := range []struct {
		jwt  auth.Config
		want string
	}{
		{auth.Config{Secret: []byte("short")}, "jwt-secret: auth: invalid configuration: the secret is 5 bytes, at least 32 are required"},
		{auth.Config{Secret: testSecret, PublicKeyPEM: []byte("x")}, "jwt-secret: auth: invalid configuration: a secret, a public key and a JWKS URL are exclusive: set one"},
		{auth.Config{PublicKeyPEM: []byte("not pem")}, "jwt-public-key: auth: invalid configuration: no PEM block found"},
		{auth.Config{Issuer: "x"}, "jwt-issuer and jwt-audience need jwt-secret, jwt-public-key or jwt-jwks-url"},
		{auth.Config{JWKSURL: "ftp://idp.example/jwks"}, `jwt-jwks-url: auth: invalid configuration: JWKS URL "ftp://idp.example/jwks": want an http:// or https:// URL`},
		{auth.Config{Secret: testSecret, Leeway: 6 * time.Minute}, "jwt-secret: auth: invalid configuration: a leeway of 6m0s is more than 5m0s"},
	} {
		o := base
		o.JWT = tc.jwt
		_, err := o.withDefaults()
		require.ErrorIs(t, err, ErrInvalidOption)
		require.EqualError(t, err, "hub: invalid option: "+tc.want)
		require.False(t, strings.Contains(err.Error(), string(testSecret)))
	}
	o = base
	o.JWT = auth.Config{Secret: testSecret, Issuer: "i", Audience: "a"}
	o, err = o.withDefaults()
	require.NoError(t, err)
	require.NotNil(t, o.verifier)
}

// A legacy connection_init again with a fresh token replaces the old
// token: the connection outlives the first one's expiry.
func TestAuthLegacyReinitExtends(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWT)
	c := dialWS(t, h, wire.SubprotocolLegacy)
	c.initWith(map[string]any{"token": token(t, jwt.MapClaims{"exp": time.Now().Add(3 * time.Second).Unix()})})
	require.Equal(t, "connection_ack", c.next()["type"])
	require.Equal(t, "ka", c.next()["type"])
	c.initWith(map[string]any{"token": token(t, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()})})
	require.Equal(t, "connection_ack", c.next()["type"])
	require.Equal(t, "ka", c.next()["type"])
	c.expectSilence(4 * time.Second) // past the first token's expiry
	require.Zero(t, h.Stats().AuthExpired.Load())
}

// jwksServer serves a JWKS on 127.0.0.1, as an identity provider does,
// and counts the requests.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	status   int
	body     []byte
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.serve(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		status, body := s.status, s.body
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve answers with a JWKS of keys from now on.
func (s *jwksServer) serve(t *testing.T, keys ...map[string]any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	s.answer(http.StatusOK, b)
}

func (s *jwksServer) answer(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

var b64url = base64.RawURLEncoding.EncodeToString

// ecJWK is the JWK of key's public key, with kid.
func ecJWK(t *testing.T, key *ecdsa.PrivateKey, kid string) map[string]any {
	t.Helper()
	p, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	n := (len(p) - 1) / 2
	return map[string]any{"kty": "EC", "crv": key.Curve.Params().Name, "kid": kid, "x": b64url(p[1 : 1+n]), "y": b64url(p[1+n:])}
}

func rsaJWK(key *rsa.PrivateKey, kid string) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64url(key.N.Bytes()), "e": b64url(big.NewInt(int64(key.E)).Bytes())}
}

func edJWK(key ed25519.PrivateKey, kid string) map[string]any {
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64url(key.Public().(ed25519.PublicKey))}
}

func newECKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

// kidToken signs claims with key and m, naming kid.
func kidToken(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// withJWKS enables authentication with the JWKS of s and no leeway.
func withJWKS(s *jwksServer, refresh time.Duration) func(*Options) {
	return func(o *Options) {
		o.JWT = auth.Config{JWKSURL: s.URL + "/.well-known/jwks.json", JWKSRefresh: refresh, Leeway: auth.NoLeeway}
	}
}

// wsAuth dials h, presents tok in connection_init and reports whether the
// hub acknowledged it; a refusal must be close 4403.
func wsAuth(t *testing.T, h *Hub, tok string) bool {
	t.Helper()
	c := dialWS(t, h)
	c.initWith(map[string]any{"Authorization": "Bearer " + tok})
	op, payload, err := c.frame(5 * time.Second)
	require.NoError(t, err)
	if op == ws.OpText {
		require.Contains(t, string(payload), `"connection_ack"`)
		return true
	}
	require.Equal(t, ws.OpClose, op)
	code, _ := ws.ParseCloseFrameData(payload)
	require.Equal(t, ws.StatusCode(4403), code)
	return false
}

// Tokens signed by a key of the IdP's JWKS are accepted over real
// WebSockets and SSE, others refused; after the IdP rotates its keys a
// token with the new kid is accepted once the refresh it causes is done,
// and a flood of unknown kids causes no more than that one refresh.
func TestAuthJWKS(t *testing.T) {
	t.Parallel()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p256, p384 := newECKey(t, elliptic.P256()), newECKey(t, elliptic.P384())
	idp := newJWKSServer(t, rsaJWK(rk, "rsa-1"), ecJWK(t, p256, "ec-1"), edJWK(ed, "ed-1"))
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWKS(idp, time.Hour))
	require.Equal(t, int64(1), idp.requests.Load(), "fetched at startup")
	c := jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()}

	require.True(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodRS256, rk, "rsa-1", c)))
	require.True(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodES256, p256, "ec-1", c)))
	require.True(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodEdDSA, ed, "ed-1", c)))
	resp := sseRequest(t, h, "jwks", "", "Authorization: Bearer "+kidToken(t, jwt.SigningMethodES256, p256, "ec-1", c)+"\r\n")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	other := newECKey(t, elliptic.P256())
	for name, tok := range map[string]string{
		"another key, a known kid":    kidToken(t, jwt.SigningMethodES256, other, "ec-1", c),
		"PS256 on an RS256-only key":  kidToken(t, jwt.SigningMethodPS256, rk, "rsa-1", c),
		"ES256 token, RSA kid":        kidToken(t, jwt.SigningMethodES256, p256, "rsa-1", c),
		"HS256 keyed with the secret": token(t, c),
		"expired":                     kidToken(t, jwt.SigningMethodES256, p256, "ec-1", jwt.MapClaims{"exp": time.Now().Add(-time.Second).Unix()}),
	} {
		require.False(t, wsAuth(t, h, tok), name)
	}
	require.Equal(t, int64(1), idp.requests.Load(), "known kids cause no fetch")

	// The IdP rotates: ec-1 goes, ec-2 comes.
	idp.serve(t, rsaJWK(rk, "rsa-1"), ecJWK(t, p384, "ec-2"))
	require.True(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodES384, p384, "ec-2", c)), "accepted after the refresh its kid caused")
	require.Equal(t, int64(2), idp.requests.Load())
	require.True(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodRS256, rk, "rsa-1", c)))
	require.False(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodES256, p256, "ec-1", c)), "a key the IdP removed")

	failures := h.Stats().AuthFailures.Load()
	for i := range 20 {
		require.False(t, wsAuth(t, h, kidToken(t, jwt.SigningMethodES256, other, "made-up-"+strconv.Itoa(i), c)))
	}
	require.Equal(t, failures+20, h.Stats().AuthFailures.Load())
	require.Equal(t, int64(2), idp.requests.Load(), "unknown kids refresh at most once per %s", auth.JWKSUnknownKidInterval)
}

// A refresh that fails, however it fails, keeps the keys there were.
func TestAuthJWKSFailedRefreshKeepsKeys(t *testing.T) {
	t.Parallel()
	key := newECKey(t, elliptic.P256())
	idp := newJWKSServer(t, ecJWK(t, key, "k1"))
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), withJWKS(idp, 5*time.Millisecond))
	tok := kidToken(t, jwt.SigningMethodES256, key, "k1", jwt.MapClaims{"sub": "u"})
	require.True(t, wsAuth(t, h, tok))
	for _, fail := range []struct {
		status int
		body   string
	}{
		{http.StatusServiceUnavailable, "down"},
		{http.StatusOK, "<html>login</html>"},
		{http.StatusOK, `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"enc","x":"AA","y":"AA"}]}`},
		{http.StatusOK, strings.Repeat(" ", auth.MaxJWKSBytes+1)},
	} {
		idp.answer(fail.status, []byte(fail.body))
		n := idp.requests.Load()
		require.Eventually(t, func() bool { return idp.requests.Load() >= n+2 }, 5*time.Second, time.Millisecond)
		require.True(t, wsAuth(t, h, tok), "%d %.30q", fail.status, fail.body)
	}
}

// A JWKS that cannot be used stops New with a one-line reason that names
// the option; so does a JWKS URL with another key.
func TestAuthJWKSStartupErrors(t *testing.T) {
	t.Parallel()
	key := newECKey(t, elliptic.P256())
	idp := newJWKSServer(t, ecJWK(t, key, "k1"))
	for name, tc := range map[string]struct {
		status int
		body   string
		jwt    auth.Config
		want   string
	}{
		"HTTP error": {status: http.StatusNotFound, body: "no", want: "HTTP 404 Not Found"},
		"not JSON":   {status: http.StatusOK, body: "<html>", want: "not a JWKS"},
		"oversized": {status: http.StatusOK, body: `{"keys":[` + strings.Repeat(`{},`, auth.MaxJWKSBytes/3) + `{}]}`,
			want: "larger than 1048576 bytes"},
		"no usable key": {status: http.StatusOK, body: `{"keys":[{"kty":"EC","crv":"P-256","use":"enc","x":"AA","y":"AA"}]}`,
			want: `no usable key among 1; key 0: use "enc"`},
		"unreachable":  {jwt: auth.Config{JWKSURL: "http://127.0.0.1:1/jwks"}, want: "connection refused"},
		"with secret":  {jwt: auth.Config{JWKSURL: idp.URL, Secret: testSecret}, want: "jwt-secret: auth: invalid configuration: a secret, a public key and a JWKS URL are exclusive"},
		"with PEM key": {jwt: auth.Config{JWKSURL: idp.URL, PublicKeyPEM: []byte("x")}, want: "exclusive"},
	} {
		idp.answer(tc.status, []byte(tc.body))
		o := Options{NATSURLs: []string{"nats://127.0.0.1:1"}, JWT: tc.jwt}
		if o.JWT.JWKSURL == "" {
			o.JWT.JWKSURL = idp.URL
		}
		h, err := New(o)
		require.Nil(t, h, name)
		require.ErrorIs(t, err, ErrInvalidOption, name)
		require.ErrorContains(t, err, tc.want, name)
		require.NotContains(t, err.Error(), "\n", name)
		if o.JWT.Secret == nil && o.JWT.PublicKeyPEM == nil {
			require.ErrorContains(t, err, "hub: invalid option: jwt-jwks-url: auth: invalid configuration: JWKS ", name)
		}
	}
}

// jwksRefreshers counts the goroutines that refresh a JWKS.
func jwksRefreshers() int {
	buf := make([]byte, 4<<20)
	return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("auth.(*remoteKeys).run("))
}

// Not parallel: it counts the refreshers of the whole process, and
// parallel tests start only after the sequential ones have ended.
func TestShutdownStopsJWKSRefresher(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	idp := newJWKSServer(t, ecJWK(t, key, "k1"))
	e := startNATS(t)
	require.Zero(t, jwksRefreshers())
	h := startHub(t, e.ClientURL(), withJWKS(idp, time.Millisecond))
	require.Eventually(t, func() bool { return jwksRefreshers() == 1 && idp.requests.Load() > 2 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	require.Eventually(t, func() bool { return jwksRefreshers() == 0 }, 5*time.Second, time.Millisecond)
}
