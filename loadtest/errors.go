package loadtest

import "errors"

// Sentinel errors returned by ParseFlags, Run and the worker protocol.
var (
	// ErrUsage wraps every invalid-argument error; Main exits 2 on it.
	ErrUsage = errors.New("loadtest: invalid argument")
	// ErrHelp is returned by ParseFlags for --help; Main prints the flags and exits 0.
	ErrHelp = errors.New("loadtest: help requested")
	// ErrWorker reports a worker child process that failed or broke the protocol.
	ErrWorker = errors.New("loadtest: worker failed")
	// ErrPublish reports that the publisher could not be set up.
	ErrPublish = errors.New("loadtest: publisher failed")
)
