package hub

import (
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"
)

// fanoutBuckets are the upper bounds of Stats.Fanout's buckets: from a
// small fan-out written inline to 10,000 connections written on two busy
// cores.
var fanoutBuckets = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	75 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second,
}

// DurationHistogram is a Prometheus histogram of durations with fixed
// buckets, safe for concurrent use, that allocates nothing to observe.
type DurationHistogram struct {
	counts [len(fanoutBuckets) + 1]atomic.Int64 // the last one is +Inf
	sum    atomic.Int64                         // nanoseconds
}

// Observe counts one duration.
func (h *DurationHistogram) Observe(d time.Duration) {
	i := 0
	for i < len(fanoutBuckets) && d > fanoutBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Count returns the number of durations observed.
func (h *DurationHistogram) Count() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// writePrometheus writes h as the histogram subhub_<name>_seconds.
func (h *DurationHistogram) writePrometheus(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP subhub_%s_seconds %s\n# TYPE subhub_%s_seconds histogram\n", name, help, name)
	var cum int64
	for i, b := range fanoutBuckets {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "subhub_%s_seconds_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(b.Seconds(), 'g', -1, 64), cum)
	}
	cum += h.counts[len(fanoutBuckets)].Load()
	fmt.Fprintf(w, "subhub_%s_seconds_bucket{le=\"+Inf\"} %d\n", name, cum)
	fmt.Fprintf(w, "subhub_%s_seconds_sum %s\n", name, strconv.FormatFloat(time.Duration(h.sum.Load()).Seconds(), 'g', -1, 64))
	fmt.Fprintf(w, "subhub_%s_seconds_count %d\n", name, cum)
}
