//go:build !race

package hub

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// The fan-out hot path — project once per group, then one frame per
// subscriber appended to its connection's queue — allocates nothing once
// buffers are warm, at any subscriber count.
func TestFanoutAllocatesNothingPerDelivery(t *testing.T) {
	for _, n := range []int{1, 100, 10000} {
		t.Run(fmt.Sprintf("subs=%d", n), func(t *testing.T) {
			f := newFanoutFixture(t, n, 3)
			event := []byte(`{"price":101.25,"symbol":"ACME","venue":"XNAS","ts":1733230000}`)
			v, err := fastjson.ParseBytes(event)
			require.NoError(t, err)
			f.deliverOnce(v) // warm buffers
			allocs := testing.AllocsPerRun(50, func() { f.deliverOnce(v) })
			require.Zero(t, allocs)
			// and the frames really were queued
			for _, c := range f.conns {
				require.NotEmpty(t, c.out)
			}
		})
	}
}
