package shard

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type opKind int

const (
	opAdd opKind = iota
	opRemove
	opExpire
	opRemoveTopic
	opAdvance
)

// step is one registry call and its expected outcome.
type step struct {
	op      opKind
	subject string
	g       string
	s       int
	d       time.Duration // opAdvance

	wantFirst bool
	wantLast  bool
	wantOK    bool
	wantErr   error
	// opExpire: subjects of the expired topics; opRemoveTopic: subscribers
	// of the removed topic (nil means no topic).
	wantSubjects []string
	wantSubs     []int
}

func add(subject, g string, s int, first bool) step {
	return step{op: opAdd, subject: subject, g: g, s: s, wantFirst: first}
}

func addDup(subject, g string, s int) step {
	return step{op: opAdd, subject: subject, g: g, s: s, wantErr: ErrDuplicate}
}

func remove(subject, g string, s int, ok, last bool) step {
	return step{op: opRemove, subject: subject, g: g, s: s, wantOK: ok, wantLast: last}
}

func expire(subjects ...string) step { return step{op: opExpire, wantSubjects: subjects} }

func removeTopic(subject string, subs ...int) step {
	return step{op: opRemoveTopic, subject: subject, wantSubs: subs}
}

func advance(d time.Duration) step { return step{op: opAdvance, d: d} }

// snapshot returns subject's groups as key → sorted subscribers, read under
// View.
func snapshot(t *testing.T, r *Registry[string, int], subject string) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	ok := r.View(subject, func(tp *Topic[string, int]) {
		n := 0
		for i := 0; i < tp.NumGroups(); i++ {
			k, subs := tp.Group(i)
			require.NotEmpty(t, subs, "empty group %q kept", k)
			_, seen := out[k]
			require.False(t, seen, "group %q listed twice", k)
			out[k] = append([]int(nil), subs...)
			sort.Ints(out[k])
			n += len(subs)
		}
		require.Equal(t, n, tp.Len())
	})
	if !ok {
		return nil
	}
	return out
}

