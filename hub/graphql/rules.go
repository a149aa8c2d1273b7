package graphql

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// validationRules are gqlparser's standard rules plus what graphql-js checks
// and gqlparser does not.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule(intRangeRule.Name, intRangeRule.RuleFunc)
	return r
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
