// Command naive is the baseline subhub is measured against: a GraphQL
// subscription server over NATS written the way one would write it in an
// afternoon, deliberately without any of subhub's techniques, but correct.
//
//	go run ./benchmarks/naive --listen 127.0.0.1:9001 --nats-url nats://127.0.0.1:4222
//
// It serves graphql-transport-ws at ws://LISTEN/graphql (any path is
// accepted) for the default subhub schema, subscription { topic(name: "T") },
// which delivers every JSON message published on NATS subject T.
//
// Concurrency model, the textbook one: net/http accepts and upgrades with
// gobwas/ws; each connection then has a reader goroutine (the HTTP handler
// goroutine, which parses client messages with encoding/json) and a writer
// goroutine that drains a buffered channel of outbound messages and writes
// each as one WebSocket frame with wsutil.WriteServerMessage (which issues
// the header and the payload as two writes, as the helper does). Every subscribe message gets its own
// nc.Subscribe, so nats.go runs one goroutine per client subscription, and
// each delivery unmarshals the NATS message into an any, wraps it as
// {"data":{"topic":v}} and marshals the whole next message with
// encoding/json, per subscriber. A callback blocks while its connection's
// channel is full (back-pressure into nats.go's pending buffer, whose limits
// turn a stuck client into dropped messages for that subscription only).
//
// Protocol coverage is what the load tool needs plus the rules that are free
// to follow: connection_init → connection_ack (a second init closes 4429),
// subscribe (before ack closes 4401, a duplicate id closes 4409, an invalid
// message closes 4400, a query without a topic field gets an error message),
// complete, ping → pong, and WebSocket ping/close control frames.
package main