func TestRegistrySemantics(t *testing.T) {
	t.Parallel()
	const linger = time.Minute
	tests := []struct {
		name       string
		linger     time.Duration
		steps      []step
		wantTopics int
		wantSubs   int
		wantGroups map[string]map[string][]int // subject → group → subscribers
	}{
		{
			name:  "first and last",
			steps: []step{add("a", "p", 1, true), add("a", "p", 2, false), remove("a", "p", 1, true, false), remove("a", "p", 2, true, true)},
		},
		{
			name:       "duplicate add changes nothing",
			steps:      []step{add("a", "p", 1, true), addDup("a", "p", 1), addDup("a", "q", 1)},
			wantTopics: 1, wantSubs: 1,
			wantGroups: map[string]map[string][]int{"a": {"p": {1}}},
		},
		{
			name:       "same subscriber on different subjects",
			steps:      []step{add("a", "p", 1, true), add("b", "p", 1, true)},
			wantTopics: 2, wantSubs: 2,
			wantGroups: map[string]map[string][]int{"a": {"p": {1}}, "b": {"p": {1}}},
		},
		{
			name: "remove unknown",
			steps: []step{
				remove("a", "p", 1, false, false),
				add("a", "p", 1, true),
				remove("a", "p", 2, false, false),
				remove("a", "q", 1, false, false), // registered, but in another group
				remove("b", "p", 1, false, false),
			},
			wantTopics: 1, wantSubs: 1,
			wantGroups: map[string]map[string][]int{"a": {"p": {1}}},
		},
		{
			name: "groups and swap-remove",
			steps: []step{
				add("a", "p", 1, true), add("a", "q", 2, false), add("a", "p", 3, false), add("a", "p", 4, false), add("a", "r", 5, false),
				remove("a", "p", 1, true, false), // swap-remove from the front
				remove("a", "q", 2, true, false), // empties and drops group q
				add("a", "q", 6, false),          // recreates group q
				remove("a", "p", 4, true, false),
				add("a", "p", 7, false),
			},
			wantTopics: 1, wantSubs: 4,
			wantGroups: map[string]map[string][]int{"a": {"p": {3, 7}, "q": {6}, "r": {5}}},
		},
		{
			name:  "new topic after last",
			steps: []step{add("a", "p", 1, true), remove("a", "p", 1, true, true), add("a", "p", 1, true), remove("a", "p", 1, true, true)},
		},
		{
			name:   "linger keeps the topic until expiry",
			linger: linger,
			steps: []step{
				add("a", "p", 1, true), remove("a", "p", 1, true, false),
				expire(), advance(linger - time.Nanosecond), expire(),
				advance(time.Nanosecond), expire("a"),
				add("a", "p", 1, true),
			},
			wantTopics: 1, wantSubs: 1,
			wantGroups: map[string]map[string][]int{"a": {"p": {1}}},
		},
		{
			name:   "linger revive keeps the upstream",
			linger: linger,
			steps: []step{
				add("a", "p", 1, true), add("b", "p", 1, true),
				remove("a", "p", 1, true, false), remove("b", "p", 1, true, false),
				advance(linger / 2), add("a", "q", 2, false), // revived: no longer lingering
				advance(linger), expire("b"),
				remove("a", "q", 2, true, false), advance(linger - 1), expire(), advance(1), expire("a"),
			},
		},
		{
			name:   "lingering topics counted",
			linger: linger,
			steps: []step{
				add("a", "p", 1, true), add("b", "p", 2, true), add("c", "p", 3, true),
				remove("a", "p", 1, true, false), advance(time.Second), remove("b", "p", 2, true, false),
				advance(linger - time.Second), expire("a"),
			},
			wantTopics: 2, wantSubs: 1,
			wantGroups: map[string]map[string][]int{"b": {}, "c": {"p": {3}}},
		},
		{
			name:  "expire without linger",
			steps: []step{add("a", "p", 1, true), remove("a", "p", 1, true, true), expire()},
		},
		{
			name: "remove topic",
			steps: []step{
				removeTopic("a"),
				add("a", "p", 1, true), add("a", "q", 2, false), add("a", "q", 3, false), add("b", "p", 1, true),
				removeTopic("a", 1, 2, 3),
				remove("a", "p", 1, false, false),
				removeTopic("a"),
				add("a", "p", 1, true),
			},
			wantTopics: 2, wantSubs: 2,
			wantGroups: map[string]map[string][]int{"a": {"p": {1}}, "b": {"p": {1}}},
		},
		{
			name:   "remove lingering topic",
			linger: linger,
			steps: []step{
				add("a", "p", 1, true), remove("a", "p", 1, true, false),
				removeTopic("a"), // lingering: no subscribers, but the topic is returned
				advance(2 * linger), expire(),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := New[string, int](4, tc.linger)
			clock := time.Unix(1_700_000_000, 0)
			r.now = func() time.Time { return clock }
			live := map[string]*Topic[string, int]{} // subject → its current topic
			var dead []*Topic[string, int]
			for i, st := range tc.steps {
				msg := fmt.Sprintf("step %d (%+v)", i, st)
				switch st.op {
				case opAdd:
					prev := live[st.subject]
					tp, first, err := r.Add(st.subject, st.g, st.s)
					require.ErrorIs(t, err, st.wantErr, msg)
					require.NotNil(t, tp, msg)
					require.Equal(t, st.wantFirst, first, msg)
					require.False(t, tp.Dead(), msg)
					require.Equal(t, st.subject, tp.Subject, msg)
					if first {
						require.NotSame(t, prev, tp, msg) // a new topic, never a dead one
					} else {
						require.Same(t, prev, tp, msg)
					}
					live[st.subject] = tp
				case opRemove:
					tp, last, ok := r.Remove(st.subject, st.g, st.s)
					require.Equal(t, st.wantOK, ok, msg)
					require.Equal(t, st.wantLast, last, msg)
					if !ok {
						require.Nil(t, tp, msg)
						break
					}
					require.Same(t, live[st.subject], tp, msg)
					require.Equal(t, last, tp.Dead(), msg)
					if last {
						require.Zero(t, tp.Len(), msg)
						delete(live, st.subject)
						dead = append(dead, tp)
					}
				case opExpire:
					got := r.Expire(clock)
					if len(st.wantSubjects) == 0 {
						require.Empty(t, got, msg)
					}
					var subjects []string
					for _, tp := range got {
						require.True(t, tp.Dead(), msg)
						require.Zero(t, tp.Len(), msg)
						require.Same(t, live[tp.Subject], tp, msg)
						delete(live, tp.Subject)
						dead = append(dead, tp)
						subjects = append(subjects, tp.Subject)
					}
					require.ElementsMatch(t, st.wantSubjects, subjects, msg)
				case opRemoveTopic:
					tp := r.RemoveTopic(st.subject)
					if live[st.subject] == nil {
						require.Nil(t, tp, msg)
						break
					}
					require.Same(t, live[st.subject], tp, msg)
					require.True(t, tp.Dead(), msg)
					var subs []int
					for g := 0; g < tp.NumGroups(); g++ {
						_, s := tp.Group(g)
						subs = append(subs, s...)
					}
					require.ElementsMatch(t, st.wantSubs, subs, msg)
					require.Equal(t, len(subs), tp.Len(), msg)
					delete(live, st.subject)
					dead = append(dead, tp)
				case opAdvance:
					clock = clock.Add(st.d)
				}
			}

			topics, subs := r.Len()
			require.Equal(t, tc.wantTopics, topics)
			require.Equal(t, tc.wantSubs, subs)
			require.Len(t, live, tc.wantTopics)
			for _, tp := range dead {
				require.True(t, tp.Dead())
			}
			var subjects []string
			for subject, tp := range live {
				require.False(t, tp.Dead())
				subjects = append(subjects, subject)
			}
			require.ElementsMatch(t, subjects, r.Subjects())
			for subject, want := range tc.wantGroups {
				require.Equal(t, want, snapshot(t, r, subject), subject)
			}
			require.False(t, r.View("never", func(*Topic[string, int]) { t.Fatal("fn called for a missing topic") }))
		})
	}
}

