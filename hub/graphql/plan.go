package graphql

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// leafKind says how a field's named type is completed.
type leafKind uint8

const (
	kindCustom   leafKind = iota // custom scalar: the JSON value passes through
	kindInt                      // Int: 32-bit integral numbers
	kindFloat                    // Float: finite numbers
	kindString                   // String
	kindBoolean                  // Boolean
	kindID                       // ID: strings and integers
	kindEnum                     // enum: one of enum
	kindObject                   // object type: sel
	kindAbstract                 // interface or union: cases by __typename
	kindTypename                 // __typename: constant typename
)

// Plan is the compiled projection of one operation with its variables: the
// spec's CollectFields already applied (fragments, @skip/@include, merging)
// for every object type that can occur. A Plan is immutable and safe for
// concurrent use; equal *Plan pointers produce identical output for any event.
type Plan struct {
	root    field
	rootKey string
	// head is `{"data":{"<rootKey>":`.
	head   string
	schema *ast.Schema
	// maxBytes bounds one result (Limits.MaxResultBytes); tooLarge is the
	// whole result sent instead of a larger one.
	maxBytes int
	tooLarge string
}

// RootField returns the response key (alias or name) of the root field.
func (p *Plan) RootField() string { return p.rootKey }

// field is one response key of a selection set, merged over all its field
// nodes.
type field struct {
	key     string // `"responseKey":`, pre-escaped
	respKey string
	name    string // property read from the parent event object
	owner   string // "Parent.name" for error messages
	locs    []Location
	// nonNull has one entry per list level, outermost first, and one for
	// the named type.
	nonNull []bool
	kind    leafKind
	named   string   // named type
	enum    []string // kindEnum: value names
	sel     *selSet  // kindObject
	cases   []typeCase
	// constVal is the JSON of __typename's value (kindTypename).
	constVal string
	// argErr, when set, is raised as this field's error wherever it is
	// resolved, instead of reading its value: its arguments did not coerce
	// (argumentError).
	argErr *Error
}

type selSet struct {
	fields []field
	// err, when set, is raised (as a field error of the field whose value
	// this selection completes) instead of completing it: CollectFields
	// failed for this type, as it does for @skip/@include whose variable is
	// null.
	err *Error
}

// typeCase is the selection for one possible object type of an abstract
// field.
type typeCase struct {
	name string
	sel  *selSet
}

// fieldGroup is CollectFields' ordered map entry: a response key and its
// field nodes.
type fieldGroup struct {
	key   string
	nodes []*ast.Field
}

// planner builds plans for one operation and its coerced variables.
type planner struct {
	s    *Schema
	doc  *ast.QueryDocument
	vars map[string]any
	// memo shares the selection built for one object type and one list of
	// field nodes, which keeps the plan a DAG linear in the document even
	// when abstract types nest (otherwise possible types multiply per level).
	memo map[selKey]*selSet
	// err is the first error of the collectFields calls since it was last
	// cleared.
	err *Error
}

type selKey struct {
	typeName string
	nodes    string // the field nodes' addresses
}

// collectFields is the spec's CollectFields for objType over sels,
// appending to groups.
func (p *planner) collectFields(objType *ast.Definition, sels ast.SelectionSet, visited map[string]bool, groups []fieldGroup) []fieldGroup {
	for _, sel := range sels {
		switch sel := sel.(type) {
		case *ast.Field:
			if !p.shouldInclude(sel.Directives) {
				continue
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			found := false
			for i := range groups {
				if groups[i].key == key {
					groups[i].nodes = append(groups[i].nodes, sel)
					found = true
					break
				}
			}
			if !found {
				groups = append(groups, fieldGroup{key: key, nodes: []*ast.Field{sel}})
			}
		case *ast.InlineFragment:
			if !p.shouldInclude(sel.Directives) || !p.typeApplies(objType, sel.TypeCondition) {
				continue
			}
			groups = p.collectFields(objType, sel.SelectionSet, visited, groups)
		case *ast.FragmentSpread:
			if visited[sel.Name] || !p.shouldInclude(sel.Directives) {
				continue
			}
			visited[sel.Name] = true
			frag := p.doc.Fragments.ForName(sel.Name)
			if frag == nil || !p.typeApplies(objType, frag.TypeCondition) {
				continue
			}
			groups = p.collectFields(objType, frag.SelectionSet, visited, groups)
		}
	}
	return groups
}

func (p *planner) typeApplies(objType *ast.Definition, cond string) bool {
	if cond == "" || cond == objType.Name {
		return true
	}
	def := p.s.schema.Types[cond]
	if def == nil || !def.IsAbstractType() {
		return false
	}
	for _, pt := range p.s.schema.GetPossibleTypes(def) {
		if pt.Name == objType.Name {
			return true
		}
	}
	return false
}

// shouldInclude is the spec's @skip/@include check. A variable that is
// explicitly null fails it, as graphql-js's getDirectiveValues does: that is
// recorded in p.err and the selection is left out.
func (p *planner) shouldInclude(dirs ast.DirectiveList) bool {
	if d := dirs.ForName("skip"); d != nil {
		if skip, ok := p.ifArg(d); !ok || skip {
			return false
		}
	}
	if d := dirs.ForName("include"); d != nil {
		if include, ok := p.ifArg(d); !ok || !include {
			return false
		}
	}
	return true
}

// ifArg returns the value of d's if argument; ok is false (and p.err set)
// when it is a variable whose value is null.
func (p *planner) ifArg(d *ast.Directive) (val, ok bool) {
	a := d.Arguments.ForName("if")
	if a == nil {
		return false, true
	}
	v, present := p.s.valueFromAST(a.Value, &ast.Type{NamedType: "Boolean", NonNull: true}, p.vars)
	if present && v == nil {
		if p.err == nil {
			p.err = &Error{Message: `Argument "if" of non-null type "Boolean!" must not be null.`, Locations: posLocation(a.Value.Position)}
		}
		return false, false
	}
	b, _ := v.(bool)
	return b, true
}

// buildSelSet collects the sub-fields of nodes for objType and builds them.
func (p *planner) buildSelSet(objType *ast.Definition, nodes []*ast.Field) *selSet {
	var nk strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&nk, "%p,", n)
	}
	key := selKey{typeName: objType.Name, nodes: nk.String()}
	if ss := p.memo[key]; ss != nil {
		return ss
	}
	if p.memo == nil {
		p.memo = map[selKey]*selSet{}
	}
	ss := &selSet{}
	p.memo[key] = ss
	visited := map[string]bool{}
	var groups []fieldGroup
	p.err = nil
	for _, n := range nodes {
		groups = p.collectFields(objType, n.SelectionSet, visited, groups)
	}
	if ss.err, p.err = p.err, nil; ss.err != nil {
		return ss
	}
	for _, g := range groups {
		if f, ok := p.buildField(objType, g.key, g.nodes); ok {
			ss.fields = append(ss.fields, f)
		}
	}
	return ss
}

