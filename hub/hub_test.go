package hub

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

func TestSubscribeReceivesNATSMessages(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())

	c := dialWS(t, h)
	require.Equal(t, wire.SubprotocolTransportWS, c.Protocol)
	c.init()
	c.subscribe("a", topicQuery("prices.eur"))
	c.subscribe("b", `subscription { p: topic(name: "prices.eur") }`)
	waitSubs(t, h, 2)
	waitNATSSubs(t, e, 1)

	require.NoError(t, nc.Publish("prices.eur", []byte(`{"p":1.5,"s":"x"}`)))
	got := map[string]string{}
	for i := 0; i < 2; i++ {
		m := c.next()
		require.Equal(t, "next", m["type"])
		payload := m["payload"].(map[string]any)
		data := payload["data"].(map[string]any)
		got[m["id"].(string)] = fmt.Sprint(data)
	}
	require.Equal(t, map[string]string{
		"a": "map[topic:map[p:1.5 s:x]]",
		"b": "map[p:map[p:1.5 s:x]]",
	}, got)
}

func TestInvalidNATSBodyIsDroppedAndCounted(t *testing.T) {
	t.Parallel()
	h, nc, c := oneSubscriber(t, "t1", nil)

	require.NoError(t, nc.Publish("t1", []byte(`{not json`)))
	require.NoError(t, nc.Publish("t1", []byte(`42`)))
	m := c.next()
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(42)}}, m["payload"])
	require.Equal(t, int64(1), h.Stats().InvalidMessages.Load())
}

// An event whose result could never fit a connection's outbound queue is
// replaced by an error for its subscribers, who stay subscribed, instead of
// closing them as slow.
func TestOversizedResultIsReplacedByAnError(t *testing.T) {
	t.Parallel()
	h, nc, c := oneSubscriber(t, "big", func(o *Options) { o.MaxOutboundBytes = 8192 })

	require.NoError(t, nc.Publish("big", []byte(`{"s":"`+strings.Repeat("x", 8000)+`"}`)))
	require.NoError(t, nc.Publish("big", []byte(`{"s":"small"}`)))
	m := c.next()
	require.Equal(t, "next", m["type"])
	require.Equal(t, map[string]any{"data": nil, "errors": []any{map[string]any{
		"message":   "The result for this event is larger than this server's limit of 7168 bytes, so it was not sent.",
		"locations": []any{map[string]any{"line": float64(1), "column": float64(16)}},
		"path":      []any{"topic"},
	}}}, m["payload"])
	m = c.next()
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"s": "small"}}}, m["payload"])
	require.Equal(t, int64(1), h.Stats().OversizedResults.Load())
	require.Equal(t, int64(0), h.Stats().SlowClosed.Load())
}

// A string cut inside a surrogate pair by a JavaScript publisher reaches
// clients as the same escape, as JSON.stringify would write it, not as the
// text of the escape.
func TestLoneSurrogateEscapesPassThrough(t *testing.T) {
	t.Parallel()
	_, nc, c := oneSubscriber(t, "cut", nil)
	require.NoError(t, nc.Publish("cut", []byte(`{"s":"smile \ud83d","ok":"\ud83d\ude00"}`)))
	op, p, err := c.frame(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, ws.OpText, op)
	require.Equal(t, `{"id":"1","type":"next","payload":{"data":{"topic":{"s":"smile \ud83d","ok":"😀"}}}}`, string(p))
}

func TestInvalidTopicNameGetsErrorAndConnectionStays(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.init()
	for i, name := range []string{"", "a.*", "a.>", "a b", "a..b", ".a"} {
		id := fmt.Sprint("bad", i)
		c.subscribe(id, topicQuery(name))
		m := c.next()
		require.Equal(t, "error", m["type"], "name %q", name)
		require.Equal(t, id, m["id"])
		errs := m["payload"].([]any)
		require.NotEmpty(t, errs)
		require.NotEmpty(t, errs[0].(map[string]any)["message"])
	}
	// The connection still works.
	c.subscribe("ok", topicQuery("fine"))
	waitNATSSubs(t, e, 1)
	require.NoError(t, nc.Publish("fine", []byte(`true`)))
	require.Equal(t, "ok", c.next()["id"])
}

