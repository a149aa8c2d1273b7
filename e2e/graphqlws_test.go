package e2e

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub"
)

// The npm graphql-ws client (graphql-transport-ws) subscribes through subhub
// and receives events published on NATS, then completes cleanly.
func TestGraphQLWSClient(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "prices.eur") }`, "3")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)

	nc, err := nats.Connect(n.nats.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	for i := 1; i <= 3; i++ {
		require.NoError(t, nc.Publish("prices.eur", []byte(`{"p":`+string(rune('0'+i))+`}`)))
	}
	for i := 1; i <= 3; i++ {
		m := p.line(t)
		require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"p": float64(i)}}}, m["next"])
	}
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))
	// The client's complete released the NATS subscription.
	n.waitNATSSubs(t, 0)
}

// A publisher's completion reaches the graphql-ws client as complete.
func TestGraphQLWSClientCompletion(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "graphql-ws-client.js", n.wsURL(), `subscription { topic(name: "done.soon") }`, "100")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	nc, err := nats.Connect(n.nats.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Publish("done.soon", []byte(`"last"`)))
	msg := nats.NewMsg("done.soon")
	msg.Header.Set("Subhub-Complete", "true")
	require.NoError(t, nc.PublishMsg(msg))
	require.Equal(t, map[string]any{"data": map[string]any{"topic": "last"}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["complete"])
	require.Equal(t, 0, p.wait(t))
	n.waitNATSSubs(t, 0)
}

// Validation errors reach the client as an error for the operation.
func TestGraphQLWSClientValidationError(t *testing.T) {
	t.Parallel()
	n := startSubhub(t, nil, nil)
	p := startNode(t, "graphql-ws-client.js", n.wsURL(), `subscription { topic(nme: "x") }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	m := p.line(t)
	require.NotNil(t, m["error"], "got %v", m)
	require.Equal(t, 1, p.wait(t))
}

// The graphql-ws client (its ws socket answers pings on its own) stays
// subscribed through many keep-alive intervals of pings: the server never
// takes a live client for a dead one.
func TestGraphQLWSClientKeepAlive(t *testing.T) {
	t.Parallel()
	survivesKeepAlive(t, "graphql-ws-client.js", "quiet", 6)
}

// survivesKeepAlive subscribes script's client to topic on a node with a
// 150 ms keep-alive, waits until the hub sent it pings pings, checks that it
// was not closed as dead for all that, and that its subscription still
// delivers.
func survivesKeepAlive(t *testing.T, script, topic string, pings int64) {
	t.Helper()
	n := startSubhub(t, nil, func(o *hub.Options) { o.KeepAlive = 150 * time.Millisecond })
	p := startNode(t, script, n.wsURL(), `subscription { topic(name: "`+topic+`") }`, "1")
	require.Equal(t, true, p.line(t)["connected"])
	n.waitNATSSubs(t, 1)
	st := n.hub.Stats()
	require.Eventually(t, func() bool { return st.KeepAlivePings.Load() >= pings || st.KeepAliveClosed.Load() > 0 },
		20*time.Second, 10*time.Millisecond, "want %d pings", pings)
	require.Zero(t, st.KeepAliveClosed.Load(), "a live client was closed as dead")
	require.Equal(t, int64(1), st.Connections.Load())
	publish(t, n, topic, `"at last"`)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": "at last"}}, p.line(t)["next"])
	require.Equal(t, true, p.line(t)["done"])
	require.Equal(t, 0, p.wait(t))
}
