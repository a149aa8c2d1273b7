package wire

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Protocol is a GraphQL subscription transport.
type Protocol uint8

// Protocols.
const (
	ProtoTransportWS Protocol = iota + 1 // "graphql-transport-ws"
	ProtoLegacy                          // "graphql-ws" (subscriptions-transport-ws)
	ProtoSSE                             // GraphQL over SSE (distinct connections)
)

// WebSocket subprotocol names (Sec-WebSocket-Protocol).
const (
	SubprotocolTransportWS = "graphql-transport-ws"
	SubprotocolLegacy      = "graphql-ws"
)

// String returns the subprotocol name of a WebSocket protocol, "sse" for
// ProtoSSE and "Protocol(n)" for unknown values.
func (p Protocol) String() string {
	switch p {
	case ProtoTransportWS:
		return SubprotocolTransportWS
	case ProtoLegacy:
		return SubprotocolLegacy
	case ProtoSSE:
		return "sse"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// ProtocolForSubprotocol maps a Sec-WebSocket-Protocol value to its Protocol;
// ok is false for names subhub does not speak.
func ProtocolForSubprotocol(name string) (p Protocol, ok bool) {
	switch name {
	case SubprotocolTransportWS:
		return ProtoTransportWS, true
	case SubprotocolLegacy:
		return ProtoLegacy, true
	}
	return 0, false
}

// MessageType is the type of a client message.
type MessageType uint8

// Client message types. The first five belong to graphql-transport-ws, the
// last three to the legacy protocol; both have TypeConnectionInit.
const (
	TypeConnectionInit MessageType = iota + 1
	TypePing
	TypePong
	TypeSubscribe
	TypeComplete
	TypeStart
	TypeStop
	TypeConnectionTerminate
)

// String returns the wire name of t ("connection_init", "subscribe", ...).
func (t MessageType) String() string {
	switch t {
	case TypeConnectionInit:
		return "connection_init"
	case TypePing:
		return "ping"
	case TypePong:
		return "pong"
	case TypeSubscribe:
		return "subscribe"
	case TypeComplete:
		return "complete"
	case TypeStart:
		return "start"
	case TypeStop:
		return "stop"
	case TypeConnectionTerminate:
		return "connection_terminate"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// ClientMessage is one parsed client message. Its byte slices alias the
// Parser's scratch space or the input and are valid until the next Parse on
// the same Parser or until the input is modified; copy what must live longer.
// Slices are capacity-limited, so appending to one never overwrites another.
type ClientMessage struct {
	Type MessageType
	// ID is the unescaped id (subscribe/complete/start/stop). After a failed
	// Parse it still holds the id if the message had a non-empty string
	// "type" and a string "id", so a legacy server can answer with error{id}.
	ID []byte
	// Payload is the raw JSON of "payload": an object, or nil if absent or
	// null. Set for every type that carries one (connection_init, ping, pong,
	// subscribe, start); nil for ProtoSSE requests.
	Payload []byte
	// Query is payload.query, unescaped; non-nil (possibly empty) for
	// TypeSubscribe and TypeStart.
	Query []byte
	// OperationName is payload.operationName, unescaped; nil if absent or null.
	OperationName []byte
	// Variables is the raw JSON object payload.variables; nil if absent or null.
	Variables []byte
	// Extensions is the raw JSON object payload.extensions; nil if absent or null.
	Extensions []byte
}

// parserMaxScratch is the largest scratch space a Parser keeps between
// messages; a larger one, sized for an unusually large message with escapes,
// is dropped at the next Parse (slices already handed out stay valid).
const parserMaxScratch = 64 << 10

// Parser parses client messages. The zero value is ready to use. A Parser is
// not safe for concurrent use; give each event loop or connection its own.
// Once warmed up by a message of similar size, Parse does not allocate
// (except for an unknown message type's error).
type Parser struct {
	sc      jsonScanner
	scratch []byte // unescaped strings
	data    []byte // input of the Parse in progress
}

// Parse validates data as a client message of proto and fills m, overwriting
// every field. data must not be modified while m is in use.
//
// For ProtoTransportWS and ProtoLegacy data is one WebSocket text message;
// validation follows the reference servers (graphql-ws validateMessage, and
// subscriptions-transport-ws for the legacy types), with objects required
// where they say "object" (arrays are rejected). For ProtoSSE data is a
// GraphQL-over-HTTP JSON request body ({"query", "operationName",
// "variables", "extensions"}), reported as TypeSubscribe with no ID.
//
// Errors are *ProtocolError: one of the Err* sentinels, or a new one naming an
// unknown message type that matches ErrUnknownType with errors.Is. For graphql-transport-ws every error means close code
// 4400 (ErrInvalidUTF8 may be answered with 1007 instead); a legacy server
// answers with connection_error or error{id}.
func (p *Parser) Parse(proto Protocol, data []byte, m *ClientMessage) error {
	*m = ClientMessage{}
	p.data = data
	if cap(p.scratch) > parserMaxScratch {
		p.scratch = nil // do not pin one huge message's buffer for ever
	}
	p.scratch = p.scratch[:0]
	err := p.parse(proto, m)
	p.data = nil
	p.sc.data = nil
	if err != nil {
		*m = ClientMessage{ID: m.ID}
	}
	return err
}

func (p *Parser) parse(proto Protocol, m *ClientMessage) error {
	level := jsonLevelMessage
	switch proto {
	case ProtoTransportWS, ProtoLegacy:
	case ProtoSSE:
		level = jsonLevelRequest
	default:
		return ErrUnknownProtocol
	}
	if !utf8.Valid(p.data) {
		return ErrInvalidUTF8
	}
	kind, ok := p.sc.scan(p.data, level)
	if !ok {
		return ErrInvalidMessage
	}
	if kind != jsonObject {
		return ErrNotObject
	}
	if proto == ProtoSSE {
		m.Type = TypeSubscribe
		return p.request(m)
	}
	f := &p.sc.fields
	var typ []byte
	switch t := f[jsonFieldType]; t.kind {
	case jsonAbsent, jsonNull:
		return ErrMissingType
	case jsonString:
		typ = p.str(t)
		if len(typ) == 0 {
			return ErrMissingType
		}
	default:
		return ErrTypeNotString
	}
	if id := f[jsonFieldID]; id.kind == jsonString {
		m.ID = p.str(id)
	}
	var t MessageType
	var err error
	if proto == ProtoTransportWS {
		switch string(typ) {
		case "connection_init":
			t, err = TypeConnectionInit, p.optionalPayload(m)
		case "ping":
			t, err = TypePing, p.optionalPayload(m)
		case "pong":
			t, err = TypePong, p.optionalPayload(m)
		case "subscribe":
			t, err = TypeSubscribe, p.operation(m, true)
		case "complete":
			t, err = TypeComplete, p.id(m, true)
		default:
			return parseUnknownType(typ)
		}
	} else {
		switch string(typ) {
		case "connection_init":
			t, err = TypeConnectionInit, p.optionalPayload(m)
		case "start":
			t, err = TypeStart, p.operation(m, false)
		case "stop":
			t, err = TypeStop, p.id(m, false)
		case "connection_terminate":
			t = TypeConnectionTerminate
		default:
			return parseUnknownType(typ)
		}
	}
	if err != nil {
		return err
	}
	m.Type = t
	return nil
}

// id checks the message id (already copied into m.ID if it is a string).
func (p *Parser) id(m *ClientMessage, nonEmpty bool) error {
	if p.sc.fields[jsonFieldID].kind != jsonString {
		return ErrIDNotString
	}
	if nonEmpty && len(m.ID) == 0 {
		return ErrIDEmpty
	}
	return nil
}

func (p *Parser) optionalPayload(m *ClientMessage) error {
	switch pl := p.sc.fields[jsonFieldPayload]; pl.kind {
	case jsonAbsent, jsonNull:
	case jsonObject:
		m.Payload = p.raw(pl)
	default:
		return ErrPayloadNotObjectOrNull
	}
	return nil
}

// operation validates subscribe (nonEmptyID) and legacy start.
func (p *Parser) operation(m *ClientMessage, nonEmptyID bool) error {
	if err := p.id(m, nonEmptyID); err != nil {
		return err
	}
	pl := p.sc.fields[jsonFieldPayload]
	if pl.kind != jsonObject {
		return ErrPayloadNotObject
	}
	m.Payload = p.raw(pl)
	return p.request(m)
}

// request fills the GraphQL request fields recorded at jsonLevelRequest.
func (p *Parser) request(m *ClientMessage) error {
	f := &p.sc.fields
	q := f[jsonFieldQuery]
	if q.kind != jsonString {
		return ErrQueryNotString
	}
	m.Query = p.str(q)
	switch v := f[jsonFieldVariables]; v.kind {
	case jsonAbsent, jsonNull:
	case jsonObject:
		m.Variables = p.raw(v)
	default:
		return ErrVariablesNotObject
	}
	switch o := f[jsonFieldOperationName]; o.kind {
	case jsonAbsent, jsonNull:
	case jsonString:
		m.OperationName = p.str(o)
	default:
		return ErrOperationNameNotString
	}
	switch e := f[jsonFieldExtensions]; e.kind {
	case jsonAbsent, jsonNull:
	case jsonObject:
		m.Extensions = p.raw(e)
	default:
		return ErrExtensionsNotObject
	}
	return nil
}

// raw returns the JSON text of s, aliasing the input.
func (p *Parser) raw(s jsonSpan) []byte {
	return p.data[s.start:s.end:s.end]
}

// str returns the unescaped contents of the string at s: the input itself if
// it has no escapes, else a copy decoded into the scratch space. The result
// is non-nil even when empty.
func (p *Parser) str(s jsonSpan) []byte {
	raw := p.data[s.start+1 : s.end-1 : s.end-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	if cap(p.scratch) < len(p.data) {
		// Unescaped strings are never longer than the input, so one buffer
		// of the input's size serves the whole Parse and earlier results
		// are never moved.
		p.scratch = make([]byte, 0, len(p.data))
	}
	start := len(p.scratch)
	p.scratch = jsonUnescape(p.scratch, raw)
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}

// parseUnknownType reports an unsupported message type, quoting at most 24 bytes
// of it so that the reason stays within a close frame's 123 bytes.
func parseUnknownType(typ []byte) error {
	if len(typ) > 24 {
		n := 24
		for n > 0 && !utf8.RuneStart(typ[n]) {
			n--
		}
		typ = typ[:n]
	}
	return &ProtocolError{Reason: ErrUnknownType.Reason + " " + strconv.Quote(string(typ)), sentinel: ErrUnknownType}
}
