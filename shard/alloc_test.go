//go:build !race

package shard

import (
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
