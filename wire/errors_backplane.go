package wire

import "errors"

// Sentinel errors of the NATS backplane codecs. Decode and the encoders wrap
// them with %w and a reason; match them with errors.Is.
var (
	// ErrInvalidEvent reports an event that is not valid JSON (raw envelope,
	// or an event handed to AppendEvent).
	ErrInvalidEvent = errors.New("wire: invalid event")
	// ErrInvalidEnvelope reports a HotChocolate message that is not one of the
	// accepted envelope forms, or a data message without a body.
	ErrInvalidEnvelope = errors.New("wire: invalid hotchocolate envelope")
	// ErrUnknownKind reports a HotChocolate envelope whose kind is not 0, 1 or 2.
	ErrUnknownKind = errors.New("wire: unknown hotchocolate message kind")
	// ErrInvalidMsgpack reports malformed or truncated MessagePack.
	ErrInvalidMsgpack = errors.New("wire: invalid msgpack")
	// ErrUnsupportedMsgpack reports well-formed MessagePack that has no JSON
	// form: ext types, non-string map keys, NaN or infinite floats, nesting
	// deeper than the limit.
	ErrUnsupportedMsgpack = errors.New("wire: msgpack value has no json form")
	// ErrUnknownSerializer reports a serializer name other than json or msgpack.
	ErrUnknownSerializer = errors.New("wire: unknown serializer")
	// ErrUnknownEnvelope reports an envelope name other than raw or hotchocolate.
	ErrUnknownEnvelope = errors.New("wire: unknown envelope")
	// ErrInvalidSubject reports a string that is not a literal NATS subject.
	ErrInvalidSubject = errors.New("wire: invalid nats subject")
)
