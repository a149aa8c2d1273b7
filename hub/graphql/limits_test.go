package graphql

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const chainSDL = `type Chain { val: Int n: Int! next(x: Int): Chain items: [Int] }
type Subscription { chain: Chain @topic(subject: "c") }`

// aliases returns n selections made by f, space-separated.
func aliases(n int, f func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(f(i))
		b.WriteByte(' ')
	}
	return b.String()
}

func chainSchema(t *testing.T, l Limits) *Schema {
	t.Helper()
	s, err := ParseSchema("chain.graphql", chainSDL)
	require.NoError(t, err)
	return s.WithLimits(l)
}

func TestMaxFieldsCountsFragmentSpreadsInFull(t *testing.T) {
	s := chainSchema(t, Limits{MaxFields: 10})
	tooLarge := "Document too large: it selects more than 10 fields, counting every fragment spread in full; this server accepts at most 10."
	for _, tc := range []struct {
		name, doc string
		refused   bool
	}{
		// chain + 9 = 10 fields.
		{"at the limit", "subscription { chain { " + aliases(9, func(i int) string { return fmt.Sprintf("v%d: val", i) }) + "} }", false},
		{"one over", "subscription { chain { " + aliases(10, func(i int) string { return fmt.Sprintf("v%d: val", i) }) + "} }", true},
		// chain + 3 × (next + 2) = 10, and F once more on its own is not
		// counted again: the operation spreads it.
		{"spread three times at the limit", "subscription { chain { a: next { ...F } b: next { ...F } c: next { ...F } } } fragment F on Chain { val n }", false},
		{"spread three times over it", "subscription { chain { a: next { ...F } b: next { ...F } c: next { ...F } } } fragment F on Chain { val n x: val }", true},
		{"nested spreads multiply", "subscription { chain { ...A } } fragment A on Chain { a: next { ...B } b: next { ...B } } fragment B on Chain { val n x: val y: val }", true},
		// An unused fragment is still walked by the validator.
		{"unused fragment adds", "subscription { chain { val } } fragment U on Chain { " + aliases(9, func(i int) string { return fmt.Sprintf("v%d: val", i) }) + "}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := s.Compile(Request{Query: tc.doc})
			if !tc.refused {
				require.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1)
			require.Equal(t, tooLarge, errs[0].Message)
		})
	}
}

func TestMaxFieldsSurvivesFragmentCycles(t *testing.T) {
	s := chainSchema(t, Limits{})
	_, errs := s.Compile(Request{Query: "subscription { chain { ...A } } fragment A on Chain { next { ...B } } fragment B on Chain { next { ...A } }"})
	require.NotEmpty(t, errs)
	require.Contains(t, errs[0].Message, "Cannot spread fragment")
}

// A 64 KB document whose fragments expand to four million fields: without
// the limit, validating it took 17 s and 1.9 GB here.
func TestMaxFieldsRefusesExponentialDocumentBeforeValidation(t *testing.T) {
	s := chainSchema(t, Limits{})
	doc := "subscription { chain { ...F0 } } fragment F0 on Chain { " +
		aliases(2000, func(i int) string { return fmt.Sprintf("a%d: next { ...F1 }", i) }) +
		"} fragment F1 on Chain { " + aliases(2000, func(i int) string { return fmt.Sprintf("b%d: val", i) }) + "}"
	require.Less(t, len(doc), 65536)
	_, errs := s.Compile(Request{Query: doc})
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Message, "Document too large")
}

func TestValidationErrorsStopAtOneHundred(t *testing.T) {
	s := chainSchema(t, Limits{})
	// Every pair of these conflicts: 124,251 errors unbounded.
	doc := "subscription { chain { " + aliases(499, func(i int) string { return fmt.Sprintf("next(x: %d) { val }", i) }) + "} }"
	_, errs := s.Compile(Request{Query: doc})
	require.Len(t, errs, 101)
	require.Contains(t, errs[0].Message, `Fields "next" conflict`)
	require.Equal(t, "Too many validation errors, error limit reached. Validation aborted.", errs[100].Message)
}

func compileChain(t *testing.T, s *Schema, doc string) *Plan {
	t.Helper()
	op, errs := s.Compile(Request{Query: doc})
	require.Empty(t, errs)
	return op.Plan
}

