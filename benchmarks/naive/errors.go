package main

import "errors"

var (
	// errNoTopic reports a subscribe whose query names no topic field.
	errNoTopic = errors.New("naive: query has no topic(name: \"...\") field")
	// errClosed reports a send on a connection that is shutting down.
	errClosed = errors.New("naive: connection closed")
)
