// Package shard is subhub's topic registry: it maps NATS subjects to the
// local subscribers of a node and refcounts them so that the node holds
// exactly one upstream NATS subscription per subject.
//
// # Refcounting contract
//
// Registry.Add reports first=true when it creates a topic; that caller must
// create the upstream subscription and store it in Topic.Upstream (under
// Topic.UpMu). Registry.Remove reports last=true when it removes the topic's
// final subscriber and the topic is gone; that caller must release the
// upstream. Every topic is handed out with first=true exactly once and is
// handed back for release at most once: by Remove (last=true, linger 0), by
// Expire (linger > 0) or by RemoveTopic. So an upstream is never created
// twice for one *Topic nor leaked, whatever the interleaving of callers.
//
// # Linger
//
// With a linger > 0 a topic whose last subscriber left is kept, empty, so
// that a quick re-subscribe reuses its upstream: Remove never reports last,
// an Add on the lingering topic revives it with first=false, and Expire
// removes and returns the topics that have been empty for at least the
// linger. The registry runs no timer; the caller calls Expire periodically.
//
// # Dead topics
//
// Topic.Dead becomes true (atomically, under the shard lock) when the
// registry removes the topic. A later Add of the same subject creates a new
// *Topic with first=true. A caller that creates an upstream after Add
// returned first=true should check Dead under UpMu: if the topic died in the
// meantime, the releasing caller may have seen no upstream to release.
//
// # Concurrency model
//
// Subjects are spread over shards by a stable FNV-1a 64 hash; every shard
// has its own sync.RWMutex guarding its topics, their groups and their
// subscriber slices. Add, Remove, Expire and RemoveTopic take a shard's
// write lock; View, Len and Subjects take read locks. No method holds two
// shard locks at once. Topic.Upstream is not touched by the registry; it is
// guarded by Topic.UpMu, which the registry never takes, so the caller may
// do I/O (NATS subscribe/unsubscribe) under UpMu but never under a shard
// lock.
//
// The registry is a pure data structure: it performs no I/O, starts no
// goroutines and imports nothing from NATS, so that a shard lock is only
// ever held for a few map and slice operations and the fan-out path (View)
// never waits behind a network call.
//
// # Layout
//
// A topic holds a small slice of groups (one per group key, e.g. one per
// compiled plan and protocol); a group holds its subscribers in a contiguous
// slice, so fan-out iterates a flat slice, plus a map from subscriber to
// slice index for O(1) swap-remove. Empty groups are removed. View does not
// allocate.
//
// Go maps never shrink and slices keep their capacity, so a structure that
// grew with a traffic peak (a shard's topics map, its list of lingering
// topics, a group's subscribers and index) is rebuilt at its current size,
// under the shard write lock, once it has fallen below a quarter of its
// peak; peaks under 1,024 entries are left alone. A rebuild copies fewer
// entries than the removals since the peak, so it costs O(1) amortised per
// removal and never runs on the View path.
package shard