// A subscription whose arguments spell a subject longer than a NATS protocol
// line may be is refused: subscribing to it would make the NATS server close
// the hub's connection, and every other client would stop receiving.
func TestOverlongTopicIsRefusedAndNATSStaysUp(t *testing.T) {
	t.Parallel()
	h, nc, other := oneSubscriber(t, "fine", nil)

	c := dialWS(t, h)
	c.init()
	c.subscribe("long", topicQuery(strings.Repeat("x", 6000)))
	m := c.next()
	require.Equal(t, "error", m["type"])
	require.Equal(t, "long", m["id"])
	require.Contains(t, m["payload"].([]any)[0].(map[string]any)["message"], "more than the 1024 a topic may have")
	c.sync()

	require.True(t, h.Healthy())
	require.NoError(t, nc.Publish("fine", []byte(`1`)))
	m = other.next()
	require.Equal(t, "1", m["id"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(1)}}, m["payload"])
}

func TestCloseCodes(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.InitTimeout = 200 * time.Millisecond
		o.MaxMessageBytes = 1024
	})
	cases := []struct {
		name   string
		run    func(c *wsClient)
		code   uint16
		reason string
	}{
		{"invalid JSON", func(c *wsClient) { c.init(); c.send(`{`) }, 4400, ""},
		{"unknown type", func(c *wsClient) { c.init(); c.send(`{"type":"start","id":"1"}`) }, 4400, ""},
		{"subscribe without id", func(c *wsClient) { c.init(); c.send(`{"type":"subscribe","payload":{"query":"x"}}`) }, 4400, ""},
		{"subscribe before ack", func(c *wsClient) { c.subscribe("1", topicQuery("a")) }, 4401, "Unauthorized"},
		{"init timeout", func(c *wsClient) {}, 4408, "Connection initialisation timeout"},
		{"second init", func(c *wsClient) { c.init(); c.send(`{"type":"connection_init"}`) }, 4429, "Too many initialisation requests"},
		{"duplicate id", func(c *wsClient) {
			c.init()
			c.subscribe("dup", topicQuery("a"))
			c.subscribe("dup", topicQuery("b"))
		}, 4409, "Subscriber for dup already exists"},
		{"too big", func(c *wsClient) {
			c.init()
			c.send(`{"type":"ping","payload":{"x":"` + strings.Repeat("x", 2000) + `"}}`)
		}, 1009, ""},
		{"unmasked frame", func(c *wsClient) {
			c.init()
			require.NoError(t, ws.WriteFrame(c.conn, ws.NewTextFrame([]byte(`{"type":"ping"}`))))
		}, 1002, ""},
		{"close reason not UTF-8", func(c *wsClient) {
			c.init()
			c.sendFrame(ws.OpClose, true, append([]byte{0x03, 0xe8}, 0xff, 0xfe))
		}, 1007, "invalid UTF-8 in close reason"},
		// Control frames between fragments are not part of the message:
		// 1000 bytes of message with a 100-byte ping in between fit 1024.
		{"ping inside a message near the limit", func(c *wsClient) {
			c.init()
			msg := []byte(`{"type":"ping","payload":{"x":"` + strings.Repeat("x", 1000-34) + `"}}`)
			require.Len(t, msg, 1000)
			c.sendFrame(ws.OpText, false, msg[:600])
			c.sendFrame(ws.OpPing, true, bytes.Repeat([]byte("p"), 100))
			c.sendFrame(ws.OpContinuation, true, msg[600:])
			op, p, err := c.frame(5 * time.Second)
			require.NoError(t, err)
			require.Equal(t, ws.OpPong, op)
			require.Len(t, p, 100)
			require.Equal(t, "pong", c.next()["type"])
			c.sendFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
		}, 1000, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dialWS(t, h)
			tc.run(c)
			code, reason := c.expectClose()
			require.Equal(t, tc.code, code, "reason %q", reason)
			if tc.reason != "" {
				require.Equal(t, tc.reason, reason)
			}
		})
	}
	t.Run("no acceptable subprotocol", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, h, "mqtt")
		require.Empty(t, c.Protocol)
		code, _ := c.expectClose()
		require.Equal(t, uint16(4406), code)
	})
	t.Run("client close is echoed", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, h)
		c.init()
		c.sendFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))
		code, _ := c.expectClose()
		require.Equal(t, uint16(1000), code)
	})
}

