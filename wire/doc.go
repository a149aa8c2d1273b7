// Package wire is subhub's bytes on the wire and nothing else: it parses what
// GraphQL subscription clients send and encodes what the server sends back,
// for graphql-transport-ws (subprotocol "graphql-transport-ws"), the legacy
// subscriptions-transport-ws (subprotocol "graphql-ws") and GraphQL over SSE,
// plus WebSocket frame headers, close frames and SSE event framing. The
// NATS backplane codecs live in this package too (backplane*.go).
//
// # Concurrency and memory
//
// The package starts no goroutines and does no I/O. Package-level state is
// read-only. A Parser is not safe for concurrent use: give each event loop
// (or connection) its own; its zero value is ready. A ClientMessage aliases
// the parsed input and the Parser's scratch space until the next Parse.
//
// Encoders are append-style: AppendX(dst, ...) appends to dst and returns the
// extended slice, allocating only when dst lacks capacity. They never retain
// dst or their arguments. The fan-out hot path is AppendNextPrefix, computed
// once per subscription, then AppendWSDelivery per event: header, prefix,
// shared payload and the closing brace in one frame, with no allocation when
// the destination has room.
//
// # Errors
//
// Every protocol violation found in client bytes is a *ProtocolError whose
// Reason is short enough (at most 123 bytes) to be a WebSocket close reason.
// The sentinels in errors.go tell the caller which close code applies:
// Parse errors mean 4400 on graphql-transport-ws (ErrInvalidUTF8: 1007);
// on the legacy protocol errors.Is(err, ErrUnknownType) is answered with
// error{id} (ClientMessage.ID survives a failed Parse) and the rest with
// connection_error. ParseFrameHeader errors and ErrCloseFrameShort/ErrCloseCode
// mean 1002, ErrCloseReasonUTF8 means 1007.
//
// # Validation
//
// Client JSON is validated strictly as RFC 8259 (what JSON.parse accepts)
// and must be valid UTF-8; duplicate keys resolve to the last one, as with
// JSON.parse. Message fields follow the reference servers (npm graphql-ws
// validateMessage; subscriptions-transport-ws for legacy types).
package wire
