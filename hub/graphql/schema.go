package graphql

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Directive names understood in SDL.
const (
	// topicDirective names a Subscription field's subject template.
	topicDirective = "topic"
	// subjectDirective marks a Subscription field whose argument (named by
	// arg) is the whole subject, verbatim; DefaultSchema's topic field uses it.
	subjectDirective = "subhubSubject"
)

const builtinDirectivesName = "subhub-directives.graphql"

var builtinDirectives = map[string]string{
	topicDirective:   "directive @topic(subject: String!) on FIELD_DEFINITION\n",
	subjectDirective: "directive @subhubSubject(arg: String!) on FIELD_DEFINITION\n",
}

// defaultSDL is the SDL of DefaultSchema.
const defaultSDL = `scalar JSON
type Query { hub: String }
type Subscription {
  "Subscribes to the NATS subject given by name, verbatim; the event is the JSON value."
  topic(name: String!): JSON @subhubSubject(arg: "name")
}
`

// Schema is a parsed, validated subhub schema. It is immutable and safe for
// concurrent use.
type Schema struct {
	name   string
	schema *ast.Schema
	rules  *rules.Rules
	// topics maps each Subscription field name to its subject template.
	topics map[string]*topicTemplate
	limits Limits // see WithLimits; zero fields mean the defaults
	// hashedTopics: topics are hashed into subjects (see WithHashedTopics),
	// so argument values need not be subject tokens.
	hashedTopics bool
}

// topicTemplate is a parsed @topic subject: literal parts and argument
// placeholders, or (verbatim != "") a field whose argument is the subject.
type topicTemplate struct {
	source   string
	parts    []topicPart
	verbatim string
}

type topicPart struct {
	lit string // literal text, when arg == ""
	arg string // argument name of a placeholder
}

// ParseSchema parses and validates SDL with gqlparser. name is used in
// errors ("schema.graphql:3:5: message"), which wrap ErrInvalidSchema.
// The @topic directive declaration may be omitted. A schema without a
// Subscription type, with an unknown type, with @topic on a field outside the
// Subscription type, or with a @topic placeholder that is not an argument of
// its field is rejected.
func ParseSchema(name, src string) (*Schema, error) {
	source := &ast.Source{Name: name, Input: src}
	doc, err := parser.ParseSchema(source)
	if err != nil {
		return nil, schemaError(name, err)
	}
	declared := map[string]bool{}
	for _, d := range doc.Directives {
		declared[d.Name] = true
	}
	var extra strings.Builder
	for _, d := range []string{topicDirective, subjectDirective} {
		if !declared[d] {
			extra.WriteString(builtinDirectives[d])
		}
	}
	inputs := []*ast.Source{validator.Prelude, source}
	if extra.Len() > 0 {
		inputs = append(inputs, &ast.Source{Name: builtinDirectivesName, Input: extra.String(), BuiltIn: true})
	}
	s, err := validator.LoadSchema(inputs...)
	if err != nil {
		return nil, schemaError(name, err)
	}
	if s.Subscription == nil {
		return nil, &SchemaError{File: name, Message: "no Subscription type: subhub serves subscriptions only"}
	}
	if err := checkDirectiveDecl(name, s); err != nil {
		return nil, err
	}
	sch := &Schema{name: name, schema: s, rules: validationRules(), topics: map[string]*topicTemplate{}}
	// @topic outside the Subscription type, in document order.
	defs := append(append(ast.DefinitionList{}, doc.Definitions...), doc.Extensions...)
	for _, def := range defs {
		if def.Name == s.Subscription.Name {
			continue
		}
		for _, f := range def.Fields {
			for _, dn := range []string{topicDirective, subjectDirective} {
				if d := f.Directives.ForName(dn); d != nil {
					return nil, posError(name, d.Position, "@%s is only allowed on fields of the subscription type %s, not on %s.%s", dn, s.Subscription.Name, def.Name, f.Name)
				}
			}
		}
	}
	for _, f := range s.Subscription.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		t, err := parseTopic(name, s, f)
		if err != nil {
			return nil, err
		}
		sch.topics[f.Name] = t
	}
	return sch, nil
}

// LoadSchemaFile reads and parses the SDL file at path; errors name the path.
func LoadSchemaFile(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &SchemaError{File: path, Message: err.Error(), Err: err}
	}
	return ParseSchema(path, string(b))
}

// DefaultSchema returns the built-in pass-through schema:
//
//	scalar JSON   type Query { hub: String }   type Subscription { topic(name: String!): JSON }
//
// where the topic field's subject is its name argument verbatim. The argument
// must be a literal NATS subject (non-empty tokens separated by '.', no
// wildcards, no whitespace or control characters).
func DefaultSchema() *Schema {
	s, err := ParseSchema("default.graphql", defaultSDL)
	if err != nil {
		panic(err) // the built-in SDL is valid; covered by tests
	}
	return s
}

// Name returns the name the schema was parsed with.
func (s *Schema) Name() string { return s.name }

// AST returns the validated gqlparser schema. Callers must not modify it.
func (s *Schema) AST() *ast.Schema { return s.schema }

func checkDirectiveDecl(name string, s *ast.Schema) error {
	for dn, argName := range map[string]string{topicDirective: "subject", subjectDirective: "arg"} {
		d := s.Directives[dn]
		if d == nil {
			continue
		}
		a := d.Arguments.ForName(argName)
		if a == nil || a.Type.String() != "String!" {
			return posError(name, d.Position, "directive @%s must be declared as @%s(%s: String!) on FIELD_DEFINITION", dn, dn, argName)
		}
	}
	return nil
}

