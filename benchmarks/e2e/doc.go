// Command e2e runs subhub's end-to-end scenarios against subhub, the naive
// baseline and the floor server, and writes benchmarks/RESULTS.md.
//
//	go run ./benchmarks/e2e [--quick] [--scenarios idle,fanout,...] [--out benchmarks/RESULTS.md]
//
// Flags: --quick shrinks every scenario about tenfold (a smoke run);
// --scenarios and --servers (subhub,naive,floor) select what runs;
// --out is the report; --raw-dir (benchmarks/out) receives each run's
// loadtest JSON and the server and load tool logs; --repo is the module
// root; --ref REF builds REF from a clean `git archive` export instead of
// the working tree, so that the commit in the report is exactly what ran.
//
// It builds ./cmd/subhub, ./benchmarks/naive and ./benchmarks/floor into a
// temporary directory and starts one NATS server, embedded in this process
// on a free loopback port. Then, for each scenario and each server, one at a
// time, it starts the server process on a free port, runs
// `subhub loadtest ... --json FILE` against it and samples the server's CPU
// time (utime+stime, /proc/PID/stat) and resident memory (VmRSS,
// /proc/PID/status) every 100 ms. The loadtest's phase timings place its
// publishing window on that timeline: CPU per delivery is the server's CPU
// time from the first publish to the end of the drain divided by the
// deliveries, and memory per connection is the RSS growth from before the
// load tool started to the end of its warmup (all connections subscribed)
// divided by the established connections.
//
// Scenarios are listed in scenarios.go and explained in
// benchmarks/scenarios.md. Raw loadtest JSON and the logs of every run go to
// benchmarks/out/ (gitignored). Progress goes to stderr.
//
// Everything here runs on one goroutine except the /proc sampler of the
// running server, which hands its samples over when stopped.
package main