func TestPingPongAndFragments(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	c := dialWS(t, h)
	c.init()

	c.send(`{"type":"ping","payload":{"k":"v"}}`)
	m := c.next()
	require.Equal(t, "pong", m["type"])
	require.Equal(t, map[string]any{"k": "v"}, m["payload"])

	c.sendFrame(ws.OpPing, true, []byte("hello"))
	op, p, err := c.frame(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, ws.OpPong, op)
	require.Equal(t, "hello", string(p))

	// A ping message split over three fragments with a control frame between.
	msg := []byte(`{"type":"ping","payload":{"frag":true}}`)
	c.sendFrame(ws.OpText, false, msg[:5])
	c.sendFrame(ws.OpContinuation, false, msg[5:20])
	c.sendFrame(ws.OpPing, true, nil)
	c.sendFrame(ws.OpContinuation, true, msg[20:])
	m = c.next()
	require.Equal(t, "pong", m["type"])
	require.Equal(t, map[string]any{"frag": true}, m["payload"])
}

// A completion still queued in a fan-out loop when its subject's last
// subscriber left belongs to the released NATS subscription: it must not end
// the subscribers who came after it, on a new subscription of the subject.
func TestStaleCompletionSparesANewerTopic(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	upstream := func() *nats.Subscription {
		var up *nats.Subscription
		h.reg.View("stale.x", func(t *topic) {
			t.UpMu.Lock()
			up, _ = t.Upstream.(*nats.Subscription)
			t.UpMu.Unlock()
		})
		return up
	}

	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("stale.x"))
	waitNATSSubs(t, e, 1)
	old := upstream()
	require.NotNil(t, old)
	c.send(`{"id":"1","type":"complete"}`)
	waitNATSSubs(t, e, 0)
	c.subscribe("2", topicQuery("stale.x"))
	waitNATSSubs(t, e, 1)
	require.NotSame(t, old, upstream())

	// The old subscription's completion reaches the loop only now.
	stale := nats.NewMsg("stale.x")
	stale.Header.Set(wire.CompleteHeader, "true")
	stale.Sub = old
	h.loops[h.reg.ShardOf("stale.x")].ch <- stale
	require.NoError(t, nc.Publish("stale.x", []byte(`{"after":1}`)))
	m := c.next()
	require.Equal(t, "next", m["type"], "message %v", m)
	require.Equal(t, "2", m["id"])
	require.Equal(t, int64(0), h.Stats().Completions.Load())

	// A completion through the current subscription still ends it.
	msgComplete(t, nc, "stale.x")
	m = c.next()
	require.Equal(t, map[string]any{"id": "2", "type": "complete"}, m)
	waitNATSSubs(t, e, 0)
}

func TestClientCompleteStopsDeliveryAndIDIsReusable(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("x"))
	waitNATSSubs(t, e, 1)
	c.send(`{"type":"complete","id":"1"}`)
	c.send(`{"type":"complete","id":"unknown"}`)
	waitNATSSubs(t, e, 0)
	require.NoError(t, nc.Publish("x", []byte(`1`)))
	c.expectSilence(200 * time.Millisecond)

	c.subscribe("1", topicQuery("x"))
	waitNATSSubs(t, e, 1)
	require.NoError(t, nc.Publish("x", []byte(`2`)))
	m := c.next()
	require.Equal(t, "1", m["id"])
	require.Equal(t, float64(2), m["payload"].(map[string]any)["data"].(map[string]any)["topic"])
}

