package graphql

import (
	"container/list"
	"sync"
)

// Cache is a bounded LRU cache of compiled operations keyed by (query,
// operationName, variables bytes). It is safe for concurrent use. A
// repeated request compiles nothing and returns the same *Plan; failed
// compilations are cached too, since they fail the same way every time.
// Cached operations whose projections are identical (the same selections,
// locations and types, whatever the spelling of the document, the variables
// or the topic) share one *Plan, so the hub projects an event once for all
// of them.
type Cache struct {
	s    *Schema
	size int

	mu      sync.Mutex // guards the fields below
	entries map[string]*list.Element
	lru     list.List // of *cacheEntry, most recently used first
	plans   map[string]*sharedPlan
	scratch []byte // key buffer for lookups
}

type cacheEntry struct {
	key  string
	op   Operation
	errs Errors
	// fingerprint of op.Plan, "" for failed compilations.
	fingerprint string
}

// sharedPlan is an interned plan and the number of cache entries using it.
type sharedPlan struct {
	plan *Plan
	refs int
}

// NewCache returns a cache of at most size compiled operations of s. It
// panics with ErrInvalidCacheSize if size < 1.
func NewCache(s *Schema, size int) *Cache {
	if size < 1 {
		panic(ErrInvalidCacheSize)
	}
	return &Cache{s: s, size: size, entries: make(map[string]*list.Element, size), plans: map[string]*sharedPlan{}}
}

// Schema returns the schema operations are compiled against.
func (c *Cache) Schema() *Schema { return c.s }

// Len returns the number of cached operations.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Compile returns the cached result of Schema.Compile for req, compiling on
// a miss. Errors returned must not be modified by the caller.
func (c *Cache) Compile(req Request) (Operation, Errors) {
	c.mu.Lock()
	c.scratch = appendCacheKey(c.scratch[:0], req)
	if el, ok := c.entries[string(c.scratch)]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		return e.op, e.errs
	}
	c.mu.Unlock()

	op, errs := c.s.Compile(req)
	key := string(appendCacheKey(nil, req))
	var fp string
	if op.Plan != nil {
		fp = op.Plan.fingerprint()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		// Compiled concurrently by another caller: share its plan.
		c.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		return e.op, e.errs
	}
	if fp != "" {
		sp := c.plans[fp]
		if sp == nil {
			sp = &sharedPlan{plan: op.Plan}
			c.plans[fp] = sp
		}
		sp.refs++
		op.Plan = sp.plan
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, op: op, errs: errs, fingerprint: fp})
	for c.lru.Len() > c.size {
		old := c.lru.Remove(c.lru.Back()).(*cacheEntry)
		delete(c.entries, old.key)
		if old.fingerprint != "" {
			sp := c.plans[old.fingerprint]
			sp.refs--
			if sp.refs == 0 {
				delete(c.plans, old.fingerprint)
			}
		}
	}
	return op, errs
}

// appendCacheKey appends an unambiguous key: length-prefixed query and
// operation name, then the variables.
func appendCacheKey(dst []byte, req Request) []byte {
	dst = appendUvarint(dst, uint64(len(req.Query)))
	dst = append(dst, req.Query...)
	dst = appendUvarint(dst, uint64(len(req.OperationName)))
	dst = append(dst, req.OperationName...)
	return append(dst, req.Variables...)
}

func appendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
