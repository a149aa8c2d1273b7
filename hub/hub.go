package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/shard"
	"github.com/subhub/subhub/wire"
)

// topic is the registry's per-subject entry as the hub uses it.
type topic = shard.Topic[groupKey, *sub]

// Hub is a running subhub node: the netpoll event loop that terminates
// client connections, the sharded topic registry, the NATS connection pool
// and the fan-out loops. Create it with New, then Start; stop with Shutdown.
type Hub struct {
	opts     Options
	log      *slog.Logger
	cache    *graphql.Cache
	subjects wire.Subjects

	reg  *shard.Registry[groupKey, *sub]
	pool []*nats.Conn
	// poolUp[i] says whether pool[i] is connected, kept by its connection
	// callbacks (see Healthy).
	poolUp     []atomic.Bool
	publishers []*publish.Publisher // one per pooled connection
	loops      []*loop
	writers    *writerPool

	ln   netpoll.Listener
	el   netpoll.EventLoop
	addr net.Addr

	connsMu   sync.Mutex
	conns     map[*conn]struct{}
	connsPeak int // largest len(conns) since conns was last rebuilt

	// streams counts the WebSocket and SSE connections admitted under
	// Options.MaxConnections (only maintained when it is set).
	streams atomic.Int64

	closing atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup

	// dropsMu guards drops: for each NATS subscription nats.go has reported
	// as a slow consumer, the part of its drop count already added to
	// stats.NATSDropped (see countDrops).
	dropsMu sync.Mutex
	drops   map[*nats.Subscription]int

	stats Stats
}

var configureNetpoll sync.Once

// New validates opts, fetches a JWKS (Options.JWT.JWKSURL), connects the
// NATS pool and prepares the fan-out loops. It does not listen yet; call
// Start, then Shutdown, which also stops the JWKS refresher that New
// started. A NATS server that is down is retried in the background, but one
// that refuses the credentials or TLS settings (Options.NATSOptions, or the
// URL's user) fails New.
func New(opts Options) (*Hub, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	configureNetpoll.Do(func() {
		// Small per-connection buffers: netpoll's defaults cost ~15 KB per
		// idle connection, 512-byte nodes bring that to a few KB.
		netpoll.LinkBufferCap = 512
		_ = netpoll.Configure(netpoll.Config{BufferSize: 512, LoggerOutput: netpollLog{o.Logger}})
	})
	schema := o.Schema.WithLimits(graphql.Limits{
		MaxFields:      o.MaxFields,
		MaxResultBytes: o.MaxOutboundBytes - 1024,
	})
	if o.Envelope == wire.EnvelopeHotChocolate {
		schema = schema.WithHashedTopics()
	}
	h := &Hub{
		opts:  o,
		log:   o.Logger,
		cache: graphql.NewCache(schema, o.PlanCacheSize),
		subjects: wire.Subjects{
			Envelope:      o.Envelope,
			TopicPrefix:   o.TopicPrefix,
			SubjectPrefix: o.SubjectPrefix,
		},
		reg:   shard.New[groupKey, *sub](o.Shards, o.Linger),
		conns: make(map[*conn]struct{}),
		stop:  make(chan struct{}),
		drops: make(map[*nats.Subscription]int),
	}
	h.writers = newWriterPool(&h.stats.Fanout)
	for i := 0; i < h.reg.Shards(); i++ {
		h.loops = append(h.loops, newLoop(h, i))
	}
	if err := h.connectNATS(); err != nil {
		o.verifier.Close()
		return nil, err
	}
	for _, nc := range h.pool {
		h.publishers = append(h.publishers, publish.New(nc, publish.Options{
			Serializer:    o.Serializer,
			Envelope:      o.Envelope,
			TopicPrefix:   o.TopicPrefix,
			SubjectPrefix: o.SubjectPrefix,
		}))
	}
	return h, nil
}

