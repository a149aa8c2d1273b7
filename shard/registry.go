package shard

import (
	"runtime"
	"sync"
	"time"
)

// Registry maps subjects to topics, spread over independently locked
// shards. G is the group key, S the subscriber handle. Safe for concurrent
// use; see the package documentation for the locking and refcount
// contracts.
type Registry[G comparable, S comparable] struct {
	shards []shard[G, S]
	linger time.Duration
	now    func() time.Time // clock for Remove's linger timestamps; tests replace it
}

// shard is one lock's worth of topics, padded so that neighbouring shards'
// locks do not share a cache line.
type shard[G comparable, S comparable] struct {
	mu     sync.RWMutex
	topics map[string]*Topic[G, S]
	peak   int            // largest len(topics) since topics was last rebuilt
	idle   []*Topic[G, S] // lingering (empty) topics
	subs   int            // subscribers in this shard
	_      [64]byte
}

// ShrinkMin is the smallest peak at which a map or slice that grew with
// topics, subscribers or connections is rebuilt at its current size once it
// has fallen to a quarter of that peak (Go maps never shrink, slices keep
// their capacity). Below it the memory is not worth a copy.
const ShrinkMin = 1024

// ShouldShrink reports whether a structure holding n entries, whose size
// peaked at peak since it was last built, should be rebuilt: the peak is at
// least floor and n below a quarter of it. A rebuild copies fewer than
// peak/4 entries and follows at least 3/4 peak removals, so it costs O(1)
// amortised per removal.
func ShouldShrink(n, peak, floor int) bool { return peak >= floor && n < peak/4 }

// ShrinkMap returns m rebuilt at its current size and that size as the new
// peak once ShouldShrink(len(m), peak, ShrinkMin); otherwise m and peak.
// The caller tracks peak (the largest len(m) since m was built) and holds
// whatever lock guards m.
func ShrinkMap[K comparable, V any](m map[K]V, peak int) (map[K]V, int) {
	if !ShouldShrink(len(m), peak, ShrinkMin) {
		return m, peak
	}
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n, len(n)
}

// shrinkTopics rebuilds the topics map once it has fallen far below its
// peak. Shard write lock held.
func (sh *shard[G, S]) shrinkTopics() {
	sh.topics, sh.peak = ShrinkMap(sh.topics, sh.peak)
}

// New returns a registry with n shards; n <= 0 means
// runtime.GOMAXPROCS(0)*4 rounded up to a power of two. linger is how long
// an empty topic is kept alive for reuse; zero means it is released
// immediately by Remove, and negative is treated as zero.
func New[G comparable, S comparable](n int, linger time.Duration) *Registry[G, S] {
	if n <= 0 {
		n = 1
		for n < runtime.GOMAXPROCS(0)*4 {
			n <<= 1
		}
	}
	if linger < 0 {
		linger = 0
	}
	r := &Registry[G, S]{
		shards: make([]shard[G, S], n),
		linger: linger,
		now:    time.Now,
	}
	for i := range r.shards {
		r.shards[i].topics = make(map[string]*Topic[G, S])
	}
	return r
}

// Shards returns the number of shards.
func (r *Registry[G, S]) Shards() int { return len(r.shards) }

// Linger returns the linger the registry was created with.
func (r *Registry[G, S]) Linger() time.Duration { return r.linger }

