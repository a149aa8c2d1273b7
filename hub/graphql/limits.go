package graphql

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// Limits bound the work one client request can cause. GraphQL itself has
// none: with aliases and fragment spreads a document of a few kilobytes can
// ask for an exponential number of fields, which costs the validator
// (gqlparser's overlapping-fields check is quadratic in the fields it
// compares) and every later event (each aliased copy is projected).
type Limits struct {
	// MaxFields bounds the fields a document selects, counting every
	// fragment spread in full as often as it is spread. A larger document
	// is refused before validation. 0 means DefaultMaxFields.
	MaxFields int
	// MaxResultBytes bounds the result of one event for one plan. An event
	// whose result would be larger is sent as {"data":null} with an error
	// saying so, for that plan only. 0 means DefaultMaxResultBytes.
	MaxResultBytes int
}

const (
	// DefaultMaxFields is the default Limits.MaxFields. Validating the
	// worst document of this many fields takes well under a second.
	DefaultMaxFields = 1000
	// DefaultMaxResultBytes is the default Limits.MaxResultBytes: what fits
	// the hub's default outbound queue with room for the frame header.
	DefaultMaxResultBytes = 1<<20 - 1024
)

func (l Limits) withDefaults() Limits {
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultMaxResultBytes
	}
	return l
}

// WithLimits returns a copy of s that compiles operations under l. s is
// unchanged, so one parsed schema can serve hubs with different limits.
func (s *Schema) WithLimits(l Limits) *Schema {
	c := *s
	c.limits = l.withDefaults()
	return &c
}

// WithHashedTopics returns a copy of s for a backplane that hashes each topic
// into its subject (HotChocolate's MD5 subjects): a topic's argument values
// then never reach NATS as subject tokens, so any string is accepted, as
// HotChocolate accepts it ("OnMessage_{room}" with room "John Doe" or
// "eu.support", a Float 1.5). Null values are still refused. s is unchanged.
func (s *Schema) WithHashedTopics() *Schema {
	c := *s
	c.hashedTopics = true
	return &c
}

// Limits returns the limits s compiles under.
func (s *Schema) Limits() Limits { return s.limits.withDefaults() }

// tooManyFields refuses a document that selects more than max fields with
// fragment spreads expanded, before the validator sees it.
func tooManyFields(doc *ast.QueryDocument, max int) *Error {
	c := fieldCounter{doc: doc, max: max, frags: map[string]int{}}
	n := 0
	for _, op := range doc.Operations {
		n = c.add(n, c.count(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		// Validation walks each fragment definition on its own too; one
		// that the operations spread costs no more than they do already,
		// one they do not (an error the validator has yet to find) adds.
		if _, reached := c.frags[f.Name]; !reached {
			n = c.add(n, c.fragment(f.Name))
		}
	}
	if n <= max {
		return nil
	}
	return requestError(fmt.Sprintf("Document too large: it selects more than %d fields, counting every fragment spread in full; this server accepts at most %d.", max, max))
}

// fieldCounter counts fields with fragment spreads expanded. Counts saturate
// just above max, so the count is linear in the document whatever it asks
// for.
type fieldCounter struct {
	doc   *ast.QueryDocument
	max   int
	frags map[string]int // expanded count per fragment; -1 while counting it
}

func (c *fieldCounter) add(a, b int) int { return min(a+b, c.max+1) }

func (c *fieldCounter) count(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n = c.add(n, c.add(1, c.count(sel.SelectionSet)))
		case *ast.InlineFragment:
			n = c.add(n, c.count(sel.SelectionSet))
		case *ast.FragmentSpread:
			n = c.add(n, c.fragment(sel.Name))
		}
		if n > c.max {
			return n
		}
	}
	return n
}

// fragment is the expanded count of the named fragment; unknown fragments
// and cycles (both validation errors) count 0 here.
func (c *fieldCounter) fragment(name string) int {
	if n, ok := c.frags[name]; ok {
		return max(n, 0)
	}
	f := c.doc.Fragments.ForName(name)
	if f == nil {
		return 0
	}
	c.frags[name] = -1
	n := c.count(f.SelectionSet)
	c.frags[name] = n
	return n
}
