//go:build !race

package loadtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDeliveryZeroAlloc proves that handling a delivery frame (frame
// parse, JSON parse, seq/ts search, accounting, histogram) does not allocate.
func TestDeliveryZeroAlloc(t *testing.T) {
	cfg := DefaultConfig()
	l := &loop{e: &engine{cfg: &cfg, topics: newTopicSet(&cfg)}, hist: newHist(), ivl: newHist(), conns: map[int32]*conn{}}
	l.cnt.init()
	s := &sub{id: []byte("lt.0"), stable: true, active: true, sent: true}
	c := &conn{state: stReady, subs: []*sub{{id: []byte("lt.9")}, s}}
	msg := []byte(`{"id":"lt.0","type":"next","payload":{"data":{"topic":{"seq":1,"ts":1000,"pad":"xxxxxxxx"}}}}`)
	frame := append([]byte{0x81, byte(len(msg))}, msg...)
	now := time.Now().UnixNano()
	allocs := testing.AllocsPerRun(1000, func() {
		require.Equal(t, len(frame), l.process(c, frame, now))
	})
	require.Zero(t, allocs)
	require.EqualValues(t, 1001, s.delivered)
	require.EqualValues(t, 1, s.unique)
	require.EqualValues(t, 1000, s.dups)
}