// Start listens on Options.Listen and serves until Shutdown.
func (h *Hub) Start() error {
	ln, err := netpoll.CreateListener("tcp", h.opts.Listen)
	if err != nil {
		h.closeNATS()
		h.opts.verifier.Close()
		return fmt.Errorf("hub: listen %s: %w", h.opts.Listen, err)
	}
	h.ln = ln
	h.addr = ln.Addr()
	el, err := netpoll.NewEventLoop(h.onRequest,
		netpoll.WithOnPrepare(h.onPrepare),
		netpoll.WithWriteTimeout(h.opts.WriteTimeout),
	)
	if err != nil {
		ln.Close()
		h.closeNATS()
		h.opts.verifier.Close()
		return fmt.Errorf("hub: event loop: %w", err)
	}
	h.el = el
	for _, l := range h.loops {
		h.wg.Add(1)
		go l.run()
	}
	h.writers.start(h.opts.PinWriters)
	if h.opts.Linger > 0 {
		h.wg.Add(1)
		go h.expireLoop()
	}
	go func() {
		if err := el.Serve(ln); err != nil && !h.closing.Load() {
			h.log.Error("serve stopped", "err", err)
		}
	}()
	h.log.Info("subhub serving", "addr", h.addr.String(), "path", h.opts.Path,
		"shards", h.reg.Shards(), "nats_pool", len(h.pool), "jwt_auth", h.opts.verifier != nil)
	return nil
}

// Addr is the address the hub listens on (valid after Start).
func (h *Hub) Addr() net.Addr { return h.addr }

// Shutdown stops accepting connections, closes every client with 1001
// (going away) so it reconnects elsewhere, waits for them to go (or ctx to
// end), then drains the NATS connections and stops the JWKS refresher
// (Options.JWT.JWKSURL).
func (h *Hub) Shutdown(ctx context.Context) error {
	if !h.closing.CompareAndSwap(false, true) {
		return ErrClosed
	}
	// New connections are refused from here on (addConn); the listener
	// itself is closed by the event loop's Shutdown below — closing it twice
	// could close an unrelated, reused file descriptor.
	h.connsMu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.connsMu.Unlock()
	for _, c := range conns {
		c.goAway()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		h.connsMu.Lock()
		n := len(h.conns)
		h.connsMu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	// Closed outside connsMu: Close runs the connection's close callback
	// (onClosed), which takes connsMu to remove it.
	h.connsMu.Lock()
	conns = conns[:0]
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.connsMu.Unlock()
	for _, c := range conns {
		c.nc.Close()
	}
	if h.el != nil {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = h.el.Shutdown(sctx)
		cancel()
	}
	h.drainNATS(ctx)
	h.opts.verifier.Close() // stops a JWKS refresher
	close(h.stop)
	h.writers.stopAndWait()
	h.wg.Wait()
	return nil
}

// minExpireTick bounds how often expireLoop sweeps the shards: a linger of
// a few nanoseconds would otherwise ask for a zero ticker interval (a panic)
// and a linger of microseconds for a loop that takes every shard lock
// continuously.
const minExpireTick = time.Millisecond

// expireLoop releases NATS subscriptions of topics whose linger ran out.
func (h *Hub) expireLoop() {
	defer h.wg.Done()
	t := time.NewTicker(max(h.opts.Linger/4, minExpireTick))
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			for _, tp := range h.reg.Expire(now) {
				h.detach(tp)
			}
		}
	}
}

// subscribe registers s and makes sure its subject has an upstream NATS
// subscription.
func (h *Hub) subscribe(s *sub) {
	t, first, err := h.reg.Add(s.subject, s.key, s)
	if err != nil {
		// The connection's own id map prevents duplicates; this is a bug.
		h.log.Error("registry add", "subject", s.subject, "err", err)
		return
	}
	h.stats.Subscriptions.Add(1)
	if first && !h.attach(t) {
		// Its subscribers (s and any that joined meanwhile) get an error
		// instead of silence; the next subscriber makes a new topic and
		// tries again.
		h.endTopic(t.Subject, func(cur *topic) bool { return cur == t }, errBackplaneUnavailable)
	}
}

// unsubscribe removes s from the registry, releasing the NATS subscription
// with the last local subscriber.
func (h *Hub) unsubscribe(s *sub) {
	t, last, ok := h.reg.Remove(s.subject, s.key, s)
	if !ok {
		return
	}
	h.stats.Subscriptions.Add(-1)
	if last {
		h.detach(t)
	}
}

