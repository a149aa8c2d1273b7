package main

import "errors"

var (
	// errNoTopic reports a subscribe whose query names no topic field.
	errNoTopic = errors.New("floor: query has no topic(name: \"...\") field")
	// errIDNotTopic reports a subscription whose id is not its topic name.
	errIDNotTopic = errors.New("floor: subscription id must equal the topic name")
)
