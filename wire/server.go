package wire

import "github.com/gobwas/ws"

// Server messages are JSON text; the hub wraps them in a WebSocket frame
// (AppendTextFrame) unless an encoder says it builds the frame itself. Ids
// are escaped with AppendJSONString. Raw JSON arguments (payload,
// errorsJSON) are copied as they are: the caller guarantees they are valid
// JSON of the documented shape. None of these functions retains its
// arguments or allocates when dst has room for the result.

// AppendConnectionAck appends {"type":"connection_ack"}, or
// {"type":"connection_ack","payload":<payload>} when payload is not empty.
// Both protocols use it.
func AppendConnectionAck(dst, payload []byte) []byte {
	return appendTypeWithPayload(dst, `{"type":"connection_ack"`, payload)
}

// AppendPing appends {"type":"ping"} with an optional raw JSON payload
// (graphql-transport-ws).
func AppendPing(dst, payload []byte) []byte {
	return appendTypeWithPayload(dst, `{"type":"ping"`, payload)
}

// AppendPong appends {"type":"pong"} with an optional raw JSON payload
// (graphql-transport-ws).
func AppendPong(dst, payload []byte) []byte {
	return appendTypeWithPayload(dst, `{"type":"pong"`, payload)
}

func appendTypeWithPayload(dst []byte, head string, payload []byte) []byte {
	dst = append(dst, head...)
	if len(payload) > 0 {
		dst = append(dst, `,"payload":`...)
		dst = append(dst, payload...)
	}
	return append(dst, '}')
}

// AppendError appends the graphql-transport-ws error message
// {"id":"<id>","type":"error","payload":<errorsJSON>}; errorsJSON must be a
// JSON array of GraphQL formatted errors. It ends the operation: no complete
// follows.
func AppendError(dst, id, errorsJSON []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, id)
	dst = append(dst, `,"type":"error","payload":`...)
	dst = append(dst, errorsJSON...)
	return append(dst, '}')
}

// AppendComplete appends {"id":"<id>","type":"complete"}, the same for both
// WebSocket protocols. proto is accepted for symmetry with AppendNextPrefix;
// an SSE stream completes with AppendSSEEvent(dst, "complete", nil) instead.
func AppendComplete(dst []byte, proto Protocol, id []byte) []byte {
	_ = proto
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, id)
	return append(dst, `,"type":"complete"}`...)
}

// AppendLegacyError appends the legacy {"id":"<id>","type":"error","payload":<payload>};
// payload is raw JSON, usually {"message":"..."} or an array of errors. A nil
// id (not an empty one) omits the "id" member, for errors about messages
// that had no id.
func AppendLegacyError(dst, id, payload []byte) []byte {
	dst = append(dst, '{')
	if id != nil {
		dst = append(dst, `"id":`...)
		dst = AppendJSONString(dst, id)
		dst = append(dst, ',')
	}
	dst = append(dst, `"type":"error","payload":`...)
	dst = append(dst, payload...)
	return append(dst, '}')
}

// AppendConnectionError appends the legacy
// {"type":"connection_error","payload":{"message":"<message>"}}.
func AppendConnectionError(dst []byte, message string) []byte {
	dst = append(dst, `{"type":"connection_error","payload":{"message":`...)
	dst = AppendJSONStringString(dst, message)
	return append(dst, "}}"...)
}

// AppendKeepAlive appends the legacy keep-alive {"type":"ka"}.
func AppendKeepAlive(dst []byte) []byte {
	return append(dst, `{"type":"ka"}`...)
}

// AppendNextPrefix appends the start of a result message for subscription
// id, up to and including the colon before the payload:
// {"id":"<id>","type":"next","payload": — with type "data" for ProtoLegacy.
// Compute it once per subscription and pass it to AppendWSDelivery (or
// append payload and "}" yourself) for each event.
func AppendNextPrefix(dst []byte, proto Protocol, id []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, id)
	if proto == ProtoLegacy {
		return append(dst, `,"type":"data","payload":`...)
	}
	return append(dst, `,"type":"next","payload":`...)
}

// AppendNext appends a complete result message: AppendNextPrefix, payload
// (a raw JSON ExecutionResult) and the closing brace.
func AppendNext(dst []byte, proto Protocol, id, payload []byte) []byte {
	dst = AppendNextPrefix(dst, proto, id)
	dst = append(dst, payload...)
	return append(dst, '}')
}

// AppendWSDelivery appends one complete unmasked FIN text frame carrying
// prefix + payload + "}": the fan-out hot path, where prefix comes from
// AppendNextPrefix and payload is the event's shared encoded result. It does
// not allocate when dst has room for the frame (len(prefix)+len(payload)+1
// plus at most 10 header bytes).
func AppendWSDelivery(dst, prefix, payload []byte) []byte {
	dst = AppendFrameHeader(dst, ws.OpText, len(prefix)+len(payload)+1)
	dst = append(dst, prefix...)
	dst = append(dst, payload...)
	return append(dst, '}')
}
