package loadtest

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkProcessDelivery measures the client's per-delivery CPU: frame
// parse, JSON parse, seq/ts search, accounting and histogram.
func BenchmarkProcessDelivery(b *testing.B) {
	for _, subs := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Topics, cfg.SubsPerConn = subs, subs
			e := &engine{cfg: &cfg, topics: newTopicSet(&cfg), targets: []*target{{}}}
			l := &loop{e: e, hist: newHist(), ivl: newHist(), conns: map[int32]*conn{}}
			l.cnt.init()
			c := e.newConn(0, false)
			c.state = stReady
			last := string(c.subs[subs-1].id)
			var frame []byte
			for i := 0; i < 64; i++ {
				msg := fmt.Sprintf(`{"id":%q,"type":"next","payload":{"data":{"topic":{"seq":%d,"ts":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}}}`, last, i+1, time.Now().UnixNano())
				frame = append(append(frame, 0x81, 126, byte(len(msg)>>8), byte(len(msg))), msg...)
			}
			now := time.Now().UnixNano()
			b.SetBytes(int64(len(frame) / 64))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += 64 {
				if l.process(c, frame, now) != len(frame) {
					b.Fatal("frames not consumed")
				}
			}
			b.StopTimer()
			if s := c.subs[subs-1]; s.delivered < uint64(b.N) || s.unique != 64 {
				b.Fatalf("delivered %d unique %d", s.delivered, s.unique)
			}
		})
	}
}
