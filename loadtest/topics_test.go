package loadtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTopicSet(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Topics = 10
	cfg.Query = `subscription { t: topic(name: "{{topic}}") { x } }`
	ts := newTopicSet(&cfg)
	require.Equal(t, "lt.7", ts.names[7])
	require.Equal(t, `"subscription { t: topic(name: \"lt.7\") { x } }"`, string(ts.queryJSON[7]))
	for i := uint64(0); i < 30; i++ {
		require.Equal(t, int(i%10), ts.pick(0, i), "uniform is round robin")
	}

	cfg.TopicDist = DistZipf
	zipf := func(seed int64, stream uint64) []int {
		c := cfg
		c.Seed = seed
		z := newTopicSet(&c)
		counts := make([]int, c.Topics)
		for i := uint64(0); i < 20000; i++ {
			counts[z.pick(stream, i)]++
		}
		return counts
	}
	a, b := zipf(1, 0), zipf(1, 0)
	require.Equal(t, a, b, "deterministic for a seed")
	require.NotEqual(t, a, zipf(2, 0), "the seed matters")
	require.NotEqual(t, a, zipf(1, 1), "streams are independent")
	// s=1.1 over 10 topics: P(k) = (k+1)^-1.1 / 2.680: P(0) ≈ 0.373, P(1) ≈ 0.174, P(9) ≈ 0.0296.
	require.InDelta(t, 0.373*20000, a[0], 400)
	require.InDelta(t, 0.174*20000, a[1], 300)
	require.InDelta(t, 0.0296*20000, a[9], 150)
}

func TestIDsRepeatTopics(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Topics = 2
	cfg.SubsPerConn = 5
	e := &engine{cfg: &cfg, topics: newTopicSet(&cfg), targets: []*target{{}}}
	c := e.newConn(3, false)
	var ids []string
	for _, s := range c.subs {
		ids = append(ids, string(s.id))
	}
	// global subs 15..19 → topics 1,0,1,0,1.
	require.Equal(t, []string{"lt.1", "lt.0", "lt.1#1", "lt.0#1", "lt.1#2"}, ids)
}