func TestOneNATSSubscriptionPerSubject(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())

	var clients []*wsClient
	for i := 0; i < 110; i++ {
		c := dialWS(t, h)
		c.init()
		subject := "one"
		if i >= 100 {
			subject = "two"
		}
		c.subscribe("s", topicQuery(subject))
		clients = append(clients, c)
	}
	require.Eventually(t, func() bool { return h.Stats().Subscriptions.Load() == 110 }, 5*time.Second, 10*time.Millisecond)
	waitNATSSubs(t, e, 2)

	require.NoError(t, nc.Publish("one", []byte(`"x"`)))
	require.NoError(t, nc.Publish("two", []byte(`"y"`)))
	for i, c := range clients {
		m := c.next()
		want := "x"
		if i >= 100 {
			want = "y"
		}
		require.Equal(t, want, m["payload"].(map[string]any)["data"].(map[string]any)["topic"])
	}
	// Everyone leaves: the subscriptions go with the last one.
	for _, c := range clients {
		c.conn.Close()
	}
	waitNATSSubs(t, e, 0)
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestTwoNodesOnOneNATS(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h1 := startHub(t, e.ClientURL(), nil)
	h2 := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	c1, c2 := dialWS(t, h1), dialWS(t, h2)
	c1.init()
	c2.init()
	c1.subscribe("a", topicQuery("news"))
	c2.subscribe("b", topicQuery("news"))
	waitNATSSubs(t, e, 2)
	require.NoError(t, nc.Publish("news", []byte(`{"n":1}`)))
	require.Equal(t, "a", c1.next()["id"])
	require.Equal(t, "b", c2.next()["id"])
	c1.expectSilence(200 * time.Millisecond)
	c2.expectSilence(10 * time.Millisecond)
}

func TestSurvivesNATSRestart(t *testing.T) {
	t.Parallel()
	e, err := StartEmbeddedNATS("127.0.0.1:0")
	require.NoError(t, err)
	url := e.ClientURL()
	addr := strings.TrimPrefix(url, "nats://")
	h := startHub(t, url, nil)
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("r"))
	waitNATSSubs(t, e, 1)

	e.Shutdown()
	require.Eventually(t, func() bool { return !h.Healthy() }, 5*time.Second, 10*time.Millisecond)
	resp, _ := httpGet(t, h, "/healthz", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	e2, err := StartEmbeddedNATS(addr)
	require.NoError(t, err)
	t.Cleanup(e2.Shutdown)
	require.Eventually(t, h.Healthy, 10*time.Second, 20*time.Millisecond)
	waitNATSSubs(t, e2, 1)
	nc := connectNATS(t, url)
	require.NoError(t, nc.Publish("r", []byte(`"back"`)))
	m := c.next()
	require.Equal(t, "back", m["payload"].(map[string]any)["data"].(map[string]any)["topic"])
}

// The reconnect log line carried the NATS URL with its password.
func TestReconnectLogRedactsPassword(t *testing.T) {
	t.Parallel()
	e, err := StartEmbeddedNATS("127.0.0.1:0")
	require.NoError(t, err)
	addr := strings.TrimPrefix(e.ClientURL(), "nats://")
	var log syncBuffer
	startHub(t, "nats://hub:s3cret@"+addr, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	e.Shutdown()
	e2, err := StartEmbeddedNATS(addr)
	require.NoError(t, err)
	t.Cleanup(e2.Shutdown)
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "nats reconnected") }, 10*time.Second, 20*time.Millisecond)
	require.NotContains(t, log.String(), "s3cret")
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSlowClientIsClosedFastClientsKeepReceiving(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.MaxOutboundBytes = 256 << 10 })
	nc := connectNATS(t, e.ClientURL())

	slow := dialWS(t, h)
	slow.init()
	slow.subscribe("s", topicQuery("flood"))
	fast := dialWS(t, h)
	fast.init()
	fast.subscribe("f", topicQuery("flood"))
	waitSubs(t, h, 2)
	waitNATSSubs(t, e, 1)

	// The slow client never reads. The fast one reads everything, and the
	// publisher keeps at most `window` messages ahead of it, so it never
	// falls behind by more than the bound; the slow one must.
	const n, window = 2000, 8
	payload := []byte(`"` + strings.Repeat("p", 8<<10) + `"`)
	got := make(chan struct{}, n)
	go func() {
		for {
			op, _, err := fast.frame(10 * time.Second)
			if err != nil {
				close(got)
				return
			}
			if op == ws.OpText {
				got <- struct{}{}
			}
		}
	}()
	received := 0
	for i := 0; i < n; i++ {
		if i >= window {
			_, ok := <-got
			require.True(t, ok, "fast client lost its connection after %d messages", received)
			received++
		}
		require.NoError(t, nc.Publish("flood", payload))
	}
	for received < n {
		_, ok := <-got
		require.True(t, ok, "fast client lost its connection after %d messages", received)
		received++
	}
	require.Eventually(t, func() bool { return h.Stats().SlowClosed.Load() >= 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 1 }, 15*time.Second, 20*time.Millisecond)
}

