// Package graphql turns GraphQL subscription operations into topics and
// projection plans, and projects backplane events into GraphQL execution
// results.
//
// subhub has no resolvers: an event published on a subject is the resolved
// value of the subscription's root field. A Schema is parsed once from SDL in
// which Subscription fields name their subject with
//
//	directive @topic(subject: String!) on FIELD_DEFINITION
//
// (for example @topic(subject: "books.{shelf}.added"), where {shelf} is an
// argument of the field, a scalar or enum). Each substituted value must be one
// literal subject token: empty values and values containing '.', '*', '>',
// whitespace or control characters are rejected with a GraphQL error, never
// subscribed elsewhere. Int values render in decimal, Booleans as true/false,
// enums by name; argument defaults apply and values may come from variables.
// A Subscription field without @topic uses its field name as subject. The
// internal directive @subhubSubject(arg: "name") makes an argument the whole
// subject verbatim (validated as a literal NATS subject); DefaultSchema's
// topic(name:) field is declared with it. Schema.Compile validates an operation with all
// standard rules, selects the operation, coerces its variables, renders the
// topic and builds a Plan: a flat, precomputed form of the spec's
// CollectFields and CompleteValue for that operation and those variables.
// Plan.AppendResult then writes the ExecutionResult for one event, matching
// what graphql-js's execute returns when the root field resolves to the event.
//
// Concurrency: Schema, Plan and the Operation values returned by Compile are
// immutable after construction and safe for concurrent use. Cache is safe for
// concurrent use. The *fastjson.Value handed to AppendResult is read (and, as
// fastjson does, lazily unescaped) during the call, so one event must not be
// projected by several goroutines at once; one goroutine may project it
// through any number of plans.
package graphql
