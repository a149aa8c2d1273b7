package graphql

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"
	"github.com/vektah/gqlparser/v2/ast"
)

// AppendResult appends the ExecutionResult for one event to dst as compact
// JSON: {"data":{...}}, plus ,"errors":[...] when completion raised field
// errors. event is the root field's resolved value; nil or a JSON null means
// null. The output equals graphql-js's execute for the operation with the
// root field resolving to event (object keys are looked up by their first
// occurrence; numbers inside custom scalars keep the event's text, where
// graphql-js would have rounded them through a float64), unless it would exceed the schema's Limits.MaxResultBytes:
// then the result is {"data":null} with one error saying so, and ok is false.
// It allocates nothing when dst has the capacity and there are no field
// errors. The plan is safe for concurrent use; event is read (and lazily
// unescaped by fastjson) during the call, so it must not be used by another
// goroutine meanwhile.
func (p *Plan) AppendResult(dst []byte, event *fastjson.Value) (out []byte, ok bool) {
	var stack [32]pathElem
	start := len(dst)
	x := execution{schema: p.schema, end: start + p.maxBytes, budget: p.maxBytes}
	dst = append(dst, `{"data":`...)
	mark := len(dst)
	dst = append(dst, p.head...)
	path := append(stack[:0], pathElem{key: p.rootKey, index: -1})
	dst, ok = x.complete(dst, event, &p.root, 0, path)
	switch {
	case x.over:
		return append(dst[:start], p.tooLarge...), false
	case ok:
		dst = append(dst, '}')
	default:
		dst = append(dst[:mark], "null"...)
	}
	if len(x.errs) > 0 {
		dst = append(dst, `,"errors":`...)
		dst = x.errs.AppendJSON(dst)
		if len(dst) >= x.end {
			return append(dst[:start], p.tooLarge...), false
		}
	}
	return append(dst, '}'), true
}

// execution is the state of one AppendResult call; it lives on the stack.
type execution struct {
	schema *ast.Schema
	errs   Errors
	// end is the length of dst beyond which the result is too large, with
	// the errors recorded so far counted in. budget is the number of values
	// left to complete: it bounds the work of results that keep being
	// truncated (nulls propagating) and so never grow dst. over is set once
	// either is exceeded, and everything unwinds.
	end    int
	budget int
	over   bool
}

// pathElem is one response path element; it becomes a []any element only
// when an error is raised.
type pathElem struct {
	key   string
	index int // list index, or -1 for key
}

// fail records a field error at path. path is the response path of the value
// being completed, passed down by value and backed by an array on
// AppendResult's stack unless the plan nests deeper.
func (x *execution) fail(f *field, path []pathElem, msg string) {
	x.failAt(f.locs, path, msg)
}

// failAt records a field error with the given locations.
func (x *execution) failAt(locs []Location, path []pathElem, msg string) {
	out := make([]any, len(path))
	for i, e := range path {
		if e.index >= 0 {
			out[i] = e.index
		} else {
			// A copy, so that no pointer flows from path to the heap:
			// that would move AppendResult's stack array to the heap.
			out[i] = strings.Clone(e.key)
		}
	}
	x.errs = append(x.errs, &Error{Message: msg, Locations: locs, Path: out})
	// What the error will take in the output, roughly.
	x.end -= len(msg) + 16*len(locs) + 8*len(path) + 32
}

func isNull(v *fastjson.Value) bool { return v == nil || v.Type() == fastjson.TypeNull }

// complete is CompleteValue for level lvl of f's type. ok is false when the
// value is a null that must propagate to the parent (the error is already
// recorded); dst is then truncated to its length on entry.
func (x *execution) complete(dst []byte, v *fastjson.Value, f *field, lvl int, path []pathElem) ([]byte, bool) {
	x.budget--
	if x.budget < 0 || len(dst) >= x.end {
		x.over = true
	}
	if x.over {
		return dst, false
	}
	nonNull := f.nonNull[lvl]
	if isNull(v) {
		if nonNull {
			x.fail(f, path, "Cannot return null for non-nullable field "+f.owner+".")
			return dst, false
		}
		return append(dst, "null"...), true
	}
	mark := len(dst)
	var ok bool
	if lvl < len(f.nonNull)-1 {
		dst, ok = x.completeList(dst, v, f, lvl, path)
	} else {
		dst, ok = x.completeNamed(dst, v, f, path)
	}
	if len(dst) >= x.end {
		// A leaf (a custom scalar's JSON above all) took it over.
		x.over = true
	}
	if ok && !x.over {
		return dst, true
	}
	dst = dst[:mark]
	if nonNull || x.over {
		return dst, false
	}
	return append(dst, "null"...), true
}