// maskedFrames returns n masked text frames of msg, back to back.
func maskedFrames(t *testing.T, msg string, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		f := ws.MaskFrameInPlace(ws.NewTextFrame([]byte(msg)))
		require.NoError(t, ws.WriteFrame(&b, f))
	}
	return b.Bytes()
}

// A client that sends faster than it is served (here, pongs that need no
// answer, as fast as loopback carries them) is closed with 1008 once its
// unhandled input passes the bound; the server's memory does not follow
// the flood, and other clients are served.
func TestInboundFloodIsClosed(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	flooder := dialWS(t, h)
	flooder.init()
	other := dialWS(t, h)
	other.init()

	batch := maskedFrames(t, `{"type":"pong"}`, 64<<10) // ~1.4 MB
	sent := make(chan int, 1)
	go func() {
		total := 0
		for total < 256<<20 {
			n, err := flooder.conn.Write(batch)
			total += n
			if err != nil {
				break
			}
		}
		sent <- total
	}()
	code, reason := flooder.expectClose()
	require.Equal(t, uint16(1008), code)
	require.Equal(t, "client sends faster than it is served", reason)
	require.Equal(t, int64(1), h.Stats().FloodClosed.Load())
	flooder.conn.Close()
	require.Less(t, <-sent, 256<<20, "the flood ran to its end: the server never pushed back")
	other.sync()
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 1 }, 10*time.Second, 10*time.Millisecond)
}

// Replies count toward the outbound bound like deliveries: a client that
// sends pings with large payloads and never reads the pongs is closed as
// slow instead of growing its queue.
func TestUnreadRepliesCountTowardOutboundBound(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.MaxOutboundBytes = 64 << 10
		o.WriteTimeout = time.Minute // the bound, not the write timeout, must close it
		// Inbound bound 4 × 8 MiB, more than the 31 MB sent below: a
		// server slowed by -race and parallel tests must not close the
		// client as a flooder instead.
		o.MaxMessageBytes = 8 << 20
	})
	c := dialWS(t, h)
	c.init()
	ping := `{"type":"ping","payload":{"x":"` + strings.Repeat("x", 60<<10) + `"}}`
	batch := maskedFrames(t, ping, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// ~25 MB/s, which the server handles as it comes (no flood), up to
		// 32 MB of pongs: far beyond what the socket buffers hold.
		for i := 0; i < 128; i++ {
			if _, err := c.conn.Write(batch); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	require.Eventuallyf(t, func() bool { return h.Stats().SlowClosed.Load() == 1 }, 10*time.Second, 10*time.Millisecond,
		"not closed as slow; flood-closed %d", h.Stats().FloodClosed.Load())
	require.Zero(t, h.Stats().FloodClosed.Load())
	c.conn.Close()
	<-done
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	resp, body := httpGet(t, h, "/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ok\n", body)

	resp, body = httpGet(t, h, "/graphql", nil)
	require.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
	require.Contains(t, body, "WebSocket")

	// graphql-sse's single connection mode reserves a stream with PUT: it
	// gets a clear 405, not a 426 that its client shows without a reason.
	req, err := http.NewRequest(http.MethodPut, "http://"+h.Addr().String()+"/graphql", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, POST, OPTIONS", resp.Header.Get("Allow"))
	require.Contains(t, string(b), "single connection mode is not supported")

	resp, _ = httpGet(t, h, "/nope", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body = httpGet(t, h, "/metrics", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "subhub_connections ")
	// The help texts are UTF-8 ("×"): say so.
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))

	resp, _ = httpGet(t, h, "/publish", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "publishing is off without a token")
}

func TestShutdownClosesClientsWithGoingAway(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	c := dialWS(t, h)
	c.init()
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(t.Context()) }()
	code, _ := c.expectClose()
	require.Equal(t, uint16(1001), code)
	c.sendFrame(ws.OpClose, true, ws.NewCloseFrameBody(1001, ""))
	require.NoError(t, <-done)
}

