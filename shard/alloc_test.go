//go:build !race

package shard

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllocs(t *testing.T) {
	r := New[int, int](16, 0)
	for s := range 100 {
		_, _, err := r.Add("orders", s%4, s)
		require.NoError(t, err)
	}
	var n int
	count := func(tp *Topic[int, int]) {
		for i := 0; i < tp.NumGroups(); i++ {
			_, subs := tp.Group(i)
			n += len(subs)
		}
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"View", func() { r.View("orders", count) }},
		{"View/closure", func() {
			sum := 0
			r.View("orders", func(tp *Topic[int, int]) { sum += tp.Len() })
			n += sum
		}},
		{"View/missing", func() { r.View("payments", count) }},
		{"ShardOf", func() { n += r.ShardOf("5D41402ABC4B2A76B9719D911017C592") }},
		// Steady state on an existing group: the slice and the index map
		// keep their capacity.
		{"Remove+Add", func() {
			r.Remove("orders", 1, 5)
			_, _, _ = r.Add("orders", 1, 5)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Zero(t, testing.AllocsPerRun(1000, tc.fn))
		})
	}
	require.Positive(t, n)
}

// TestNoRaceShrinkReturnsHeap checks that the memory of a topics map and of
// a group that grew to a large peak goes back to the heap once they are
// nearly empty again. Not parallel: it reads the process-wide live heap.
func TestNoRaceShrinkReturnsHeap(t *testing.T) {
	const peak, keep = 1 << 16, 16
	tests := []struct {
		name        string
		add, remove func(r *Registry[string, int], i int)
	}{
		{"topics",
			func(r *Registry[string, int], i int) { _, _, _ = r.Add(subjectN(i), "p", i) },
			func(r *Registry[string, int], i int) { r.Remove(subjectN(i), "p", i) }},
		{"group",
			func(r *Registry[string, int], i int) { _, _, _ = r.Add("a", "p", i) },
			func(r *Registry[string, int], i int) { r.Remove("a", "p", i) }},
	}
	live := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New[string, int](1, 0)
			before := live()
			for i := range peak {
				tc.add(r, i)
			}
			atPeak := live()
			for i := keep; i < peak; i++ {
				tc.remove(r, i)
			}
			after := live()
			topics, subs := r.Len()
			require.Equal(t, keep, subs)
			require.Positive(t, topics)
			require.Greater(t, atPeak-before, int64(2<<20), "the peak should hold megabytes")
			require.Less(t, after-before, int64(256<<10), "heap held after the peak: %d KiB", (after-before)>>10)
		})
	}
}
