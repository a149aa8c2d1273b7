package shard

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapID identifies a map's storage: it changes only when the map is rebuilt.
func mapID[K comparable, V any](m map[K]V) uintptr { return reflect.ValueOf(m).Pointer() }

func subjectN(i int) string { return fmt.Sprintf("s.%05d", i) }

// TestShrinkTopics checks that a shard's topics map is rebuilt once it has
// fallen below a quarter of its peak, whichever call removes the topics,
// and that the remaining topics are all still there afterwards.
func TestShrinkTopics(t *testing.T) {
	t.Parallel()
	type dropKind int
	const (
		byRemove dropKind = iota
		byRemoveTopic
		byExpire
	)
	tests := []struct {
		name        string
		drop        dropKind
		peak, keep  int
		wantRebuilt bool
		wantPeak    int // shard.peak afterwards
	}{
		{name: "remove to a quarter keeps the map", drop: byRemove, peak: 2048, keep: 512, wantPeak: 2048},
		{name: "remove below a quarter rebuilds", drop: byRemove, peak: 2048, keep: 511, wantRebuilt: true, wantPeak: 511},
		{name: "remove to almost nothing rebuilds once", drop: byRemove, peak: 4096, keep: 3, wantRebuilt: true, wantPeak: 1023},
		{name: "below the floor nothing is rebuilt", drop: byRemove, peak: ShrinkMin - 1, keep: 0, wantPeak: ShrinkMin - 1},
		{name: "RemoveTopic rebuilds", drop: byRemoveTopic, peak: 2048, keep: 100, wantRebuilt: true, wantPeak: 511},
		{name: "Expire rebuilds", drop: byExpire, peak: 2048, keep: 100, wantRebuilt: true, wantPeak: 100},
		{name: "Expire of everything rebuilds", drop: byExpire, peak: 2048, keep: 0, wantRebuilt: true, wantPeak: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var linger time.Duration
			if tc.drop == byExpire {
				linger = time.Minute
			}
			r := New[string, int](1, linger)
			now := time.Unix(0, 0)
			r.now = func() time.Time { return now }
			for i := range tc.peak {
				_, first, err := r.Add(subjectN(i), "p", i)
				require.NoError(t, err)
				require.True(t, first)
			}
			sh := &r.shards[0]
			require.Equal(t, tc.peak, sh.peak)
			id := mapID(sh.topics)

			switch tc.drop {
			case byRemove:
				for i := tc.keep; i < tc.peak; i++ {
					_, last, ok := r.Remove(subjectN(i), "p", i)
					require.True(t, ok)
					require.True(t, last)
				}
			case byRemoveTopic:
				for i := tc.keep; i < tc.peak; i++ {
					require.NotNil(t, r.RemoveTopic(subjectN(i)))
				}
			case byExpire:
				for i := tc.keep; i < tc.peak; i++ {
					_, _, ok := r.Remove(subjectN(i), "p", i)
					require.True(t, ok)
				}
				now = now.Add(linger)
				require.Len(t, r.Expire(now), tc.peak-tc.keep)
			}

			require.Equal(t, tc.wantRebuilt, mapID(sh.topics) != id, "map rebuilt")
			require.Equal(t, tc.wantPeak, sh.peak)
			topics, subs := r.Len()
			require.Equal(t, tc.keep, topics)
			require.Equal(t, tc.keep, subs)
			for i := range tc.peak {
				want := map[string][]int{"p": {i}}
				if i >= tc.keep {
					want = nil
				}
				require.Equal(t, want, snapshot(t, r, subjectN(i)), subjectN(i))
			}
			// The rebuilt map grows again as usual.
			_, first, err := r.Add("new", "p", -1)
			require.NoError(t, err)
			require.True(t, first)
		})
	}
}