func TestResultLimitReplacesOversizedResultWithError(t *testing.T) {
	s := chainSchema(t, Limits{MaxResultBytes: 200})
	p := compileChain(t, s, "subscription { chain { items } }")

	small := parseEvent(t, `{"items":[1,2,3]}`)
	out, ok := p.AppendResult(nil, small)
	require.True(t, ok)
	require.JSONEq(t, `{"data":{"chain":{"items":[1,2,3]}}}`, string(out))

	big := parseEvent(t, "{\"items\":["+strings.Repeat("123456,", 100)+"1]}")
	out, ok = p.AppendResult([]byte("kept"), big)
	require.False(t, ok)
	require.True(t, strings.HasPrefix(string(out), "kept"), "dst's contents are kept: %s", out)
	require.JSONEq(t, `{"data":null,"errors":[{
		"message":"The result for this event is larger than this server's limit of 200 bytes, so it was not sent.",
		"locations":[{"line":1,"column":16}],"path":["chain"]}]}`, string(out[4:]))

	// The plan is not spoiled for the next event.
	out, ok = p.AppendResult(nil, small)
	require.True(t, ok)
	require.JSONEq(t, `{"data":{"chain":{"items":[1,2,3]}}}`, string(out))
}

// Field errors take room in the result too: a list of values that all fail
// completion produces little data and many errors.
func TestResultLimitCountsFieldErrors(t *testing.T) {
	s := chainSchema(t, Limits{MaxResultBytes: 4096})
	p := compileChain(t, s, "subscription { chain { items } }")
	out, ok := p.AppendResult(nil, parseEvent(t, "{\"items\":["+strings.Repeat(`"x",`, 200)+`"x"]}`))
	require.False(t, ok, "%d bytes", len(out))
	require.Less(t, len(out), 4096)

	out, ok = p.AppendResult(nil, parseEvent(t, `{"items":["x","x"]}`))
	require.True(t, ok)
	var r struct{ Errors []any }
	require.NoError(t, json.Unmarshal(out, &r))
	require.Len(t, r.Errors, 2)
}

// Aliased copies of nested fields multiply per level: a 2 KB document asks
// for 40³ values of a 60-byte event. The limit stops the projection once
// the output reaches it instead of building all of it.
func TestResultLimitStopsAmplification(t *testing.T) {
	s := chainSchema(t, Limits{MaxFields: 1 << 30, MaxResultBytes: 1 << 16})
	frag := func(i int, inner string) string {
		return fmt.Sprintf("fragment F%d on Chain { val ", i) + aliases(40, func(j int) string { return fmt.Sprintf("a%d: next { %s }", j, inner) }) + "} "
	}
	doc := "subscription { chain { ...F0 } } " + frag(0, "...F1") + frag(1, "...F2") +
		"fragment F2 on Chain { " + aliases(40, func(j int) string { return fmt.Sprintf("a%d: val", j) }) + "}"
	p := compileChain(t, s, doc)
	ev := parseEvent(t, `{"val":1,"next":{"val":1,"next":{"val":1,"next":{"val":1}}}}`)
	out, ok := p.AppendResult(nil, ev)
	require.False(t, ok)
	require.Contains(t, string(out), "larger than this server's limit of 65536 bytes")

	// Work that non-null propagation throws away never shows in the
	// output: each F1 below builds 40×40 values and then fails on the
	// missing non-null n, so the result stays small with 40 errors, while
	// the work is 65k values. The budget of completed values ends it.
	s = chainSchema(t, Limits{MaxFields: 1 << 30, MaxResultBytes: 1 << 15})
	doc = "subscription { chain { ...F0 } } " + frag(0, "...F1") +
		"fragment F1 on Chain { " + aliases(40, func(j int) string { return fmt.Sprintf("b%d: next { ...F2 }", j) }) + "z: n } " +
		"fragment F2 on Chain { " + aliases(40, func(j int) string { return fmt.Sprintf("c%d: val", j) }) + "}"
	p = compileChain(t, s, doc)
	out, ok = p.AppendResult(nil, parseEvent(t, `{"val":1,"next":{"val":1,"next":{"val":1}}}`))
	require.False(t, ok, "%d bytes", len(out))
}

func TestWithLimitsLeavesTheSchemaAlone(t *testing.T) {
	s := chainSchema(t, Limits{})
	l := s.WithLimits(Limits{MaxFields: 3})
	require.Equal(t, Limits{MaxFields: DefaultMaxFields, MaxResultBytes: DefaultMaxResultBytes}, s.Limits())
	require.Equal(t, Limits{MaxFields: 3, MaxResultBytes: DefaultMaxResultBytes}, l.Limits())
	doc := "subscription { chain { val n next { val } } }"
	_, errs := s.Compile(Request{Query: doc})
	require.Empty(t, errs)
	_, errs = l.Compile(Request{Query: doc})
	require.Len(t, errs, 1)
}
