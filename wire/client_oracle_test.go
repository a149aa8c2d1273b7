package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// msgView is a ClientMessage with nil and empty slices kept apart, for
// comparison with require.Equal (which treats nil and empty []byte alike).
type msgView struct {
	Type          MessageType
	ID            any
	Payload       any
	Query         any
	OperationName any
	Variables     any
	Extensions    any
}

func viewBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func msgViewOf(m *ClientMessage) msgView {
	return msgView{
		Type:          m.Type,
		ID:            viewBytes(m.ID),
		Payload:       viewBytes(m.Payload),
		Query:         viewBytes(m.Query),
		OperationName: viewBytes(m.OperationName),
		Variables:     viewBytes(m.Variables),
		Extensions:    viewBytes(m.Extensions),
	}
}

// oracleResult is what encoding/json and a map-based re-statement of the
// validation rules say Parse must return. Raw JSON fields are decoded, so
// they are compared as values, not text.
type oracleResult struct {
	err           error // a sentinel, or errUnknownTypeOracle
	typ           MessageType
	id            any // string or nil
	payload       any // decoded, or absentMark
	query         any
	operationName any
	variables     any
	extensions    any
}

var errUnknownTypeOracle = errors.New("unknown type")

// absentMark stands for a field that must be nil.
type absentMark struct{}

func oracleDecode(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "decode %q", b)
	return v
}

// oracleNesting returns the deepest nesting of arrays and objects in valid JSON.
func oracleNesting(b []byte) int {
	depth, maxDepth, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			i++
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth
}

// oracle restates the validation rules over encoding/json's decoding.
func oracle(t testing.TB, proto Protocol, data []byte) oracleResult {
	t.Helper()
	if proto < ProtoTransportWS || proto > ProtoSSE {
		return oracleResult{err: ErrUnknownProtocol}
	}
	if !utf8.Valid(data) {
		return oracleResult{err: ErrInvalidUTF8}
	}
	if !json.Valid(data) || oracleNesting(data) > jsonMaxDepth {
		return oracleResult{err: ErrInvalidMessage}
	}
	obj, isObj := oracleDecode(t, data).(map[string]any)
	if !isObj {
		return oracleResult{err: ErrNotObject}
	}
	isObject := func(v any) bool { _, ok := v.(map[string]any); return ok }
	request := func(r oracleResult, pl map[string]any) oracleResult {
		q, ok := pl["query"].(string)
		if !ok {
			return oracleResult{err: ErrQueryNotString, id: r.id}
		}
		r.query = q
		r.variables, r.operationName, r.extensions = absentMark{}, absentMark{}, absentMark{}
		if v := pl["variables"]; v != nil {
			if !isObject(v) {
				return oracleResult{err: ErrVariablesNotObject, id: r.id}
			}
			r.variables = v
		}
		if v := pl["operationName"]; v != nil {
			s, ok := v.(string)
			if !ok {
				return oracleResult{err: ErrOperationNameNotString, id: r.id}
			}
			r.operationName = s
		}
		if v := pl["extensions"]; v != nil {
			if !isObject(v) {
				return oracleResult{err: ErrExtensionsNotObject, id: r.id}
			}
			r.extensions = v
		}
		return r
	}
	if proto == ProtoSSE {
		r := request(oracleResult{typ: TypeSubscribe, payload: absentMark{}}, obj)
		return r
	}
	var r oracleResult
	typ, present := obj["type"]
	if !present || typ == nil {
		return oracleResult{err: ErrMissingType}
	}
	ts, ok := typ.(string)
	if !ok {
		return oracleResult{err: ErrTypeNotString}
	}
	if ts == "" {
		return oracleResult{err: ErrMissingType}
	}
	id, idIsString := obj["id"].(string)
	if idIsString {
		r.id = id
	}
	optionalPayload := func(mt MessageType) oracleResult {
		r.typ = mt
		r.payload = absentMark{}
		if v := obj["payload"]; v != nil {
			if !isObject(v) {
				return oracleResult{err: ErrPayloadNotObjectOrNull, id: r.id}
			}
			r.payload = v
		}
		return r
	}
	checkID := func(nonEmpty bool) error {
		if !idIsString {
			return ErrIDNotString
		}
		if nonEmpty && id == "" {
			return ErrIDEmpty
		}
		return nil
	}
	operation := func(mt MessageType, nonEmpty bool) oracleResult {
		if err := checkID(nonEmpty); err != nil {
			return oracleResult{err: err, id: r.id}
		}
		pl, ok := obj["payload"].(map[string]any)
		if !ok {
			return oracleResult{err: ErrPayloadNotObject, id: r.id}
		}
		r.typ = mt
		r.payload = pl
		return request(r, pl)
	}
	idOnly := func(mt MessageType, nonEmpty bool) oracleResult {
		if err := checkID(nonEmpty); err != nil {
			return oracleResult{err: err, id: r.id}
		}
		r.typ = mt
		return r
	}
	if proto == ProtoTransportWS {
		switch ts {
		case "connection_init":
			return optionalPayload(TypeConnectionInit)
		case "ping":
			return optionalPayload(TypePing)
		case "pong":
			return optionalPayload(TypePong)
		case "subscribe":
			return operation(TypeSubscribe, true)
		case "complete":
			return idOnly(TypeComplete, true)
		}
	} else {
		switch ts {
		case "connection_init":
			return optionalPayload(TypeConnectionInit)
		case "start":
			return operation(TypeStart, false)
		case "stop":
			return idOnly(TypeStop, false)
		case "connection_terminate":
			r.typ = TypeConnectionTerminate
			return r
		}
	}
	return oracleResult{err: errUnknownTypeOracle, id: r.id}
}