// TestShrinkGroup checks that a group's subscriber slice and index are
// rebuilt once the group has fallen below a quarter of its peak, and that
// the index still points at every remaining subscriber.
func TestShrinkGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		peak, keep  int
		wantRebuilt bool
		wantPeak    int
	}{
		{name: "to a quarter keeps the group", peak: 2048, keep: 512, wantPeak: 2048},
		{name: "below a quarter rebuilds", peak: 2048, keep: 511, wantRebuilt: true, wantPeak: 511},
		{name: "to one subscriber rebuilds once", peak: 4096, keep: 1, wantRebuilt: true, wantPeak: 1023},
		{name: "below the floor nothing is rebuilt", peak: ShrinkMin - 1, keep: 1, wantPeak: ShrinkMin - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := New[string, int](1, 0)
			// A second group on the topic must survive untouched.
			for s := range 3 {
				_, _, err := r.Add("a", "q", -1-s)
				require.NoError(t, err)
			}
			for s := range tc.peak {
				_, _, err := r.Add("a", "p", s)
				require.NoError(t, err)
			}
			tp := r.shards[0].topics["a"]
			g := &tp.groups[tp.find("p")]
			id := mapID(g.idx)
			// Remove from both ends and the middle, so swap-removes move
			// subscribers around before the rebuild.
			removed := 0
			for lo, hi := 0, tc.peak-1; removed < tc.peak-tc.keep; removed++ {
				s := lo
				if removed%2 == 1 {
					s = hi
					hi--
				} else {
					lo++
				}
				_, _, ok := r.Remove("a", "p", s)
				require.True(t, ok)
			}
			g = &tp.groups[tp.find("p")]
			require.Equal(t, tc.wantRebuilt, mapID(g.idx) != id, "index rebuilt")
			require.Equal(t, tc.wantPeak, g.peak)
			if tc.wantRebuilt {
				require.Less(t, cap(g.subs), 2*tc.wantPeak+8, "subscriber slice not reallocated")
			}
			require.Len(t, g.idx, len(g.subs))
			for i, s := range g.subs {
				require.Equal(t, int32(i), g.idx[s], "index of %d", s)
			}
			require.Len(t, g.subs, tc.keep)
			require.Equal(t, int64(tc.keep+3), tp.n.Load())
			require.Equal(t, []int{-3, -2, -1}, snapshot(t, r, "a")["q"])

			// Every remaining subscriber is found, refused as a duplicate
			// and removable.
			for _, s := range append([]int(nil), g.subs...) {
				_, _, err := r.Add("a", "p", s)
				require.ErrorIs(t, err, ErrDuplicate)
				_, last, ok := r.Remove("a", "p", s)
				require.True(t, ok)
				require.False(t, last)
			}
			require.Equal(t, map[string][]int{"q": {-3, -2, -1}}, snapshot(t, r, "a"))
		})
	}
}

// TestShrinkIdleList checks that the list of lingering topics is
// reallocated once most of them were revived, and that Expire still finds
// exactly the ones left.
func TestShrinkIdleList(t *testing.T) {
	t.Parallel()
	const peak, keep = 2048, 100
	r := New[string, int](1, time.Minute)
	now := time.Unix(0, 0)
	r.now = func() time.Time { return now }
	for i := range peak {
		_, _, err := r.Add(subjectN(i), "p", i)
		require.NoError(t, err)
		_, _, ok := r.Remove(subjectN(i), "p", i)
		require.True(t, ok)
	}
	sh := &r.shards[0]
	require.Len(t, sh.idle, peak)
	for i := keep; i < peak; i++ { // revive
		_, first, err := r.Add(subjectN(i), "p", i)
		require.NoError(t, err)
		require.False(t, first)
	}
	require.Len(t, sh.idle, keep)
	require.Less(t, cap(sh.idle), 2*(peak/4), "idle list not reallocated")
	for j, tp := range sh.idle {
		require.Equal(t, j, tp.idle)
	}
	now = now.Add(time.Minute)
	var expired []string
	for _, tp := range r.Expire(now) {
		expired = append(expired, tp.Subject)
	}
	want := make([]string, 0, keep)
	for i := range keep {
		want = append(want, subjectN(i))
	}
	require.ElementsMatch(t, want, expired)
	topics, subs := r.Len()
	require.Equal(t, peak-keep, topics)
	require.Equal(t, peak-keep, subs)
}