// ShardOf returns the shard index of subject: FNV-1a 64 of the subject's
// bytes modulo Shards(). The value is the same in every process with the
// same shard count. It does not allocate.
func (r *Registry[G, S]) ShardOf(subject string) int {
	return int(fnv1a(subject) % uint64(len(r.shards)))
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnv1a(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

func (r *Registry[G, S]) shardFor(subject string) *shard[G, S] {
	return &r.shards[r.ShardOf(subject)]
}

// Add registers s in group g of subject and returns the topic. first is
// true when the topic was created by this call: the caller must create the
// upstream subscription. Adding to an existing or lingering topic (which is
// revived) reports first=false. If s is already registered on subject, in
// any group, Add returns the topic and ErrDuplicate and changes nothing.
func (r *Registry[G, S]) Add(subject string, g G, s S) (t *Topic[G, S], first bool, err error) {
	sh := r.shardFor(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t = sh.topics[subject]
	if t == nil {
		t = &Topic[G, S]{Subject: subject, idle: -1}
		sh.topics[subject] = t
		sh.peak = max(sh.peak, len(sh.topics))
		first = true
	} else if t.has(s) {
		return t, false, ErrDuplicate
	}
	if t.idle >= 0 {
		sh.unidle(t)
	}
	t.add(g, s)
	sh.subs++
	return t, first, nil
}

// Remove unregisters s from group g of subject. ok is false, and nothing
// changes, if s is not registered in that group (t is then nil). last is
// true when s was the topic's final subscriber and the topic has been
// removed (it is Dead): the caller must release the upstream. With a linger
// > 0 Remove never reports last; the empty topic lingers until Expire.
func (r *Registry[G, S]) Remove(subject string, g G, s S) (t *Topic[G, S], last bool, ok bool) {
	sh := r.shardFor(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t = sh.topics[subject]
	if t == nil || !t.remove(g, s) {
		return nil, false, false
	}
	sh.subs--
	if t.n.Load() > 0 {
		return t, false, true
	}
	if r.linger > 0 {
		t.emptySince = r.now()
		t.idle = len(sh.idle)
		sh.idle = append(sh.idle, t)
		return t, false, true
	}
	delete(sh.topics, subject)
	sh.shrinkTopics()
	t.dead.Store(true)
	return t, true, true
}

// Expire removes the topics that have been empty for at least the linger
// as of now and returns them, dead; the caller releases their upstreams.
// With linger 0 it returns nil. It takes each shard's write lock in turn
// and costs O(lingering topics), not O(topics).
func (r *Registry[G, S]) Expire(now time.Time) []*Topic[G, S] {
	if r.linger <= 0 {
		return nil
	}
	var out []*Topic[G, S]
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for j := 0; j < len(sh.idle); {
			t := sh.idle[j]
			if now.Sub(t.emptySince) < r.linger {
				j++
				continue
			}
			sh.unidle(t) // moves the idle list's last topic to j
			delete(sh.topics, t.Subject)
			t.dead.Store(true)
			out = append(out, t)
		}
		sh.shrinkTopics()
		sh.mu.Unlock()
	}
	return out
}

// unidle takes t off the idle list (swap-remove) and reallocates the list
// once it has fallen far below its capacity; the order, and so every
// Topic.idle index, is kept. Shard write lock held.
func (sh *shard[G, S]) unidle(t *Topic[G, S]) {
	last := len(sh.idle) - 1
	if t.idle != last {
		moved := sh.idle[last]
		sh.idle[t.idle] = moved
		moved.idle = t.idle
	}
	sh.idle[last] = nil
	sh.idle = sh.idle[:last]
	t.idle = -1
	t.emptySince = time.Time{}
	if ShouldShrink(len(sh.idle), cap(sh.idle), ShrinkMin) {
		sh.idle = append([]*Topic[G, S](nil), sh.idle...)
	}
}

// View calls fn with subject's topic while holding the shard's read lock
// and reports whether the topic exists; if not, fn is not called. A
// lingering (empty) topic is passed to fn. fn must not call back into the
// registry, must not block on I/O and must not retain the subscriber
// slices. View does not allocate.
func (r *Registry[G, S]) View(subject string, fn func(t *Topic[G, S])) bool {
	sh := r.shardFor(subject)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	t := sh.topics[subject]
	if t == nil {
		return false
	}
	fn(t)
	return true
}

// RemoveTopic removes subject's topic, live or lingering, with all its
// subscribers and returns it, dead, or nil if there is none. The returned
// topic's groups and subscribers stay readable (the registry no longer
// touches them), e.g. to send "complete" to every subscriber; the caller
// releases the upstream.
func (r *Registry[G, S]) RemoveTopic(subject string) *Topic[G, S] {
	return r.RemoveTopicIf(subject, nil)
}

// RemoveTopicIf is RemoveTopic of subject's topic only if match (when not
// nil) returns true for it. match runs under the shard's write lock, so the
// topic cannot be replaced between the check and the removal: a completion
// that arrived through a released upstream can tell the topic it belongs to
// from a newer topic of the same subject.
func (r *Registry[G, S]) RemoveTopicIf(subject string, match func(*Topic[G, S]) bool) *Topic[G, S] {
	sh := r.shardFor(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.topics[subject]
	if t == nil || match != nil && !match(t) {
		return nil
	}
	if t.idle >= 0 {
		sh.unidle(t)
	}
	delete(sh.topics, subject)
	sh.shrinkTopics()
	sh.subs -= int(t.n.Load())
	t.dead.Store(true)
	return t
}

// Len returns the number of topics, lingering ones included, and of
// subscribers. Shards are read one after another, so under concurrent
// changes the result is not a snapshot of a single instant.
func (r *Registry[G, S]) Len() (topics, subscribers int) {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.RLock()
		topics += len(sh.topics)
		subscribers += sh.subs
		sh.mu.RUnlock()
	}
	return topics, subscribers
}

// Subjects returns the subjects of all topics, lingering ones included, in
// no particular order. The slice is newly allocated and owned by the
// caller.
func (r *Registry[G, S]) Subjects() []string {
	var out []string
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.RLock()
		for s := range sh.topics {
			out = append(out, s)
		}
		sh.mu.RUnlock()
	}
	return out
}
