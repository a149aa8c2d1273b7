package graphql

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
	"github.com/vektah/gqlparser/v2/ast"
)

// Coerced input values are plain Go values: nil, bool, int (GraphQL Int),
// float64, string (String, ID and enum values), []any, map[string]any, and
// for custom scalars whatever JSON decodes to (float64 numbers).

const maxInt32, minInt32 = math.MaxInt32, math.MinInt32

// jsonNull is a JSON null, for errors about a null that is not in the input.
var jsonNull = fastjson.MustParse("null")

// coerceVariables implements the spec's CoerceVariableValues with
// graphql-js's messages.
func (s *Schema) coerceVariables(op *ast.OperationDefinition, raw []byte) (map[string]any, Errors) {
	vars := map[string]any{}
	var obj *fastjson.Object
	if len(strings.TrimSpace(string(raw))) > 0 {
		v, err := fastjson.ParseBytes(raw)
		if err != nil {
			return nil, Errors{requestError("Variables are not valid JSON: " + err.Error())}
		}
		switch v.Type() {
		case fastjson.TypeObject:
			obj, _ = v.Object()
		case fastjson.TypeNull:
		default:
			return nil, Errors{requestError("Variables must be provided as an Object where each property is a variable value.")}
		}
	}
	var errs Errors
	for _, vd := range op.VariableDefinitions {
		loc := posLocation(vd.Position)
		typ := vd.Type.String()
		var v *fastjson.Value
		if obj != nil {
			v = obj.Get(vd.Variable)
		}
		if v == nil {
			if vd.DefaultValue != nil {
				if dv, ok := s.valueFromAST(vd.DefaultValue, vd.Type, nil); ok {
					vars[vd.Variable] = dv
				}
				continue
			}
			if vd.Type.NonNull {
				errs = append(errs, requestError(fmt.Sprintf("Variable \"$%s\" of required type \"%s\" was not provided.", vd.Variable, typ), loc...))
			}
			continue
		}
		if v.Type() == fastjson.TypeNull && vd.Type.NonNull {
			errs = append(errs, requestError(fmt.Sprintf("Variable \"$%s\" of non-null type \"%s\" must not be null.", vd.Variable, typ), loc...))
			continue
		}
		val := s.coerceInput(v, vd.Type, nil, func(path []any, invalid *fastjson.Value, msg string) {
			m := fmt.Sprintf("Variable \"$%s\" got invalid value %s", vd.Variable, inspect(invalid))
			if len(path) > 0 {
				m += fmt.Sprintf(" at \"%s%s\"", vd.Variable, printPath(path))
			}
			errs = append(errs, requestError(m+"; "+msg, loc...))
		})
		vars[vd.Variable] = val
	}
	return vars, errs
}

type inputErrorFunc func(path []any, invalid *fastjson.Value, msg string)

// coerceInput implements graphql-js's coerceInputValue for a JSON value.
func (s *Schema) coerceInput(v *fastjson.Value, t *ast.Type, path []any, onErr inputErrorFunc) any {
	if t.NonNull {
		if v.Type() == fastjson.TypeNull {
			onErr(path, v, fmt.Sprintf("Expected non-nullable type \"%s\" not to be null.", t.String()))
			return nil
		}
		nt := *t
		nt.NonNull = false
		return s.coerceInput(v, &nt, path, onErr)
	}
	if v.Type() == fastjson.TypeNull {
		return nil
	}
	if t.Elem != nil {
		if v.Type() == fastjson.TypeArray {
			items, _ := v.Array()
			out := make([]any, len(items))
			for i, item := range items {
				out[i] = s.coerceInput(item, t.Elem, appendPath(path, i), onErr)
			}
			return out
		}
		return []any{s.coerceInput(v, t.Elem, path, onErr)}
	}
	def := s.schema.Types[t.NamedType]
	if def == nil {
		onErr(path, v, fmt.Sprintf("Unknown type \"%s\".", t.NamedType))
		return nil
	}
	switch def.Kind {
	case ast.InputObject:
		if v.Type() != fastjson.TypeObject {
			onErr(path, v, fmt.Sprintf("Expected type \"%s\" to be an object.", def.Name))
			return nil
		}
		obj, _ := v.Object()
		out := map[string]any{}
		failed := map[string]bool{}
		for _, fd := range def.Fields {
			fv := obj.Get(fd.Name)
			if fv == nil {
				if fd.DefaultValue != nil {
					if dv, ok := s.valueFromAST(fd.DefaultValue, fd.Type, nil); ok {
						out[fd.Name] = dv
					}
				} else if fd.Type.NonNull {
					onErr(path, v, fmt.Sprintf("Field \"%s\" of required type \"%s\" was not provided.", fd.Name, fd.Type.String()))
				}
				continue
			}
			fieldFailed := false
			out[fd.Name] = s.coerceInput(fv, fd.Type, appendPath(path, fd.Name), func(p []any, invalid *fastjson.Value, msg string) {
				fieldFailed = true
				onErr(p, invalid, msg)
			})
			if fieldFailed {
				failed[fd.Name] = true
			}
		}
		for _, k := range jsKeys(obj) {
			if def.Fields.ForName(k) == nil {
				names := make([]string, len(def.Fields))
				for i, fd := range def.Fields {
					names[i] = fd.Name
				}
				onErr(path, v, fmt.Sprintf("Field \"%s\" is not defined by type \"%s\".", k, def.Name)+didYouMean("", suggestionList(k, names)))
			}
		}
		if def.Directives.ForName("oneOf") != nil {
			// graphql-js's OneOf check on the coerced fields (in field
			// definition order); a field that failed to coerce is
			// undefined there, not null.
			if len(out) != 1 {
				onErr(path, v, fmt.Sprintf("Exactly one key must be specified for OneOf type \"%s\".", def.Name))
			}
			for _, fd := range def.Fields {
				if val, ok := out[fd.Name]; ok {
					if val == nil && !failed[fd.Name] {
						onErr(appendPath(path, fd.Name), jsonNull, fmt.Sprintf("Field \"%s\" must be non-null.", fd.Name))
					}
					break
				}
			}
		}
		return out
	case ast.Enum:
		names := make([]string, len(def.EnumValues))
		for i, ev := range def.EnumValues {
			names[i] = ev.Name
		}
		if v.Type() != fastjson.TypeString {
			iv := inspect(v)
			onErr(path, v, fmt.Sprintf("Enum \"%s\" cannot represent non-string value: %s.", def.Name, iv)+didYouMean("the enum value", suggestionList(iv, names)))
			return nil
		}
		b, _ := v.StringBytes()
		if def.EnumValues.ForName(string(b)) == nil {
			onErr(path, v, fmt.Sprintf("Value \"%s\" does not exist in \"%s\" enum.", b, def.Name)+didYouMean("the enum value", suggestionList(string(b), names)))
			return nil
		}
		return string(b)
	case ast.Scalar:
		val, msg := parseScalarValue(def.Name, v)
		if msg != "" {
			onErr(path, v, msg)
			return nil
		}
		return val
	}
	onErr(path, v, fmt.Sprintf("Expected type \"%s\".", def.Name))
	return nil
}