// buildField builds the field for response key key of parent; ok is false
// for a field parent does not define (graphql-js skips those).
func (p *planner) buildField(parent *ast.Definition, key string, nodes []*ast.Field) (field, bool) {
	name := nodes[0].Name
	f := field{
		key:     string(appendJSONString(nil, key)) + ":",
		respKey: key,
		name:    name,
		owner:   parent.Name + "." + name,
	}
	for _, n := range nodes {
		f.locs = append(f.locs, posLocation(n.Position)...)
	}
	if name == "__typename" {
		f.kind = kindTypename
		f.nonNull = []bool{true}
		f.named = "String"
		f.constVal = string(appendJSONString(nil, parent.Name))
		return f, true
	}
	def := parent.Fields.ForName(name)
	if def == nil {
		return f, false
	}
	// Fields merged under one response key have the same arguments.
	f.argErr = p.s.argumentError(def, nodes[0], p.vars)
	t := def.Type
	for ; t.Elem != nil; t = t.Elem {
		f.nonNull = append(f.nonNull, t.NonNull)
	}
	f.nonNull = append(f.nonNull, t.NonNull)
	f.named = t.NamedType
	named := p.s.schema.Types[t.NamedType]
	switch named.Kind {
	case ast.Scalar:
		switch named.Name {
		case "Int":
			f.kind = kindInt
		case "Float":
			f.kind = kindFloat
		case "String":
			f.kind = kindString
		case "Boolean":
			f.kind = kindBoolean
		case "ID":
			f.kind = kindID
		default:
			f.kind = kindCustom
		}
	case ast.Enum:
		f.kind = kindEnum
		for _, ev := range named.EnumValues {
			f.enum = append(f.enum, ev.Name)
		}
	case ast.Object:
		f.kind = kindObject
		f.sel = p.buildSelSet(named, nodes)
	case ast.Interface, ast.Union:
		f.kind = kindAbstract
		for _, pt := range p.s.schema.GetPossibleTypes(named) {
			// gqlparser counts the interfaces that implement an interface
			// among its possible types; a runtime type is an object type.
			if pt.Kind == ast.Object {
				f.cases = append(f.cases, typeCase{name: pt.Name, sel: p.buildSelSet(pt, nodes)})
			}
		}
	}
	return f, true
}

// fingerprint returns a string that is equal for two plans exactly when they
// produce identical output for every event: Cache uses it to share one *Plan
// between requests that differ only in spelling, variables or topic.
func (p *Plan) fingerprint() string {
	b := append([]byte(p.head), 0)
	b = append(append(b, p.tooLarge...), 0)
	b = p.root.appendFingerprint(b, map[*selSet]int{})
	return string(b)
}

// appendFingerprint appends f; seen numbers the selection sets already
// written, which are then written as back-references (plans are DAGs).
func (f *field) appendFingerprint(b []byte, seen map[*selSet]int) []byte {
	b = append(b, '(')
	for _, s := range [...]string{f.key, f.respKey, f.name, f.owner, f.named, f.constVal} {
		b = appendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, byte(f.kind))
	for _, nn := range f.nonNull {
		if nn {
			b = append(b, '!')
		} else {
			b = append(b, '?')
		}
	}
	for _, l := range f.locs {
		b = appendUvarint(b, uint64(l.Line))
		b = appendUvarint(b, uint64(l.Column))
	}
	if f.argErr != nil {
		b = f.argErr.AppendJSON(append(b, 'a'))
	}
	b = append(b, 'e')
	for _, e := range f.enum {
		b = appendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	if f.sel != nil {
		b = f.sel.appendFingerprint(append(b, 's'), seen)
	}
	for _, c := range f.cases {
		b = append(b, 'c')
		b = appendUvarint(b, uint64(len(c.name)))
		b = append(b, c.name...)
		b = c.sel.appendFingerprint(b, seen)
	}
	return append(b, ')')
}

func (s *selSet) appendFingerprint(b []byte, seen map[*selSet]int) []byte {
	if id, ok := seen[s]; ok {
		b = append(b, '@')
		return appendUvarint(b, uint64(id))
	}
	seen[s] = len(seen)
	if s.err != nil {
		b = append(b, '!')
		b = s.err.AppendJSON(b)
	}
	b = append(b, '{')
	for i := range s.fields {
		b = s.fields[i].appendFingerprint(b, seen)
	}
	return append(b, '}')
}
