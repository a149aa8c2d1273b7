package receiver

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func intEvent(i int) Event { return Event{Topic: "t", Data: []byte(strconv.Itoa(i))} }

func eventInt(t *testing.T, ev Event) int {
	t.Helper()
	n, err := strconv.Atoi(string(ev.Data))
	require.NoError(t, err)
	return n
}

func TestDeliverFullModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode          FullMode
		want          []int
		delivered     []bool // per event 0..5
		droppedOnSend []bool
	}{
		{DropOldest, []int{2, 3, 4, 5}, []bool{true, true, true, true, true, true}, []bool{false, false, false, false, true, true}},
		{DropNewest, []int{0, 1, 2, 5}, []bool{true, true, true, true, true, true}, []bool{false, false, false, false, true, true}},
		{DropWrite, []int{0, 1, 2, 3}, []bool{true, true, true, true, false, false}, []bool{false, false, false, false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			s := newSubscriber(4, tt.mode)
			for i := range 6 {
				d, x := s.deliver(intEvent(i), tt.mode)
				require.Equal(t, tt.delivered[i], d, "delivered %d", i)
				require.Equal(t, tt.droppedOnSend[i], x, "dropped on %d", i)
			}
			s.close()
			if tt.mode == DropNewest {
				go s.pump(nil) // closes s.ch once the ring is drained
			}
			var got []int
			for ev := range s.ch {
				got = append(got, eventInt(t, ev))
			}
			require.Equal(t, tt.want, got)
			d, x := s.deliver(intEvent(6), tt.mode)
			require.False(t, d || x, "a closed subscriber gets nothing")
		})
	}
}

// TestDeliverConcurrentReader runs the drop paths against a reader that
// drains at the same time: order is kept, nothing is duplicated, the last
// event is never lost (DropOldest, DropNewest), and closing while
// delivering never panics.
func TestDeliverConcurrentReader(t *testing.T) {
	t.Parallel()
	const events = 5000
	for _, mode := range []FullMode{DropOldest, DropNewest, DropWrite} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			s := newSubscriber(3, mode)
			if mode == DropNewest {
				go s.pump(nil)
			}
			var got []int
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ev := range s.ch {
					n, err := strconv.Atoi(string(ev.Data))
					if err != nil {
						t.Error(err)
						return
					}
					got = append(got, n)
				}
			}()
			var delivered, dropped int
			for i := range events {
				d, x := s.deliver(intEvent(i), mode)
				if d {
					delivered++
				}
				if x {
					dropped++
				}
			}
			s.close()
			wg.Wait()
			require.NotEmpty(t, got)
			for i := 1; i < len(got); i++ {
				require.Less(t, got[i-1], got[i], "order kept, no duplicates")
			}
			require.Equal(t, events-len(got), dropped, "every event is received or counted as dropped")
			if mode != DropWrite {
				require.Equal(t, events-1, got[len(got)-1])
				require.Equal(t, events, delivered)
			} else {
				require.Equal(t, len(got), delivered)
			}
		})
	}
}

func TestCloseWhileDelivering(t *testing.T) {
	t.Parallel()
	for _, mode := range []FullMode{DropOldest, DropNewest, DropWrite} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			for range 50 {
				s := newSubscriber(2, mode)
				if mode == DropNewest {
					go s.pump(nil)
				}
				var wg sync.WaitGroup
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 50 {
							s.deliver(intEvent(g*100+i), mode)
						}
					}()
				}
				s.close()
				wg.Wait()
				for range s.ch { // buffered events, then closed
				}
			}
		})
	}
}
