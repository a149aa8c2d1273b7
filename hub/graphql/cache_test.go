package graphql

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCacheSharesPlans(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	c := NewCache(s, 4)
	require.Same(t, s, c.Schema())
	req := Request{Query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, Variables: []byte(`{"s":"1"}`)}
	a, errs := c.Compile(req)
	require.Nil(t, errs)
	b, errs := c.Compile(Request{Query: req.Query, Variables: []byte(`{"s":"1"}`)})
	require.Nil(t, errs)
	require.Same(t, a.Plan, b.Plan)
	require.Equal(t, a.Topic, b.Topic)

	other, errs := c.Compile(Request{Query: req.Query, Variables: []byte(`{"s":"2"}`)})
	require.Nil(t, errs)
	require.Equal(t, "books.2.added", other.Topic)

	// Errors are cached as well.
	_, e1 := c.Compile(Request{Query: `subscription { nope }`})
	_, e2 := c.Compile(Request{Query: `subscription { nope }`})
	require.Len(t, e1, 1)
	require.Same(t, e1[0], e2[0])
	require.Equal(t, 3, c.Len())
}

func TestCacheKeyIsUnambiguous(t *testing.T) {
	t.Parallel()
	c := NewCache(compileSchema(t), 8)
	q := `subscription A { plain { id } } subscription B { plain { title } }`
	a, errs := c.Compile(Request{Query: q, OperationName: "A"})
	require.Nil(t, errs)
	b, errs := c.Compile(Request{Query: q, OperationName: "B"})
	require.Nil(t, errs)
	require.NotSame(t, a.Plan, b.Plan)
	require.Equal(t, 2, c.Len())
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := NewCache(compileSchema(t), 2)
	req := func(i int) Request {
		return Request{Query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, Variables: fmt.Appendf(nil, `{"s":"%d"}`, i)}
	}
	p0, _ := c.Compile(req(0))
	c.Compile(req(1))
	again, _ := c.Compile(req(0)) // 0 is now most recent
	require.Same(t, p0.Plan, again.Plan)
	c.Compile(req(2)) // evicts 1
	require.Equal(t, 2, c.Len())
	stillThere, _ := c.Compile(req(0))
	require.Same(t, p0.Plan, stillThere.Plan)
	require.Equal(t, 2, c.Len())
}

func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	c := NewCache(compileSchema(t), 16)
	var wg sync.WaitGroup
	plans := make([][]*Plan, 8)
	for g := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 64 {
				op, errs := c.Compile(Request{Query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, Variables: fmt.Appendf(nil, `{"s":"%d"}`, i%4)})
				if errs != nil {
					t.Errorf("compile: %v", errs)
					return
				}
				plans[g] = append(plans[g], op.Plan)
			}
		}()
	}
	wg.Wait()
	// Once cached, every goroutine gets the same plan per variables.
	for g := range plans {
		require.Same(t, plans[0][63], plans[g][63])
	}
	require.Equal(t, 4, c.Len())
}

func TestNewCacheRejectsZeroSize(t *testing.T) {
	t.Parallel()
	require.PanicsWithValue(t, ErrInvalidCacheSize, func() { NewCache(DefaultSchema(), 0) })
}

func TestCacheInternsIdenticalPlans(t *testing.T) {
	t.Parallel()
	c := NewCache(compileSchema(t), 3)
	q := `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`
	a, errs := c.Compile(Request{Query: q, Variables: []byte(`{"s":"1"}`)})
	require.Nil(t, errs)
	b, errs := c.Compile(Request{Query: q, Variables: []byte(`{ "s" : "1" }`)})
	require.Nil(t, errs)
	other, errs := c.Compile(Request{Query: q, Variables: []byte(`{"s":"2"}`)})
	require.Nil(t, errs)
	require.Same(t, a.Plan, b.Plan)
	require.Same(t, a.Plan, other.Plan, "the plan does not depend on the topic")
	require.Equal(t, "books.2.added", other.Topic)

	// A different layout changes error locations, so the plan differs.
	moved, errs := c.Compile(Request{Query: "subscription($s: ID!) {\n bookAdded(shelf: $s) { id } }", Variables: []byte(`{"s":"1"}`)})
	require.Nil(t, errs)
	require.NotSame(t, a.Plan, moved.Plan)

	// Evicting every user of a plan drops it; recompiling builds a new one.
	for i := range 3 {
		_, errs := c.Compile(Request{Query: `subscription { plain { id } }`, Variables: fmt.Appendf(nil, `{"x%d":1}`, i)})
		require.Nil(t, errs)
	}
	c.mu.Lock()
	require.Len(t, c.plans, 1)
	c.mu.Unlock()
	again, _ := c.Compile(Request{Query: q, Variables: []byte(`{"s":"1"}`)})
	require.NotSame(t, a.Plan, again.Plan)
}

// A field whose arguments do not coerce with one request's variables raises
// an error in that plan only: the two plans must not be interned as one.
func TestCacheKeepsPlansApartByArgumentErrors(t *testing.T) {
	t.Parallel()
	s, err := ParseSchema("args", fieldArgSDL)
	require.NoError(t, err)
	c := NewCache(s, 4)
	q := `subscription($u: Boolean = true) { item(id: "1") { label(upper: $u) } }`
	ok, errs := c.Compile(Request{Query: q, Variables: []byte(`{"u":false}`)})
	require.Nil(t, errs)
	bad, errs := c.Compile(Request{Query: q, Variables: []byte(`{"u":null}`)})
	require.Nil(t, errs)
	require.NotSame(t, ok.Plan, bad.Plan)
	event := parseEvent(t, `{"label":"x"}`)
	require.JSONEq(t, `{"data":{"item":{"label":"x"}}}`, string(result(t, ok.Plan, event)))
	require.JSONEq(t, `{"data":{"item":{"label":null}},"errors":[{"message":"Argument \"upper\" of non-null type \"Boolean!\" must not be null.","locations":[{"line":1,"column":65}],"path":["item","label"]}]}`,
		string(result(t, bad.Plan, event)))
}
