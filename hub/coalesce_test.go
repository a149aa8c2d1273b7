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
// pacing, the follow-up messages arrive a few milliseconds after the first.)
// The hold is only checked in a round whose first flush was written, and
// whose follow-ups were published, well inside the gap; on a machine too
// busy for that the round is repeated after a quiet spell, and the test
// fails if no round qualifies.
func TestCoalesceHoldsFramesUntilTheGapHasPassed(t *testing.T) {
	t.Parallel()
	const gap = 100 * time.Millisecond
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Coalesce = gap })
	nc := connectNATS(t, e.ClientURL())

	clients := subscribeMany(t, h, e, paceMin, "paced") // the smallest fan-out that is paced

	seq := func(c *wsClient) int {
		m := c.next()
		require.Equal(t, "next", m["type"])
		return int(m["payload"].(map[string]any)["data"].(map[string]any)["topic"].(map[string]any)["seq"].(float64))
	}
	publish := func(n int) { require.NoError(t, nc.Publish("paced", []byte(`{"seq":`+strconv.Itoa(n)+`}`))) }
	for round, n := 0, 1; ; round, n = round+1, n+4 {
		stats := h.Stats()
		paced, flushes := stats.PacedFlushes.Load(), stats.Fanout.Count()
		start := time.Now() // before the first large flush
		publish(n)
		// Once the first flush has been written to every client, each
		// follow-up dirties them all again: a flush large enough to pace.
		require.Eventually(t, func() bool { return stats.Fanout.Count() > flushes }, 5*time.Second, time.Millisecond)
		for i := n + 1; i <= n+3; i++ {
			publish(i)
		}
		inside := time.Since(start) < gap/2
		for _, c := range clients {
			require.Equal(t, n, seq(c), "the first flush after a quiet spell is not held")
			for want := n + 1; want <= n+3; want++ {
				require.Equal(t, want, seq(c))
			}
		}
		if inside {
			require.GreaterOrEqual(t, time.Since(start), gap, "held until the gap after the first flush had passed")
			require.Greater(t, h.Stats().PacedFlushes.Load(), paced)
			return
		}
		require.Less(t, round, 4, "no round published its follow-ups within %v of the first message", gap/2)
		time.Sleep(2 * gap) // a quiet spell: the next first flush is not held
	}
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