// A client still connected when the shutdown's context ends (it never
// answers the close frame) is closed, and Shutdown returns: closing it runs
// its close callback, which must not wait for a lock Shutdown holds.
func TestShutdownReturnsWithClientLeftAfterGrace(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	c := dialWS(t, h)
	c.init()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(ctx) }()
	code, _ := c.expectClose()
	require.Equal(t, uint16(1001), code)
	// No close frame back: the connection outlives the context.
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			require.NoError(t, err)
			return true
		default:
			return false
		}
	}, 5*time.Second, 10*time.Millisecond, "Shutdown did not return")
	require.Zero(t, h.Stats().Connections.Load())
}

// With a linger, a subject's NATS subscription survives quick
// unsubscribe/subscribe churn and goes once the linger has passed.
func TestLingerKeepsSubscriptionAcrossChurn(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Linger = time.Second })
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("churny"))
	waitNATSSubs(t, e, 1)
	before := h.Stats().NATSSubscriptions.Load()
	for i := 0; i < 20; i++ {
		c.send(`{"type":"complete","id":"1"}`)
		c.subscribe("1", topicQuery("churny"))
	}
	// Waiting for the subscription count alone could see 1 between a
	// complete and the next subscribe and publish into that gap.
	c.sync()
	require.Equal(t, int64(1), h.Stats().Subscriptions.Load())
	require.Equal(t, before, h.Stats().NATSSubscriptions.Load(), "no resubscription while lingering")
	require.NoError(t, nc.Publish("churny", []byte(`"still here"`)))
	require.Equal(t, "still here", c.next()["payload"].(map[string]any)["data"].(map[string]any)["topic"])

	c.send(`{"type":"complete","id":"1"}`)
	waitSubs(t, h, 0)
	require.Equal(t, 1, e.ClientSubscriptions("subhub-"), "kept during the linger")
	waitNATSSubs(t, e, 0)
}

// A linger shorter than 4ns used to start the expiry ticker with a zero
// interval, which panics: the hub must start and release the subscription.
func TestTinyLingerStartsAndReleases(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Linger = 3 * time.Nanosecond })
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("tiny"))
	waitNATSSubs(t, e, 1)
	c.send(`{"type":"complete","id":"1"}`)
	waitSubs(t, h, 0)
	waitNATSSubs(t, e, 0)
}

func TestMetricsIncludeRuntimeFigures(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	_, body := httpGet(t, h, "/metrics", nil)
	for _, name := range []string{"subhub_deliveries_total ", "go_goroutines ", "go_gc_cycles_total ", "go_gc_heap_live_bytes ", `go_gc_pause_seconds{quantile="0.99"} `} {
		require.Contains(t, body, name)
	}
}

func TestMaxConnectionsRefusesUpgrades(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.MaxConnections = 2 })
	a, b := dialWS(t, h), dialWS(t, h)
	a.init()
	b.init()
	d := ws.Dialer{Protocols: []string{wire.SubprotocolTransportWS}, Timeout: 5 * time.Second}
	_, _, _, err := d.Dial(t.Context(), "ws://"+h.Addr().String()+"/graphql")
	var rejected ws.StatusError
	require.ErrorAs(t, err, &rejected)
	require.Equal(t, http.StatusServiceUnavailable, int(rejected))
	// An SSE stream is a connection like a WebSocket: refused too.
	br, _ := rawHTTP(t, h, "GET /graphql?query="+url.QueryEscape(topicQuery("x"))+" HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	// the two admitted clients are unaffected
	a.sync()
}

