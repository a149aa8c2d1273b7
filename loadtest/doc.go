// Package loadtest is the bundled load tool, `subhub loadtest`: it opens
// many GraphQL-over-WebSocket subscription connections, publishes messages
// on NATS (or the HTTP publish API) on a fixed schedule, and reports loss,
// duplicates, reordering and latency.
//
// # Measurement contract
//
// Every message is {"seq":N,"ts":T,"pad":"..."}: seq counts per topic from 1
// and ts is the scheduled send time in unix nanoseconds, so latency
// (receive time − ts, recorded in an HdrHistogram from 1µs to 60s with 3
// significant digits) includes any publisher or server backlog: the
// schedule is open loop and there is no coordinated omission. The receive
// time is the clock after read(2) returns, or with KernelTimestamps the
// kernel's stamp of the newest TCP segment that read consumed (when it
// reached the socket), so that the tool's own delay in getting to the
// socket is left out; a read the kernel did not stamp (stamping switches on
// a moment after the first socket asks) falls back to the clock, and the
// report counts the deliveries so timed (unstamped_deliveries). Several
// messages in one read share the newest stamp, which overstates the
// latency of the earlier ones and never understates it. SchedIdle runs the
// tool under SCHED_IDLE so that, on a machine shared with the server, it
// reads on CPU time the server leaves over, like clients elsewhere. Receivers find
// "seq" and "ts" at any depth of the delivery payload, so custom queries
// and schemas work.
//
// A stable subscription expects every message published on its topic; it
// is established before publishing starts and stays counted even if its
// connection closes (the close is reported by code and its missed messages
// as loss). Per subscription, a delivery is a duplicate when its seq was
// already delivered, out-of-order when it is new but below the highest seq
// seen, and late when it is more than 1024 below (outside the reorder
// window). lost = expected − unique. Churn subscriptions (on their own
// connections) are excluded from loss.
//
// Connect errors are counted by kind ("connect ECONNREFUSED", "upgrade:
// HTTP 403", "close 4403" before connection_ack, "timeout upgrading", ...),
// closes of established connections by WebSocket close code (1006 when the
// TCP connection ended without a close frame), and protocol errors by kind.
// If ctx ends while publishing or draining, Run still returns a Result,
// marked Interrupted.
//
// Subscription ids are the topic name, with "#k" appended for the k-th
// repeat of a topic on one connection, so all subscribers of a topic share
// an id.
//
// # Concurrency model
//
// Connections live on GOMAXPROCS epoll loops (golang.org/x/sys/unix,
// edge-triggered, non-blocking sockets); there is no goroutine per
// connection. A loop's mutex guards its connections, counters and
// histograms; the dialer, the churn goroutine and the per-second monitor
// take it briefly. Each loop reads into one shared 64 KiB buffer; a
// connection keeps only the unparsed tail of its input, which is released
// once consumed. Client frames are masked (RFC 6455); pings are answered.
//
// One process can hold at most ~19,500 sockets (hard fd limit). With
// Workers > 0 the connections are split over child processes (the same
// binary, "loadtest --worker-index i --worker-count K ..."), which report
// JSON lines on stdout: "subscribed", one "progress" per second (with an
// encoded interval histogram) and a final "result" when their stdin says
// "stop". The parent publishes, runs churn and merges.
package loadtest
