//go:build !race

package hub

import (
	"fmt"
	"io"
	"runtime"
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

// A read of the NATS connection with data waiting allocates nothing: the
// poller callback is a method value made once (rawReadConn.readFn).
func TestRawReadConnReadAllocatesNothing(t *testing.T) {
	c, peer := rawPair(t)
	b := make([]byte, 64)
	msg := []byte("MSG prices 1 2\r\nhi\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := peer.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b[:len(msg)]); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// Handing a large flush to the writer pool and timing it allocates
// nothing once its pools are warm: tasks and flush records are reused.
func TestPooledFlushAllocatesNothing(t *testing.T) {
	f := newFanoutFixture(t, 3*writerChunk+5, 1) // empty queues: each flush only does the bookkeeping
	hist := new(DurationHistogram)
	p := newWriterPool(hist)
	p.start()
	defer p.stopAndWait()
	flush := func() {
		n := hist.Count()
		p.submit(f.conns)
		for hist.Count() == n {
			runtime.Gosched()
		}
	}
	flush() // warm the pools
	require.Zero(t, testing.AllocsPerRun(100, flush))
}
