package hub

import (
	"fmt"
	"io"
	"math"
	"runtime/metrics"
	"sync/atomic"
)

// Stats are the hub's counters, readable at any time (Hub.Stats) and served
// in Prometheus text format at GET /metrics.
type Stats struct {
	Connections          atomic.Int64 // open client connections (WebSocket and SSE)
	Subscriptions        atomic.Int64 // active subscriptions
	NATSSubscriptions    atomic.Int64 // upstream NATS subscriptions (one per subject)
	Messages             atomic.Int64 // NATS messages received
	Deliveries           atomic.Int64 // frames queued to subscribers
	InvalidMessages      atomic.Int64 // NATS messages dropped as undecodable
	Completions          atomic.Int64 // topics completed by publishers
	SlowClosed           atomic.Int64 // connections closed for exceeding the outbound bound
	PacedFlushes         atomic.Int64 // large fan-out flushes held back by Options.Coalesce
	UpstreamErrors       atomic.Int64 // NATS subscribe failures
	NATSDropped          atomic.Int64 // messages NATS dropped because a fan-out loop fell behind
	Published            atomic.Int64 // messages accepted by POST /publish
	OversizedResults     atomic.Int64 // results replaced by an error for exceeding the result limit
	FloodClosed          atomic.Int64 // connections closed for sending faster than they are served
	AuthFailures         atomic.Int64 // connections refused for a missing or invalid token
	AuthExpired          atomic.Int64 // connections ended because their token expired
	Forbidden            atomic.Int64 // subscriptions refused by the token's subjects claim
	SubscriptionsRefused atomic.Int64 // subscribes refused beyond Options.MaxSubscriptions
	OriginRefused        atomic.Int64 // endpoint requests refused with 403 for their Origin
	KeepAlivePings       atomic.Int64 // WebSocket pings sent to graphql-transport-ws clients
	KeepAliveClosed      atomic.Int64 // graphql-transport-ws clients closed for leaving a ping unanswered
	// Fanout is how long each flush of a fan-out loop took: from its start
	// to the last write of its connections, on the loop itself or over the
	// writer pool (a --coalesce wait before it is not included; a socket
	// that was full counts as written once its rest is handed to netpoll).
	Fanout DurationHistogram
}

// Stats returns the hub's live counters.
func (h *Hub) Stats() *Stats {
	h.syncDrops()
	return &h.stats
}

