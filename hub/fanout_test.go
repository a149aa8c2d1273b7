package hub

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// One event to 10,000 subscribers spread over 3 plans is projected 3
// times, and each subscriber gets its own id around the shared bytes.
func TestFanoutProjectsOncePerPlan(t *testing.T) {
	f := newFanoutFixture(t, 10000, 3)
	v, err := fastjson.Parse(`{"price":1}`)
	require.NoError(t, err)
	f.deliverOnce(v)
	require.Equal(t, uint64(3), f.l.projections)
	for i, c := range []*conn{f.conns[0], f.conns[1], f.conns[9999]} {
		hdrLen := 2
		if len(c.out) > 127 {
			hdrLen = 4
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(c.out[hdrLen:], &m), "frame %d: %q", i, c.out)
		require.Equal(t, "next", m["type"])
		require.Contains(t, m["id"], "sub-")
	}
	require.Len(t, f.l.dirty, 10000, "every connection is flushed once")
}
