package shard

import "errors"

// ErrDuplicate is returned by Registry.Add when the subscriber is already
// registered on the subject (in any group). The registry is left unchanged.
var ErrDuplicate = errors.New("shard: subscriber already registered")
