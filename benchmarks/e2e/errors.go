package main

import "errors"

var (
	// errProcFormat reports a /proc file that does not have the expected
	// layout.
	errProcFormat = errors.New("e2e: unexpected /proc format")
	// errNotReady reports a server that did not accept connections in time.
	errNotReady = errors.New("e2e: server not ready")
	// errUnknownScenario reports a --scenarios name that is not defined.
	errUnknownScenario = errors.New("e2e: unknown scenario")
	// errUnknownServer reports a --servers name that is not defined.
	errUnknownServer = errors.New("e2e: unknown server")
	// errNoResult reports a loadtest run that wrote no JSON report.
	errNoResult = errors.New("e2e: loadtest wrote no result")
)
