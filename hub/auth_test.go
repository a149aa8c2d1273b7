package hub

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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
		{auth.Config{Secret: testSecret, PublicKeyPEM: []byte("x")}, "jwt-secret: auth: invalid configuration: a secret and a public key are exclusive"},
		{auth.Config{PublicKeyPEM: []byte("not pem")}, "jwt-public-key: auth: invalid configuration: no PEM block found"},
		{auth.Config{Issuer: "x"}, "jwt-issuer and jwt-audience need jwt-secret or jwt-public-key"},
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
