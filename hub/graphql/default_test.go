package graphql

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestDefaultSchemaPassThrough(t *testing.T) {
	t.Parallel()
	s := DefaultSchema()
	tests := []struct {
		name, query, vars, event, topic, want string
	}{
		{"literal", `subscription { topic(name: "a.b") }`, ``, `{"x":[1,2.5,"s"]}`, "a.b", `{"data":{"topic":{"x":[1,2.5,"s"]}}}`},
		{"alias", `subscription { ev: topic(name: "a") }`, ``, `3`, "a", `{"data":{"ev":3}}`},
		{"variable", `subscription S($n: String!) { topic(name: $n) }`, `{"n":"orders.eu.created"}`, `null`, "orders.eu.created", `{"data":{"topic":null}}`},
		{"escapes", `subscription { topic(name: "x") }`, ``, `"a\"\u0001é"`, "x", `{"data":{"topic":"a\"\u0001é"}}`},
		// Numbers keep the publisher's text: a HotChocolate Long beyond 2^53
		// reaches a .NET client exactly; a JavaScript one parses the same.
		{"numbers verbatim", `subscription { topic(name: "x") }`, ``, `{"id":9007199254740993,"big":[12345678901234567890,-0,1.50,1E2]}`, "x",
			`{"data":{"topic":{"id":9007199254740993,"big":[12345678901234567890,-0,1.50,1E2]}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var vars []byte
			if tc.vars != "" {
				vars = []byte(tc.vars)
			}
			op, errs := s.Compile(Request{Query: tc.query, Variables: vars})
			require.Nil(t, errs)
			require.Equal(t, tc.topic, op.Topic)
			ev := fastjson.MustParse(tc.event)
			require.Equal(t, tc.want, string(result(t, op.Plan, ev)))
		})
	}
}

func TestDefaultSchemaBadTopic(t *testing.T) {
	t.Parallel()
	s := DefaultSchema()
	for _, tc := range []struct{ name, want string }{
		{"a..b", `invalid topic "a..b": empty token`},
		{"a.*", `invalid topic "a.*": wildcard '*'`},
		{"a.>", `invalid topic "a.>": wildcard '>'`},
		{"a b", `invalid topic "a b": whitespace or control character`},
		{"", `invalid topic "": empty subject`},
		{"a.", `invalid topic "a.": empty token`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := s.Compile(Request{Query: `subscription($n: String!) { topic(name: $n) }`, Variables: []byte(`{"n":` + string(appendJSONString(nil, tc.name)) + `}`)})
			require.Len(t, errs, 1)
			require.Equal(t, tc.want, errs[0].Message)
			require.Equal(t, []any{"topic"}, errs[0].Path)
			require.Equal(t, []Location{{Line: 1, Column: 29}}, errs[0].Locations)
		})
	}
}
