package graphql

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// fuzzQueries cover objects, abstract types, lists of lists, non-null
// chains, every scalar kind and custom scalars.
var fuzzQueries = []string{
	benchQuery,
	`subscription { search(q: "x") { __typename ... on Book { title strictMatrix matrix } ... on Author { name books { id } } ... on Media { year } } }`,
	`subscription { strictChain { val next { val inner { val opt } } inner { next { val } } } }`,
	`subscription { scalars { i f s b id e nn ids j } }`,
	`subscription { grid }`,
	`subscription { json }`,
	`subscription { node(id: "1") { __typename id ... on Author { name } } }`,
}

func FuzzProject(f *testing.F) {
	s, err := ParseSchema("corpus.graphql", corpusSDL)
	require.NoError(f, err)
	var plans []*Plan
	for _, q := range fuzzQueries {
		op, errs := s.Compile(Request{Query: q, Variables: []byte(`{"shelf":"s"}`)})
		require.Nil(f, errs, q)
		plans = append(plans, op.Plan)
	}
	f.Add([]byte(benchEvent))
	f.Add([]byte(bookEvent))
	for _, c := range corpus() {
		if c.event != "" {
			f.Add([]byte(c.event))
		}
	}
	f.Add([]byte(`[[1,2],[null],{"__typename":"Book"},"\u0000\ud800"]`))
	f.Add([]byte(`{"val":1e999,"next":{"val":-0,"inner":{"val":"0x1F"}},"inner":{}}`))
	f.Add([]byte(`{"s":"\ud83d","j":["\udc00\ud800\ude00",{"\uDBFF":1}]}`))
	var p fastjson.Parser
	var dst, marked []byte
	f.Fuzz(func(t *testing.T, data []byte) {
		// As the hub does before parsing.
		if m, ok := MarkLoneSurrogates(marked[:0], data); ok {
			marked, data = m, m
		}
		v, err := p.ParseBytes(data)
		if err != nil {
			return
		}
		for i, plan := range plans {
			dst, _ = plan.AppendResult(dst[:0], v)
			if !json.Valid(dst) {
				t.Fatalf("plan %d: invalid JSON %q for event %q", i, dst, data)
			}
			// It goes out in WebSocket text frames.
			if !utf8.Valid(dst) {
				t.Fatalf("plan %d: invalid UTF-8 %q for event %q", i, dst, data)
			}
		}
	})
}

// FuzzCompile feeds arbitrary documents and variables to Compile: it must
// never panic, must either fail with errors or return a plan and a valid
// topic, and the plan must project an event to valid JSON.
func FuzzCompile(f *testing.F) {
	s, err := ParseSchema("corpus.graphql", corpusSDL)
	require.NoError(f, err)
	for _, c := range corpus() {
		f.Add(c.query, c.op, c.vars)
	}
	f.Add(benchQuery, "Bench", `{"shelf":"s"}`)
	event := fastjson.MustParse(bookEvent)
	f.Fuzz(func(t *testing.T, query, opName, vars string) {
		op, errs := s.Compile(Request{Query: query, OperationName: opName, Variables: []byte(vars)})
		if errs != nil {
			if op.Plan != nil || len(errs.AppendJSON(nil)) == 0 || !json.Valid(errs.AppendJSON(nil)) {
				t.Fatalf("bad errors %v for %q", errs, query)
			}
			return
		}
		if why := checkSubject(op.Topic); why != "" {
			t.Fatalf("invalid topic %q (%s) for %q", op.Topic, why, query)
		}
		if out, _ := op.Plan.AppendResult(nil, event); !json.Valid(out) {
			t.Fatalf("invalid JSON %q for %q", out, query)
		}
	})
}
