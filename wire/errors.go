package wire

// ProtocolError is the one error type for protocol violations found in bytes
// received from a client: malformed or invalid messages, bad frame headers,
// bad close frames. Reason is short, human-readable, valid UTF-8 and at most
// 123 bytes, so it can be sent as a WebSocket close reason or as the message
// of a connection_error / error payload as it is.
//
// The sentinel errors below are *ProtocolError values; compare them with
// errors.Is. Parse returns freshly allocated ProtocolErrors only for reasons
// that quote input (an unknown message type); those unwrap to their sentinel
// (ErrUnknownType), so errors.Is works for them too.
type ProtocolError struct {
	Reason string

	sentinel *ProtocolError // the sentinel this error is an instance of, or nil
}

// Error returns "wire: " + Reason.
func (e *ProtocolError) Error() string { return "wire: " + e.Reason }

// Unwrap returns the sentinel a ProtocolError with a specific reason is an
// instance of (ErrUnknownType), or nil.
func (e *ProtocolError) Unwrap() error {
	if e.sentinel == nil {
		return nil
	}
	return e.sentinel
}

// Errors returned by Parser.Parse.
var (
	// ErrInvalidMessage reports that the message is not a single JSON value.
	ErrInvalidMessage = &ProtocolError{Reason: "Invalid message received"}
	// ErrInvalidUTF8 reports a text message that is not valid UTF-8
	// (WebSocket close code 1007).
	ErrInvalidUTF8 = &ProtocolError{Reason: "Message is not valid UTF-8"}
	// ErrNotObject reports a JSON value other than an object.
	ErrNotObject = &ProtocolError{Reason: "Message must be a JSON object"}
	// ErrMissingType reports a message whose "type" is absent, null or "".
	ErrMissingType = &ProtocolError{Reason: `Message is missing the "type" property`}
	// ErrTypeNotString reports a "type" that is not a string.
	ErrTypeNotString = &ProtocolError{Reason: `"type" must be a string`}
	// ErrIDNotString reports an "id" that is absent or not a string.
	ErrIDNotString = &ProtocolError{Reason: `"id" must be a string`}
	// ErrIDEmpty reports an empty "id" where graphql-transport-ws requires one.
	ErrIDEmpty = &ProtocolError{Reason: `"id" must not be empty`}
	// ErrPayloadNotObject reports a subscribe/start "payload" that is not an object.
	ErrPayloadNotObject = &ProtocolError{Reason: `"payload" must be an object`}
	// ErrPayloadNotObjectOrNull reports a connection_init/ping/pong "payload"
	// that is neither an object nor null.
	ErrPayloadNotObjectOrNull = &ProtocolError{Reason: `"payload" must be an object or null`}
	// ErrQueryNotString reports a "query" that is absent or not a string.
	ErrQueryNotString = &ProtocolError{Reason: `"query" must be a string`}
	// ErrOperationNameNotString reports an "operationName" that is neither a
	// string nor null.
	ErrOperationNameNotString = &ProtocolError{Reason: `"operationName" must be a string or null`}
	// ErrVariablesNotObject reports "variables" that are neither an object nor null.
	ErrVariablesNotObject = &ProtocolError{Reason: `"variables" must be an object or null`}
	// ErrExtensionsNotObject reports "extensions" that are neither an object nor null.
	ErrExtensionsNotObject = &ProtocolError{Reason: `"extensions" must be an object or null`}
	// ErrUnknownType matches (with errors.Is) the error for a message type
	// the protocol does not define, whose Reason names the type:
	// `Unknown message type "foo"`. A legacy server answers it with
	// error{id, payload:{message}} instead of closing.
	ErrUnknownType = &ProtocolError{Reason: "Unknown message type"}
	// ErrUnknownProtocol reports a Protocol value that Parse does not know.
	ErrUnknownProtocol = &ProtocolError{Reason: "Unknown protocol"}
)

// Errors returned by ParseFrameHeader (WebSocket close code 1002).
var (
	// ErrFrameReservedBits reports RSV1-3 set with no extension negotiated.
	ErrFrameReservedBits = &ProtocolError{Reason: "Reserved bits must be 0"}
	// ErrFrameOpCode reports a reserved opcode (3-7, 11-15).
	ErrFrameOpCode = &ProtocolError{Reason: "Unknown opcode"}
	// ErrFrameControlTooLong reports a control frame payload over 125 bytes.
	ErrFrameControlTooLong = &ProtocolError{Reason: "Control frame payload over 125 bytes"}
	// ErrFrameControlFragmented reports a control frame without FIN.
	ErrFrameControlFragmented = &ProtocolError{Reason: "Fragmented control frame"}
	// ErrFrameLength reports a 64-bit payload length with the top bit set.
	ErrFrameLength = &ProtocolError{Reason: "Frame length has the most significant bit set"}
)

// Errors returned by ParseCloseFrameData.
var (
	// ErrCloseFrameShort reports a close frame payload of exactly one byte
	// (close code 1002).
	ErrCloseFrameShort = &ProtocolError{Reason: "Close frame payload of 1 byte"}
	// ErrCloseCode reports a close code that must not appear on the wire
	// (close code 1002).
	ErrCloseCode = &ProtocolError{Reason: "Invalid close code"}
	// ErrCloseReasonUTF8 reports a close reason that is not valid UTF-8
	// (close code 1007).
	ErrCloseReasonUTF8 = &ProtocolError{Reason: "Close reason is not valid UTF-8"}
)
