// Package publish publishes GraphQL subscription events onto the NATS
// backplane in the byte format subhub nodes (and HotChocolate servers) decode,
// and implements the `subhub publish` command.
//
// A Publisher maps a topic to its NATS subject with wire.Subjects and encodes
// the event with wire.AppendEvent for the configured serializer and envelope,
// so anything published here is delivered by every subhub node configured with
// the same Options. A Publisher is safe for concurrent use by any number of
// goroutines; it holds no lock while publishing (nats.Conn serialises writes).
// Publish hands the message to the connection's buffer and returns: to know it
// reached the server, flush the connection (nats.Conn.FlushWithContext).
package publish
