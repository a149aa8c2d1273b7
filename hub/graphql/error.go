package graphql

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Location is a 1-based line and column in the operation document.
type Location struct{ Line, Column int }

// Error is one GraphQL error: a request error from Compile or a field error
// from AppendResult.
type Error struct {
	Message   string
	Locations []Location
	// Path holds string response keys and int list indexes.
	Path []any
}

// Errors is a list of GraphQL errors; a nil Errors means success.
type Errors []*Error

// AppendJSON appends e as a JSON array of GraphQLFormattedError objects
// ({"message","locations","path"}, with empty locations and path omitted).
func (e Errors) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i, err := range e {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = err.AppendJSON(dst)
	}
	return append(dst, ']')
}

// Error joins the messages, each prefixed with its first location.
func (e Errors) Error() string {
	var b strings.Builder
	for i, err := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// AppendJSON appends e as one GraphQLFormattedError object.
func (e *Error) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"message":`...)
	dst = appendJSONString(dst, e.Message)
	if len(e.Locations) > 0 {
		dst = append(dst, `,"locations":[`...)
		for i, l := range e.Locations {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"line":`...)
			dst = strconv.AppendInt(dst, int64(l.Line), 10)
			dst = append(dst, `,"column":`...)
			dst = strconv.AppendInt(dst, int64(l.Column), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(e.Path) > 0 {
		dst = append(dst, `,"path":[`...)
		for i, p := range e.Path {
			if i > 0 {
				dst = append(dst, ',')
			}
			switch p := p.(type) {
			case int:
				dst = strconv.AppendInt(dst, int64(p), 10)
			case string:
				dst = appendJSONString(dst, p)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// Error returns "line:column: message" (or just the message without a
// location).
func (e *Error) Error() string {
	if len(e.Locations) == 0 {
		return e.Message
	}
	l := e.Locations[0]
	return strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Column) + ": " + e.Message
}

func fromGQLError(g *gqlerror.Error) *Error {
	e := &Error{Message: g.Message}
	for _, l := range g.Locations {
		e.Locations = append(e.Locations, Location{Line: l.Line, Column: l.Column})
	}
	for _, p := range g.Path {
		switch p := p.(type) {
		case ast.PathName:
			e.Path = append(e.Path, string(p))
		case ast.PathIndex:
			e.Path = append(e.Path, int(p))
		}
	}
	return e
}

// requestError builds a request error located at the given positions.
func requestError(msg string, locs ...Location) *Error {
	return &Error{Message: msg, Locations: locs}
}
