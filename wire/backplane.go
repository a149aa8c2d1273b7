package wire

import (
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Serializer is the byte format of messages on the NATS backplane.
// The zero value is SerializerJSON.
type Serializer uint8

const (
	// SerializerJSON carries UTF-8 JSON (HotChocolate's default serializer,
	// NATS.Client.Core, `nats pub`).
	SerializerJSON Serializer = iota
	// SerializerMsgpack carries MessagePack (AlterNats' MessagePackNatsSerializer).
	SerializerMsgpack
)

// String returns the flag spelling of s ("json" or "msgpack").
func (s Serializer) String() string {
	switch s {
	case SerializerJSON:
		return "json"
	case SerializerMsgpack:
		return "msgpack"
	}
	return fmt.Sprintf("Serializer(%d)", uint8(s))
}

// ParseSerializer parses the flag spelling of a Serializer: "json" or "msgpack".
// Any other value yields an error wrapping ErrUnknownSerializer that names
// the accepted values.
func ParseSerializer(s string) (Serializer, error) {
	switch s {
	case "json":
		return SerializerJSON, nil
	case "msgpack":
		return SerializerMsgpack, nil
	}
	return 0, fmt.Errorf("%w %q (want json or msgpack)", ErrUnknownSerializer, s)
}

// Envelope is the framing of an event inside a backplane message.
// The zero value is EnvelopeRaw.
type Envelope uint8

const (
	// EnvelopeRaw: the message body is the event itself; a message with the
	// header CompleteHeader: true completes the subject.
	EnvelopeRaw Envelope = iota
	// EnvelopeHotChocolate: HotChocolate's {"body":<event>,"kind":0} envelope,
	// {"kind":1} completes the subject, including the AlterNats double-encoded
	// forms (see Decoder.Decode).
	EnvelopeHotChocolate
)

// String returns the flag spelling of e ("raw" or "hotchocolate").
func (e Envelope) String() string {
	switch e {
	case EnvelopeRaw:
		return "raw"
	case EnvelopeHotChocolate:
		return "hotchocolate"
	}
	return fmt.Sprintf("Envelope(%d)", uint8(e))
}

// ParseEnvelope parses the flag spelling of an Envelope: "raw" or
// "hotchocolate". Any other value yields an error wrapping ErrUnknownEnvelope
// that names the accepted values.
func ParseEnvelope(s string) (Envelope, error) {
	switch s {
	case "raw":
		return EnvelopeRaw, nil
	case "hotchocolate":
		return EnvelopeHotChocolate, nil
	}
	return 0, fmt.Errorf("%w %q (want raw or hotchocolate)", ErrUnknownEnvelope, s)
}

// EventKind is what a decoded backplane message means for its subject.
type EventKind uint8

const (
	// EventData carries an event: the resolved value of the subscription's
	// root field, as JSON.
	EventData EventKind = iota
	// EventComplete ends every subscription on the subject.
	EventComplete
	// EventIgnore is noise: an empty message or HotChocolate's kind 2
	// (unsubscribed). Nothing is delivered.
	EventIgnore
)

// String returns the name of k.
func (k EventKind) String() string {
	switch k {
	case EventData:
		return "data"
	case EventComplete:
		return "complete"
	case EventIgnore:
		return "ignore"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// CompleteHeader is the NATS header that completes a subject in the raw
// envelope: a message carrying CompleteHeader: true ends every subscription on
// its subject; its body is ignored.
const CompleteHeader = "Subhub-Complete"

// bpMaxDepth bounds the nesting of MessagePack containers converted to JSON,
// so hostile input cannot exhaust the stack.
const bpMaxDepth = 256

// Decoder turns NATS messages into event JSON.
//
// A Decoder is not safe for concurrent use: give each goroutine that decodes
// (one per hub shard loop) its own. Once its scratch buffers have grown to the
// size of the messages seen, Decode does not allocate (errors aside). The zero
// value decodes raw JSON.
type Decoder struct {
	// Serializer is the byte format of the messages. Set before the first Decode.
	Serializer Serializer
	// Envelope is the framing of the messages. Set before the first Decode.
	Envelope Envelope

	buf []byte // MessagePack converted to JSON
	str []byte // unescaped JSON string literal (AlterNats JSON form)
	key []byte // unescaped envelope key with escapes
}

// Decode decodes the body of one NATS message.
//
// complete reports whether the message carried the header CompleteHeader with
// the value "true" (the caller reads headers); it completes the subject in the
// raw envelope and is ignored by the HotChocolate envelope, which carries
// completion in the body.
//
// For EventData, event is the event as valid UTF-8 JSON without surrounding
// white space. It aliases body or the Decoder's scratch and is valid until the
// next call to Decode and as long as body is not modified; copy it to keep it.
// For other kinds event is nil.
//
// An empty body is EventIgnore. The accepted forms are:
//
//   - raw + JSON: the body is the event and must be valid JSON in UTF-8.
//   - raw + msgpack: the body is one MessagePack value, converted to JSON:
//     maps with string keys, arrays, str, integers, floats (not NaN or
//     infinite), bools, nil; bin becomes a base64 (standard, padded) string;
//     ext and non-string keys are errors; invalid UTF-8 in str becomes U+FFFD.
//   - hotchocolate + JSON: {"body":<event>,"kind":0}, {"kind":1}, kind 2, or
//     that JSON text inside a JSON string literal (AlterNats' JSON serializer).
//   - hotchocolate + msgpack: a MessagePack str holding the envelope JSON
//     (AlterNats' MessagePack serializer), a MessagePack map
//     {"body":<value>,"kind":0}, or the raw envelope JSON.
//
// In envelopes the keys "Body" and "Kind" are accepted as well, unknown keys
// are ignored, a missing kind means 0 (as in HotChocolate's deserializer), a
// null or missing body in a kind 0 message is ErrInvalidEnvelope, a kind
// other than 0, 1, 2 is ErrUnknownKind and a body that is not UTF-8 is
// ErrInvalidEvent. Malformed input yields an error wrapping one of this
// package's sentinel errors; Decode never panics.
func (d *Decoder) Decode(body []byte, complete bool) (kind EventKind, event []byte, err error) {
	if d.Envelope == EnvelopeRaw && complete {
		return EventComplete, nil, nil
	}
	if len(body) == 0 {
		return EventIgnore, nil, nil
	}
	switch d.Envelope {
	case EnvelopeRaw:
		if d.Serializer == SerializerMsgpack {
			return d.decodeMsgpack(body)
		}
		return decodeRawJSON(body)
	case EnvelopeHotChocolate:
		if d.Serializer == SerializerMsgpack {
			return d.decodeHotChocolateMsgpack(body)
		}
		return d.decodeHotChocolateJSON(body)
	}
	return 0, nil, fmt.Errorf("%w: %v", ErrUnknownEnvelope, d.Envelope)
}

func decodeRawJSON(body []byte) (EventKind, []byte, error) {
	if err := fastjson.ValidateBytes(body); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if !utf8.Valid(body) {
		return 0, nil, errEventNotUTF8
	}
	return EventData, bpTrimSpace(body), nil
}

// errEventNotUTF8: WebSocket text frames must be UTF-8 (browsers close the
// connection otherwise), so such an event must not reach the fan-out.
var errEventNotUTF8 = fmt.Errorf("%w: not UTF-8", ErrInvalidEvent)

func (d *Decoder) decodeMsgpack(body []byte) (EventKind, []byte, error) {
	out, rest, err := appendMsgpackJSON(d.buf[:0], body, 0)
	d.buf = out[:0]
	if err != nil {
		return 0, nil, err
	}
	if len(rest) != 0 {
		return 0, nil, fmt.Errorf("%w: %d bytes after the value", ErrInvalidMsgpack, len(rest))
	}
	return EventData, out, nil
}

// bpIsSpace reports whether c is JSON white space.
func bpIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func bpTrimSpace(b []byte) []byte {
	for len(b) > 0 && bpIsSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && bpIsSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// AppendEvent appends the backplane message that publishes event (JSON) with
// the given serializer and envelope, and returns the extended buffer:
//
//   - raw + JSON: the event as is (surrounding white space removed);
//   - raw + msgpack: the event converted to MessagePack (objects to maps in
//     document order, integers to the shortest int form, other numbers to
//     float64);
//   - hotchocolate + JSON: {"body":<event>,"kind":0};
//   - hotchocolate + msgpack: a MessagePack str holding that JSON (the
//     AlterNats form HotChocolate v13–v15 publishes).
//
// An event that is not valid JSON in UTF-8 yields an error wrapping
// ErrInvalidEvent and dst unchanged. AppendEvent allocates; it is meant for publishers, not for
// the fan-out path.
func AppendEvent(dst []byte, ser Serializer, env Envelope, event []byte) ([]byte, error) {
	if err := fastjson.ValidateBytes(event); err != nil {
		return dst, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if !utf8.Valid(event) {
		return dst, errEventNotUTF8
	}
	event = bpTrimSpace(event)
	switch {
	case env == EnvelopeRaw && ser == SerializerJSON:
		return append(dst, event...), nil
	case env == EnvelopeRaw && ser == SerializerMsgpack:
		var p fastjson.Parser
		v, err := p.ParseBytes(event)
		if err != nil {
			return dst, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
		}
		out, err := appendJSONMsgpack(dst, v)
		if err != nil {
			return dst, err
		}
		return out, nil
	case env == EnvelopeHotChocolate && ser == SerializerJSON:
		return appendHotChocolateJSON(dst, event), nil
	case env == EnvelopeHotChocolate && ser == SerializerMsgpack:
		dst = appendMsgpackStrHeader(dst, len(`{"body":,"kind":0}`)+len(event))
		return appendHotChocolateJSON(dst, event), nil
	}
	return dst, fmt.Errorf("%w: %v with serializer %v", ErrUnknownEnvelope, env, ser)
}

// AppendCompletion appends the backplane message that completes a subject and
// returns the extended buffer: for the HotChocolate envelope {"kind":1} (with
// msgpack as a MessagePack str holding it); for the raw envelope nothing, as
// completion travels in the header CompleteHeader: true, which the caller sets.
func AppendCompletion(dst []byte, ser Serializer, env Envelope) []byte {
	if env != EnvelopeHotChocolate {
		return dst
	}
	if ser == SerializerMsgpack {
		dst = appendMsgpackStrHeader(dst, len(hcCompleteJSON))
	}
	return append(dst, hcCompleteJSON...)
}
