package hub

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDurationHistogramBucketsAndText(t *testing.T) {
	var h DurationHistogram
	for _, d := range []time.Duration{
		50 * time.Microsecond,  // ≤ 0.0001
		100 * time.Microsecond, // a bound belongs to its own bucket
		3 * time.Millisecond,   // ≤ 0.005
		90 * time.Millisecond,  // ≤ 0.1
		2 * time.Second,        // +Inf
	} {
		h.Observe(d)
	}
	require.EqualValues(t, 5, h.Count())
	var b bytes.Buffer
	h.writePrometheus(&b, "fanout", "help text")
	text := b.String()
	require.Contains(t, text, "# TYPE subhub_fanout_seconds histogram\n")
	for le, want := range map[string]int{"0.0001": 2, "0.00025": 2, "0.0025": 2, "0.005": 3, "0.05": 3, "0.075": 3, "0.1": 4, "0.15": 4, "1": 4, "+Inf": 5} {
		require.Contains(t, text, `subhub_fanout_seconds_bucket{le="`+le+`"} `+strconv.Itoa(want)+"\n", "bucket le=%s", le)
	}
	require.Contains(t, text, "subhub_fanout_seconds_count 5\n")
	sum := regexp.MustCompile(`subhub_fanout_seconds_sum (\S+)\n`).FindStringSubmatch(text)
	require.Len(t, sum, 2)
	got, err := strconv.ParseFloat(sum[1], 64)
	require.NoError(t, err)
	require.InDelta(t, 2.09315, got, 1e-9)
}

// Every flush is timed once: a small one written by the loop itself and a
// large one split over the writer pool (the last chunk's writer records it).
func TestFanoutFlushesAreTimed(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Coalesce = 0 })
	nc := connectNATS(t, e.ClientURL())
	large := subscribeMany(t, h, e, 3*writerChunk+5, "large") // four chunks on the pool
	small := make([]*wsClient, 3)
	for i := range small {
		small[i] = dialWS(t, h)
		small[i].init()
		small[i].subscribe("s", topicQuery("small"))
	}
	waitSubs(t, h, int64(len(large)+len(small)))
	waitNATSSubs(t, e, 2)
	stats := h.Stats()
	before := stats.Fanout.Count()

	require.NoError(t, nc.Publish("small", []byte(`{"n":1}`)))
	for _, c := range small {
		require.Equal(t, "next", c.next()["type"])
	}
	require.Eventually(t, func() bool { return stats.Fanout.Count() == before+1 }, 5*time.Second, time.Millisecond)

	require.NoError(t, nc.Publish("large", []byte(`{"n":2}`)))
	for _, c := range large {
		require.Equal(t, "next", c.next()["type"])
	}
	require.Eventually(t, func() bool { return stats.Fanout.Count() == before+2 }, 5*time.Second, time.Millisecond,
		"one observation for the whole pooled flush, not one per chunk")
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, before+2, stats.Fanout.Count())

	_, body := httpGet(t, h, "/metrics", nil)
	require.Contains(t, body, "subhub_fanout_seconds_count "+strconv.FormatInt(before+2, 10)+"\n")
	require.Contains(t, body, `subhub_fanout_seconds_bucket{le="+Inf"} `)
}
