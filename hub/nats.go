package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// connectNATS dials the pool. Each connection reconnects forever and
// resubscribes by itself (nats.go), so the hub survives NATS restarts; a
// server that is down at start is retried in the background.
func (h *Hub) connectNATS() error {
	url := strings.Join(h.opts.NATSURLs, ",")
	for i := 0; i < h.opts.NATSPool; i++ {
		nc, err := nats.Connect(url,
			nats.Name(fmt.Sprintf("subhub-%d", i)),
			nats.SetCustomDialer(newNATSDialer(nats.DefaultTimeout)),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(250*time.Millisecond),
			nats.RetryOnFailedConnect(true),
			nats.ReconnectBufSize(8<<20),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil { // nil: we closed or drained it ourselves
					h.log.Warn("nats disconnected", "conn", i, "err", err)
				}
			}),
			nats.ReconnectHandler(func(c *nats.Conn) {
				h.log.Info("nats reconnected", "conn", i, "url", c.ConnectedUrl())
			}),
			nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
				if errors.Is(err, nats.ErrSlowConsumer) {
					h.stats.NATSDropped.Add(1)
					return
				}
				h.log.Warn("nats error", "conn", i, "err", err)
			}),
		)
		if err != nil {
			h.closeNATS()
			return fmt.Errorf("hub: nats connect %s: %w", url, err)
		}
		h.pool = append(h.pool, nc)
	}
	return nil
}

// Healthy reports whether every pooled NATS connection is up.
func (h *Hub) Healthy() bool {
	if len(h.pool) == 0 {
		return false
	}
	for _, nc := range h.pool {
		if !nc.IsConnected() {
			return false
		}
	}
	return true
}

// NATS returns one of the pool's connections (for publishing).
func (h *Hub) NATS() *nats.Conn { return h.pool[0] }

func (h *Hub) drainNATS(ctx context.Context) {
	for _, nc := range h.pool {
		if nc.IsConnected() {
			_ = nc.Drain()
		}
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