func (x *execution) completeList(dst []byte, v *fastjson.Value, f *field, lvl int, path []pathElem) ([]byte, bool) {
	if v.Type() != fastjson.TypeArray {
		x.fail(f, path, "Expected Iterable, but did not find one for field \""+f.owner+"\".")
		return dst, false
	}
	items, _ := v.Array()
	dst = append(dst, '[')
	for i, item := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = x.complete(dst, item, f, lvl+1, append(path, pathElem{index: i})); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

func (x *execution) completeNamed(dst []byte, v *fastjson.Value, f *field, path []pathElem) ([]byte, bool) {
	switch f.kind {
	case kindObject:
		return x.completeObject(dst, v, f.sel, path)
	case kindAbstract:
		sel := x.resolveType(v, f, path)
		if sel == nil {
			return dst, false
		}
		return x.completeObject(dst, v, sel, path)
	case kindCustom:
		return appendPassThrough(dst, v), true
	case kindTypename:
		return append(dst, f.constVal...), true
	}
	out, ok := serializeLeaf(dst, v, f)
	if !ok {
		x.fail(f, path, leafError(v, f))
		return dst, false
	}
	return out, true
}

func (x *execution) completeObject(dst []byte, v *fastjson.Value, sel *selSet, path []pathElem) ([]byte, bool) {
	if sel.err != nil {
		x.failAt(sel.err.Locations, path, sel.err.Message)
		return dst, false
	}
	// graphql-js reads properties of any non-null value; only objects have
	// the fields (other values leave every field undefined).
	var obj *fastjson.Object
	if v.Type() == fastjson.TypeObject {
		obj, _ = v.Object()
	}
	dst = append(dst, '{')
	for i := range sel.fields {
		sf := &sel.fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, sf.key...)
		if sf.kind == kindTypename {
			dst = append(dst, sf.constVal...)
			continue
		}
		fpath := append(path, pathElem{key: sf.respKey, index: -1})
		if sf.argErr != nil {
			x.failAt(sf.argErr.Locations, fpath, sf.argErr.Message)
			if sf.nonNull[0] {
				return dst, false
			}
			dst = append(dst, "null"...)
			continue
		}
		var fv *fastjson.Value
		if obj != nil {
			fv = obj.Get(sf.name)
		}
		var ok bool
		if dst, ok = x.complete(dst, fv, sf, 0, fpath); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// resolveType is graphql-js's defaultTypeResolver: the value's own
// __typename names its object type. It returns nil after recording an error.
func (x *execution) resolveType(v *fastjson.Value, f *field, path []pathElem) *selSet {
	var tn []byte
	if v.Type() == fastjson.TypeObject {
		if t := v.Get("__typename"); t != nil && t.Type() == fastjson.TypeString {
			tn, _ = t.StringBytes()
		}
	}
	if tn == nil {
		x.fail(f, path, fmt.Sprintf("Abstract type \"%s\" must resolve to an Object type at runtime for field \"%s\". Either the \"%s\" type should provide a \"resolveType\" function or each possible type should provide an \"isTypeOf\" function.", f.named, f.owner, f.named))
		return nil
	}
	for i := range f.cases {
		if f.cases[i].name == string(tn) {
			return f.cases[i].sel
		}
	}
	def := x.schema.Types[string(tn)]
	switch {
	case def == nil:
		x.fail(f, path, fmt.Sprintf("Abstract type \"%s\" was resolved to a type \"%s\" that does not exist inside the schema.", f.named, tn))
	case def.Kind != ast.Object:
		x.fail(f, path, fmt.Sprintf("Abstract type \"%s\" was resolved to a non-object type \"%s\".", f.named, tn))
	default:
		x.fail(f, path, fmt.Sprintf("Runtime Object type \"%s\" is not a possible type for \"%s\".", tn, f.named))
	}
	return nil
}

// serializeLeaf appends v serialized as graphql-js 16 serializes the
// built-in scalars and enums; ok is false when v cannot be represented.
func serializeLeaf(dst []byte, v *fastjson.Value, f *field) ([]byte, bool) {
	t := v.Type()
	switch f.kind {
	case kindInt, kindFloat:
		var num float64
		switch t {
		case fastjson.TypeTrue:
			return append(dst, '1'), true
		case fastjson.TypeFalse:
			return append(dst, '0'), true
		case fastjson.TypeNumber:
			num = float64Of(dst, v)
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			if len(b) == 0 {
				return dst, false
			}
			var ok bool
			if num, ok = jsNumber(unsafe.String(unsafe.SliceData(b), len(b))); !ok {
				return dst, false
			}
		default:
			return dst, false
		}
		if math.IsInf(num, 0) || math.IsNaN(num) {
			return dst, false
		}
		if f.kind == kindInt && (num != math.Trunc(num) || num > maxInt32 || num < minInt32) {
			return dst, false
		}
		return appendJSNumber(dst, num), true
	case kindString:
		switch t {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			return appendJSONString(dst, b), true
		case fastjson.TypeTrue:
			return append(dst, `"true"`...), true
		case fastjson.TypeFalse:
			return append(dst, `"false"`...), true
		case fastjson.TypeNumber:
			num := float64Of(dst, v)
			if math.IsInf(num, 0) {
				return dst, false
			}
			dst = append(dst, '"')
			dst = appendJSNumber(dst, num)
			return append(dst, '"'), true
		}
	case kindBoolean:
		switch t {
		case fastjson.TypeTrue:
			return append(dst, "true"...), true
		case fastjson.TypeFalse:
			return append(dst, "false"...), true
		case fastjson.TypeNumber:
			num := float64Of(dst, v)
			if math.IsInf(num, 0) {
				return dst, false
			}
			if num != 0 {
				return append(dst, "true"...), true
			}
			return append(dst, "false"...), true
		}
	case kindID:
		switch t {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			return appendJSONString(dst, b), true
		case fastjson.TypeNumber:
			num := float64Of(dst, v)
			if math.IsInf(num, 0) || num != math.Trunc(num) {
				return dst, false
			}
			dst = append(dst, '"')
			dst = appendJSNumber(dst, num)
			return append(dst, '"'), true
		}
	case kindEnum:
		if t == fastjson.TypeString {
			b, _ := v.StringBytes()
			for _, name := range f.enum {
				if name == string(b) {
					return appendJSONString(dst, name), true
				}
			}
		}
	}
	return dst, false
}

// leafError is graphql-js's message for a value serializeLeaf rejected.
func leafError(v *fastjson.Value, f *field) string {
	iv := inspect(v)
	switch f.kind {
	case kindInt:
		if v.Type() == fastjson.TypeNumber || v.Type() == fastjson.TypeString {
			b := []byte(nil)
			num := 0.0
			ok := true
			if v.Type() == fastjson.TypeNumber {
				num = float64Of(nil, v)
			} else {
				b, _ = v.StringBytes()
				num, ok = jsNumber(string(b))
				ok = ok && len(b) > 0
			}
			if ok && num == math.Trunc(num) && !math.IsInf(num, 0) {
				return "Int cannot represent non 32-bit signed integer value: " + iv
			}
		}
		return "Int cannot represent non-integer value: " + iv
	case kindFloat:
		return "Float cannot represent non numeric value: " + iv
	case kindString:
		return "String cannot represent value: " + iv
	case kindBoolean:
		return "Boolean cannot represent a non boolean value: " + iv
	case kindID:
		return "ID cannot represent value: " + iv
	case kindEnum:
		return fmt.Sprintf("Enum \"%s\" cannot represent value: %s", f.named, iv)
	}
	return "cannot represent value: " + iv
}
