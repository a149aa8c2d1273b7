package e2e

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

func publish(t *testing.T, n *node, subject string, bodies ...string) {
	t.Helper()
	nc, err := nats.Connect(n.nats.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	for _, b := range bodies {
		require.NoError(t, nc.Publish(subject, []byte(b)))
	}
	require.NoError(t, nc.Flush())
}

func completeTopic(t *testing.T, n *node, subject string) {
	t.Helper()
	nc, err := nats.Connect(n.nats.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	msg := nats.NewMsg(subject)
	msg.Header.Set("Subhub-Complete", "true")
	require.NoError(t, nc.PublishMsg(msg))
	require.NoError(t, nc.Flush())
}

// The legacy subscriptions-transport-ws client receives events and the
// publisher's completion.
func TestLegacyClient(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "legacy-client.js", n.wsURL(), `subscription { topic(name: "legacy.t") }`, "100")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "legacy.t", `{"a":1}`, `{"a":2}`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"a": float64(1)}}}, p.line(t)["next"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"a": float64(2)}}}, p.line(t)["next"])
	completeTopic(t, n, "legacy.t")
	require.Equal(t, true, p.line(t)["complete"])
	require.Equal(t, 0, p.wait(t))
	n.waitNATSSubs(t, 0)
}

// The subscriptions-transport-ws client stays subscribed through many
// keep-alive intervals: it gets a ka every interval and, as it sends nothing
// itself, a WebSocket ping every third, which its ws socket answers on its
// own; the server never takes it for a dead peer.
func TestLegacyClientKeepAlive(t *testing.T) {
	t.Parallel()
	survivesKeepAlive(t, "legacy-client.js", "legacy.quiet", 4)
}

// The legacy client's unsubscribe (stop) releases the subscription.
func TestLegacyClientStop(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "legacy-client.js", n.wsURL(), `subscription { topic(name: "legacy.stop") }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "legacy.stop", `"x"`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": "x"}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))
	n.waitNATSSubs(t, 0)
}

// The legacy client gets validation errors through its error callback.
func TestLegacyClientValidationError(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "legacy-client.js", n.wsURL(), `subscription { nope }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	m := p.line(t)
	require.NotNil(t, m["error"], "got %v", m)
	require.Equal(t, 1, p.wait(t))
}

// The graphql-sse client receives events over SSE and the completion.
func TestSSEClient(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "sse-client.js", n.httpURL(), `subscription { topic(name: "sse.t") }`, "100")
	require.Equal(t, true, p.line(t)["started"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "sse.t", `{"line":"a\nb"}`, `[1,2]`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"line": "a\nb"}}}, p.line(t)["next"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": []any{float64(1), float64(2)}}}, p.line(t)["next"])
	completeTopic(t, n, "sse.t")
	require.Equal(t, true, p.line(t)["complete"])
	require.Equal(t, 0, p.wait(t))
	n.waitNATSSubs(t, 0)
}

// Closing the SSE stream releases the subscription.
func TestSSEClientUnsubscribe(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "sse-client.js", n.httpURL(), `subscription { topic(name: "sse.u") }`, "1")
	require.Equal(t, true, p.line(t)["started"])
	n.waitNATSSubs(t, 1)
	publish(t, n, "sse.u", `"only"`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": "only"}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))
	n.waitNATSSubs(t, 0)
}

// One subject with subscribers on all three transports is one NATS
// subscription, and every client receives each event once.
func TestMixedTransportsShareOneNATSSubscription(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	q := `subscription { topic(name: "mixed") }`
	ws := startNode(t, "graphql-ws-client.js", n.wsURL(), q, "2")
	legacy := startNode(t, "legacy-client.js", n.wsURL(), q, "2")
	sse := startNode(t, "sse-client.js", n.httpURL(), q, "2")
	require.Equal(t, true, ws.line(t)["connected"])
	require.Equal(t, true, legacy.line(t)["connected"])
	require.Equal(t, true, sse.line(t)["started"])
	n.waitSubscriptions(t, 3)
	n.waitNATSSubs(t, 1)
	publish(t, n, "mixed", `1`, `2`)
	for _, p := range []*nodeProc{ws, legacy, sse} {
		require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(1)}}, p.line(t)["next"])
		require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(2)}}, p.line(t)["next"])
		require.Equal(t, true, p.line(t)["done"])
		require.Equal(t, 0, p.wait(t))
	}
	n.waitNATSSubs(t, 0)
}
