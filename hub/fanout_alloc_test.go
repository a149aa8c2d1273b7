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

// The first fan-out to connections that hold no buffer yet (a cold pool:
// the first large message, or the first after GC emptied the pool) takes
// one small buffer per connection, not a 2 KiB one: one message to 10,000
// connections must not need tens of MiB of new heap.
func TestColdFanoutAllocatesOneSmallBufferPerConnection(t *testing.T) {
	const n = 2000
	f := newFanoutFixture(t, n, 1)
	v, err := fastjson.ParseBytes([]byte(`{"price":101.25,"symbol":"ACME","venue":"XNAS","ts":1733230000}`))
	require.NoError(t, err)
	f.l.dirty = make([]*conn, 0, n)
	runtime.GC()
	runtime.GC() // a sync.Pool is empty after two cycles
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f.deliverOnce(v)
	runtime.ReadMemStats(&after)
	for _, c := range f.conns {
		require.NotEmpty(t, c.out)
		require.LessOrEqual(t, cap(c.out), outBufSize, "one small frame fits the new buffer")
	}
	perConn := float64(after.TotalAlloc-before.TotalAlloc) / n
	require.Less(t, perConn, 1024.0, "bytes allocated per connection by a cold fan-out")
	require.GreaterOrEqual(t, perConn, float64(outBufSize), "every connection took a new buffer")
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
	p.start(false)
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