func (s *Stats) writePrometheus(w io.Writer) {
	line := func(name, help string, v int64, kind string) {
		fmt.Fprintf(w, "# HELP subhub_%s %s\n# TYPE subhub_%s %s\nsubhub_%s %d\n", name, help, name, kind, name, v)
	}
	line("connections", "Open client connections.", s.Connections.Load(), "gauge")
	line("subscriptions", "Active subscriptions.", s.Subscriptions.Load(), "gauge")
	line("nats_subscriptions", "Upstream NATS subscriptions (one per subject).", s.NATSSubscriptions.Load(), "gauge")
	line("messages_total", "NATS messages received.", s.Messages.Load(), "counter")
	line("deliveries_total", "Frames queued to subscribers.", s.Deliveries.Load(), "counter")
	line("invalid_messages_total", "NATS messages dropped as undecodable.", s.InvalidMessages.Load(), "counter")
	line("completions_total", "Topics completed by publishers.", s.Completions.Load(), "counter")
	line("slow_closed_total", "Connections closed for exceeding the outbound bound.", s.SlowClosed.Load(), "counter")
	line("paced_flushes_total", "Large fan-out flushes held back by --coalesce so that frames share writes.", s.PacedFlushes.Load(), "counter")
	line("upstream_errors_total", "NATS subscribe failures.", s.UpstreamErrors.Load(), "counter")
	line("nats_dropped_total", "Messages dropped because a fan-out loop fell behind.", s.NATSDropped.Load(), "counter")
	line("published_total", "Messages accepted by POST /publish.", s.Published.Load(), "counter")
	line("flood_closed_total", "Connections closed for sending faster than they are served (unhandled input beyond max(1 MiB, 4 × --max-message-bytes)).", s.FloodClosed.Load(), "counter")
	line("oversized_results_total", "Event results replaced by an error because they exceeded the result limit (--max-outbound-bytes less 1 KiB).", s.OversizedResults.Load(), "counter")
	line("auth_failures_total", "Connections refused for a missing or invalid token (WebSocket 4403 or connection_error, SSE 401).", s.AuthFailures.Load(), "counter")
	line("auth_expired_total", "Connections ended because their token expired.", s.AuthExpired.Load(), "counter")
	line("subscriptions_refused_total", "Subscribes refused because their connection had --max-subscriptions active.", s.SubscriptionsRefused.Load(), "counter")
	line("forbidden_subscriptions_total", "Subscriptions refused because the token's subjects claim does not allow their topic.", s.Forbidden.Load(), "counter")
	line("origin_refused_total", "Requests to the GraphQL endpoint refused with 403 for their Origin (not in --allowed-origins): WebSocket upgrades, SSE requests and CORS preflights.", s.OriginRefused.Load(), "counter")
	line("keepalive_pings_total", "WebSocket pings sent to graphql-transport-ws clients (after an interval of --keepalive without messages, or of two without hearing from the client).", s.KeepAlivePings.Load(), "counter")
	line("keepalive_closed_total", "graphql-transport-ws clients closed (1001) for reading nothing within --keepalive after a ping: dead peers.", s.KeepAliveClosed.Load(), "counter")
	s.Fanout.writePrometheus(w, "fanout", "Time to write one fan-out flush, from its start to the last connection's write.")
	writeRuntimeMetrics(w)
}

// runtimeSamples are the Go runtime figures served with the hub's own.
var runtimeSamples = []metrics.Sample{
	{Name: "/sched/goroutines:goroutines"},
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/sched/pauses/total/gc:seconds"},
}

// writeRuntimeMetrics adds goroutines, GC cycles, live heap and GC pause
// quantiles (runtime/metrics: no stop-the-world).
func writeRuntimeMetrics(w io.Writer) {
	samples := make([]metrics.Sample, len(runtimeSamples))
	copy(samples, runtimeSamples)
	metrics.Read(samples)
	if v := samples[0].Value; v.Kind() == metrics.KindUint64 {
		fmt.Fprintf(w, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", v.Uint64())
	}
	if v := samples[1].Value; v.Kind() == metrics.KindUint64 {
		fmt.Fprintf(w, "# TYPE go_gc_cycles_total counter\ngo_gc_cycles_total %d\n", v.Uint64())
	}
	if v := samples[2].Value; v.Kind() == metrics.KindUint64 {
		fmt.Fprintf(w, "# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes %d\n", v.Uint64())
	}
	if v := samples[3].Value; v.Kind() == metrics.KindFloat64Histogram {
		h := v.Float64Histogram()
		fmt.Fprintf(w, "# HELP go_gc_pause_seconds Stop-the-world GC pause quantiles (upper bucket bounds).\n# TYPE go_gc_pause_seconds summary\n")
		for _, q := range []float64{0.5, 0.99, 1} {
			fmt.Fprintf(w, "go_gc_pause_seconds{quantile=\"%g\"} %g\n", q, histQuantile(h, q))
		}
		var n uint64
		for _, c := range h.Counts {
			n += c
		}
		fmt.Fprintf(w, "go_gc_pause_seconds_count %d\n", n)
	}
}

// histQuantile returns the upper bound of the bucket holding quantile q.
func histQuantile(h *metrics.Float64Histogram, q float64) float64 {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= want && c > 0 {
			if b := h.Buckets[i+1]; !math.IsInf(b, 1) {
				return b
			}
			return h.Buckets[i]
		}
	}
	return 0
}
