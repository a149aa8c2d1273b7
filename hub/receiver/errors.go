package receiver

import "errors"

// Sentinel errors; returned errors wrap them with a reason.
var (
	// ErrClosed is returned by Subscribe after Close.
	ErrClosed = errors.New("receiver: closed")
	// ErrInvalidTopic reports a topic whose NATS subject is not a literal
	// subject (raw envelope: the topic itself must be one).
	ErrInvalidTopic = errors.New("receiver: invalid topic")
	// ErrInvalidOptions reports an Options value New cannot use; the error
	// names the field.
	ErrInvalidOptions = errors.New("receiver: invalid options")
	// ErrSubscribe reports that the NATS subscription of a subject could not
	// be created; it wraps the connection's error.
	ErrSubscribe = errors.New("receiver: nats subscribe")
)
