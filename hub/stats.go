package hub

import (
	"fmt"
	"io"
	"sync/atomic"
)

// Stats are the hub's counters, readable at any time (Hub.Stats) and served
// in Prometheus text format at GET /metrics.
type Stats struct {
	Connections       atomic.Int64 // open client connections (WebSocket and SSE)
	Subscriptions     atomic.Int64 // active subscriptions
	NATSSubscriptions atomic.Int64 // upstream NATS subscriptions (one per subject)
	Messages          atomic.Int64 // NATS messages received
	Deliveries        atomic.Int64 // frames queued to subscribers
	InvalidMessages   atomic.Int64 // NATS messages dropped as undecodable
	Completions       atomic.Int64 // topics completed by publishers
	SlowClosed        atomic.Int64 // connections closed for exceeding the outbound bound
	UpstreamErrors    atomic.Int64 // NATS subscribe failures
	NATSDropped       atomic.Int64 // messages NATS dropped because a fan-out loop fell behind
	Published         atomic.Int64 // messages accepted by POST /publish
}

// Stats returns the hub's live counters.
func (h *Hub) Stats() *Stats { return &h.stats }

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
	line("upstream_errors_total", "NATS subscribe failures.", s.UpstreamErrors.Load(), "counter")
	line("nats_dropped_total", "Messages dropped because a fan-out loop fell behind.", s.NATSDropped.Load(), "counter")
	line("published_total", "Messages accepted by POST /publish.", s.Published.Load(), "counter")
}
