// Package hub is the subhub server: it terminates GraphQL subscription
// connections (graphql-transport-ws, the legacy graphql-ws protocol and
// GraphQL over SSE) on a netpoll event loop and fans NATS messages out to
// them.
//
// # Concurrency model
//
// Reads: netpoll's epoll loops detect readable sockets and run onRequest on
// a small worker pool, one task per connection at a time. The task consumes
// every available byte, handles complete frames and keeps a partial frame
// in conn.in; then it returns. An idle connection holds no goroutine.
//
// Registry: subjects map to topics in the sharded shard.Registry. The first
// local subscriber of a subject creates exactly one NATS subscription
// (ChanSubscribe into its shard's loop channel, on the pooled NATS
// connection chosen by a hash of the subject); the last one leaving (after
// Options.Linger) removes it. Topic.UpMu guards the upstream subscription, and
// a message is served only if it arrived on the topic's current one, so a
// quickly re-created subscription never delivers twice.
//
// Fan-out: one loop goroutine per shard drains its channel in bursts. Per
// message it decodes and parses once, projects and encodes once per group
// (compiled plan, protocol) and appends one frame per subscriber to that
// connection's outbound queue (conn.mu), under the shard's read lock but
// without any I/O. After the burst it flushes every touched connection:
// small sets inline, large ones split over a writer pool with one goroutine
// per core. Frames queued while a connection is being written leave
// together in the next write, so batching grows with load and nothing waits
// when idle. Options.Coalesce adds pacing: a large flush less than Coalesce
// after the previous one waits for the rest of that gap (the loop's pace
// timer) while frames keep queueing, so they share writes.
//
// NATS reads: the pooled connections are dialed by natsDialer, whose
// connection reads its socket with raw read(2) calls and parks on the
// runtime's poller while it is empty. A read through the net package tells
// the scheduler it may block, which wakes the runtime's system monitor when
// the process was idle: with many topics at a few messages per second each,
// one read per message, that was about a quarter of the hub's CPU.
//
// Writes: one writer at a time per connection (conn.writing). A flush is a
// single non-blocking write of everything queued. Outbound buffers come
// from a pool and go back once written, so an idle connection holds none. If the socket is full the
// rest is handed to netpoll's writer in a goroutine that parks until the
// socket drains or Options.WriteTimeout passes; meanwhile frames keep
// queueing up to Options.MaxOutboundBytes, beyond which the client is
// closed with 1008 and counted (Stats.SlowClosed). conn.wmu keeps writes
// (raw ones, and copies into netpoll's output buffer) from racing netpoll's
// close of the file descriptor and that buffer.
//
// Authentication (Options.JWT, off by default): a token is verified once
// per connection (package auth) at connection_init, or for SSE with the
// request, on the OnRequest task. The connection keeps a pointer to the
// outcome (conn.cred); its subjects claim is checked when a subscription
// starts, never on the fan-out path. A token with exp arms one timer, in
// the slot of the connection_init timer that the ack stops, which closes
// the connection (4403) or ends the stream at exp plus the leeway. A
// runtime timer per connection (~240 bytes with the grant) closes on time
// and needs no index of connections by expiry, as a shared sweep would, to
// keep in step with closes.
//
// Keep-alive: an acknowledged WebSocket connection and an SSE stream have
// one runtime timer (conn.kaTimer), reset after each tick and never
// replaced: no goroutine waits on it. For WebSocket connections the tick
// (wsKeepAlive) reads three flags under conn.mu: wrote, stored by the
// delivery path under the lock it holds anyway; heard, stored by the read
// task for any input; kaPinged, its own. It pings an idle connection
// (a control frame into the pooled outbound buffer, written like any
// other; a legacy connection also gets its `ka` message every tick) and
// closes one whose peer sent nothing in the interval after a ping
// (Stats.KeepAliveClosed).
//
// Memory per idle connection: the conn, its subscriptions and netpoll's
// connection (whose per-connection writev scratch is shrunk, see
// shrinkBarrier); parsers and buffers are pooled.
package hub
