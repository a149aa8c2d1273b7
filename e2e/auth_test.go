package e2e

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub"
	"github.com/subhub/subhub/hub/auth"
)

var e2eSecret = []byte("e2e-secret-e2e-secret-e2e-secret-e2e")

func withJWT(o *hub.Options) { o.JWT = auth.Config{Secret: e2eSecret} }

func e2eToken(t *testing.T, claims jwt.MapClaims) []string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(e2eSecret)
	require.NoError(t, err)
	return []string{"SUBHUB_E2E_TOKEN=" + s}
}

// The npm graphql-ws client authenticates with connectionParams
// { Authorization: 'Bearer ...' } and receives events; its token's
// subjects claim decides which topics it may subscribe to.
func TestGraphQLWSClientWithToken(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, withJWT)
	tok := e2eToken(t, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix(), "subjects": []string{"prices.>"}})
	p := startNodeEnv(t, tok, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "prices.eur") }`, "2")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "prices.eur", `1`, `2`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(1)}}, p.line(t)["next"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(2)}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))

	p = startNodeEnv(t, tok, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "orders.1") }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	m := p.line(t)
	require.Equal(t, []any{map[string]any{"message": `Forbidden: the token does not allow subscribing to "orders.1"`}}, m["error"], "got %v", m)
	require.Equal(t, 1, p.wait(t))
	require.Equal(t, int64(1), n.hub.Stats().Forbidden.Load())
}

// Without a token the graphql-ws client is closed with 4403 Forbidden.
func TestGraphQLWSClientWithoutToken(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, withJWT)
	p := startNode(t, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "prices.eur") }`, "1")
	m := p.line(t)
	require.Equal(t, "Forbidden", m["error"], "got %v", m)
	require.Equal(t, float64(4403), m["code"])
	require.Equal(t, 1, p.wait(t))
	require.Equal(t, int64(1), n.hub.Stats().AuthFailures.Load())
}

// The legacy subscriptions-transport-ws client authenticates with
// connectionParams, and gets connection_error without a valid token.
func TestLegacyClientToken(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, withJWT)
	p := startNodeEnv(t, e2eToken(t, jwt.MapClaims{"sub": "u"}), "legacy-client.js", n.wsURL(), `subscription { topic(name: "legacy.auth") }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "legacy.auth", `"x"`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": "x"}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))

	expired := e2eToken(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})
	p = startNodeEnv(t, expired, "legacy-client.js", n.wsURL(), `subscription { topic(name: "legacy.auth") }`, "1")
	for {
		m := p.line(t)
		if m["socketError"] != nil {
			continue
		}
		require.Equal(t, "Forbidden: token expired", m["connectionError"], "got %v", m)
		break
	}
	require.Equal(t, 1, p.wait(t))
}

// The graphql-sse client sends its token in the Authorization header; a
// client without one gets 401.
func TestSSEClientToken(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, withJWT)
	p := startNodeEnv(t, e2eToken(t, jwt.MapClaims{"subjects": []string{"sse.*"}}), "sse-client.js", n.httpURL(), `subscription { topic(name: "sse.auth") }`, "1")
	require.Equal(t, true, p.line(t)["started"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "sse.auth", `7`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(7)}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))

	p = startNode(t, "sse-client.js", n.httpURL(), `subscription { topic(name: "sse.auth") }`, "1")
	require.Equal(t, true, p.line(t)["started"])
	m := p.line(t)
	require.Equal(t, float64(401), m["status"], "got %v", m)
	require.Equal(t, 1, p.wait(t))
}

// When the token expires the graphql-ws client is closed with 4403 and
// reports it through its error callback.
func TestGraphQLWSClientTokenExpiry(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, func(o *hub.Options) { o.JWT = auth.Config{Secret: e2eSecret, Leeway: -1} })
	// Long enough for node to start and connect on a loaded machine: with
	// 3 s a -race run of every package at once saw the token expire first.
	tok := e2eToken(t, jwt.MapClaims{"exp": time.Now().Add(8 * time.Second).Unix()})
	p := startNodeEnv(t, tok, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "soon.gone") }`, "100")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	m := p.line(t)
	require.Equal(t, "Forbidden: token expired", m["error"], "got %v", m)
	require.Equal(t, float64(4403), m["code"])
	require.Equal(t, 1, p.wait(t))
	n.waitNATSSubs(t, 0)
	require.Equal(t, int64(1), n.hub.Stats().AuthExpired.Load())
}
