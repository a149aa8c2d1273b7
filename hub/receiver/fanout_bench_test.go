package receiver

import (
	"fmt"
	"testing"

	"github.com/subhub/subhub/wire"
)

// BenchmarkHandle measures the delivering goroutine per message: decode,
// copy, and a non-blocking send to every subscriber, whose buffers a
// reader keeps draining (subs=N) or which are full (full=true, the drop
// path of each FullMode).
func BenchmarkHandle(b *testing.B) {
	for _, env := range []wire.Envelope{wire.EnvelopeRaw, wire.EnvelopeHotChocolate} {
		for _, mode := range []FullMode{DropOldest, DropNewest, DropWrite} {
			for _, full := range []bool{false, true} {
				for _, n := range []int{1, 100, 1000} {
					name := fmt.Sprintf("%v/%v/full=%t/subs=%d", env, mode, full, n)
					b.Run(name, func(b *testing.B) {
						opts := Options{Envelope: env, FullMode: mode, Capacity: 64}
						up, subs := fanOutFixture(b, n, opts, !full)
						msg := benchMsg(b, opts)
						b.SetBytes(int64(len(msg.Data)))
						b.ReportAllocs()
						for b.Loop() {
							up.handle(msg)
							if !full {
								for _, s := range subs {
									<-s.ch
								}
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
					})
				}
			}
		}
	}
}