// TestConcurrentShrink churns topics and subscribers through several
// rebuilds of the shard maps and of one group while readers check that
// stable subscribers are always visible, and checks the exact state at the
// end.
func TestConcurrentShrink(t *testing.T) {
	t.Parallel()
	for _, linger := range []time.Duration{0, time.Nanosecond} {
		t.Run(fmt.Sprint("linger=", linger), func(t *testing.T) {
			t.Parallel()
			// One shard, so that every churner's round alone takes the
			// topics map and the stable group past ShrinkMin.
			const (
				stable   = 50
				churners = 4
				perRound = ShrinkMin + 100
				rounds   = 3
			)
			r := New[int, int](1, linger)
			for s := range stable {
				_, _, err := r.Add("stable", 0, s)
				require.NoError(t, err)
			}
			checkStable := func(tp *Topic[int, int]) bool {
				seen := 0
				for k := 0; k < tp.NumGroups(); k++ {
					if g, subs := tp.Group(k); g == 0 {
						for _, s := range subs {
							if s < stable {
								seen++
							}
						}
					}
				}
				return assert.Equal(t, stable, seen, "stable subscribers visible")
			}

			done := make(chan struct{})
			var readers sync.WaitGroup
			for range 2 {
				readers.Go(func() {
					for {
						select {
						case <-done:
							return
						default:
						}
						if !assert.True(t, r.View("stable", func(tp *Topic[int, int]) { checkStable(tp) })) {
							return
						}
						if linger > 0 {
							r.Expire(time.Now())
						}
						runtime.Gosched() // let the writers in
					}
				})
			}
			var wg sync.WaitGroup
			for w := range churners {
				wg.Go(func() {
					base := 1_000_000 * (w + 1)
					subj := func(i int) string { return fmt.Sprintf("c%d.%d", w, i) }
					for range rounds {
						for i := range perRound {
							_, _, err := r.Add(subj(i), i%3, base+i)
							_, _, err2 := r.Add("stable", 0, base+i)
							if !assert.NoError(t, err) || !assert.NoError(t, err2) {
								return
							}
						}
						for i := range perRound {
							ok := r.View(subj(i), func(tp *Topic[int, int]) {
								_, subs := tp.Group(0)
								assert.Equal(t, []int{base + i}, subs, subj(i))
							})
							if !assert.True(t, ok, subj(i)) {
								return
							}
						}
						for i := range perRound {
							_, _, ok := r.Remove(subj(i), i%3, base+i)
							_, _, ok2 := r.Remove("stable", 0, base+i)
							if !assert.True(t, ok) || !assert.True(t, ok2) {
								return
							}
						}
					}
				})
			}
			wg.Wait()
			close(done)
			readers.Wait()
			require.False(t, t.Failed())

			r.Expire(time.Now().Add(time.Hour))
			topics, subs := r.Len()
			require.Equal(t, 1, topics)
			require.Equal(t, stable, subs)
			require.True(t, r.View("stable", func(tp *Topic[int, int]) {
				checkStable(tp)
				require.Equal(t, 1, tp.NumGroups())
				// The group peaked at stable+churners*perRound: it must
				// have been rebuilt since.
				require.Less(t, tp.groups[0].peak, ShrinkMin)
			}))
			for i := range r.shards {
				require.Less(t, r.shards[i].peak, ShrinkMin, "shard %d topics map not rebuilt", i)
				require.Less(t, cap(r.shards[i].idle), ShrinkMin, "shard %d idle list not reallocated", i)
			}
		})
	}
}