// parseScalarValue is graphql-js's parseValue of the built-in scalars; custom
// scalars take any JSON value.
func parseScalarValue(name string, v *fastjson.Value) (any, string) {
	switch name {
	case "Int":
		if v.Type() != fastjson.TypeNumber {
			return nil, "Int cannot represent non-integer value: " + inspect(v)
		}
		f := float64Of(nil, v)
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return nil, "Int cannot represent non-integer value: " + inspect(v)
		}
		if f > maxInt32 || f < minInt32 {
			return nil, "Int cannot represent non 32-bit signed integer value: " + inspect(v)
		}
		return int(f), ""
	case "Float":
		if v.Type() != fastjson.TypeNumber {
			return nil, "Float cannot represent non numeric value: " + inspect(v)
		}
		f := float64Of(nil, v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, "Float cannot represent non numeric value: " + inspect(v)
		}
		return f, ""
	case "String":
		if v.Type() != fastjson.TypeString {
			return nil, "String cannot represent a non string value: " + inspect(v)
		}
		b, _ := v.StringBytes()
		return string(b), ""
	case "Boolean":
		switch v.Type() {
		case fastjson.TypeTrue:
			return true, ""
		case fastjson.TypeFalse:
			return false, ""
		}
		return nil, "Boolean cannot represent a non boolean value: " + inspect(v)
	case "ID":
		switch v.Type() {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			return string(b), ""
		case fastjson.TypeNumber:
			f := float64Of(nil, v)
			if f == math.Trunc(f) && !math.IsInf(f, 0) {
				return string(appendJSNumber(nil, f)), ""
			}
		}
		return nil, "ID cannot represent value: " + inspect(v)
	}
	return jsonToGo(v), ""
}