// MaxConnections limits streams: a socket that has not sent its request yet
// and a plain HTTP request do not take a WebSocket's or SSE stream's place,
// and a stream that ends gives its place back.
func TestMaxConnectionsCountsOnlyStreams(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.MaxConnections = 2 })
	idle, err := net.Dial("tcp", h.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { idle.Close() })
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 1 }, 5*time.Second, 10*time.Millisecond)

	a := dialWS(t, h)
	a.init()
	resp, _ := httpGet(t, h, "/healthz", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sse := "GET /graphql?query=" + url.QueryEscape(topicQuery("x")) + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
	br, second := rawHTTP(t, h, sse)
	resp, err = http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the idle socket must not take the second stream's place")

	d := ws.Dialer{Protocols: []string{wire.SubprotocolTransportWS}, Timeout: 5 * time.Second}
	_, _, _, err = d.Dial(t.Context(), "ws://"+h.Addr().String()+"/graphql")
	var rejected ws.StatusError
	require.ErrorAs(t, err, &rejected)
	require.Equal(t, http.StatusServiceUnavailable, int(rejected))

	second.Close()
	require.Eventually(t, func() bool {
		c, _, _, err := d.Dial(t.Context(), "ws://"+h.Addr().String()+"/graphql")
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, 5*time.Second, 20*time.Millisecond, "a closed stream gives its place back")
	a.sync()
}

// A connection that never completes its HTTP request gets 408 and is closed.
func TestSilentConnectionTimesOut(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.RequestTimeout = 100 * time.Millisecond })
	br, _ := rawHTTP(t, h, "GET /graph")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
}

// One connection cannot make the server hold without bound: at most
// --max-subscriptions active subscriptions (more get an error and the
// connection stays usable; a completed one frees its place), and ids of at
// most MaxIDBytes (the id is kept and echoed in every frame).
func TestSubscriptionLimitsPerConnection(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.MaxSubscriptions = 3 })
	c := dialWS(t, h)
	c.init()
	for i := range 3 {
		c.subscribe(fmt.Sprint(i), topicQuery(fmt.Sprintf("lim.%d", i)))
	}
	c.subscribe("3", topicQuery("lim.3"))
	m := c.next()
	require.Equal(t, "error", m["type"], "message %v", m)
	require.Equal(t, "3", m["id"])
	require.Equal(t, []any{map[string]any{"message": "Too many subscriptions on this connection: at most 3 may be active at once"}}, m["payload"])
	require.Equal(t, int64(1), h.Stats().SubscriptionsRefused.Load())

	c.send(`{"type":"complete","id":"0"}`)
	c.subscribe("3", topicQuery("lim.3"))
	c.sync()
	require.Equal(t, int64(3), h.Stats().Subscriptions.Load())
	waitNATSSubs(t, e, 3)

	long := strings.Repeat("x", MaxIDBytes+1)
	c.subscribe(strings.Repeat("y", MaxIDBytes), topicQuery("lim.ok")) // at the limit: only the count refuses it
	m = c.next()
	require.Equal(t, "error", m["type"], "message %v", m)

	legacy := dialWS(t, h, wire.SubprotocolLegacy)
	legacy.send(`{"type":"connection_init"}`)
	require.Equal(t, "connection_ack", legacy.next()["type"])
	require.Equal(t, "ka", legacy.next()["type"])
	legacy.sendJSON(map[string]any{"type": "start", "id": long, "payload": map[string]any{"query": topicQuery("lim.long")}})
	m = legacy.next()
	require.Equal(t, "connection_error", m["type"], "message %v", m)
	require.Equal(t, int64(3), h.Stats().Subscriptions.Load(), "nothing was subscribed with the long id")

	c.subscribe(long, topicQuery("lim.long"))
	code, reason := c.expectClose()
	require.Equal(t, uint16(4400), code)
	require.Equal(t, fmt.Sprintf("Subscription id longer than %d bytes", MaxIDBytes), reason)
}

// A writer that waits on a full socket (slowWrite) may go on after netpoll
// closed the connection (a slow client closed by the outbound bound, or
// gone): netpoll frees its output buffer right after onClosed, and copying
// into it dereferenced nil and took the process down (seen once in CI).
// After the close it must fail quietly instead.
func TestSlowWriteAfterCloseDoesNotPanic(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	client := dialWS(t, h)
	client.init()
	var c *conn
	h.connsMu.Lock()
	for cc := range h.conns {
		c = cc
	}
	h.connsMu.Unlock()
	require.NotNil(t, c)
	require.NoError(t, c.nc.Close())
	c.mu.Lock()
	require.Equal(t, stateClosed, c.state, "netpoll ran onClosed within Close")
	c.writing = true // as writeLoopLocked leaves it for slowWrite
	c.mu.Unlock()

	c.slowWrite([]byte("queued frames"), nil, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.False(t, c.writing)
	require.False(t, c.blocked)
}
