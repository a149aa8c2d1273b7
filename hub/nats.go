package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/internal/natsopt"
)

// connectNATS dials the pool. Each connection reconnects forever and
// resubscribes by itself (nats.go), so the hub survives NATS restarts.
//
// At start, a server that is down or unreachable is retried in the
// background, but one that refuses the hub's credentials or TLS settings
// (natsopt.Refused) fails New: that is configuration, which retrying does
// not mend. Once connected, the same refusal on a reconnect (credentials
// revoked or expired, a certificate replaced) is logged at error level and
// retried forever like any other outage: nats.go reads a credentials file
// again at every attempt, so renewing the file mends it without a restart.
//
// Pings every Options.NATSPingInterval detect a server that hangs with its
// connection open, which nats.go's defaults (2 min, two outstanding) take
// 4–6 minutes to notice while nothing is delivered and /healthz says 200.
func (h *Hub) connectNATS() error {
	url := strings.Join(h.opts.NATSURLs, ",")
	h.poolUp = make([]atomic.Bool, h.opts.NATSPool)
	for i := 0; i < h.opts.NATSPool; i++ {
		up := &h.poolUp[i]
		opts := h.natsOptions(i, url, up)
		nc, err := nats.Connect(url, opts...)
		if err != nil && !natsopt.Refused(err) {
			h.log.Warn("nats not reachable, retrying in the background", "conn", i, "url", publish.RedactURLs(url), "err", err)
			nc, err = nats.Connect(url, append(opts, nats.RetryOnFailedConnect(true))...)
		}
		if err == nil && nc.IsConnected() {
			// nats.go runs ConnectHandler asynchronously: do not answer
			// /healthz 503 in between. A disconnect that overtakes this
			// store is corrected by the next failed reconnect attempt.
			up.Store(true)
		}
		if err != nil {
			h.closeNATS()
			return fmt.Errorf("hub: nats connect %s: %w", publish.RedactURLs(url), err)
		}
		h.pool = append(h.pool, nc)
	}
	return nil
}