func TestNewShards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want func(int) bool
	}{
		{n: 1, want: func(n int) bool { return n == 1 }},
		{n: 6, want: func(n int) bool { return n == 6 }},
		{n: 0, want: func(n int) bool { return n >= 4 && n&(n-1) == 0 }},
		{n: -3, want: func(n int) bool { return n >= 4 && n&(n-1) == 0 }},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("n=", tc.n), func(t *testing.T) {
			t.Parallel()
			r := New[int, int](tc.n, -time.Second)
			require.True(t, tc.want(r.Shards()), "Shards()=%d", r.Shards())
			require.Zero(t, r.Linger())
			for _, subject := range []string{"", "a", "orders.1", "5D41402ABC4B2A76B9719D911017C592"} {
				i := r.ShardOf(subject)
				require.GreaterOrEqual(t, i, 0)
				require.Less(t, i, r.Shards())
				require.Equal(t, i, r.ShardOf(subject))
			}
		})
	}
}

// TestShardOfStable pins the hash so that shard placement stays the same
// across processes and releases.
func TestRemoveTopicIfRemovesOnlyAMatch(t *testing.T) {
	t.Parallel()
	r := New[string, int](4, 0)
	old, first, err := r.Add("a", "p", 1)
	require.NoError(t, err)
	require.True(t, first)
	_, last, ok := r.Remove("a", "p", 1)
	require.True(t, ok)
	require.True(t, last)
	cur, first, err := r.Add("a", "p", 2)
	require.NoError(t, err)
	require.True(t, first)
	require.NotSame(t, old, cur)

	isOld := func(t *Topic[string, int]) bool { return t == old }
	require.Nil(t, r.RemoveTopicIf("a", isOld), "the newer topic is not old")
	require.Nil(t, r.RemoveTopicIf("b", nil), "no topic")
	topics, subs := r.Len()
	require.Equal(t, 1, topics)
	require.Equal(t, 1, subs)

	require.Same(t, cur, r.RemoveTopicIf("a", func(t *Topic[string, int]) bool { return t == cur }))
	require.True(t, cur.Dead())
	topics, subs = r.Len()
	require.Equal(t, 0, topics)
	require.Equal(t, 0, subs)
}

func TestShardOfStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject string
		hash    uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
	}
	r := New[int, int](1024, 0)
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			require.Equal(t, tc.hash, fnv1a(tc.subject))
			require.Equal(t, int(tc.hash%1024), r.ShardOf(tc.subject))
		})
	}
}

// TestConcurrentRefcount hammers the registry from many goroutines and
// checks that every topic is handed out for creation exactly once and for
// release at most once, and that the final counts are exact.
func TestConcurrentRefcount(t *testing.T) {
	t.Parallel()
	for _, linger := range []time.Duration{0, time.Nanosecond} {
		t.Run(fmt.Sprint("linger=", linger), func(t *testing.T) {
			t.Parallel()
			const (
				workers  = 16
				subjects = 24
				groups   = 3
				perW     = 16 // subscribers per worker
			)
			ops := 4000
			if testing.Short() {
				ops = 500
			}
			r := New[int, int](8, linger)

			type counts struct{ first, released int }
			var mu sync.Mutex
			perTopic := map[*Topic[int, int]]*counts{}
			record := func(tp *Topic[int, int], first, released bool) {
				mu.Lock()
				defer mu.Unlock()
				c := perTopic[tp]
				if c == nil {
					c = &counts{}
					perTopic[tp] = c
				}
				if first {
					c.first++
				}
				if released {
					c.released++
				}
			}
			subjectName := func(i int) string { return fmt.Sprintf("subject.%02d", i) }

			// Each worker owns subscribers w*perW..w*perW+perW-1 and tracks
			// where each is registered: reg[w][sub][subject] = group. Removes
			// mostly target registered pairs, so registrations stay few and
			// topics keep dying and being recreated (or revived).
			reg := make([][]map[int]int, workers)
			var wg sync.WaitGroup
			for w := range workers {
				reg[w] = make([]map[int]int, perW)
				for i := range reg[w] {
					reg[w][i] = map[int]int{}
				}
				wg.Go(func() {
					// assert, not require: FailNow must not be called off the
					// test goroutine.
					rng := rand.New(rand.NewPCG(uint64(w), 42))
					type pair struct{ i, subj int }
					var held []pair // registered pairs, for targeted removes
					for range ops {
						i, subj := rng.IntN(perW), rng.IntN(subjects)
						op := rng.IntN(20)
						if op >= 8 && op < 17 && len(held) > 0 {
							k := rng.IntN(len(held))
							i, subj = held[k].i, held[k].subj
							held[k] = held[len(held)-1]
							held = held[:len(held)-1]
						}
						s, name := w*perW+i, subjectName(subj)
						switch {
						case op < 8:
							g := rng.IntN(groups)
							tp, first, err := r.Add(name, g, s)
							if _, dup := reg[w][i][subj]; dup {
								if !assert.ErrorIs(t, err, ErrDuplicate) {
									return
								}
								continue
							}
							if !assert.NoError(t, err) || !assert.False(t, tp.Dead()) {
								return
							}
							reg[w][i][subj] = g
							held = append(held, pair{i, subj})
							record(tp, first, false)
						case op < 18:
							g, registered := reg[w][i][subj]
							if !registered {
								g = rng.IntN(groups)
							}
							tp, last, ok := r.Remove(name, g, s)
							if !assert.Equal(t, registered, ok) {
								return
							}
							if !ok {
								continue
							}
							delete(reg[w][i], subj)
							// Not last: the topic may die right after Remove
							// returned (another remove, or Expire), so only
							// last ⇒ Dead is checked.
							if !assert.False(t, last && !tp.Dead()) || !assert.False(t, last && linger > 0) {
								return
							}
							if last {
								record(tp, false, true)
							}
						default:
							for _, tp := range r.Expire(time.Now()) {
								if !assert.True(t, tp.Dead()) {
									return
								}
								record(tp, false, true)
							}
							r.View(name, func(tp *Topic[int, int]) {
								n := 0
								for k := 0; k < tp.NumGroups(); k++ {
									_, subs := tp.Group(k)
									n += len(subs)
								}
								assert.Equal(t, n, tp.Len())
							})
						}
					}
				})
			}
			wg.Wait()
			require.False(t, t.Failed())
			released := 0
			for _, c := range perTopic {
				released += c.released
			}
			require.Greater(t, released, 100, "topics were rarely released: the test does not exercise the refcount")

			check := func() {
				want := make([]map[int][]int, subjects) // subject → group → subs
				wantSubs := 0
				for w := range reg {
					for i, m := range reg[w] {
						for subj, g := range m {
							if want[subj] == nil {
								want[subj] = map[int][]int{}
							}
							want[subj][g] = append(want[subj][g], w*perW+i)
							wantSubs++
						}
					}
				}
				topics, subs := r.Len()
				require.Equal(t, wantSubs, subs)
				require.Len(t, r.Subjects(), topics)

				net := make([]int, subjects)
				for tp, c := range perTopic {
					require.Equal(t, 1, c.first, "topic %s created %d times", tp.Subject, c.first)
					require.LessOrEqual(t, c.released, 1, "topic %s released %d times", tp.Subject, c.released)
					require.Equal(t, c.released == 1, tp.Dead(), tp.Subject)
					var subj int
					_, err := fmt.Sscanf(tp.Subject, "subject.%d", &subj)
					require.NoError(t, err)
					net[subj] += c.first - c.released
				}
				live := 0
				for subj := range subjects {
					require.Contains(t, []int{0, 1}, net[subj], "subject %d", subj)
					var got map[int][]int
					exists := r.View(subjectName(subj), func(tp *Topic[int, int]) {
						require.False(t, tp.Dead())
						require.Equal(t, 1, perTopic[tp].first)
						got = map[int][]int{}
						for k := 0; k < tp.NumGroups(); k++ {
							g, subs := tp.Group(k)
							got[g] = append([]int(nil), subs...)
							sort.Ints(got[g])
						}
					})
					require.Equal(t, net[subj] == 1, exists, "subject %d", subj)
					if exists {
						live++
						if want[subj] == nil {
							want[subj] = map[int][]int{} // lingering
						}
						for _, subs := range want[subj] {
							sort.Ints(subs)
						}
						require.Equal(t, want[subj], got, "subject %d", subj)
					} else {
						require.Empty(t, want[subj], "subject %d", subj)
					}
				}
				require.Equal(t, live, topics)
			}
			check()

			// Drain: all remaining upstreams are released exactly once.
			for w := range reg {
				for i, m := range reg[w] {
					for subj, g := range m {
						tp, last, ok := r.Remove(subjectName(subj), g, w*perW+i)
						require.True(t, ok)
						delete(m, subj)
						if last {
							record(tp, false, true)
						}
					}
				}
			}
			for _, tp := range r.Expire(time.Now().Add(time.Hour)) {
				record(tp, false, true)
			}
			check()
			topics, subs := r.Len()
			require.Zero(t, topics)
			require.Zero(t, subs)
		})
	}
}
