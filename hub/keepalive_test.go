package hub

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// keepAliveTest is the interval of the keep-alive tests: short, yet long
// enough for a client under -race on two busy cores to answer in time.
const keepAliveTest = 150 * time.Millisecond

// frameOrErr is one frame read by wsClient.frames.
type frameOrErr struct {
	op  ws.OpCode
	p   []byte
	err error
}

// frames reads c's frames in a goroutine of its own until the connection
// fails, so that the test goroutine can write (answer pings, talk) while
// frames arrive, without read deadlines that could cut a frame in two.
func (c *wsClient) frames() <-chan frameOrErr {
	ch := make(chan frameOrErr, 256)
	done := make(chan struct{})
	c.t.Cleanup(func() { close(done) })
	go func() {
		for {
			op, p, err := c.frame(time.Minute)
			select {
			case ch <- frameOrErr{op, p, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// clientRun is what a client saw during runClient.
type clientRun struct {
	pings, texts int
	closeCode    uint16 // 0: not closed
	closeReason  string
}

// runClient plays a client for d or until the server closes: it answers
// pings with pongs if answer is set, and with talk > 0 sends a
// graphql-transport-ws ping message that often.
func runClient(t *testing.T, c *wsClient, ch <-chan frameOrErr, d time.Duration, answer bool, talk time.Duration) clientRun {
	t.Helper()
	var r clientRun
	end := time.NewTimer(d)
	defer end.Stop()
	var tick <-chan time.Time
	if talk > 0 {
		tk := time.NewTicker(talk)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-end.C:
			return r
		case <-tick:
			c.send(`{"type":"ping"}`)
		case f := <-ch:
			require.NoError(t, f.err)
			switch f.op {
			case ws.OpPing:
				r.pings++
				if answer {
					c.sendFrame(ws.OpPong, true, f.p)
				}
			case ws.OpText:
				r.texts++
			case ws.OpClose:
				require.GreaterOrEqual(t, len(f.p), 2)
				r.closeCode, r.closeReason = uint16(f.p[0])<<8|uint16(f.p[1]), string(f.p[2:])
				return r
			}
		}
	}
}

// publishEvery publishes to subject every interval until the test ends.
func publishEvery(t *testing.T, h *Hub, subject string, every time.Duration) {
	t.Helper()
	nc := connectNATS(t, h.opts.NATSURLs[0])
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				_ = nc.Publish(subject, []byte(`{"v":1}`))
			}
		}
	}()
}

// An idle graphql-transport-ws client gets a ping every interval and, as
// it answers them, stays connected and subscribed.
func TestKeepAlivePingsIdleClient(t *testing.T) {
	t.Parallel()
	start := time.Now()
	h, nc, c := oneSubscriber(t, "ka.idle", func(o *Options) { o.KeepAlive = keepAliveTest })
	ch := c.frames()
	r := runClient(t, c, ch, 8*keepAliveTest, true, 0)
	require.Zero(t, r.closeCode, "closed: %q", r.closeReason)
	require.Zero(t, r.texts)
	require.GreaterOrEqual(t, r.pings, 4, "an idle connection is pinged every interval")
	elapsed := time.Since(start)
	require.LessOrEqual(t, h.Stats().KeepAlivePings.Load(), int64(elapsed/keepAliveTest)+1, "no more than one ping per interval")
	require.Zero(t, h.Stats().KeepAliveClosed.Load())

	require.NoError(t, nc.Publish("ka.idle", []byte(`"still here"`)))
	r = runClient(t, c, ch, 2*keepAliveTest, true, 0)
	require.Zero(t, r.closeCode, "closed: %q", r.closeReason)
	require.Equal(t, 1, r.texts, "the subscription still delivers")
	require.Equal(t, int64(1), h.Stats().Connections.Load())
}

// A peer that vanished (it neither reads nor answers after the ack) is
// closed with 1001 one interval after the first unanswered ping, counted,
// and its subscription released.
func TestKeepAliveClosesDeadPeer(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.KeepAlive = keepAliveTest })
	c := dialWS(t, h)
	c.init()
	acked := time.Now()
	c.subscribe("1", topicQuery("ka.dead"))
	waitNATSSubs(t, e, 1)

	require.Eventually(t, func() bool { return h.Stats().KeepAliveClosed.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	since := time.Since(acked)
	require.GreaterOrEqual(t, since, keepAliveTest+keepAliveTest/2, "a ping gets one whole interval to be answered")
	waitSubs(t, h, 0)
	waitNATSSubs(t, e, 0)
	require.Eventually(t, func() bool { return h.Stats().Connections.Load() == 0 }, 5*time.Second, 5*time.Millisecond)

	// What the peer would have read: a ping, then the close frame.
	op, _, err := c.frame(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, ws.OpPing, op)
	code, reason := c.expectClose()
	require.Equal(t, uint16(keepAliveCloseCode), code)
	require.Equal(t, keepAliveCloseReason, reason)
	require.Equal(t, int64(1), h.Stats().KeepAlivePings.Load(), "closed after its first unanswered ping")
}

// A busy subscriber (events more often than the interval) that only
// receives is pinged far less than an idle one, every third interval to
// check that it is alive, and stays connected as it answers; one that also
// talks is never pinged; one that stops answering is closed although
// events flow.
func TestKeepAliveBusySubscriber(t *testing.T) {
	t.Parallel()
	busy := func(t *testing.T) (*Hub, *wsClient, <-chan frameOrErr) {
		h, _, c := oneSubscriber(t, "ka.busy", func(o *Options) { o.KeepAlive = keepAliveTest })
		publishEvery(t, h, "ka.busy", keepAliveTest/4)
		return h, c, c.frames()
	}
	const run = 9 * keepAliveTest
	t.Run("receives and answers", func(t *testing.T) {
		t.Parallel()
		h, c, ch := busy(t)
		r := runClient(t, c, ch, run, true, 0)
		require.Zero(t, r.closeCode, "closed: %q", r.closeReason)
		require.Greater(t, r.texts, 9, "events flowed")
		require.Positive(t, r.pings, "a busy client is checked too")
		require.LessOrEqual(t, r.pings, 4, "an idle client would get about 9")
		require.Zero(t, h.Stats().KeepAliveClosed.Load())
	})
	t.Run("talks", func(t *testing.T) {
		t.Parallel()
		h, c, ch := busy(t)
		r := runClient(t, c, ch, run, true, keepAliveTest/4)
		require.Zero(t, r.closeCode, "closed: %q", r.closeReason)
		require.Greater(t, r.texts, 9)
		require.Zero(t, r.pings, "traffic both ways: no ping needed")
		require.Zero(t, h.Stats().KeepAliveClosed.Load())
	})
	t.Run("stops answering", func(t *testing.T) {
		t.Parallel()
		h, c, ch := busy(t)
		r := runClient(t, c, ch, 30*keepAliveTest, false, 0)
		require.Equal(t, uint16(keepAliveCloseCode), r.closeCode, "closed as dead")
		require.Equal(t, 1, r.pings)
		require.Equal(t, int64(1), h.Stats().KeepAliveClosed.Load())
	})
}

// A legacy (subscriptions-transport-ws) connection gets a `ka` message
// every interval and, since its client usually says nothing, a ping every
// third one. One that answers stays connected and subscribed; one that
// answers nothing is closed with 1001 one interval after its first ping,
// and its subscription released.
func TestKeepAliveLegacy(t *testing.T) {
	t.Parallel()
	legacy := func(t *testing.T) (*Hub, *EmbeddedNATS, *wsClient, <-chan frameOrErr) {
		e := startNATS(t)
		h := startHub(t, e.ClientURL(), func(o *Options) { o.KeepAlive = keepAliveTest })
		c := dialWS(t, h, "graphql-ws")
		c.send(`{"type":"connection_init"}`)
		c.send(`{"id":"1","type":"start","payload":{"query":"subscription { topic(name: \"ka.legacy\") }"}}`)
		waitNATSSubs(t, e, 1)
		return h, e, c, c.frames()
	}
	t.Run("answers", func(t *testing.T) {
		t.Parallel()
		h, _, c, ch := legacy(t)
		r := runClient(t, c, ch, 9*keepAliveTest, true, 0)
		require.Zero(t, r.closeCode, "closed: %q", r.closeReason)
		require.GreaterOrEqual(t, r.texts, 1+4, "the ack and a ka every interval")
		require.Positive(t, r.pings, "a silent legacy client is checked")
		require.LessOrEqual(t, r.pings, 4, "every third interval, not every one")
		require.Zero(t, h.Stats().KeepAliveClosed.Load())
		require.Equal(t, int64(1), h.Stats().Connections.Load())
	})
	t.Run("answers nothing", func(t *testing.T) {
		t.Parallel()
		h, e, c, ch := legacy(t)
		start := time.Now()
		r := runClient(t, c, ch, 40*keepAliveTest, false, 0)
		require.Equal(t, uint16(keepAliveCloseCode), r.closeCode, "closed as dead")
		require.Equal(t, keepAliveCloseReason, r.closeReason)
		require.GreaterOrEqual(t, time.Since(start), 2*keepAliveTest, "two silent intervals, then a ping, then one to answer it")
		require.Equal(t, 1, r.pings)
		require.Equal(t, int64(1), h.Stats().KeepAliveClosed.Load())
		waitNATSSubs(t, e, 0)
	})
}
