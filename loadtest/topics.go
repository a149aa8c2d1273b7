package loadtest

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// topicSet names the topics and maps subscription and message indices to
// topics deterministically, so that worker processes agree without talking.
type topicSet struct {
	names     []string
	queryJSON [][]byte // JSON string literal of the substituted query, per topic
	cdf       []float64
	seed      uint64
}

func newTopicSet(cfg *Config) *topicSet {
	ts := &topicSet{
		names:     make([]string, cfg.Topics),
		queryJSON: make([][]byte, cfg.Topics),
		seed:      uint64(cfg.Seed),
	}
	for i := range ts.names {
		ts.names[i] = cfg.TopicPrefix + "." + strconv.Itoa(i)
		q, _ := json.Marshal(strings.ReplaceAll(cfg.Query, "{{topic}}", ts.names[i]))
		ts.queryJSON[i] = q
	}
	if cfg.TopicDist == DistZipf && cfg.Topics > 1 {
		// P(k) proportional to 1/(k+1)^1.1.
		ts.cdf = make([]float64, cfg.Topics)
		sum := 0.0
		for k := range ts.cdf {
			sum += 1 / math.Pow(float64(k+1), 1.1)
			ts.cdf[k] = sum
		}
		for k := range ts.cdf {
			ts.cdf[k] /= sum
		}
	}
	return ts
}

// pick returns the topic of draw number n of stream (0 = subscriptions, 1 = messages, 2 = churn).
func (ts *topicSet) pick(stream, n uint64) int {
	if ts.cdf == nil {
		return int(n % uint64(len(ts.names)))
	}
	u := float64(splitmix64(splitmix64(ts.seed+stream*0x632be59bd9b4e019)+n)>>11) / (1 << 53)
	k := sort.SearchFloat64s(ts.cdf, u)
	if k >= len(ts.cdf) {
		k = len(ts.cdf) - 1
	}
	return k
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
