//go:build !race

package receiver

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

// TestHandleAllocatesOncePerMessage proves the fan-out contract: a message
// costs one allocation (the event's copy shared by every subscriber)
// however many subscribers there are, in every full mode, with full
// buffers (the drop paths; no reader runs, so no pump either).
func TestHandleAllocatesOncePerMessage(t *testing.T) {
	for _, mode := range []FullMode{DropOldest, DropNewest, DropWrite} {
		for _, env := range []wire.Envelope{wire.EnvelopeRaw, wire.EnvelopeHotChocolate} {
			for _, n := range []int{1, 100} {
				t.Run(fmt.Sprintf("%v/%v/subs=%d", mode, env, n), func(t *testing.T) {
					opts := Options{Envelope: env, FullMode: mode, Capacity: 4}
					up, subs := fanOutFixture(t, n, opts, false)
					msg := benchMsg(t, opts)
					up.handle(msg) // warm the decoder and DropNewest's buffers
					for range opts.Capacity {
						up.handle(msg)
					}
					allocs := testing.AllocsPerRun(100, func() { up.handle(msg) })
					require.Equal(t, 1.0, allocs)
					require.Equal(t, opts.Capacity, subs[n-1].buffered())
				})
			}
		}
	}
}
