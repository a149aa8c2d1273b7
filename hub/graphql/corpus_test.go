package graphql

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// corpusSDL is the schema most differential cases run against.
const corpusSDL = `
scalar JSON
enum Genre { FICTION SCIENCE HISTORY }
interface Node { id: ID! }
interface Media { title: String! year: Int }
type Author implements Node { id: ID! name: String! born: Int books: [Book!] }
type Book implements Node & Media {
  id: ID!
  title: String!
  year: Int
  genre: Genre
  author: Author
  rating: Float
  tags: [String]
  strictTags: [String!]
  matrix: [[Int]]
  strictMatrix: [[Int!]!]
  available: Boolean
  meta: JSON
  chapters: [Chapter!]!
  related: [Media]
}
type Chapter { n: Int! title: String! }
type Film implements Node & Media { id: ID! title: String! year: Int director: Author minutes: Int }
union SearchResult = Book | Author | Film
type Scalars { i: Int f: Float s: String b: Boolean id: ID e: Genre nn: Int! ids: [ID] j: JSON }
type Chain { val: Int! next: Chain inner: Chain! opt: Int }
type Price { symbol: String! venue: String! bid: Float ask: Float }
type Query { hub: String }
type Subscription {
  bookAdded(shelf: ID!): Book! @topic(subject: "books.{shelf}.added")
  maybeBook(shelf: ID!): Book @topic(subject: "books.{shelf}.maybe")
  node(id: ID!): Node @topic(subject: "nodes.{id}")
  search(q: String!): [SearchResult] @topic(subject: "search.{q}")
  media: [Media!]!
  chain: Chain
  strictChain: Chain!
  scalars: Scalars
  priceChanged(symbol: String!, venue: String = "XNAS"): Price @topic(subject: "prices.{venue}.{symbol}")
  json: JSON
  genre(g: Genre!): Genre @topic(subject: "genre.{g}")
  numbers: [Int]
  strictNumbers: [Int!]
  grid: [[Int!]]!
}
`

// nestedIfaceSDL has an interface that implements another.
const nestedIfaceSDL = `
interface Node { id: ID! }
interface Named implements Node { id: ID! name: String }
type Person implements Node & Named { id: ID! name: String }
type Query { hub: String }
type Subscription { node: Node nodes: [Node!] }
`

// intArgSDL has Int arguments in subjects.
const intArgSDL = `
type Query { hub: String }
type Subscription {
  byInt(n: Int!): Int @topic(subject: "i.{n}")
  byInts(n: [Int!]): Int @topic(subject: "ints")
}
`

// inputSDL has an input object argument and an enum with similar values.
const inputSDL = `
enum Level { LOW LOW2 LOW10 HIGH }
input Filter { level: Level minScore: Int tags: [String!] }
type Query { hub: String }
type Subscription { alerts(filter: Filter, level: Level): Int }
`

// oneOfSDL has a OneOf input object.
const oneOfSDL = `
input Pick @oneOf { id: ID name: String nested: Pick }
input Wrap { pick: Pick }
type Query { hub: String }
type Subscription { picked(by: Pick, wrap: Wrap, all: [Pick!]): Int }
`

// fieldArgSDL has arguments on fields below the root, which graphql-js
// coerces before resolving each of them.
const fieldArgSDL = `
input Range { from: Int! to: Int }
type Item {
  label(upper: Boolean!): String
  size(unit: String = "cm"): Int
  priced(r: Range): Int
  strict(n: Int!): Int!
  many(ns: [Int!]): Int
  child: Item
}
type Query { hub: String }
type Subscription { item(id: ID!): Item @topic(subject: "items.{id}") items: [Item] strictItem: Item! }
`

// corpusCase is one differential case: the operation is compiled by subhub
// and executed by graphql-js with the root field resolving to event.
type corpusCase struct {
	name, sdl, query, op, vars, event string
	// requestError: both must reject the request, with the same errors
	// (message, locations) unless validation is set.
	requestError bool
	// validation: the request fails gqlparser's validation, whose messages
	// and locations differ from graphql-js's in places; only the rejection
	// is compared.
	validation bool
}

const bookEvent = `{"id":"b1","title":"Dune","year":1965,"genre":"FICTION","author":{"id":"a1","name":"Frank Herbert","born":1920},
 "rating":4.5,"tags":["classic",null,"desert"],"strictTags":["a","b"],"matrix":[[1,2],[null],[]],"strictMatrix":[[1],[2,3]],
 "available":true,"meta":{"isbn":"978-0441013593","pages":[1,2.5,"x"],"nested":{"ok":true,"none":null}},
 "chapters":[{"n":1,"title":"Arrakis"},{"n":2,"title":"Paul"}],
 "related":[{"__typename":"Film","id":"f1","title":"Dune (2021)","year":2021,"minutes":155},{"__typename":"Book","id":"b2","title":"Dune Messiah","year":1969}]}`

