package publish

import "errors"

// Sentinel errors; the returned errors wrap them with a reason.
var (
	// ErrInvalidTopic reports a topic whose NATS subject is not a literal
	// subject one can publish on (raw envelope: the topic itself).
	ErrInvalidTopic = errors.New("publish: invalid topic")
	// ErrInvalidJSON reports an event that is not valid JSON or cannot be
	// marshalled to JSON.
	ErrInvalidJSON = errors.New("publish: invalid JSON event")
)