// checkAgainstOracle parses data and requires the result to agree with the
// oracle in every field.
func checkAgainstOracle(t testing.TB, p *Parser, proto Protocol, data []byte) {
	t.Helper()
	want := oracle(t, proto, data)
	var m ClientMessage
	err := p.Parse(proto, data, &m)
	if want.err != nil {
		require.Error(t, err, "input %q", data)
		var pe *ProtocolError
		require.ErrorAs(t, err, &pe)
		require.LessOrEqual(t, len(pe.Reason), MaxCloseReason)
		require.True(t, utf8.ValidString(pe.Reason))
		if want.err == errUnknownTypeOracle {
			require.ErrorIs(t, err, ErrUnknownType, "input %q", data)
			require.True(t, strings.HasPrefix(pe.Reason, ErrUnknownType.Reason+` "`), "input %q: %s", data, pe.Reason)
		} else {
			require.ErrorIs(t, err, want.err, "input %q", data)
		}
		require.Equal(t, msgView{ID: want.id}, msgViewOf(&m), "input %q", data)
		return
	}
	require.NoError(t, err, "input %q", data)
	require.Equal(t, want.typ, m.Type)
	require.Equal(t, want.id, viewBytes(m.ID))
	checkRaw := func(name string, want any, got []byte) {
		if _, absent := want.(absentMark); absent || want == nil {
			require.Nil(t, got, "%s of %q", name, data)
			return
		}
		require.NotNil(t, got, "%s of %q", name, data)
		require.Equal(t, byte('{'), got[0], "%s of %q", name, data)
		require.Equal(t, want, oracleDecode(t, got), "%s of %q", name, data)
	}
	checkRaw("payload", want.payload, m.Payload)
	checkRaw("variables", want.variables, m.Variables)
	checkRaw("extensions", want.extensions, m.Extensions)
	if want.query == nil {
		require.Nil(t, m.Query)
	} else {
		require.NotNil(t, m.Query)
		require.Equal(t, want.query, string(m.Query))
	}
	if s, ok := want.operationName.(string); ok {
		require.NotNil(t, m.OperationName)
		require.Equal(t, s, string(m.OperationName))
	} else {
		require.Nil(t, m.OperationName)
	}
}
