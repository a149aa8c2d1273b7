package graphql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// maxValidationErrors is graphql-js's default validate maxErrors.
const maxValidationErrors = 100

// Request is a GraphQL request as sent in a subscribe message.
type Request struct {
	Query         string
	OperationName string
	Variables     []byte // raw JSON object; nil means none
}

// Operation is a compiled subscription.
type Operation struct {
	// Plan is immutable and shared: equal pointers mean identical projection
	// output for any event.
	Plan *Plan
	// Topic is the subject with arguments substituted, before any subject
	// prefix or hashing (which the hub applies).
	Topic string
}

// Compile parses and validates req.Query (all standard validation rules),
// selects the operation by the spec's operationName rules, coerces the
// variables, checks that the operation is a subscription with exactly one
// root field, and builds its topic and projection plan. It is safe for
// concurrent use; Cache avoids recompiling repeated requests.
func (s *Schema) Compile(req Request) (Operation, Errors) {
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil {
		var g *gqlerror.Error
		if errors.As(err, &g) {
			e := fromGQLError(g)
			e.Message = "Syntax Error: " + e.Message
			if !strings.HasSuffix(e.Message, ".") {
				e.Message += "."
			}
			return Operation{}, Errors{e}
		}
		return Operation{}, Errors{requestError("Syntax Error: " + err.Error())}
	}
	lim := s.Limits()
	if e := tooManyFields(doc, lim.MaxFields); e != nil {
		return Operation{}, Errors{e}
	}
	if gerrs := validator.ValidateWithRules(s.schema, doc, s.rules); len(gerrs) > 0 {
		// graphql-js's validate stops at 100 errors the same way: a
		// document of conflicting fields can have errors quadratic in size.
		errs := make(Errors, 0, min(len(gerrs), maxValidationErrors+1))
		for _, g := range gerrs {
			if len(errs) == maxValidationErrors {
				errs = append(errs, requestError("Too many validation errors, error limit reached. Validation aborted."))
				break
			}
			errs = append(errs, fromGQLError(g))
		}
		return Operation{}, errs
	}
	op, e := selectOperation(doc, req.OperationName)
	if e != nil {
		return Operation{}, Errors{e}
	}
	if op.Operation != ast.Subscription {
		kind := "queries"
		if op.Operation == ast.Mutation {
			kind = "mutations"
		}
		return Operation{}, Errors{requestError("subhub serves subscriptions only; send "+kind+" to your GraphQL server", posLocation(op.Position)...)}
	}
	vars, errs := s.coerceVariables(op, req.Variables)
	if len(errs) > 0 {
		return Operation{}, errs
	}
	p := &planner{s: s, doc: doc, vars: vars}
	groups := p.collectFields(s.schema.Subscription, op.SelectionSet, map[string]bool{}, nil)
	if p.err != nil {
		// graphql-js collects the root fields before it executes anything:
		// a request error.
		return Operation{}, Errors{p.err}
	}
	if len(groups) != 1 {
		// graphql-js's SingleFieldSubscriptions wording; gqlparser's rule
		// misses aliased and fragment-spread root fields.
		name := "Anonymous Subscription"
		if op.Name != "" {
			name = "Subscription \"" + op.Name + "\""
		}
		if len(groups) == 0 {
			return Operation{}, Errors{requestError(name+" must select exactly one top level field.", posLocation(op.Position)...)}
		}
		var locs []Location
		for _, g := range groups[1:] {
			for _, n := range g.nodes {
				locs = append(locs, posLocation(n.Position)...)
			}
		}
		return Operation{}, Errors{requestError(name+" must select only one top level field.", locs...)}
	}
	g := groups[0]
	root, ok := p.buildField(s.schema.Subscription, g.key, g.nodes)
	if !ok || root.kind == kindTypename {
		return Operation{}, Errors{requestError("a subscription must select a field of "+s.schema.Subscription.Name, root.locs...)}
	}
	if root.argErr != nil {
		// graphql-js coerces the root field's arguments when it creates
		// the event stream: a request error, with the field's path.
		e := *root.argErr
		e.Path = []any{g.key}
		return Operation{}, Errors{&e}
	}
	topic, e := s.topic(p, g)
	if e != nil {
		return Operation{}, Errors{e}
	}
	plan := &Plan{
		root:     root,
		rootKey:  g.key,
		head:     "{" + root.key,
		schema:   s.schema,
		maxBytes: lim.MaxResultBytes,
	}
	plan.tooLarge = string(Errors{{
		Message:   fmt.Sprintf("The result for this event is larger than this server's limit of %d bytes, so it was not sent.", lim.MaxResultBytes),
		Locations: root.locs,
		Path:      []any{g.key},
	}}.AppendJSON([]byte(`{"data":null,"errors":`))) + "}"
	return Operation{Plan: plan, Topic: topic}, nil
}

