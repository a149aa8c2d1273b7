package hub

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/shard"
)

// TestConnTableShrinks checks that the connection table is rebuilt once it
// has fallen below a quarter of a peak of at least shard.ShrinkMin, and that it
// still holds exactly the remaining connections.
func TestConnTableShrinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		peak, keep  int
		wantRebuilt bool
		wantPeak    int
	}{
		{name: "to a quarter keeps the table", peak: 2048, keep: 512, wantPeak: 2048},
		{name: "below a quarter rebuilds", peak: 2048, keep: 511, wantRebuilt: true, wantPeak: 511},
		{name: "to nothing rebuilds twice", peak: 8192, keep: 0, wantRebuilt: true, wantPeak: 510},
		{name: "below the floor nothing is rebuilt", peak: shard.ShrinkMin - 1, keep: 0, wantPeak: shard.ShrinkMin - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &Hub{conns: make(map[*conn]struct{})}
			conns := make([]*conn, tc.peak)
			for i := range conns {
				conns[i] = &conn{h: h}
				require.True(t, h.addConn(conns[i]))
			}
			id := reflect.ValueOf(h.conns).Pointer()
			for _, c := range conns[tc.keep:] {
				h.removeConn(c)
			}
			require.Equal(t, tc.wantRebuilt, reflect.ValueOf(h.conns).Pointer() != id, "table rebuilt")
			require.Equal(t, tc.wantPeak, h.connsPeak)
			want := map[*conn]struct{}{}
			for _, c := range conns[:tc.keep] {
				want[c] = struct{}{}
			}
			require.Equal(t, want, h.conns)
		})
	}
}

// TestConnTableShrinksConcurrently connects and disconnects through several
// rebuilds from many goroutines; stable connections must stay in the table.
func TestConnTableShrinksConcurrently(t *testing.T) {
	t.Parallel()
	const workers, perWorker, rounds, stable = 4, 2 * shard.ShrinkMin, 2, 10
	h := &Hub{conns: make(map[*conn]struct{})}
	want := map[*conn]struct{}{}
	for range stable {
		c := &conn{h: h}
		require.True(t, h.addConn(c))
		want[c] = struct{}{}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			conns := make([]*conn, perWorker)
			for range rounds {
				for i := range conns {
					conns[i] = &conn{h: h}
					h.addConn(conns[i])
				}
				for _, c := range conns {
					h.removeConn(c)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, want, h.conns)
	require.Less(t, h.connsPeak, shard.ShrinkMin, "the table peaked at %d and was never rebuilt", workers*perWorker)
}

// TestSubsShrink checks that a connection's subscription slice is
// reallocated once it holds less than a quarter of a large capacity, and
// that every remaining subscription is still found by id.
func TestSubsShrink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		peak, keep  int
		wantSmaller bool
	}{
		{name: "small slices keep their capacity", peak: subsShrinkMin - 1, keep: 1},
		{name: "to a quarter keeps the capacity", peak: 256, keep: 64},
		{name: "below a quarter reallocates", peak: 256, keep: 63, wantSmaller: true},
		{name: "to one reallocates", peak: 1000, keep: 1, wantSmaller: true},
		{name: "empty drops the slice", peak: 1000, keep: 0, wantSmaller: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &conn{subs: make([]*sub, 0, tc.peak)}
			for i := range tc.peak {
				c.subs = append(c.subs, &sub{c: c, id: fmt.Sprint(i)})
			}
			peakCap := cap(c.subs)
			for i := tc.keep; i < tc.peak; i++ {
				j := c.findSubLocked(fmt.Sprint(i))
				require.GreaterOrEqual(t, j, 0)
				c.removeSubLocked(j)
			}
			require.Len(t, c.subs, tc.keep)
			if tc.wantSmaller {
				require.Less(t, cap(c.subs), max(4*tc.keep, subsShrinkMin), "slice not reallocated")
			} else {
				require.Equal(t, peakCap, cap(c.subs))
			}
			require.Equal(t, tc.keep == 0, c.subs == nil)
			for i := range tc.keep {
				j := c.findSubLocked(fmt.Sprint(i))
				require.GreaterOrEqual(t, j, 0, "subscription %d lost", i)
				require.Equal(t, fmt.Sprint(i), c.subs[j].id)
			}
		})
	}
}
