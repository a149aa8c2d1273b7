package main

import "errors"

var (
	// errNoTopic reports a subscribe whose query names no topic field.
	errNoTopic = errors.New("floor: query has no topic(name: \"...\") field")
)
