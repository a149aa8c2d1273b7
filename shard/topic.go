package shard

import (
	"sync"
	"sync/atomic"
	"time"
)

// Topic is one subject's local subscribers, partitioned into groups by key.
//
// Subject and the group/subscriber data are owned by the registry: Groups,
// NumGroups and Group may only be called while the topic's shard lock is
// held (inside Registry.View) or after the registry removed the topic
// (Dead is true), when no one mutates it any more. Dead and Len may be
// called at any time.
type Topic[G comparable, S comparable] struct {
	// Subject is the NATS subject; immutable.
	Subject string

	// UpMu guards Upstream. The registry never takes it, so the caller may
	// hold it across I/O.
	UpMu sync.Mutex
	// Upstream is owned by the caller (the hub stores its NATS subscription
	// here); the registry never reads or writes it.
	Upstream any

	dead atomic.Bool
	n    atomic.Int64 // subscribers; written under the shard write lock

	groups []group[G, S] // shard lock

	// Linger bookkeeping, shard lock: idle is the topic's index in its
	// shard's idle list, -1 when the topic is not lingering.
	idle       int
	emptySince time.Time
}

// group is the subscribers of one group key within a topic.
type group[G comparable, S comparable] struct {
	key  G
	subs []S
	idx  map[S]int32 // subscriber → index in subs
	peak int         // largest len(subs) since subs and idx were last built
}

// Dead reports whether the registry has removed the topic (by Remove with
// linger 0, Expire or RemoveTopic). Once true it stays true. Safe for
// concurrent use.
func (t *Topic[G, S]) Dead() bool { return t.dead.Load() }

// Len returns the number of subscribers. Safe for concurrent use; without
// the shard lock the value may be stale by the time it is used.
func (t *Topic[G, S]) Len() int { return int(t.n.Load()) }

// NumGroups returns the number of non-empty groups. The shard lock must be
// held (inside View) or the topic must be dead.
func (t *Topic[G, S]) NumGroups() int { return len(t.groups) }

// Group returns the i-th group's key and its subscribers, 0 <= i <
// NumGroups(). subs is the registry's own slice: read-only, and valid only
// while the shard lock is held (or forever once the topic is dead). Group
// order is unspecified and changes when groups are removed.
func (t *Topic[G, S]) Group(i int) (key G, subs []S) {
	g := &t.groups[i]
	return g.key, g.subs
}

// find returns the index of the group with key, or -1.
func (t *Topic[G, S]) find(key G) int {
	for i := range t.groups {
		if t.groups[i].key == key {
			return i
		}
	}
	return -1
}

// has reports whether s is registered in any group.
func (t *Topic[G, S]) has(s S) bool {
	for i := range t.groups {
		if _, ok := t.groups[i].idx[s]; ok {
			return true
		}
	}
	return false
}

// add appends s to the group with key, creating the group if needed. s must
// not be registered yet. Shard write lock held.
func (t *Topic[G, S]) add(key G, s S) {
	gi := t.find(key)
	if gi < 0 {
		t.groups = append(t.groups, group[G, S]{key: key, idx: make(map[S]int32, 1)})
		gi = len(t.groups) - 1
	}
	g := &t.groups[gi]
	g.idx[s] = int32(len(g.subs))
	g.subs = append(g.subs, s)
	g.peak = max(g.peak, len(g.subs))
	t.n.Add(1)
}

// remove swap-removes s from the group with key and drops the group if it
// became empty. It reports false if s is not in that group. Shard write
// lock held.
func (t *Topic[G, S]) remove(key G, s S) bool {
	gi := t.find(key)
	if gi < 0 {
		return false
	}
	g := &t.groups[gi]
	i, ok := g.idx[s]
	if !ok {
		return false
	}
	last := len(g.subs) - 1
	if int(i) != last {
		moved := g.subs[last]
		g.subs[i] = moved
		g.idx[moved] = i
	}
	var zero S
	g.subs[last] = zero // drop the reference for the GC
	g.subs = g.subs[:last]
	delete(g.idx, s)
	t.n.Add(-1)
	if last == 0 {
		lg := len(t.groups) - 1
		t.groups[gi] = t.groups[lg]
		t.groups[lg] = group[G, S]{}
		t.groups = t.groups[:lg]
	} else if ShouldShrink(last, g.peak, ShrinkMin) {
		g.shrink()
	}
	return true
}

// shrink rebuilds subs and idx at their current size, keeping the order.
// Readers only see subs under the shard's read lock, so the old slice is
// unreachable once the write lock is released. Shard write lock held.
func (g *group[G, S]) shrink() {
	g.subs = append([]S(nil), g.subs...)
	g.idx = make(map[S]int32, len(g.subs))
	for i, s := range g.subs {
		g.idx[s] = int32(i)
	}
	g.peak = len(g.subs)
}
