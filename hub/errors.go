package hub

import "errors"

var (
	// ErrInvalidOption reports an Options field out of range; the message names it.
	ErrInvalidOption = errors.New("hub: invalid option")
	// ErrClosed is returned by operations on a hub that was shut down.
	ErrClosed = errors.New("hub: closed")
)