// jsonToGo converts a JSON value as JSON.parse would (numbers as float64).
func jsonToGo(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := map[string]any{}
		o.Visit(func(k []byte, item *fastjson.Value) { m[string(k)] = jsonToGo(item) })
		return m
	case fastjson.TypeArray:
		a, _ := v.Array()
		out := make([]any, len(a))
		for i, item := range a {
			out[i] = jsonToGo(item)
		}
		return out
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		f := float64Of(nil, v)
		return f
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

// valueFromAST converts a validated literal (or a variable reference) to a
// coerced value of type t. ok is false when a variable is not provided.
func (s *Schema) valueFromAST(v *ast.Value, t *ast.Type, vars map[string]any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch v.Kind {
	case ast.Variable:
		val, ok := vars[v.Raw]
		return val, ok
	case ast.NullValue:
		return nil, true
	case ast.ListValue:
		elem := t
		if t != nil && t.Elem != nil {
			elem = t.Elem
		}
		out := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			cv, ok := s.valueFromAST(c.Value, elem, vars)
			if !ok {
				cv = nil
			}
			out = append(out, cv)
		}
		return out, true
	case ast.ObjectValue:
		out := map[string]any{}
		var def *ast.Definition
		if t != nil {
			def = s.schema.Types[t.NamedType]
		}
		for _, c := range v.Children {
			var ft *ast.Type
			if def != nil {
				if fd := def.Fields.ForName(c.Name); fd != nil {
					ft = fd.Type
				}
			}
			if cv, ok := s.valueFromAST(c.Value, ft, vars); ok {
				out[c.Name] = cv
			}
		}
		if def != nil {
			for _, fd := range def.Fields {
				if _, ok := out[fd.Name]; !ok && fd.DefaultValue != nil {
					if dv, ok := s.valueFromAST(fd.DefaultValue, fd.Type, nil); ok {
						out[fd.Name] = dv
					}
				}
			}
		}
		if t != nil && t.Elem != nil {
			return []any{out}, true
		}
		return out, true
	}
	var scalar any
	named := ""
	if t != nil {
		for tt := t; tt != nil; tt = tt.Elem {
			named = tt.NamedType
		}
	}
	switch v.Kind {
	case ast.IntValue:
		n, _ := strconv.ParseFloat(v.Raw, 64)
		switch named {
		case "Int":
			scalar = int(n)
		case "ID":
			// graphql-js's ID.parseLiteral keeps the literal's text: an
			// integer too large for a float64 still names its own subject.
			scalar = v.Raw
		default:
			scalar = n
		}
	case ast.FloatValue:
		n, _ := strconv.ParseFloat(v.Raw, 64)
		scalar = n
	case ast.StringValue, ast.BlockValue, ast.EnumValue:
		scalar = v.Raw
	case ast.BooleanValue:
		scalar = v.Raw == "true"
	}
	if t != nil && t.Elem != nil {
		return []any{scalar}, true
	}
	return scalar, true
}

func appendPath(path []any, key any) []any {
	out := make([]any, len(path), len(path)+1)
	copy(out, path)
	return append(out, key)
}

// printPath renders a path as graphql-js's printPathArray: .field[0].
func printPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		case string:
			b.WriteString("." + p)
		}
	}
	return b.String()
}

// inspect renders a JSON value as graphql-js's inspect does for the value
// JSON.parse returns: nested objects and arrays beyond two levels are
// abbreviated, arrays show ten items, and object keys come in JavaScript's
// property order (array indexes first, ascending).
func inspect(v *fastjson.Value) string {
	return string(appendInspect(nil, v, 0))
}

// maxInspectDepth is graphql-js's MAX_RECURSIVE_DEPTH: a nested object or
// array at this depth (the top level being 0) is printed as [Object] or
// [Array].
const maxInspectDepth = 2

func appendInspect(dst []byte, v *fastjson.Value, depth int) []byte {
	if v == nil {
		return append(dst, "undefined"...)
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f := float64Of(nil, v)
		switch {
		case math.IsInf(f, 1):
			return append(dst, "Infinity"...)
		case math.IsInf(f, -1):
			return append(dst, "-Infinity"...)
		}
		return appendJSNumber(dst, f)
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() == 0 {
			return append(dst, "{}"...)
		}
		if depth >= maxInspectDepth {
			return append(dst, "[Object]"...)
		}
		dst = append(dst, "{ "...)
		for i, k := range jsKeys(o) {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = appendInspect(dst, o.Get(k), depth+1)
		}
		return append(dst, " }"...)
	case fastjson.TypeArray:
		a, _ := v.Array()
		if len(a) == 0 {
			return append(dst, "[]"...)
		}
		if depth >= maxInspectDepth {
			return append(dst, "[Array]"...)
		}
		dst = append(dst, '[')
		for i, item := range a {
			if i == 10 {
				dst = append(dst, ", ... "...)
				dst = strconv.AppendInt(dst, int64(len(a)-10), 10)
				dst = append(dst, " more item"...)
				if len(a)-10 > 1 {
					dst = append(dst, 's')
				}
				break
			}
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendInspect(dst, item, depth+1)
		}
		return append(dst, ']')
	}
	return appendValue(dst, v)
}

// jsKeys returns o's distinct keys in the order Object.keys gives for the
// object JSON.parse builds: array indexes (canonical integers below 2^32-1)
// ascending, then the other keys in order of first occurrence.
func jsKeys(o *fastjson.Object) []string {
	var idx, other []string
	seen := make(map[string]bool, o.Len())
	o.Visit(func(k []byte, _ *fastjson.Value) {
		key := string(k)
		if seen[key] {
			return
		}
		seen[key] = true
		if isArrayIndex(key) {
			idx = append(idx, key)
		} else {
			other = append(other, key)
		}
	})
	slices.SortStableFunc(idx, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return append(idx, other...)
}

// isArrayIndex reports whether k is an ECMAScript array index: the canonical
// decimal form of an integer in [0, 2^32-2].
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < math.MaxUint32
}

func posLocation(p *ast.Position) []Location {
	if p == nil {
		return nil
	}
	return []Location{{Line: p.Line, Column: p.Column}}
}
