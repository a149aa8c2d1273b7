package graphql

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const compileSDL = `
enum Venue { XNAS XNYS }
input Filter { genre: String! minYear: Int = 1900 tags: [String!] }
type Book { id: ID! title: String }
type Price { symbol: String! bid: Float }
type Query { book: Book }
type Mutation { addBook(title: String!): Book }
type Subscription {
  bookAdded(shelf: ID!): Book! @topic(subject: "books.{shelf}.added")
  priceChanged(symbol: String!, venue: String = "XNAS"): Price @topic(subject: "prices.{venue}.{symbol}")
  venuePrice(venue: Venue!, level: Int!, live: Boolean! = true): Price @topic(subject: "v.{venue}.l{level}.{live}")
  maybe(tag: String): Book @topic(subject: "maybe.{tag}")
  filtered(f: Filter, shelf: ID!): Book @topic(subject: "filtered.{shelf}")
  plain: Book
}
`

func compileSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := ParseSchema("compile.graphql", compileSDL)
	require.NoError(t, err)
	return s
}

func TestCompileTopic(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	tests := []struct {
		name, query, vars, topic, root string
	}{
		{"string id literal", `subscription { bookAdded(shelf: "s1") { id } }`, ``, "books.s1.added", "bookAdded"},
		{"int id literal", `subscription { bookAdded(shelf: 42) { id } }`, ``, "books.42.added", "bookAdded"},
		// The literal's text, as graphql-js's ID.parseLiteral keeps it: no
		// float64 rounding onto another number's subject.
		{"int id literal beyond 2^53", `subscription { bookAdded(shelf: 9007199254740993) { id } }`, ``, "books.9007199254740993.added", "bookAdded"},
		{"int id literal minus zero", `subscription { bookAdded(shelf: -0) { id } }`, ``, "books.-0.added", "bookAdded"},
		{"int id variable default beyond 2^53", `subscription($s: ID = 9223372036854775807) { bookAdded(shelf: $s) { id } }`, ``, "books.9223372036854775807.added", "bookAdded"},
		{"id variable int", `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, `{"s":7}`, "books.7.added", "bookAdded"},
		{"alias", `subscription { b: bookAdded(shelf: "x") { id } }`, ``, "books.x.added", "b"},
		{"default applies", `subscription { priceChanged(symbol: "AAPL") { bid } }`, ``, "prices.XNAS.AAPL", "priceChanged"},
		{"default overridden", `subscription { priceChanged(symbol: "AAPL", venue: "XNYS") { bid } }`, ``, "prices.XNYS.AAPL", "priceChanged"},
		{"unprovided variable uses default", `subscription($v: String) { priceChanged(symbol: "A", venue: $v) { bid } }`, `{}`, "prices.XNAS.A", "priceChanged"},
		{"variable default", `subscription($v: String = "BATS") { priceChanged(symbol: "A", venue: $v) { bid } }`, ``, "prices.BATS.A", "priceChanged"},
		{"enum int boolean", `subscription { venuePrice(venue: XNYS, level: -2, live: false) { bid } }`, ``, "v.XNYS.l-2.false", "venuePrice"},
		{"enum int boolean variables", `subscription($v: Venue!, $l: Int!) { venuePrice(venue: $v, level: $l) { bid } }`, `{"v":"XNAS","l":10}`, "v.XNAS.l10.true", "venuePrice"},
		{"no topic directive", `subscription { plain { id } }`, ``, "plain", "plain"},
		{"unicode token", `subscription { bookAdded(shelf: "étagère") { id } }`, ``, "books.étagère.added", "bookAdded"},
		{"input object variable", `subscription($f: Filter) { filtered(f: $f, shelf: "s") { id } }`, `{"f":{"genre":"x"}}`, "filtered.s", "filtered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := Request{Query: tc.query}
			if tc.vars != "" {
				req.Variables = []byte(tc.vars)
			}
			op, errs := s.Compile(req)
			require.Nil(t, errs)
			require.Equal(t, tc.topic, op.Topic)
			require.Equal(t, tc.root, op.Plan.RootField())
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	type want struct {
		msg  string
		locs []Location
		path []any
	}
	tests := []struct {
		name, query, op, vars string
		want                  []want
	}{
		{name: "syntax", query: `subscription {`,
			want: []want{{msg: "Syntax Error: Expected Name, found <EOF>.", locs: []Location{{1, 15}}}}},
		{name: "unknown field", query: "subscription {\n  bookAdded(shelf: \"1\") { nope }\n}",
			want: []want{{msg: `Cannot query field "nope" on type "Book".`, locs: []Location{{2, 27}}}}},
		{name: "unknown argument", query: `subscription { plain(x: 1) { id } }`,
			want: []want{{msg: `Unknown argument "x" on field "Subscription.plain".`, locs: []Location{{1, 16}}}}},
		{name: "missing required argument", query: `subscription { bookAdded { id } }`,
			want: []want{{msg: `Field "bookAdded" argument "shelf" of type "ID!" is required, but it was not provided.`, locs: []Location{{1, 16}}}}},
		{name: "wrong literal type", query: `subscription { bookAdded(shelf: 1.5) { id } }`,
			want: []want{{msg: `ID cannot represent a non-string and non-integer value: 1.5`, locs: []Location{{1, 33}}}}},
		{name: "undefined variable", query: `subscription { bookAdded(shelf: $s) { id } }`,
			want: []want{{msg: `Variable "$s" is not defined.`, locs: []Location{{1, 33}}}}},
		{name: "unused fragment", query: `subscription { plain { id } } fragment F on Book { id }`,
			want: []want{{msg: `Fragment "F" is never used.`, locs: []Location{{1, 31}}}}},
		{name: "two root fields", query: `subscription { plain { id } bookAdded(shelf: "1") { id } }`,
			want: []want{{msg: `Anonymous Subscription must select only one top level field.`, locs: []Location{{1, 29}}}}},
		{name: "aliased root fields", query: `subscription S { a: plain { id } b: plain { title } }`,
			want: []want{{msg: `Subscription "S" must select only one top level field.`, locs: []Location{{1, 34}}}}},
		{name: "introspection root", query: `subscription { __typename }`,
			want: []want{{msg: `Anonymous Subscription must not select an introspection top level field.`, locs: []Location{{1, 16}}}}},
		{name: "query", query: `query Q { book { id } }`,
			want: []want{{msg: `subhub serves subscriptions only; send queries to your GraphQL server`, locs: []Location{{1, 1}}}}},
		{name: "mutation", query: `mutation { addBook(title: "x") { id } }`,
			want: []want{{msg: `subhub serves subscriptions only; send mutations to your GraphQL server`, locs: []Location{{1, 1}}}}},
		{name: "unknown operation", query: `subscription A { plain { id } }`, op: "B",
			want: []want{{msg: `Unknown operation named "B".`}}},
		{name: "operation name required", query: `subscription A { plain { id } } subscription B { plain { id } }`,
			want: []want{{msg: `Must provide operation name if query contains multiple operations.`}}},
		{name: "no operation", query: `fragment F on Book { id }`,
			want: []want{{msg: `Fragment "F" is never used.`, locs: []Location{{1, 1}}}}},
		{name: "variable not provided", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`,
			want: []want{{msg: `Variable "$s" of required type "ID!" was not provided.`, locs: []Location{{1, 14}}}}},
		{name: "variable null", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, vars: `{"s":null}`,
			want: []want{{msg: `Variable "$s" of non-null type "ID!" must not be null.`, locs: []Location{{1, 14}}}}},
		{name: "variable invalid", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, vars: `{"s":true}`,
			want: []want{{msg: `Variable "$s" got invalid value true; ID cannot represent value: true`, locs: []Location{{1, 14}}}}},
		{name: "variable int range", query: `subscription($l: Int!) { venuePrice(venue: XNAS, level: $l) { bid } }`, vars: `{"l":2147483648}`,
			want: []want{{msg: `Variable "$l" got invalid value 2147483648; Int cannot represent non 32-bit signed integer value: 2147483648`, locs: []Location{{1, 14}}}}},
		{name: "int literal range", query: `subscription { venuePrice(venue: XNAS, level: 2147483648) { bid } }`,
			want: []want{{msg: `Int cannot represent non 32-bit signed integer value: 2147483648`, locs: []Location{{1, 47}}}}},
		// graphql-js's execute and subscribe collect the root fields
		// before anything runs (its validator throws on this document).
		{name: "include variable null at the root", query: `subscription($b: Boolean = true) { plain @include(if: $b) { id } }`, vars: `{"b":null}`,
			want: []want{{msg: `Argument "if" of non-null type "Boolean!" must not be null.`, locs: []Location{{1, 55}}}}},
		{name: "variable enum", query: `subscription($v: Venue!) { venuePrice(venue: $v, level: 1) { bid } }`, vars: `{"v":"LSE"}`,
			want: []want{{msg: `Variable "$v" got invalid value "LSE"; Value "LSE" does not exist in "Venue" enum.`, locs: []Location{{1, 14}}}}},
		{name: "variable input object", query: `subscription($f: Filter) { filtered(f: $f, shelf: "s") { id } }`, vars: `{"f":{"tags":["a",null],"extra":1}}`,
			want: []want{
				{msg: `Variable "$f" got invalid value { tags: ["a", null], extra: 1 }; Field "genre" of required type "String!" was not provided.`, locs: []Location{{1, 14}}},
				{msg: `Variable "$f" got invalid value null at "f.tags[1]"; Expected non-nullable type "String!" not to be null.`, locs: []Location{{1, 14}}},
				{msg: `Variable "$f" got invalid value { tags: ["a", null], extra: 1 }; Field "extra" is not defined by type "Filter".`, locs: []Location{{1, 14}}},
			}},
		{name: "variables not an object", query: `subscription { plain { id } }`, vars: `[1]`,
			want: []want{{msg: `Variables must be provided as an Object where each property is a variable value.`}}},
		{name: "topic token with dot", query: `subscription { bookAdded(shelf: "a.b") { id } }`,
			want: []want{{msg: `invalid topic "books.{shelf}.added": argument "shelf" value "a.b" contains '.'; it must be one subject token`, locs: []Location{{1, 16}}, path: []any{"bookAdded"}}}},
		{name: "topic token wildcard from variable", query: `subscription($s: ID!) { b: bookAdded(shelf: $s) { id } }`, vars: `{"s":"*"}`,
			want: []want{{msg: `invalid topic "books.{shelf}.added": argument "shelf" value "*" contains wildcard '*'; it must be one subject token`, locs: []Location{{1, 25}}, path: []any{"b"}}}},
		{name: "topic token full wildcard", query: `subscription { bookAdded(shelf: ">") { id } }`,
			want: []want{{msg: `invalid topic "books.{shelf}.added": argument "shelf" value ">" contains wildcard '>'; it must be one subject token`, locs: []Location{{1, 16}}, path: []any{"bookAdded"}}}},
		{name: "topic token empty", query: `subscription { bookAdded(shelf: "") { id } }`,
			want: []want{{msg: `invalid topic "books.{shelf}.added": argument "shelf" value "" empty; it must be one subject token`, locs: []Location{{1, 16}}, path: []any{"bookAdded"}}}},
		{name: "topic token whitespace", query: `subscription { priceChanged(symbol: "A B") { bid } }`,
			want: []want{{msg: `invalid topic "prices.{venue}.{symbol}": argument "symbol" value "A B" contains whitespace or a control character; it must be one subject token`, locs: []Location{{1, 16}}, path: []any{"priceChanged"}}}},
		{name: "topic token control", query: `subscription($s: String!) { priceChanged(symbol: $s) { bid } }`, vars: `{"s":"a\u0000"}`,
			want: []want{{msg: `invalid topic "prices.{venue}.{symbol}": argument "symbol" value "a\x00" contains whitespace or a control character; it must be one subject token`, locs: []Location{{1, 29}}, path: []any{"priceChanged"}}}},
		{name: "topic too long", query: `subscription($s: String!) { priceChanged(symbol: $s) { bid } }`, vars: `{"s":"` + strings.Repeat("y", 1015) + `"}`,
			want: []want{{msg: `invalid topic "prices.{venue}.{symbol}": 1027 bytes long, more than the 1024 a topic may have`, locs: []Location{{1, 29}}, path: []any{"priceChanged"}}}},
		{name: "topic null argument", query: `subscription { maybe { id } }`,
			want: []want{{msg: `invalid topic "maybe.{tag}": argument "tag" is null`, locs: []Location{{1, 16}}, path: []any{"maybe"}}}},
		{name: "topic explicit null default", query: `subscription { priceChanged(symbol: "A", venue: null) { bid } }`,
			want: []want{{msg: `invalid topic "prices.{venue}.{symbol}": argument "venue" is null`, locs: []Location{{1, 16}}, path: []any{"priceChanged"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := Request{Query: tc.query, OperationName: tc.op}
			if tc.vars != "" {
				req.Variables = []byte(tc.vars)
			}
			op, errs := s.Compile(req)
			require.Nil(t, op.Plan)
			require.Len(t, errs, len(tc.want), "%v", errs)
			for i, w := range tc.want {
				require.Equal(t, w.msg, errs[i].Message)
				require.Equal(t, w.locs, errs[i].Locations)
				require.Equal(t, w.path, errs[i].Path)
			}
			require.NotEmpty(t, errs.Error())
		})
	}
}

func TestErrorsAppendJSON(t *testing.T) {
	t.Parallel()
	errs := Errors{
		{Message: "a \"quoted\"\nmessage"},
		{Message: "b", Locations: []Location{{1, 2}, {3, 4}}, Path: []any{"x", 0, "y"}},
	}
	require.JSONEq(t, `[{"message":"a \"quoted\"\nmessage"},{"message":"b","locations":[{"line":1,"column":2},{"line":3,"column":4}],"path":["x",0,"y"]}]`,
		string(errs.AppendJSON(nil)))
	require.Equal(t, "a \"quoted\"\nmessage; 1:2: b", errs.Error())
}

func TestCompileConcurrent(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				shelf := fmt.Sprintf("s%d-%d", g, i)
				op, errs := s.Compile(Request{Query: `subscription($s: ID!) { bookAdded(shelf: $s) { id title } }`, Variables: []byte(`{"s":"` + shelf + `"}`)})
				if errs != nil || op.Topic != "books."+shelf+".added" {
					t.Errorf("compile %s: %v %q", shelf, errs, op.Topic)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCompileNestedAbstractTypesStayLinear(t *testing.T) {
	t.Parallel()
	s, err := ParseSchema("n.graphql", `
interface N { id: ID! next: N }
type A implements N { id: ID! next: N }
type B implements N { id: ID! next: N }
type C implements N { id: ID! next: N }
type D implements N { id: ID! next: N }
type Query { a: Int }
type Subscription { n: N }`)
	require.NoError(t, err)
	q := "id"
	for range 16 { // 4^16 type combinations if selections were not shared
		q = "id next { " + q + " }"
	}
	op, errs := s.Compile(Request{Query: "subscription { n { " + q + " } }"})
	require.Nil(t, errs)
	require.Less(t, len(op.Plan.fingerprint()), 64<<10)
	out := result(t, op.Plan, parseEvent(t, `{"__typename":"C","id":"1","next":{"__typename":"A","id":"2","next":null}}`))
	require.Equal(t, `{"data":{"n":{"id":"1","next":{"id":"2","next":null}}}}`, string(out))
}

// With hashed topics (HotChocolate's MD5 subjects) an argument value never
// becomes a subject token, so values HotChocolate accepts are accepted; the
// same schema without it still refuses them, and null is refused in both.
func TestCompileHashedTopics(t *testing.T) {
	t.Parallel()
	plain := compileSchema(t)
	hashed := plain.WithHashedTopics()
	def := DefaultSchema().WithHashedTopics()
	tests := []struct {
		name   string
		s      *Schema
		query  string
		topic  string
		strict *Schema // the same query is refused without hashing
	}{
		{"dot in a token", hashed, `subscription { bookAdded(shelf: "eu.support") { id } }`, "books.eu.support.added", plain},
		{"space in a token", hashed, `subscription { priceChanged(symbol: "John Doe") { bid } }`, "prices.XNAS.John Doe", plain},
		{"wildcards are text", hashed, `subscription { bookAdded(shelf: "*") { id } }`, "books.*.added", plain},
		{"empty token", hashed, `subscription { bookAdded(shelf: "") { id } }`, "books..added", plain},
		{"verbatim topic with a space", def, `subscription { topic(name: "OnMessage John Doe") }`, "OnMessage John Doe", DefaultSchema()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op, errs := tc.s.Compile(Request{Query: tc.query})
			require.Empty(t, errs)
			require.Equal(t, tc.topic, op.Topic)
			_, errs = tc.strict.Compile(Request{Query: tc.query})
			require.Len(t, errs, 1)
			require.Contains(t, errs[0].Message, "invalid topic")
		})
	}
	_, errs := hashed.Compile(Request{Query: `subscription { maybe { id } }`})
	require.Len(t, errs, 1)
	require.Equal(t, `invalid topic "maybe.{tag}": argument "tag" is null`, errs[0].Message)
	require.False(t, plain.hashedTopics, "WithHashedTopics must not change its receiver")
}
