package graphql

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// validationRules are gqlparser's standard rules plus what graphql-js checks
// and gqlparser does not.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule(intRangeRule.Name, intRangeRule.RuleFunc)
	r.ReplaceRule(rules.SingleFieldSubscriptionsRule.Name, singleFieldSubscriptionsRule)
	return r
}

// singleFieldSubscriptionsRule is graphql-js's SingleFieldSubscriptionsRule:
// the root fields are those CollectFields yields, grouped by response key,
// with @skip/@include applied, so `subscription { a b @skip(if: true) }`
// selects one field. gqlparser's rule ignores the directives and groups by
// field name. A condition on a variable (which graphql-js's rule, run
// without variables, throws on) counts as not selected here: Compile
// collects the root fields again with the coerced variables.
func singleFieldSubscriptionsRule(observers *core.Events, addError core.AddErrFunc) {
	observers.OnOperation(func(walker *core.Walker, op *ast.OperationDefinition) {
		sub := walker.Schema.Subscription
		if sub == nil || op.Operation != ast.Subscription {
			return
		}
		type group struct {
			name  string
			nodes []*ast.Field
		}
		var groups []*group
		byKey := map[string]*group{}
		visited := map[string]bool{}
		applies := func(cond string) bool {
			if cond == "" || cond == sub.Name {
				return true
			}
			def := walker.Schema.Types[cond]
			if def == nil || !def.IsAbstractType() {
				return false
			}
			for _, pt := range walker.Schema.GetPossibleTypes(def) {
				if pt.Name == sub.Name {
					return true
				}
			}
			return false
		}
		var collect func(sels ast.SelectionSet)
		collect = func(sels ast.SelectionSet) {
			for _, sel := range sels {
				switch sel := sel.(type) {
				case *ast.Field:
					if !literallyIncluded(sel.Directives) {
						continue
					}
					key := sel.Alias
					if key == "" {
						key = sel.Name
					}
					g := byKey[key]
					if g == nil {
						g = &group{name: sel.Name}
						byKey[key] = g
						groups = append(groups, g)
					}
					g.nodes = append(g.nodes, sel)
				case *ast.InlineFragment:
					if literallyIncluded(sel.Directives) && applies(sel.TypeCondition) {
						collect(sel.SelectionSet)
					}
				case *ast.FragmentSpread:
					if visited[sel.Name] || !literallyIncluded(sel.Directives) {
						continue
					}
					visited[sel.Name] = true
					if frag := walker.Document.Fragments.ForName(sel.Name); frag != nil && applies(frag.TypeCondition) {
						collect(frag.SelectionSet)
					}
				}
			}
		}
		collect(op.SelectionSet)
		name := "Anonymous Subscription"
		if op.Name != "" {
			name = "Subscription " + strconv.Quote(op.Name)
		}
		if len(groups) > 1 {
			var nodes []*ast.Field
			for _, g := range groups[1:] {
				nodes = append(nodes, g.nodes...)
			}
			addError(core.Message("%s must select only one top level field.", name), atFields(nodes))
		}
		for _, g := range groups {
			if strings.HasPrefix(g.name, "__") {
				addError(core.Message("%s must not select an introspection top level field.", name), atFields(g.nodes))
			}
		}
	})
}

// literallyIncluded is CollectFields' @skip/@include check for literal
// conditions; a condition on a variable excludes the selection.
func literallyIncluded(dirs ast.DirectiveList) bool {
	for _, c := range [...]struct {
		name string
		keep bool // the value of "if" that keeps the selection
	}{{"skip", false}, {"include", true}} {
		d := dirs.ForName(c.name)
		if d == nil {
			continue
		}
		a := d.Arguments.ForName("if")
		if a == nil || a.Value == nil || a.Value.Kind != ast.BooleanValue || (a.Value.Raw == "true") != c.keep {
			return false
		}
	}
	return true
}

// atFields locates an error at every node, as graphql-js's GraphQLError
// with nodes does.
func atFields(nodes []*ast.Field) core.ErrorOption {
	return func(err *gqlerror.Error) {
		for _, n := range nodes {
			if n.Position != nil {
				err.Locations = append(err.Locations, gqlerror.Location{Line: n.Position.Line, Column: n.Position.Column})
			}
		}
	}
}

// intRangeRule is the part of graphql-js's ValuesOfCorrectTypeRule that
// gqlparser's lacks: an Int literal must fit 32 bits (spec §3.5.1), or
// 2147483648 would be taken as an argument (and a subject) that no variable
// could carry.
var intRangeRule = core.Rule{Name: "SubhubIntRange", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	observers.OnValue(func(_ *core.Walker, v *ast.Value) {
		if v.Kind != ast.IntValue || v.Definition == nil || v.Definition.Kind != ast.Scalar || v.Definition.Name != "Int" {
			return
		}
		if _, err := strconv.ParseInt(v.Raw, 10, 32); err != nil {
			addError(core.Message("Int cannot represent non 32-bit signed integer value: %s", v.Raw), core.At(v.Position))
		}
	})
}}