// attach creates t's upstream NATS subscription unless the topic died
// meanwhile or already has one. It reports false if NATS refused it.
func (h *Hub) attach(t *topic) bool {
	t.UpMu.Lock()
	defer t.UpMu.Unlock()
	if t.Dead() || t.Upstream != nil {
		return true
	}
	nc := h.pool[poolIndex(t.Subject, len(h.pool))]
	ns, err := nc.ChanSubscribe(t.Subject, h.loops[h.reg.ShardOf(t.Subject)].ch)
	if err != nil {
		h.stats.UpstreamErrors.Add(1)
		h.log.Error("nats subscribe", "subject", t.Subject, "err", err)
		return false
	}
	t.Upstream = ns
	h.stats.NATSSubscriptions.Add(1)
	return true
}

// detach removes t's upstream NATS subscription.
func (h *Hub) detach(t *topic) {
	t.UpMu.Lock()
	ns, _ := t.Upstream.(*nats.Subscription)
	t.Upstream = nil
	t.UpMu.Unlock()
	if ns != nil {
		h.forgetDrops(ns)
		if err := ns.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			h.log.Debug("nats unsubscribe", "subject", t.Subject, "err", err)
		}
		h.stats.NATSSubscriptions.Add(-1)
	}
}

// completeTopic ends every local subscription of subject with `complete`
// and releases the upstream subscription, if subject's topic is the one fed
// by from.
func (h *Hub) completeTopic(subject string, from *nats.Subscription) {
	ended := h.endTopic(subject, func(t *topic) bool {
		// As visit does for data: a completion that came through an
		// already released subscription is not for the subject's newer
		// topic, whose subscribers joined after it was published.
		t.UpMu.Lock()
		up, _ := t.Upstream.(*nats.Subscription)
		t.UpMu.Unlock()
		return up == from
	}, nil)
	if ended {
		h.stats.Completions.Add(1)
	}
}

// endTopic removes subject's topic if ok(topic) holds, releases its
// upstream subscription and ends every local subscription of it: with
// `complete` when errs is nil, else with errs (see conn.endSub). It reports
// whether a topic was ended.
func (h *Hub) endTopic(subject string, ok func(*topic) bool, errs graphql.Errors) bool {
	t := h.reg.RemoveTopicIf(subject, ok)
	if t == nil {
		return false
	}
	h.detach(t)
	var subs []*sub
	for i := 0; i < t.NumGroups(); i++ {
		_, ss := t.Group(i)
		subs = append(subs, ss...)
	}
	h.stats.Subscriptions.Add(-int64(len(subs)))
	for _, s := range subs {
		s.c.endSub(s, errs)
	}
	return true
}

// poolIndex picks the pooled NATS connection of subject (FNV-1a).
func poolIndex(subject string, n int) int {
	if n == 1 {
		return 0
	}
	var x uint32 = 2166136261
	for i := 0; i < len(subject); i++ {
		x ^= uint32(subject[i])
		x *= 16777619
	}
	return int(x % uint32(n))
}

func (h *Hub) addConn(c *conn) bool {
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	if h.closing.Load() {
		return false
	}
	h.conns[c] = struct{}{}
	h.connsPeak = max(h.connsPeak, len(h.conns))
	return true
}

func (h *Hub) removeConn(c *conn) {
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	delete(h.conns, c)
	// After a traffic spike, rebuild the table at its size (maps never shrink).
	h.conns, h.connsPeak = shard.ShrinkMap(h.conns, h.connsPeak)
}

// netpollLog hands netpoll's own log lines to the logger of the first hub
// instead of stderr: a peer that resets its connection is routine for an
// edge server (debug level); anything else is a warning.
type netpollLog struct{ log *slog.Logger }

func (w netpollLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.Contains(line, "connection reset by peer") || strings.Contains(line, "broken pipe") {
		w.log.Debug("netpoll", "line", line)
	} else {
		w.log.Warn("netpoll", "line", line)
	}
	return len(p), nil
}
