package graphql

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSchemaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, sdl, want string }{
		{"unknown type", "type Query { a: Int }\ntype Subscription {\n  b: Nope\n}", "schema.graphql:3:6: Undefined type Nope."},
		{"syntax", "type Query {", "schema.graphql:1:13: Expected Name, found <EOF>"},
		{"no subscription type", "type Query { a: Int }", "schema.graphql: no Subscription type: subhub serves subscriptions only"},
		{"placeholder not an argument", "type Query { a: Int }\ntype Subscription {\n  b(id: ID!): Int @topic(subject: \"b.{shelf}\")\n}",
			"schema.graphql:3:36: @topic placeholder {shelf} is not an argument of Subscription.b"},
		{"topic on non-subscription field", "type Query {\n  a: Int @topic(subject: \"a\")\n}\ntype Subscription { b: Int }",
			"schema.graphql:2:11: @topic is only allowed on fields of the subscription type Subscription, not on Query.a"},
		{"topic on extension field", "type Query { a: Int }\ntype Subscription { b: Int }\ntype Other { x: Int }\nextend type Other { y: Int @topic(subject: \"y\") }",
			"schema.graphql:4:29: @topic is only allowed on fields of the subscription type Subscription, not on Other.y"},
		{"placeholder of list type", "type Query { a: Int }\ntype Subscription { b(ids: [ID!]!): Int @topic(subject: \"b.{ids}\") }",
			"schema.graphql:2:58: @topic placeholder {ids}: argument of type [ID!]! cannot be used in a subject"},
		{"unclosed placeholder", "type Query { a: Int }\ntype Subscription { b(id: ID!): Int @topic(subject: \"b.{id\") }",
			"schema.graphql:2:54: @topic subject \"b.{id\" of Subscription.b has an unclosed '{'"},
		{"invalid subject", "type Query { a: Int }\ntype Subscription { b(id: ID!): Int @topic(subject: \"b..{id}\") }",
			"schema.graphql:2:54: @topic subject \"b..{id}\" of Subscription.b is not a valid NATS subject: empty token"},
		{"wildcard subject", "type Query { a: Int }\ntype Subscription { b: Int @topic(subject: \"b.>\") }",
			"schema.graphql:2:45: @topic subject \"b.>\" of Subscription.b is not a valid NATS subject: wildcard '>'"},
		{"bad directive declaration", "directive @topic(name: String) on FIELD_DEFINITION\ntype Query { a: Int }\ntype Subscription { b: Int }",
			"schema.graphql:1:12: directive @topic must be declared as @topic(subject: String!) on FIELD_DEFINITION"},
		{"missing subject", "type Query { a: Int }\ntype Subscription { b: Int @topic }",
			"schema.graphql:2:29: Argument subject for directive topic cannot be null."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSchema("schema.graphql", tc.sdl)
			require.Nil(t, s)
			require.ErrorIs(t, err, ErrInvalidSchema)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestParseSchemaTopics(t *testing.T) {
	t.Parallel()
	s, err := ParseSchema("s.graphql", `
directive @topic(subject: String!) on FIELD_DEFINITION
type Query { a: Int }
type Subscription {
  a(x: ID!, y: Int = 3): Int @topic(subject: "pre-{x}.{y}.{x}-post")
  b: Int
}`)
	require.NoError(t, err)
	require.Equal(t, "s.graphql", s.Name())
	op, errs := s.Compile(Request{Query: `subscription { a(x: "k") }`})
	require.Nil(t, errs)
	require.Equal(t, "pre-k.3.k-post", op.Topic)
	op, errs = s.Compile(Request{Query: `subscription { b }`})
	require.Nil(t, errs)
	require.Equal(t, "b", op.Topic)
}

func TestLoadSchemaFile(t *testing.T) {
	t.Parallel()
	s, err := LoadSchemaFile(filepath.Join("..", "..", "examples", "schema.graphql"))
	require.NoError(t, err)
	require.NotNil(t, s.AST().Subscription)

	op, errs := s.Compile(Request{Query: `subscription($g: Genre!) {
  newTitles(genre: $g) { __typename title ... on Book { formats isbn } ... on Film { minutes } }
}`, Variables: []byte(`{"g":"POETRY"}`)})
	require.Nil(t, errs)
	require.Equal(t, "catalog.POETRY.HARDCOVER", op.Topic)
	out := result(t, op.Plan, parseEvent(t, `{"__typename":"Book","title":"Odes","formats":["EBOOK"],"isbn":null}`))
	require.Equal(t, `{"data":{"newTitles":{"__typename":"Book","title":"Odes","formats":["EBOOK"],"isbn":null}}}`, string(out))

	_, err = LoadSchemaFile(filepath.Join(t.TempDir(), "missing.graphql"))
	require.ErrorIs(t, err, ErrInvalidSchema)
	require.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(t.TempDir(), "bad.graphql")
	require.NoError(t, os.WriteFile(bad, []byte("type Query { a: Int }\n\ntype Subscription { b: Missing }\n"), 0o600))
	_, err = LoadSchemaFile(bad)
	require.EqualError(t, err, bad+":3:24: Undefined type Missing.")
}

func TestDefaultSchema(t *testing.T) {
	t.Parallel()
	s := DefaultSchema()
	require.Equal(t, "JSON", s.AST().Subscription.Fields.ForName("topic").Type.NamedType)
	_, errs := s.Compile(Request{Query: `query { hub }`})
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Message, "subscriptions only")
}