// selectOperation applies the spec's GetOperation.
func selectOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *Error) {
	if name == "" {
		switch len(doc.Operations) {
		case 0:
			return nil, requestError("Must provide an operation.")
		case 1:
			return doc.Operations[0], nil
		}
		return nil, requestError("Must provide operation name if query contains multiple operations.")
	}
	if op := doc.Operations.ForName(name); op != nil {
		return op, nil
	}
	return nil, requestError(fmt.Sprintf("Unknown operation named \"%s\".", name))
}

// MaxTopicBytes bounds a topic rendered from a subscription's arguments. A
// NATS server takes protocol lines of at most max_control_line bytes (4 KiB
// by default) and closes the connection that sends a longer one, so a
// subscription whose arguments spelled a longer subject would cut its hub
// node off NATS for every client; such a subscription is refused instead.
const MaxTopicBytes = 1024

// topic renders the root field's subject from its arguments.
func (s *Schema) topic(p *planner, g fieldGroup) (string, *Error) {
	node := g.nodes[0]
	def := s.schema.Subscription.Fields.ForName(node.Name)
	t := s.topics[node.Name]
	fail := func(msg string) (string, *Error) {
		return "", &Error{Message: msg, Locations: posLocation(node.Position), Path: []any{g.key}}
	}
	arg := func(name string) (string, string) {
		ad := def.Arguments.ForName(name)
		var val any
		present := false
		if a := node.Arguments.ForName(name); a != nil {
			val, present = s.valueFromAST(a.Value, ad.Type, p.vars)
		}
		if !present && ad.DefaultValue != nil {
			val, present = s.valueFromAST(ad.DefaultValue, ad.Type, nil)
		}
		if !present || val == nil {
			return "", "is null"
		}
		switch v := val.(type) {
		case string:
			return v, ""
		case int:
			return strconv.Itoa(v), ""
		case float64:
			return string(appendJSNumber(nil, v)), ""
		case bool:
			return strconv.FormatBool(v), ""
		}
		return "", "is not a scalar"
	}
	if t.verbatim != "" {
		v, why := arg(t.verbatim)
		if why != "" {
			return fail(fmt.Sprintf("invalid topic: argument \"%s\" %s", t.verbatim, why))
		}
		if why := checkSubject(v); why != "" && !s.hashedTopics {
			return fail(fmt.Sprintf("invalid topic %s: %s", strconv.Quote(v), why))
		}
		if len(v) > MaxTopicBytes {
			return fail(fmt.Sprintf("invalid topic: argument \"%s\" is %d bytes long, more than the %d a topic may have", t.verbatim, len(v), MaxTopicBytes))
		}
		return v, nil
	}
	var b strings.Builder
	for _, part := range t.parts {
		if part.arg == "" {
			b.WriteString(part.lit)
			continue
		}
		v, why := arg(part.arg)
		if why != "" {
			return fail(fmt.Sprintf("invalid topic %s: argument \"%s\" %s", strconv.Quote(t.source), part.arg, why))
		}
		if why := checkToken(v); why != "" && !s.hashedTopics {
			return fail(fmt.Sprintf("invalid topic %s: argument \"%s\" value %s %s; it must be one subject token",
				strconv.Quote(t.source), part.arg, strconv.Quote(v), why))
		}
		b.WriteString(v)
	}
	if b.Len() > MaxTopicBytes {
		return fail(fmt.Sprintf("invalid topic %s: %d bytes long, more than the %d a topic may have", strconv.Quote(t.source), b.Len(), MaxTopicBytes))
	}
	return b.String(), nil
}
