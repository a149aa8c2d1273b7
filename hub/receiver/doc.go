// Package receiver is a NATS subscription backplane for Go GraphQL servers
// that run their own resolvers (gqlgen and the like): the counterpart of
// HotChocolate's ITopicEventReceiver. A resolver calls Subscribe (or
// SubscribeTyped) with a topic and returns the channel; events published on
// that topic by any node — hub/publish, HotChocolate, `nats pub` — arrive on
// it, and completion closes it.
//
// # Wire format
//
// Options.Serializer, Envelope, TopicPrefix and SubjectPrefix mean what they
// mean in hub/publish: the subject of a topic is wire.Subjects' mapping
// (HotChocolate's MD5 subject for the HotChocolate envelope) and every
// message is decoded by a wire.Decoder, so HotChocolate's {"kind":1} and the
// raw header Subhub-Complete: true both complete a topic.
//
// # One NATS subscription per subject
//
// Subscribers are kept in a shard.Registry keyed by subject. The first
// Subscribe of a subject creates its NATS subscription (nats.Conn.Subscribe)
// and waits for the server to acknowledge it with a flush; concurrent
// Subscribe calls of the same subject wait on the topic's UpMu until it
// exists, so an event published after Subscribe returned is received. The
// subscriber whose context is cancelled last releases the NATS subscription.
// Completion and Close remove a whole topic at once (Registry.RemoveTopic),
// release the subscription and then close every subscriber's channel; in
// every case a channel closes only after the NATS subscription its topic no
// longer needs has been released. The
// registry hands out every topic for creation once and for release once,
// so a subject never has two NATS subscriptions in one Receiver, nor a
// leaked one. A subject that is unsubscribed and subscribed again gets a new
// topic and a new NATS subscription; a message still in flight for the old
// one is dropped (its callback checks that its topic is still the live one).
//
// # Delivery and concurrency
//
// nats.go runs each NATS subscription's callback on a goroutine of its own,
// one message at a time, so every subject has one delivering goroutine with
// its own wire.Decoder: a message is decoded once, its event JSON is copied
// once into a new slice, and that same slice goes to every local subscriber
// under the shard's read lock (Registry.View). Event.Data is therefore
// shared and read-only; the Receiver never reuses it. Messages beyond
// nats.go's pending limits for a subscription are dropped by nats.go and
// reported to the connection's error handler (nats.ErrSlowConsumer).
//
// Each subscriber has a buffer of Options.Capacity events and the
// delivering goroutine never blocks on it: it takes the subscriber's mutex,
// and when the buffer is full it applies Options.FullMode. With DropOldest
// and DropWrite the buffer is the channel Subscribe returns: a delivery is a
// non-blocking send; DropOldest first receives the oldest event from the
// channel to make room, DropWrite drops the incoming event. (A reader
// draining at that very moment may find that the dropped event would have
// fitted; order is always kept.) DropNewest must replace the newest
// buffered event, which a channel cannot do without racing its reader, so
// its buffer is a ring under the subscriber's mutex and a pump goroutine
// per subscriber offers the oldest event on an unbuffered channel, popping
// it once the reader took it: DropNewest costs one goroutine per
// subscriber. Closing a subscriber takes the same mutex and sets a closed
// flag, so no send ever reaches a closed channel. Lock order: shard read
// lock, then a subscriber's mutex; a topic's UpMu is never taken under a
// shard lock.
//
// Context cancellation is observed with context.AfterFunc, so an idle
// DropOldest or DropWrite subscriber costs no goroutine; a DropNewest pump
// ends when its subscriber is closed and drained, or when its context is
// cancelled (then discarding what is buffered): a DropNewest reader that
// stops reading after a completion holds its pump until its context ends. SubscribeTyped adds one
// goroutine per call to decode into T.
package receiver
