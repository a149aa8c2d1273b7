package graphql

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// argumentError is graphql-js's getArgumentValues failing for field node n
// of def, given the coerced variables: nil when every argument coerces.
//
// Validation has already checked the literals, so only variables can make an
// argument fail here: a variable that has a default may be used where a
// non-null value is expected, and then be given an explicit null. graphql-js
// raises that for the root field of a subscription when it creates the
// event stream (a request error) and below the root each time the field is
// resolved (a field error).
func (s *Schema) argumentError(def *ast.FieldDefinition, n *ast.Field, vars map[string]any) *Error {
	for _, ad := range def.Arguments {
		an := n.Arguments.ForName(ad.Name)
		if an == nil || isMissingVariable(an.Value, vars) {
			continue // the argument's default, or no value; validation saw to non-null ones
		}
		v := an.Value
		isNull := v.Kind == ast.NullValue
		if v.Kind == ast.Variable {
			isNull = vars[v.Raw] == nil
		}
		if isNull && ad.Type.NonNull {
			return &Error{
				Message:   fmt.Sprintf("Argument \"%s\" of non-null type \"%s\" must not be null.", ad.Name, ad.Type.String()),
				Locations: posLocation(v.Position),
			}
		}
		if ok, _ := s.literalCoerces(v, ad.Type, vars); !ok {
			return &Error{
				Message:   fmt.Sprintf("Argument \"%s\" has invalid value %s.", ad.Name, printValue(v)),
				Locations: posLocation(v.Position),
			}
		}
	}
	return nil
}

// isMissingVariable is graphql-js's: v is a variable the request gave no
// value and that has no default.
func isMissingVariable(v *ast.Value, vars map[string]any) bool {
	if v.Kind != ast.Variable {
		return false
	}
	_, ok := vars[v.Raw]
	return !ok
}

// literalCoerces reports whether graphql-js's valueFromAST gives a value
// (not undefined) for the validated literal v of type t, and whether that
// value is null.
func (s *Schema) literalCoerces(v *ast.Value, t *ast.Type, vars map[string]any) (ok, isNull bool) {
	if v.Kind == ast.Variable {
		val, present := vars[v.Raw]
		if !present || (val == nil && t.NonNull) {
			return false, false
		}
		return true, val == nil
	}
	if v.Kind == ast.NullValue {
		return !t.NonNull, true
	}
	if t.Elem != nil {
		if v.Kind != ast.ListValue {
			return s.literalCoerces(v, t.Elem, vars)
		}
		for _, c := range v.Children {
			if isMissingVariable(c.Value, vars) {
				if t.Elem.NonNull {
					return false, false
				}
				continue
			}
			if ok, _ := s.literalCoerces(c.Value, t.Elem, vars); !ok {
				return false, false
			}
		}
		return true, false
	}
	def := s.schema.Types[t.NamedType]
	if def == nil || def.Kind != ast.InputObject {
		return true, false // a leaf literal: validation checked it
	}
	if v.Kind != ast.ObjectValue {
		return false, false
	}
	fields, nonNull := 0, 0
	for _, fd := range def.Fields {
		fv := v.Children.ForName(fd.Name)
		if fv == nil || isMissingVariable(fv, vars) {
			if fd.DefaultValue != nil {
				fields++
				if fd.DefaultValue.Kind != ast.NullValue {
					nonNull++
				}
			} else if fd.Type.NonNull {
				return false, false
			}
			continue
		}
		ok, null := s.literalCoerces(fv, fd.Type, vars)
		if !ok {
			return false, false
		}
		fields++
		if !null {
			nonNull++
		}
	}
	if def.Directives.ForName("oneOf") != nil && (fields != 1 || nonNull != 1) {
		return false, false
	}
	return true, false
}

// printValue prints v as graphql-js's print does.
func printValue(v *ast.Value) string {
	var b strings.Builder
	printValueTo(&b, v)
	return b.String()
}

func printValueTo(b *strings.Builder, v *ast.Value) {
	switch v.Kind {
	case ast.Variable:
		b.WriteString("$" + v.Raw)
	case ast.StringValue, ast.BlockValue:
		appendGraphQLString(b, v.Raw)
	case ast.ListValue:
		b.WriteByte('[')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			printValueTo(b, c.Value)
		}
		b.WriteByte(']')
	case ast.ObjectValue:
		b.WriteByte('{')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name + ": ")
			printValueTo(b, c.Value)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.Raw)
	}
}

// appendGraphQLString is graphql-js's printString: a double-quoted string
// with C0 controls, DEL and C1 controls escaped.
func appendGraphQLString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