func parseTopic(name string, s *ast.Schema, f *ast.FieldDefinition) (*topicTemplate, error) {
	owner := s.Subscription.Name + "." + f.Name
	if d := f.Directives.ForName(subjectDirective); d != nil {
		arg := d.Arguments.ForName("arg")
		if arg == nil || arg.Value == nil || arg.Value.Kind != ast.StringValue {
			return nil, posError(name, d.Position, "@%s on %s needs a literal arg", subjectDirective, owner)
		}
		a := f.Arguments.ForName(arg.Value.Raw)
		if a == nil {
			return nil, posError(name, arg.Value.Position, "@%s arg %q is not an argument of %s", subjectDirective, arg.Value.Raw, owner)
		}
		if !isTopicArgType(s, a.Type) {
			return nil, posError(name, arg.Value.Position, "argument %q of %s has type %s, which cannot be used in a subject", a.Name, owner, a.Type.String())
		}
		return &topicTemplate{source: "{" + a.Name + "}", verbatim: a.Name}, nil
	}
	d := f.Directives.ForName(topicDirective)
	if d == nil {
		return &topicTemplate{source: f.Name, parts: []topicPart{{lit: f.Name}}}, nil
	}
	arg := d.Arguments.ForName("subject")
	if arg == nil || arg.Value == nil || arg.Value.Kind != ast.StringValue {
		return nil, posError(name, d.Position, "@topic on %s needs a literal subject", owner)
	}
	subject := arg.Value.Raw
	pos := arg.Value.Position
	t := &topicTemplate{source: subject}
	var probe strings.Builder
	rest := subject
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			t.parts = append(t.parts, topicPart{lit: rest})
			probe.WriteString(rest)
			break
		}
		if rest[i] == '}' {
			return nil, posError(name, pos, "@topic subject %q of %s has an unmatched '}'", subject, owner)
		}
		if i > 0 {
			t.parts = append(t.parts, topicPart{lit: rest[:i]})
			probe.WriteString(rest[:i])
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, posError(name, pos, "@topic subject %q of %s has an unclosed '{'", subject, owner)
		}
		argName := rest[i+1 : i+j]
		a := f.Arguments.ForName(argName)
		if a == nil {
			return nil, posError(name, pos, "@topic placeholder {%s} is not an argument of %s", argName, owner)
		}
		if !isTopicArgType(s, a.Type) {
			return nil, posError(name, pos, "@topic placeholder {%s}: argument of type %s cannot be used in a subject", argName, a.Type.String())
		}
		t.parts = append(t.parts, topicPart{arg: argName})
		probe.WriteString("x")
		rest = rest[i+j+1:]
	}
	if why := checkSubject(probe.String()); why != "" {
		return nil, posError(name, pos, "@topic subject %q of %s is not a valid NATS subject: %s", subject, owner, why)
	}
	return t, nil
}

// isTopicArgType reports whether values of t can be rendered as a subject
// token: scalars and enums, not lists or input objects.
func isTopicArgType(s *ast.Schema, t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	def := s.Types[t.NamedType]
	return def != nil && (def.Kind == ast.Scalar || def.Kind == ast.Enum)
}

// checkSubject returns why s is not a literal NATS subject, or "".
func checkSubject(s string) string {
	if s == "" {
		return "empty subject"
	}
	start := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if start {
				return "empty token"
			}
			start = true
		case c == '*' || c == '>':
			return fmt.Sprintf("wildcard %q", c)
		case c <= ' ' || c == 0x7f:
			return "whitespace or control character"
		default:
			start = false
		}
	}
	if start {
		return "empty token"
	}
	return ""
}

// checkToken returns why s cannot be one literal subject token, or "".
func checkToken(s string) string {
	if s == "" {
		return "empty"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			return "contains '.'"
		case c == '*' || c == '>':
			return fmt.Sprintf("contains wildcard %q", c)
		case c <= ' ' || c == 0x7f:
			return "contains whitespace or a control character"
		}
	}
	return ""
}

// SchemaError is an error in SDL. Its text is "file:line:column: message"
// (or "file: message" without a position); it wraps ErrInvalidSchema.
type SchemaError struct {
	File         string
	Line, Column int // 0 when the error has no position
	Message      string
	Err          error // underlying error (e.g. from os.ReadFile), or nil
}

func (e *SchemaError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Unwrap returns ErrInvalidSchema and the underlying error, if any.
func (e *SchemaError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidSchema, e.Err}
	}
	return []error{ErrInvalidSchema}
}

func posError(name string, pos *ast.Position, format string, args ...any) error {
	e := &SchemaError{File: name, Message: fmt.Sprintf(format, args...)}
	if pos != nil {
		e.Line, e.Column = pos.Line, pos.Column
		if pos.Src != nil && pos.Src.Name != "" {
			e.File = pos.Src.Name
		}
	}
	return e
}

func schemaError(name string, err error) error {
	var g *gqlerror.Error
	if errors.As(err, &g) {
		e := &SchemaError{File: name, Message: g.Message}
		if f, ok := g.Extensions["file"].(string); ok && f != "" {
			e.File = f
		}
		if len(g.Locations) > 0 {
			e.Line, e.Column = g.Locations[0].Line, g.Locations[0].Column
		}
		return e
	}
	return &SchemaError{File: name, Message: err.Error()}
}