// natsOptions are the options of pooled connection i: Options.NATSOptions,
// then the hub's own. Its callbacks keep up equal to whether the connection
// is usable (Healthy).
func (h *Hub) natsOptions(i int, url string, up *atomic.Bool) []nats.Option {
	refusals := &refusalLog{}
	refused := func(err error) {
		if refusals.first(err) {
			h.log.Error("nats refused the connection, retrying: check the NATS credentials and TLS settings",
				"conn", i, "url", publish.RedactURLs(url), "err", err)
		}
	}
	return append(slices.Clone(h.opts.NATSOptions),
		nats.Name(fmt.Sprintf("subhub-%d", i)),
		nats.SetCustomDialer(newNATSDialer(nats.DefaultTimeout)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.PingInterval(h.opts.NATSPingInterval),
		nats.MaxPingsOutstanding(2),
		nats.IgnoreAuthErrorAbort(), // else nats.go closes the connection for good on the second refusal
		nats.ReconnectBufSize(8<<20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			up.Store(false)
			if err != nil { // nil: we closed or drained it ourselves
				h.log.Warn("nats disconnected", "conn", i, "err", err)
			}
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			up.Store(false)
			// Every failed attempt lands here; an unreachable server is
			// already reported by the disconnect (or the start) warning.
			if natsopt.Refused(err) {
				refused(err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			up.Store(true)
			refusals.reset()
			h.log.Info("nats reconnected", "conn", i, "url", c.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(c *nats.Conn) {
			up.Store(true)
			refusals.reset()
			h.log.Info("nats connected", "conn", i, "url", c.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { up.Store(false) }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				h.countDrops(s)
				return
			}
			if natsopt.Refused(err) { // also reported by ReconnectErrHandler
				refused(err)
				return
			}
			h.log.Warn("nats error", "conn", i, "err", err)
			if subject, ok := refusedSubject(err); ok {
				h.upstreamRefused(subject)
			}
		}),
	)
}

// refusalLog remembers the refusals logged for one pooled connection since
// it was last connected, so that each is logged once rather than at every
// reconnect attempt (four a second). nats.go reports an authorization
// violation twice per attempt, in two spellings (ErrorHandler gets
// nats.ErrAuthorization, ReconnectErrHandler the server's text), so texts
// are compared without case.
type refusalLog struct {
	mu   sync.Mutex
	seen map[string]struct{} // lower-case error texts; at most maxRefusals
}

// maxRefusals bounds refusalLog: errors that name a server differ per
// server of a cluster, so there are as many as servers, not more.
const maxRefusals = 16

// first reports whether err has not been logged since the last reset.
func (r *refusalLog) first(err error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := strings.ToLower(err.Error())
	if _, ok := r.seen[msg]; ok || len(r.seen) >= maxRefusals {
		return false
	}
	if r.seen == nil {
		r.seen = make(map[string]struct{})
	}
	r.seen[msg] = struct{}{}
	return true
}

func (r *refusalLog) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
}

// refusedSubject returns the subject of a subscription the NATS server
// refused for its permissions ("Permissions Violation for Subscription to
// "X""), as nats.go reports it asynchronously after the SUB was sent.
func refusedSubject(err error) (string, bool) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return "", false
	}
	_, rest, ok := strings.Cut(err.Error(), `Subscription to "`)
	if !ok {
		return "", false
	}
	subject, _, ok := strings.Cut(rest, `"`)
	return subject, ok && subject != ""
}

// upstreamRefused ends the local subscriptions of a subject whose NATS
// subscription the server refused, with an error rather than silence, and
// releases it; a later subscriber tries again.
func (h *Hub) upstreamRefused(subject string) {
	h.stats.UpstreamErrors.Add(1)
	h.endTopic(subject, func(t *topic) bool { return true }, errBackplaneForbidden)
}

// countDrops adds to Stats.NATSDropped the messages nats.go has dropped for
// ns since they were last counted, and keeps counting ns until it is
// released. nats.go reports a slow consumer once per run of drops (on the
// first drop after a delivery), not once per dropped message, so the rest of
// a run is added by syncDrops (each Stats or /metrics read) and forgetDrops.
func (h *Hub) countDrops(ns *nats.Subscription) {
	if ns == nil {
		h.stats.NATSDropped.Add(1)
		return
	}
	h.dropsMu.Lock()
	defer h.dropsMu.Unlock()
	if n, ok := h.addDrops(ns, h.drops[ns]); ok {
		h.drops[ns] = n
	}
}

// syncDrops brings Stats.NATSDropped up to date with the subscriptions that
// have dropped messages, and stops tracking those that are gone (a report
// handled after forgetDrops).
func (h *Hub) syncDrops() {
	h.dropsMu.Lock()
	defer h.dropsMu.Unlock()
	for ns, counted := range h.drops {
		if n, ok := h.addDrops(ns, counted); ok {
			h.drops[ns] = n
		} else {
			delete(h.drops, ns)
		}
	}
}

// forgetDrops counts ns's last drops and stops tracking it; call it before
// unsubscribing ns (nats.go reports no count afterwards).
func (h *Hub) forgetDrops(ns *nats.Subscription) {
	h.dropsMu.Lock()
	defer h.dropsMu.Unlock()
	if counted, ok := h.drops[ns]; ok {
		h.addDrops(ns, counted)
		delete(h.drops, ns)
	}
}

// addDrops adds ns's drops beyond counted to Stats.NATSDropped and returns
// the new count; ok is false once ns is unsubscribed or its connection
// closed. h.dropsMu must be held.
func (h *Hub) addDrops(ns *nats.Subscription, counted int) (n int, ok bool) {
	n, err := ns.Dropped()
	if err != nil {
		return counted, false
	}
	if n > counted {
		h.stats.NATSDropped.Add(int64(n - counted))
		return n, true
	}
	return counted, true
}

// Healthy reports whether every pooled NATS connection is up, as nats.go's
// connection callbacks last reported it. It never waits: nc.IsConnected
// would wait for nats.go's connection lock, which a reconnect holds for up
// to the connect timeout (2 s) on a server that accepts TCP but does not
// answer, so /healthz would hang instead of answering 503.
func (h *Hub) Healthy() bool {
	if len(h.pool) == 0 {
		return false
	}
	for i := range h.pool {
		if !h.poolUp[i].Load() {
			return false
		}
	}
	return true
}

// NATS returns one of the pool's connections (for publishing).
func (h *Hub) NATS() *nats.Conn { return h.pool[0] }

// drainNATS drains the pool, waiting up to 2 s (less if ctx ends sooner)
// for it, then closes it. A connection that is down at the time is closed at
// once by Drain: it has nothing to drain, and one that was merely skipped
// here would never report closed, so the wait would last the whole 2 s.
func (h *Hub) drainNATS(ctx context.Context) {
	for _, nc := range h.pool {
		_ = nc.Drain()
	}
	deadline := time.Now().Add(2 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for _, nc := range h.pool {
		for !nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		nc.Close()
	}
}

func (h *Hub) closeNATS() {
	for _, nc := range h.pool {
		nc.Close()
	}
}
