package hub

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"
)

// BenchmarkFanout measures queueing one event for every subscriber of a
// subject (3 plans, so 3 projections per event): the CPU of fan-out without
// the write syscalls.
func BenchmarkFanout(b *testing.B) {
	event := []byte(`{"price":101.25,"symbol":"ACME","venue":"XNAS","ts":1733230000}`)
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			f := newFanoutFixture(b, n, 3)
			v, _ := fastjson.ParseBytes(event)
			f.deliverOnce(v)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.deliverOnce(v)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}
