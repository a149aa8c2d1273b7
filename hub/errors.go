package hub

import (
	"errors"

	"github.com/subhub/subhub/hub/graphql"
)

var (
	// ErrInvalidOption reports an Options field out of range; the message names it.
	ErrInvalidOption = errors.New("hub: invalid option")
	// ErrClosed is returned by operations on a hub that was shut down.
	ErrClosed = errors.New("hub: closed")
)

// The errors that end a subscription whose NATS subscription failed
// (Hub.endTopic). They name no subject: with HotChocolate's envelope it is a
// hash, and a client needs only know that retrying the same topic here will
// not help (forbidden) or may (unavailable).
var (
	errBackplaneForbidden   = graphql.Errors{{Message: "Forbidden: the NATS backplane does not allow subscribing to this topic"}}
	errBackplaneUnavailable = graphql.Errors{{Message: "Internal error: the NATS backplane refused the subscription"}}
)
