// Command floor is the physical limit of WebSocket fan-out on this machine:
// the least work a server can do per delivery, which subhub's CPU per
// delivery is compared with.
//
//	go run ./benchmarks/floor --listen 127.0.0.1:9002 --nats-url nats://127.0.0.1:4222
//
// It speaks just enough graphql-transport-ws for the load tool
// (connection_init → connection_ack, subscribe, complete, ping → pong,
// WebSocket ping and close) and supports only the subscription
// topic(name: "T"). The fast path is for operation id equal to T, which is
// what the load tool uses for the first subscription of a topic on a
// connection: all of them share one frame. Subscriptions with another id
// (the load tool's churn and repeated topics) still work, each getting a
// frame built for it, so the floor is correct in every scenario.
//
// Concurrency model: one reader goroutine per connection handles client
// messages and the subscriber registry (server.mu). Each topic has one NATS
// subscription, so nats.go runs one goroutine per topic, and its callback is
// the whole hot path: build ONE frame (WebSocket header +
// {"id":"T","type":"next","payload":{"data":{"topic": + message + }}}), with
// no parsing of the message, into the topic's scratch buffer, then write it
// to every subscribed connection with one Write (one write() syscall on a
// socket with room) per connection per message, serially, in the callback.
// No batching, no queues, no per-delivery allocation. The subscriber list is
// copy-on-write behind an atomic pointer, so the callback takes no lock.
//
// A connection whose socket is full blocks its topic's callback, which is
// the floor's deliberate simplification: the load tool always reads.
// Control replies written by reader goroutines are whole frames in one Write
// as well, so net.Conn's write lock keeps frames from interleaving.
package main
