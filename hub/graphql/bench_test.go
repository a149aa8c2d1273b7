package graphql

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// benchQuery selects 10 fields of Book (id, name, year, genre, rating, tags,
// meta, author, chapters, related), through a fragment and an alias, with
// nested objects, lists and the abstract related list.
const benchQuery = `subscription Bench($shelf: ID!) {
  bookAdded(shelf: $shelf) {
    id
    name: title
    ...Details
    author { id name born }
    chapters { n title }
    related { __typename ... on Media { title year } ... on Film { minutes } }
  }
}
fragment Details on Book { year genre rating tags meta }`

// benchEvent is a ~1 KB book event.
var benchEvent = `{"id":"b1","title":"Dune","year":1965,"genre":"FICTION","rating":4.25,"available":true,
"tags":["classic","desert","politics","ecology","religion"],
"author":{"id":"a1","name":"Frank Herbert","born":1920,"bio":"American science-fiction author best known for Dune."},
"meta":{"isbn":"978-0441013593","publisher":"Chilton Books","pages":412,"series":["Dune","Dune Messiah","Children of Dune"]},
"chapters":[{"n":1,"title":"Arrakis"},{"n":2,"title":"The Duke"},{"n":3,"title":"Muad'Dib"},{"n":4,"title":"The Prophet"},{"n":5,"title":"Sietch Tabr"}],
"related":[{"__typename":"Film","id":"f1","title":"Dune: Part One","year":2021,"minutes":155},{"__typename":"Book","id":"b2","title":"Dune Messiah","year":1969},
{"__typename":"Film","id":"f2","title":"Dune: Part Two","year":2024,"minutes":166}],
"description":"Set on the desert planet Arrakis, Dune is the story of the boy Paul Atreides, heir to a noble family tasked with ruling an inhospitable world where the only thing of value is the spice melange."}`

func benchOperation(tb testing.TB) Operation {
	tb.Helper()
	s, err := ParseSchema("corpus.graphql", corpusSDL)
	require.NoError(tb, err)
	op, errs := s.Compile(Request{Query: benchQuery, Variables: []byte(`{"shelf":"s1"}`)})
	require.Nil(tb, errs)
	return op
}

func BenchmarkProject(b *testing.B) {
	b.Run("fields=10", func(b *testing.B) {
		op := benchOperation(b)
		event := parseEvent(b, benchEvent)
		dst, _ := op.Plan.AppendResult(nil, event)
		b.SetBytes(int64(len(benchEvent)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			dst, _ = op.Plan.AppendResult(dst[:0], event)
		}
	})
}

func BenchmarkCompile(b *testing.B) {
	s, err := ParseSchema("corpus.graphql", corpusSDL)
	require.NoError(b, err)
	req := Request{Query: benchQuery, Variables: []byte(`{"shelf":"s1"}`)}
	b.Run("cached", func(b *testing.B) {
		c := NewCache(s, 128)
		_, errs := c.Compile(req)
		require.Nil(b, errs)
		b.ReportAllocs()
		for b.Loop() {
			c.Compile(req)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Compile(req)
		}
	})
}
