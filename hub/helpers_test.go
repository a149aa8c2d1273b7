package hub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

// startNATS runs an embedded NATS server on a free loopback port.
func startNATS(t testing.TB) *EmbeddedNATS {
	t.Helper()
	e, err := StartEmbeddedNATS("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(e.Shutdown)
	return e
}

// startHub runs a hub on a free loopback port against natsURL.
func startHub(t testing.TB, natsURL string, mod func(*Options)) *Hub {
	t.Helper()
	o := Options{
		Listen:   "127.0.0.1:0",
		NATSURLs: []string{natsURL},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	h, err := New(o)
	require.NoError(t, err)
	require.NoError(t, h.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	require.Eventually(t, h.Healthy, 5*time.Second, 10*time.Millisecond)
	return h
}

func connectNATS(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// wsClient is a minimal WebSocket test client on a real socket.
type wsClient struct {
	t    testing.TB
	conn net.Conn
	r    io.Reader // conn, or the dialer's reader holding bytes read past the handshake
	// Protocol is the subprotocol the server selected.
	Protocol string
}

func dialWS(t testing.TB, h *Hub, protocols ...string) *wsClient {
	t.Helper()
	return dialWSHeader(t, h, nil, protocols...)
}

// dialWSHeader dials like dialWS with extra upgrade request headers.
func dialWSHeader(t testing.TB, h *Hub, hdr http.Header, protocols ...string) *wsClient {
	t.Helper()
	if protocols == nil {
		protocols = []string{wire.SubprotocolTransportWS}
	}
	d := ws.Dialer{Protocols: protocols, Timeout: 5 * time.Second, Header: ws.HandshakeHeaderHTTP(hdr)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := d.Dial(ctx, "ws://"+h.Addr().String()+"/graphql")
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, r: conn, Protocol: hs.Protocol}
	if br != nil {
		c.r = br
	}
	return c
}

func (c *wsClient) sendFrame(op ws.OpCode, fin bool, payload []byte) {
	c.t.Helper()
	f := ws.NewFrame(op, fin, append([]byte(nil), payload...))
	f = ws.MaskFrameInPlace(f)
	require.NoError(c.t, ws.WriteFrame(c.conn, f))
}

func (c *wsClient) send(msg string) { c.sendFrame(ws.OpText, true, []byte(msg)) }

func (c *wsClient) sendJSON(v any) {
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	c.sendFrame(ws.OpText, true, b)
}

// frame reads the next frame (server frames are unmasked and unfragmented).
func (c *wsClient) frame(timeout time.Duration) (ws.OpCode, []byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	f, err := ws.ReadFrame(c.r)
	if err != nil {
		return 0, nil, err
	}
	return f.Header.OpCode, f.Payload, nil
}

// next reads the next text message as a JSON object. It answers pings on
// the way, as browsers do, so that a slow test is not closed as a dead
// peer by the hub's keep-alive.
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	for {
		op, p, err := c.frame(5 * time.Second)
		require.NoError(c.t, err)
		if op == ws.OpPing {
			c.sendFrame(ws.OpPong, true, p)
			continue
		}
		if op == ws.OpPong {
			continue
		}
		require.Equal(c.t, ws.OpText, op, "frame payload %q", p)
		var m map[string]any
		require.NoError(c.t, json.Unmarshal(p, &m), "payload %q", p)
		return m
	}
}

// expectClose reads until the close frame and returns its code and reason.
func (c *wsClient) expectClose() (uint16, string) {
	c.t.Helper()
	for {
		op, p, err := c.frame(5 * time.Second)
		require.NoError(c.t, err, "expected a close frame")
		if op == ws.OpClose {
			require.GreaterOrEqual(c.t, len(p), 2, "close frame without code")
			return binary.BigEndian.Uint16(p), string(p[2:])
		}
	}
}

// expectSilence asserts that nothing arrives within d.
func (c *wsClient) expectSilence(d time.Duration) {
	c.t.Helper()
	op, p, err := c.frame(d)
	require.Error(c.t, err, "unexpected frame op=%v %q", op, p)
	var ne net.Error
	require.ErrorAs(c.t, err, &ne)
	require.True(c.t, ne.Timeout())
}

// init performs connection_init and expects connection_ack.
func (c *wsClient) init() {
	c.t.Helper()
	c.send(`{"type":"connection_init"}`)
	m := c.next()
	require.Equal(c.t, "connection_ack", m["type"])
}

// sync sends a graphql-transport-ws ping and waits for its pong: the hub
// handles a connection's messages in order, so everything sent before has
// been handled once it returns. It expects no other message in between.
func (c *wsClient) sync() {
	c.t.Helper()
	c.send(`{"type":"ping"}`)
	m := c.next()
	require.Equal(c.t, "pong", m["type"], "message %v", m)
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	c.sendJSON(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
}

func topicQuery(name string) string {
	return fmt.Sprintf(`subscription { topic(name: %q) }`, name)
}

// waitNATSSubs waits until the hub nodes' NATS connections hold n
// subscriptions in the server's own view.
func waitNATSSubs(t testing.TB, e *EmbeddedNATS, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return e.ClientSubscriptions("subhub-") == n }, 5*time.Second, 10*time.Millisecond,
		"want %d NATS subscriptions by subhub connections, have %d", n, e.ClientSubscriptions("subhub-"))
}

func httpGet(t testing.TB, h *Hub, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+h.Addr().String()+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// msgComplete publishes the raw-envelope completion of subject.
func msgComplete(t testing.TB, nc *nats.Conn, subject string) {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Header.Set(wire.CompleteHeader, "true")
	require.NoError(t, nc.PublishMsg(m))
}

// waitSubs waits until h has registered n subscriptions.
func waitSubs(t testing.TB, h *Hub, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return h.Stats().Subscriptions.Load() == n }, 5*time.Second, 5*time.Millisecond,
		"want %d subscriptions, have %d", n, h.Stats().Subscriptions.Load())
}

// oneSubscriber starts NATS and a hub (mod applied to its options) with one
// graphql-transport-ws client subscribed as "1" to subject through the
// built-in topic field, and returns them with a NATS connection to publish.
func oneSubscriber(t *testing.T, subject string, mod func(*Options)) (*Hub, *nats.Conn, *wsClient) {
	t.Helper()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), mod)
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery(subject))
	waitNATSSubs(t, e, 1)
	return h, nc, c
}