func corpus() []corpusCase {
	c := []corpusCase{
		// Fields, aliases, missing fields.
		{name: "fields", query: `subscription { bookAdded(shelf: "1") { id title year genre rating available } }`, event: bookEvent},
		{name: "aliases", query: `subscription { b: bookAdded(shelf: "1") { name: title when: year id: id } }`, event: bookEvent},
		{name: "missing nullable fields", query: `subscription { bookAdded(shelf: "1") { id title year genre author { name born } tags } }`, event: `{"id":"1","title":"T"}`},
		{name: "missing non-null field", query: `subscription { maybeBook(shelf: "1") { id title year } }`, event: `{"id":"1","year":3}`},
		{name: "missing non-null root", query: `subscription { bookAdded(shelf: "1") { id title } }`, event: `{"id":"1"}`},
		{name: "null non-null root", query: `subscription { bookAdded(shelf: "1") { id } }`, event: `null`},
		{name: "null nullable root", query: `subscription { maybeBook(shelf: "1") { id } }`, event: `null`},
		{name: "absent event", query: `subscription { maybeBook(shelf: "1") { id } }`},
		{name: "nested objects", query: `subscription { bookAdded(shelf: "1") { author { id name born books { title } } chapters { n title } } }`, event: bookEvent},
		{name: "object is a number", query: `subscription { maybeBook(shelf: "1") { year genre } }`, event: `42`},
		{name: "object is a string with non-null", query: `subscription { maybeBook(shelf: "1") { title } }`, event: `"str"`},
		{name: "object is an array", query: `subscription { maybeBook(shelf: "1") { year } }`, event: `[1,2]`},
		{name: "aliases same field different selections", query: `subscription { bookAdded(shelf: "1") { a: author { name } b: author { id born } author { name } } }`, event: bookEvent},
		{name: "field merging", query: `subscription { bookAdded(shelf: "1") { author { name } author { id } ... on Book { author { born name } } title } }`, event: bookEvent},
		{name: "duplicate keys first wins order", query: `subscription { bookAdded(shelf: "1") { title id title } }`, event: bookEvent},

		// __typename everywhere.
		{name: "typename root object", query: `subscription { bookAdded(shelf: "1") { __typename t: __typename author { __typename } } }`, event: bookEvent},
		{name: "typename on non-object value", query: `subscription { maybeBook(shelf: "1") { __typename } }`, event: `true`},
		{name: "typename interface", query: `subscription { node(id: "1") { __typename id } }`, event: `{"__typename":"Author","id":"a1"}`},
		{name: "typename union list", query: `subscription { search(q: "x") { __typename } }`, event: `[{"__typename":"Book"},{"__typename":"Film"},{"__typename":"Author"}]`},

		// Interfaces, unions and fragments on abstract types.
		{name: "interface inline fragments", query: `subscription { node(id: "1") { id ... on Author { name } ... on Book { title year } } }`, event: `{"__typename":"Book","id":"b","title":"T","year":1}`},
		{name: "interface missing typename", query: `subscription { node(id: "1") { id } }`, event: `{"id":"b"}`},
		{name: "interface unknown typename", query: `subscription { node(id: "1") { id } }`, event: `{"__typename":"Nope","id":"b"}`},
		{name: "interface impossible typename", query: `subscription { node(id: "1") { id } }`, event: `{"__typename":"Chapter","id":"b"}`},
		{name: "interface non-object typename", query: `subscription { node(id: "1") { id } }`, event: `{"__typename":"Genre","id":"b"}`},
		{name: "interface typename not a string", query: `subscription { node(id: "1") { id } }`, event: `{"__typename":5,"id":"b"}`},
		{name: "union fragments", query: `subscription { search(q: "x") { ... on Book { title } ... on Author { name } ... on Film { title minutes } } }`,
			event: `[{"__typename":"Book","title":"B"},{"__typename":"Author","name":"A"},{"__typename":"Film","title":"F","minutes":90},null]`},
		{name: "union named fragments", query: `subscription { search(q: "x") { ...R } } fragment R on SearchResult { __typename ... on Media { title year } ...A } fragment A on Author { name born }`,
			event: `[{"__typename":"Book","title":"B","year":1},{"__typename":"Author","name":"A","born":2},{"__typename":"Film","title":"F"}]`},
		{name: "union bad member null in list", query: `subscription { search(q: "x") { __typename } }`, event: `[{"__typename":"Chapter"},{"__typename":"Book"}]`},
		{name: "fragment on interface inside object", query: `subscription { bookAdded(shelf: "1") { ...M related { ...M ... on Film { minutes } } } } fragment M on Media { title year }`, event: bookEvent},
		{name: "non-null list of interface", query: `subscription { media { title ... on Book { id } } }`, event: `[{"__typename":"Book","title":"B","id":"1"},{"__typename":"Film","title":"F"}]`},
		{name: "non-null list of interface with null", query: `subscription { media { title } }`, event: `[{"__typename":"Book","title":"B"},null]`},
		{name: "non-null list of interface bad typename", query: `subscription { media { title } }`, event: `[{"__typename":"Book","title":"B"},{"title":"x"}]`},
		{name: "fragment spreads on object", query: `subscription { bookAdded(shelf: "1") { ...B ...B } } fragment B on Book { id title author { ...AU } } fragment AU on Author { name }`, event: bookEvent},
		{name: "inline fragment without type", query: `subscription { bookAdded(shelf: "1") { ... { id } ... @include(if: true) { title } } }`, event: bookEvent},
		{name: "root fragment", query: `subscription { ...S } fragment S on Subscription { bookAdded(shelf: "1") { id } }`, event: bookEvent},

		// Non-null chains.
		{name: "deep chain ok", query: `subscription { chain { val next { val next { val opt } } inner { val } } }`, event: `{"val":1,"next":{"val":2,"next":{"val":3,"opt":4},"inner":{"val":0}},"inner":{"val":5}}`},
		{name: "deep chain propagate to nullable next", query: `subscription { chain { val next { val inner { inner { val } } } } }`, event: `{"val":1,"next":{"val":2,"inner":{"inner":{"val":null}}}}`},
		{name: "deep chain propagate to root nullable", query: `subscription { chain { val inner { inner { val } } } }`, event: `{"val":1,"inner":{"inner":{}}}`},
		{name: "deep chain propagate to non-null root", query: `subscription { strictChain { val inner { inner { val } } } }`, event: `{"val":1,"inner":{"inner":{"val":"x"}}}`},
		{name: "chain sibling errors before failing field", query: `subscription { chain { next { opt val } } }`, event: `{"next":{"opt":"bad","val":null}}`},
		{name: "chain sibling errors after failing field", query: `subscription { chain { next { val opt } } }`, event: `{"next":{"val":null,"opt":"bad"}}`},

		// Lists.
		{name: "nullable list items", query: `subscription { bookAdded(shelf: "1") { tags } }`, event: `{"tags":["a",null,"c"]}`},
		{name: "non-null list items with null", query: `subscription { maybeBook(shelf: "1") { strictTags title } }`, event: `{"strictTags":["a",null],"title":"t"}`},
		{name: "list of lists", query: `subscription { bookAdded(shelf: "1") { matrix strictMatrix } }`, event: `{"title":"t","matrix":[[1,null],null,[]],"strictMatrix":[[1,2],[3]]}`},
		{name: "list of lists inner null", query: `subscription { bookAdded(shelf: "1") { title strictMatrix } }`, event: `{"title":"t","strictMatrix":[[1],[2,null]]}`},
		{name: "list of lists inner list null", query: `subscription { bookAdded(shelf: "1") { title strictMatrix } }`, event: `{"title":"t","strictMatrix":[[1],null]}`},
		{name: "root list of lists", query: `subscription { grid }`, event: `[[1,2],null,[3]]`},
		{name: "root list of lists item null", query: `subscription { grid }`, event: `[[1,null]]`},
		{name: "list expected got scalar", query: `subscription { bookAdded(shelf: "1") { title tags } }`, event: `{"title":"t","tags":"abc"}`},
		{name: "list expected got object", query: `subscription { numbers }`, event: `{"a":1}`},
		{name: "non-null list of objects", query: `subscription { bookAdded(shelf: "1") { chapters { n title } } }`, event: `{"chapters":[{"n":1,"title":"a"},{"n":"x","title":"b"}]}`},
		{name: "root scalar list coercion", query: `subscription { numbers }`, event: `[1,"2",3.0,true,"x",1.5,null]`},
		{name: "root strict scalar list", query: `subscription { strictNumbers }`, event: `[1,"nope",3]`},

		// Scalar coercion.
		{name: "int coercion", query: `subscription { numbers }`, event: `[2147483647,-2147483648,2147483648,-2147483649,3.0,"42"," 7 ","0x10","1e3","",false,1e400]`},
		{name: "int from strings", query: `subscription { numbers }`, event: `["-0","+5","0b101","0o17","Infinity","5.","abc","  "]`},
		{name: "int messages", query: `subscription { scalars { i } }`, event: `{"i":3000000000}`},
		{name: "int non-integer message", query: `subscription { scalars { i } }`, event: `{"i":"abc"}`},
		{name: "float coercion", query: `subscription { scalars { f } }`, event: `{"f":1}`},
		{name: "float from string", query: `subscription { scalars { f } }`, event: `{"f":"2.5e3"}`},
		{name: "float from bool", query: `subscription { scalars { f } }`, event: `{"f":true}`},
		{name: "validation aliased root fields", query: `subscription { a: scalars { f } b: scalars { f } }`, requestError: true},
		{name: "float bad", query: `subscription { scalars { f i } }`, event: `{"f":"x","i":1.5}`},
		{name: "string coercion", query: `subscription { scalars { s } }`, event: `{"s":true}`},
		{name: "string from numbers", query: `subscription { scalars { s } }`, event: `{"s":1e21}`},
		{name: "string from small float", query: `subscription { scalars { s f } }`, event: `{"s":1.5e-7,"f":0.000001}`},
		{name: "string from object", query: `subscription { scalars { s } }`, event: `{"s":{"a":1}}`},
		{name: "string escapes", query: `subscription { scalars { s } }`, event: `{"s":"line\nbreak \"quoted\" \\ \u0001 \u00e9 \ud83d\ude00 \u2028"}`},
		{name: "string lone surrogates", query: `subscription { scalars { s j } }`, event: `{"s":"a\udc00b \ud83d","j":{"\ud800k":["\udfff","\ud83d\u0041"]}}`},
		{name: "boolean coercion", query: `subscription { a: scalars { b } }`, event: `{"b":0}`},
		{name: "boolean from number", query: `subscription { scalars { b } }`, event: `{"b":-2.5}`},
		{name: "boolean from string", query: `subscription { scalars { b s } }`, event: `{"b":"true","s":"ok"}`},
		{name: "id coercion", query: `subscription { scalars { id ids } }`, event: `{"id":123,"ids":["a",5,1e21,1.5,true,null]}`},
		{name: "enum ok", query: `subscription { scalars { e } }`, event: `{"e":"SCIENCE"}`},
		{name: "enum bad", query: `subscription { scalars { e i } }`, event: `{"e":"POETRY","i":1}`},
		{name: "enum non-string", query: `subscription { scalars { e } }`, event: `{"e":1}`},
		{name: "non-null scalar null", query: `subscription { scalars { i nn } }`, event: `{"i":1,"nn":null}`},
		{name: "validation two root fields", query: `subscription { scalars { j } bookAdded: scalars { j } }`, requestError: true},
		{name: "custom scalar values", query: `subscription { scalars { j } }`, event: `{"j":{"a":[1,2.50,{"b":null}],"c":"\u00e9","d":1E2,"e":-0}}`},
		{name: "custom scalar root", query: `subscription { json }`, event: `[true,false,null,"x",{"y":{}}]`},
		{name: "enum root", query: `subscription { genre(g: HISTORY) }`, event: `"HISTORY"`},

		// Directives and variables.
		{name: "skip include literals", query: `subscription { bookAdded(shelf: "1") { id @skip(if: true) title @include(if: false) year @include(if: true) genre @skip(if: false) } }`, event: bookEvent},
		{name: "skip include variables", query: `subscription($withAuthor: Boolean!, $noTitle: Boolean = true) { bookAdded(shelf: "1") { id title @skip(if: $noTitle) author @include(if: $withAuthor) { name } } }`, vars: `{"withAuthor":true}`, event: bookEvent},
		{name: "skip include variables false", query: `subscription($withAuthor: Boolean!, $noTitle: Boolean = true) { bookAdded(shelf: "1") { id title @skip(if: $noTitle) author @include(if: $withAuthor) { name } } }`, vars: `{"withAuthor":false,"noTitle":false}`, event: bookEvent},
		{name: "skip on fragments", query: `subscription($s: Boolean!) { bookAdded(shelf: "1") { ...F @skip(if: $s) ... on Book @include(if: $s) { year } id } } fragment F on Book { title }`, vars: `{"s":true}`, event: bookEvent},
		{name: "skip on merged field", query: `subscription { bookAdded(shelf: "1") { title @skip(if: true) title } }`, event: bookEvent},
		{name: "variables in arguments", query: `subscription S($shelf: ID!) { bookAdded(shelf: $shelf) { id } }`, vars: `{"shelf":7}`, event: bookEvent},
		{name: "operation name selects", query: `subscription A { bookAdded(shelf: "1") { id } } subscription B { bookAdded(shelf: "2") { title } }`, op: "B", event: bookEvent},

		// Request errors.
		{name: "validation unknown field", query: `subscription { bookAdded(shelf: "1") { nope } }`, requestError: true, validation: true},
		{name: "validation multiple root fields", query: `subscription { chain { val } scalars { i } }`, requestError: true, validation: true},
		{name: "validation missing argument", query: `subscription { bookAdded { id } }`, requestError: true, validation: true},
		{name: "validation leaf selection", query: `subscription { bookAdded(shelf: "1") }`, requestError: true, validation: true},
		{name: "syntax error", query: `subscription { bookAdded(shelf: "1") { id }`, requestError: true},
		{name: "variable not provided", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, vars: `{}`, requestError: true},
		{name: "variable null", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, vars: `{"s":null}`, requestError: true},
		{name: "variable wrong type", query: `subscription($s: ID!, $b: Boolean!, $g: Genre!) { bookAdded(shelf: $s) { id @include(if: $b) genre @skip(if: $b) } genre(g: $g) }`, vars: `{"s":1.5}`, requestError: true},
		{name: "variable bad int", query: `subscription($b: Boolean!, $i: Int) { bookAdded(shelf: "1") { id @include(if: $b) } }`, vars: `{"b":"yes","i":"5"}`, requestError: true},
		{name: "variable bad enum", query: `subscription($g: Genre!) { genre(g: $g) }`, vars: `{"g":"POETRY"}`, requestError: true},
		{name: "unknown operation", query: `subscription A { bookAdded(shelf: "1") { id } }`, op: "Nope", event: bookEvent, requestError: true},
		{name: "operation name required", query: `subscription A { bookAdded(shelf: "1") { id } } subscription B { chain { val } }`, requestError: true},
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "schema.graphql"))
	if err != nil {
		panic(err)
	}
	lib := string(example)
	c = append(c, []corpusCase{
		// The default pass-through schema.
		{name: "default passthrough object", sdl: defaultSDL, query: `subscription { topic(name: "a.b") }`, event: `{"z":1,"a":[1.0,2e3,{"b":"\u00e9"}],"big":12345678901234567890,"small":1e-7}`},
		{name: "default passthrough alias null", sdl: defaultSDL, query: `subscription S { ev: topic(name: "x") }`, op: "S", event: `null`},
		{name: "default passthrough string", sdl: defaultSDL, query: `subscription($t: String!) { topic(name: $t) }`, vars: `{"t":"orders.1"}`, event: `"hello\nworld"`},
		{name: "default query rejected", sdl: defaultSDL, query: `subscription { topic }`, requestError: true, validation: true},

		// The example library schema.
		{name: "library book added", sdl: lib, query: `subscription($shelf: ID!) { bookAdded(shelf: $shelf) { id title authors { name } formats available shelf genre } }`, vars: `{"shelf":"s1"}`,
			event: `{"id":"b","title":"T","authors":[{"name":"A"},{"name":"B"}],"formats":["EBOOK","AUDIO"],"available":1,"shelf":7,"genre":"POETRY"}`},
		{name: "library bad format enum", sdl: lib, query: `subscription { bookAdded(shelf: "s") { title formats } }`, event: `{"title":"T","formats":["EBOOK","VINYL"]}`},
		{name: "library search union", sdl: lib, query: `subscription { searchUpdated(search: "q1") { __typename ... on Media { title published } ... on Author { name } ... on Book { isbn } } }`,
			event: `[{"__typename":"Book","title":"B","isbn":"1"},{"__typename":"Author","name":"N"},{"__typename":"Film","title":"F","published":"1999"}]`},
		{name: "library search non-null item", sdl: lib, query: `subscription { searchUpdated(search: "q1") { __typename } }`, event: `[{"__typename":"Book"},null]`},
		{name: "library new titles interface", sdl: lib, query: `subscription { newTitles(genre: FICTION, format: EBOOK) { id title authors { id } ... on Film { minutes } } }`,
			event: `{"__typename":"Film","id":"f","title":"F","authors":[],"minutes":"90"}`},
		{name: "library loan custom scalar", sdl: lib, query: `subscription { loanOverdue(member: "m") { id due returned book { title } } }`,
			event: `{"id":"l","due":"2026-12-03T13:00:00Z","returned":false,"book":{"title":"T"}}`},
		{name: "library loan missing book", sdl: lib, query: `subscription { loanOverdue(member: "m") { id book { title } } }`, event: `{"id":"l"}`},

		{name: "validation unknown argument", query: `subscription { chain(x: 1) { val } }`, requestError: true, validation: true},
		{name: "validation unknown type", query: `subscription($x: Nope) { chain { val } }`, requestError: true, validation: true},
		{name: "validation unknown directive", query: `subscription { chain @nope { val } }`, requestError: true, validation: true},
		{name: "validation unknown fragment", query: `subscription { chain { ...F } }`, requestError: true, validation: true},
		{name: "validation fragment cycle", query: `subscription { chain { ...F } } fragment F on Chain { next { ...G } } fragment G on Chain { next { ...F } }`, requestError: true, validation: true},
		{name: "validation unused variable", query: `subscription($x: Int) { chain { val } }`, requestError: true, validation: true},
		{name: "validation wrong var position", query: `subscription($x: Int) { bookAdded(shelf: "1") { id @include(if: $x) } }`, requestError: true, validation: true},
		{name: "validation conflicting fields", query: `subscription { bookAdded(shelf: "1") { x: title x: id } }`, requestError: true, validation: true},
		{name: "validation duplicate ops", query: `subscription A { chain { val } } subscription A { chain { val } }`, requestError: true, validation: true},
		{name: "validation anonymous not alone", query: `subscription { chain { val } } subscription B { chain { val } }`, requestError: true, validation: true},
		{name: "validation bad fragment spread", query: `subscription { bookAdded(shelf: "1") { ... on Author { name } } }`, requestError: true, validation: true},
		{name: "validation fragment on scalar", query: `subscription { bookAdded(shelf: "1") { ...F } } fragment F on Int { x }`, requestError: true, validation: true},
		{name: "validation bad enum literal", query: `subscription { genre(g: POETRY) }`, requestError: true, validation: true},
		{name: "validation string for int arg", query: `subscription { genre(g: "FICTION") }`, requestError: true, validation: true},
		{name: "validation duplicate argument", query: `subscription { bookAdded(shelf: "1", shelf: "2") { id } }`, requestError: true, validation: true},
		{name: "validation duplicate directive", query: `subscription { bookAdded(shelf: "1") { id @skip(if: true) @skip(if: false) } }`, requestError: true, validation: true},
		{name: "validation variable non input", query: `subscription($x: Book) { chain { val } }`, requestError: true, validation: true},
		{name: "validation duplicate variable", query: `subscription($x: Int, $x: Int) { chain { val opt @include(if: true) } }`, requestError: true, validation: true},
		// More formatting and directive combinations.
		{name: "float formatting", query: `subscription { numbers }`, event: `[1,-1,0]`},
		{name: "float number forms", query: `subscription { scalars { f s } }`, event: `{"f":1e21,"s":123456789012345680000}`},
		{name: "include in nested fragment", query: `subscription($a: Boolean!, $b: Boolean!) { bookAdded(shelf: "1") { ...X } } fragment X on Book { title @include(if: $a) author @skip(if: $b) { name ...Y } } fragment Y on Author { born @include(if: $a) }`,
			vars: `{"a":false,"b":false}`, event: bookEvent},
		{name: "typename in fragment on interface", query: `subscription { node(id: "1") { ...on Node { __typename } ...on Media { __typename title } } }`, event: `{"__typename":"Film","title":"F"}`},
		{name: "list of non-null objects with failing object", query: `subscription { bookAdded(shelf: "1") { title author { books { title } } } }`,
			event: `{"title":"t","author":{"books":[{"title":"a"},{"title":null},{"title":"c"}]}}`},
		// An interface that implements another is not a runtime type.
		{name: "interface resolved to an interface", sdl: nestedIfaceSDL, query: `subscription { node { __typename id ... on Named { name } } }`, event: `{"__typename":"Named","id":"1","name":"n"}`},
		{name: "interface list with an interface typename", sdl: nestedIfaceSDL, query: `subscription { nodes { id ... on Named { name } } }`, event: `[{"__typename":"Person","id":"1","name":"p"},{"__typename":"Named","id":"2"}]`},
		{name: "interface implementing interface resolves objects", sdl: nestedIfaceSDL, query: `subscription { node { ... on Named { name } ... on Person { id } } }`, event: `{"__typename":"Person","id":"1","name":"p"}`},

		// Arguments below the root: a variable that is explicitly null where
		// the argument is non-null (allowed because the variable has a
		// default) is a field error of that field, raised wherever it runs.
		{name: "field argument variable null", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { item(id: "1") { label(upper: $u) size } }`, vars: `{"u":null}`, event: `{"label":"a","size":3}`},
		{name: "field argument variable default", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { item(id: "1") { label(upper: $u) size(unit: "m") } }`, vars: `{}`, event: `{"label":"a","size":3}`},
		{name: "field argument variable null non-null field", sdl: fieldArgSDL, query: `subscription($n: Int = 1) { item(id: "1") { size strict(n: $n) } }`, vars: `{"n":null}`, event: `{"size":3,"strict":4}`},
		{name: "field argument variable null non-null root", sdl: fieldArgSDL, query: `subscription($n: Int = 1) { strictItem { strict(n: $n) } }`, vars: `{"n":null}`, event: `{"strict":4}`},
		{name: "field argument variable null in list items", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { items { size label(upper: $u) } }`, vars: `{"u":null}`, event: `[{"size":1},null,{"size":2,"label":"x"}]`},
		{name: "field argument variable null nested", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { item(id: "1") { child { child { label(upper: $u) } } } }`, vars: `{"u":null}`, event: `{"child":{"child":{"label":"x"}}}`},
		{name: "field argument variable null under null parent", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { item(id: "1") { size child { label(upper: $u) } } }`, vars: `{"u":null}`, event: `{"size":1,"child":null}`},
		{name: "field argument variable null in input object", sdl: fieldArgSDL, query: `subscription($f: Int = 1) { item(id: "1") { priced(r: {from: $f, to: 2}) size } }`, vars: `{"f":null}`, event: `{"priced":1,"size":2}`},
		{name: "field argument variable null in list", sdl: fieldArgSDL, query: `subscription($f: Int = 1) { item(id: "1") { many(ns: [1, $f]) } }`, vars: `{"f":null}`, event: `{"many":1}`},
		{name: "field argument variable absent in input object", sdl: fieldArgSDL, query: `subscription($t: Int) { item(id: "1") { priced(r: {from: 1, to: $t}) } }`, vars: `{}`, event: `{"priced":1}`},
		{name: "field argument on aliased fields", sdl: fieldArgSDL, query: `subscription($u: Boolean = true) { item(id: "1") { a: label(upper: true) b: label(upper: $u) } }`, vars: `{"u":null}`, event: `{"label":"x"}`},
		{name: "root argument variable null", sdl: fieldArgSDL, query: `subscription($s: ID = "1") { item(id: $s) { size } }`, vars: `{"s":null}`, requestError: true},
		// @skip/@include whose variable is explicitly null: a field error on
		// the field whose selection holds it, a request error at the root.
		{name: "include variable null", query: `subscription($b: Boolean = true) { chain { val @include(if: $b) opt } }`, vars: `{"b":null}`, event: `{"val":1,"opt":2}`},
		{name: "skip variable null", query: `subscription($b: Boolean = false) { chain { next { val @skip(if: $b) } opt } }`, vars: `{"b":null}`, event: `{"val":1,"next":{"val":2},"opt":3}`},
		{name: "include variable null non-null parent", query: `subscription($b: Boolean = true) { strictChain { val @include(if: $b) } }`, vars: `{"b":null}`, event: `{"val":1}`},
		{name: "include variable null in list items", query: `subscription($b: Boolean = true) { search(q: "x") { ... on Book { title @include(if: $b) } ... on Author { name } } }`, vars: `{"b":null}`,
			event: `[{"__typename":"Book","title":"B"},{"__typename":"Author","name":"A"},{"__typename":"Book","title":"C"}]`},
		{name: "include variable null on fragment spread", query: `subscription($b: Boolean = true) { chain { ...F @include(if: $b) } } fragment F on Chain { val }`, vars: `{"b":null}`, event: `{"val":1}`},
		{name: "include variable null on null value", query: `subscription($b: Boolean = true) { chain { next { val @include(if: $b) } opt } }`, vars: `{"b":null}`, event: `{"val":1,"next":null,"opt":3}`},

		// Int literals are 32-bit, as values of variables are.
		{name: "int literal too large", sdl: intArgSDL, query: `subscription { byInt(n: 2147483648) }`, requestError: true},
		{name: "int literal too small", sdl: intArgSDL, query: `subscription { byInt(n: -2147483649) }`, requestError: true},
		{name: "int literal limits", sdl: intArgSDL, query: `subscription { a: byInt(n: 2147483647) }`, event: `1`},
		{name: "int literal too large in a default", sdl: intArgSDL, query: `subscription($n: Int = 9007199254740993) { byInt(n: $n) }`, requestError: true},
		{name: "int literal too large in a list", sdl: intArgSDL, query: `subscription { byInts(n: [1, 2147483648]) }`, requestError: true},

		// Values in error messages are printed as graphql-js's inspect prints
		// the parsed JSON: two levels deep, ten array items ("1 more item"),
		// array-index keys first.
		{name: "inspect eleven items", query: `subscription { scalars { s } }`, event: `{"s":[1,2,3,4,5,6,7,8,9,10,11]}`},
		{name: "inspect twelve items", query: `subscription { scalars { i } }`, event: `{"i":[1,2,3,4,5,6,7,8,9,10,11,12]}`},
		{name: "inspect nested objects", query: `subscription { scalars { s } }`, event: `{"s":{"a":{"b":{"c":1}},"d":[[1]],"e":{}}}`},
		{name: "inspect nested arrays", query: `subscription { scalars { f } }`, event: `{"f":[[[1]],[{"a":1}],[[]]]}`},
		{name: "inspect index keys first", query: `subscription { scalars { b } }`, event: `{"b":{"b":1,"2":2,"10":3,"1":4,"01":5,"-1":6,"4294967294":7,"4294967295":8}}`},
		// Numbers are read correctly rounded, as JSON.parse reads them,
		// whatever their notation (Java and Go write exponents).
		{name: "numbers with exponents", query: `subscription { scalars { i f s id b } }`, event: `{"i":9.8084e+05,"f":4.2961397E12,"s":7.46E-7,"id":1.2E1,"b":5e-324}`},
		{name: "numbers with exponents in lists", query: `subscription { numbers }`, event: `[9.8084e+05,1.0E7,2.5e1,4.2961397E12,1e0]`},
		{name: "float with exponents", query: `subscription { priceChanged(symbol: "A") { bid ask } }`, event: `{"bid":7e-09,"ask":3.937e-03}`},
		{name: "long mantissas", query: `subscription { scalars { f s } }`, event: `{"f":0.30000000000000004,"s":123456789.12345678901}`},
		{name: "variable numbers with exponents", sdl: intArgSDL, query: `subscription($n: Int!) { byInt(n: $n) }`, vars: `{"n":9.8084e+05}`, event: `9.8084e+05`},
		// Variables of OneOf input types hold exactly one non-null field.
		{name: "oneOf variable one field", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"name":"x"}}`, event: `1`},
		{name: "oneOf variable two fields", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"name":"x","id":"1"}}`, requestError: true},
		{name: "oneOf variable no field", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{}}`, requestError: true},
		{name: "oneOf variable null field", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"name":null}}`, requestError: true},
		{name: "oneOf variable nulls", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"name":null,"id":null}}`, requestError: true},
		{name: "oneOf variable invalid field", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"id":true}}`, requestError: true},
		{name: "oneOf variable unknown field", sdl: oneOfSDL, query: `subscription($p: Pick) { picked(by: $p) }`, vars: `{"p":{"nmae":"x"}}`, requestError: true},
		{name: "oneOf variable nested", sdl: oneOfSDL, query: `subscription($w: Wrap, $a: [Pick!]) { picked(wrap: $w, all: $a) }`, vars: `{"w":{"pick":{"nested":{}}},"a":[{"id":1},{"id":2,"name":"n"}]}`, requestError: true},
		// SingleFieldSubscriptions counts the root fields CollectFields
		// yields: literally skipped ones are not selected.
		{name: "root field skipped literally", query: `subscription { chain { val } scalars @skip(if: true) { i } }`, event: `{"val":1}`},
		{name: "root inline fragment excluded literally", query: `subscription { chain { val } ... @include(if: false) { scalars { i } } }`, event: `{"val":1}`},
		{name: "root spread skipped literally", query: `subscription { chain { val } ...S @skip(if: true) } fragment S on Subscription { scalars { i } }`, event: `{"val":1}`},
		{name: "root typename skipped literally", query: `subscription { __typename @skip(if: true) chain { val } }`, event: `{"val":1}`},
		{name: "validation three root fields", query: `subscription { chain { val } x: chain { val } scalars @include(if: true) { i } }`, requestError: true},
		{name: "validation root field and typename", query: `subscription S { chain { val } __typename }`, requestError: true},
		// Coercion errors end in graphql-js's "Did you mean" suggestions.
		{name: "variable enum typo suggestion", query: `subscription($g: Genre!) { genre(g: $g) }`, vars: `{"g":"FICTON"}`, requestError: true},
		{name: "variable enum case suggestion", query: `subscription($g: Genre!) { genre(g: $g) }`, vars: `{"g":"history"}`, requestError: true},
		{name: "variable enum suggestions sorted", sdl: inputSDL, query: `subscription($l: Level) { alerts(level: $l) }`, vars: `{"l":"LOW1"}`, requestError: true},
		{name: "variable enum non-string suggestion", sdl: inputSDL, query: `subscription($l: Level) { alerts(level: $l) }`, vars: `{"l":10}`, requestError: true},
		{name: "variable input field suggestion", sdl: inputSDL, query: `subscription($f: Filter) { alerts(filter: $f) }`, vars: `{"f":{"levle":"LOW","minscore":1,"zzz":2}}`, requestError: true},
		{name: "variable nested enum suggestion", sdl: inputSDL, query: `subscription($f: Filter) { alerts(filter: $f) }`, vars: `{"f":{"level":"HIGTH"}}`, requestError: true},
		{name: "inspect variable value", query: `subscription($s: ID!) { bookAdded(shelf: $s) { id } }`, vars: `{"s":{"z":{"y":{"x":1}},"0":[1,2,3,4,5,6,7,8,9,10,11]}}`, requestError: true},
	}...)
	for i := range c {
		if c[i].sdl == "" {
			c[i].sdl = corpusSDL
		}
	}
	return c
}

func parseEvent(t testing.TB, s string) *fastjson.Value {
	t.Helper()
	if s == "" {
		return nil
	}
	// As the hub does before parsing.
	text := []byte(s)
	if marked, ok := MarkLoneSurrogates(nil, text); ok {
		text = marked
	}
	v, err := fastjson.ParseBytes(text)
	require.NoError(t, err)
	return v
}

// result projects event through p and requires that it fit the result limit.
func result(t testing.TB, p *Plan, event *fastjson.Value) []byte {
	t.Helper()
	out, ok := p.AppendResult(nil, event)
	require.True(t, ok, "result over the limit: %s", out)
	return out
}
