package hub

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSmallFanoutsAreNotPaced: fan-outs under paceMin connections are
// written at once however often they come.
func TestSmallFanoutsAreNotPaced(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Coalesce = 100 * time.Millisecond })
	nc := connectNATS(t, e.ClientURL())
	clients := subscribeMany(t, h, e, inlineFlush+8, "small") // through the writer pool, under paceMin
	for i := 1; i <= 3; i++ {
		require.NoError(t, nc.Publish("small", []byte(`{"seq":1}`)))
		for _, c := range clients {
			require.Equal(t, "next", c.next()["type"])
		}
	}
	require.Zero(t, h.Stats().PacedFlushes.Load(), "none held")
}

func TestPaceWait(t *testing.T) {
	p := newWriterPool(new(DurationHistogram))
	require.Zero(t, p.paceWait(time.Hour), "nothing written yet: no reason to wait")
	p.submit(nil)
	require.Zero(t, p.paceWait(time.Hour), "a flush below paceMin does not set the pacing clock")
	p.markLarge()
	require.Greater(t, p.paceWait(time.Hour), 59*time.Minute, "right after a large flush the next one waits")
	require.Zero(t, p.paceWait(0), "pacing off")
	time.Sleep(2 * time.Millisecond)
	require.LessOrEqual(t, p.paceWait(time.Millisecond), time.Duration(0), "a flush further apart than the gap starts at once")
}

// TestCoalesceHoldsFramesUntilTheGapHasPassed: a large fan-out right after
// another one waits for the rest of the gap and takes the frames queued
// meanwhile with it, in order, none lost. (It cannot pass early: without
// pacing, messages 2-4 arrive a few milliseconds after message 1.)
func TestCoalesceHoldsFramesUntilTheGapHasPassed(t *testing.T) {
	t.Parallel()
	const gap = 100 * time.Millisecond
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Coalesce = gap })
	nc := connectNATS(t, e.ClientURL())

	clients := subscribeMany(t, h, e, paceMin, "paced") // the smallest fan-out that is paced

	seq := func(c *wsClient) string {
		m := c.next()
		require.Equal(t, "next", m["type"])
		return strconv.Itoa(int(m["payload"].(map[string]any)["data"].(map[string]any)["topic"].(map[string]any)["seq"].(float64)))
	}
	start := time.Now() // before the first large flush
	require.NoError(t, nc.Publish("paced", []byte(`{"seq":1}`)))
	for _, c := range clients {
		require.Equal(t, "1", seq(c), "the first flush after a quiet spell is not held")
	}
	for i := 2; i <= 4; i++ {
		require.NoError(t, nc.Publish("paced", []byte(`{"seq":`+strconv.Itoa(i)+`}`)))
	}
	for _, c := range clients {
		for want := 2; want <= 4; want++ {
			require.Equal(t, strconv.Itoa(want), seq(c))
		}
	}
	require.GreaterOrEqual(t, time.Since(start), gap, "held until the gap after the first flush had passed")
	require.Positive(t, h.Stats().PacedFlushes.Load())
}

// subscribeMany connects n graphql-ws clients to h, each subscribed once to
// topic, and waits until the hub and NATS have registered them.
func subscribeMany(t *testing.T, h *Hub, e *EmbeddedNATS, n int, topic string) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dialWS(t, h)
		clients[i].init()
		clients[i].subscribe("s", topicQuery(topic))
	}
	waitSubs(t, h, int64(n))
	waitNATSSubs(t, e, 1)
	return clients
}
