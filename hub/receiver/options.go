package receiver

import (
	"fmt"
	"log/slog"

	"github.com/subhub/subhub/wire"
)

// FullMode is what a subscriber's buffer does with an incoming event when it
// is full. The names and semantics are HotChocolate's (and .NET's
// BoundedChannelFullMode); the zero value is DropOldest, HotChocolate's
// default.
type FullMode uint8

const (
	// DropOldest removes the oldest buffered event to make room for the
	// incoming one: a slow reader sees the most recent events.
	DropOldest FullMode = iota
	// DropNewest removes the newest buffered event (the last one in the
	// buffer) to make room for the incoming one: a slow reader sees the
	// events that were buffered first, then the latest one.
	DropNewest
	// DropWrite drops the incoming event: a slow reader sees the events that
	// were buffered first.
	DropWrite
)

// String returns the HotChocolate name of m.
func (m FullMode) String() string {
	switch m {
	case DropOldest:
		return "DropOldest"
	case DropNewest:
		return "DropNewest"
	case DropWrite:
		return "DropWrite"
	}
	return fmt.Sprintf("FullMode(%d)", uint8(m))
}

// DefaultCapacity is the per-subscriber buffer used when Options.Capacity is
// zero (HotChocolate's default).
const DefaultCapacity = 64

// Options configures a Receiver. The zero value receives raw JSON on the
// subject named like the topic, with buffers of 64 events in DropOldest
// mode. Serializer, Envelope, TopicPrefix and SubjectPrefix mean what they
// mean in hub/publish.Options: a Receiver receives what a Publisher with the
// same four fields publishes.
type Options struct {
	// Serializer is the byte format of messages. Zero value means JSON.
	Serializer wire.Serializer
	// Envelope frames events. Zero value means raw (completion by the header
	// wire.CompleteHeader).
	Envelope wire.Envelope
	// TopicPrefix is HotChocolate's SubscriptionOptions.TopicPrefix (used by
	// the HotChocolate envelope only). Empty means none.
	TopicPrefix string
	// SubjectPrefix is prepended to every subject as SubjectPrefix + "."
	// (multi-tenant accounts). Empty means none.
	SubjectPrefix string

	// Capacity is the number of events buffered per subscriber (the
	// capacity of the channel Subscribe returns). Zero value means
	// DefaultCapacity (64); negative is an error.
	Capacity int
	// FullMode is what happens to an event for a subscriber whose buffer is
	// full. Zero value means DropOldest.
	FullMode FullMode
	// Shards is the number of registry shards (independently locked
	// subject maps). Zero value means 4×GOMAXPROCS rounded up to a power of
	// two; negative is an error.
	Shards int
	// Logger receives warnings about undecodable messages and failed
	// flushes. Nil means discard.
	Logger *slog.Logger
}

// withDefaults validates o and applies the zero-value defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Serializer > wire.SerializerMsgpack:
		return o, fmt.Errorf("%w: Serializer %v", ErrInvalidOptions, o.Serializer)
	case o.Envelope > wire.EnvelopeHotChocolate:
		return o, fmt.Errorf("%w: Envelope %v", ErrInvalidOptions, o.Envelope)
	case o.Capacity < 0:
		return o, fmt.Errorf("%w: Capacity %d is negative", ErrInvalidOptions, o.Capacity)
	case o.FullMode > DropWrite:
		return o, fmt.Errorf("%w: FullMode %v", ErrInvalidOptions, o.FullMode)
	case o.Shards < 0:
		return o, fmt.Errorf("%w: Shards %d is negative", ErrInvalidOptions, o.Shards)
	}
	if o.Capacity == 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func (o Options) subjects() wire.Subjects {
	return wire.Subjects{Envelope: o.Envelope, TopicPrefix: o.TopicPrefix, SubjectPrefix: o.SubjectPrefix}
}
