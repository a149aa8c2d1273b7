package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/shard"
	"github.com/subhub/subhub/wire"
)

// flushTimeout bounds the round trip Subscribe makes after creating a NATS
// subscription, so that the server knows it before Subscribe returns.
const flushTimeout = 5 * time.Second

// Event is one event on a topic.
type Event struct {
	// Topic is the topic passed to Subscribe.
	Topic string
	// Data is the event JSON: the resolved value of the subscription's root
	// field. The same slice is handed to every local subscriber of the topic,
	// so it must be treated as read-only; it is never modified or reused by
	// the Receiver and may be retained.
	Data []byte
}

// Stats are cumulative counters of a Receiver.
type Stats struct {
	// Messages is the number of NATS messages handled completely (decoded
	// and fanned out to every local subscriber).
	Messages uint64
	// Delivered is the number of events put into subscriber buffers.
	Delivered uint64
	// Dropped is the number of events dropped because a buffer was full
	// (by any FullMode).
	Dropped uint64
	// Invalid is the number of messages that could not be decoded.
	Invalid uint64
}

type (
	registry = shard.Registry[struct{}, *subscriber]
	topic    = shard.Topic[struct{}, *subscriber]
)

// Receiver delivers the events of NATS subjects to local subscribers,
// holding one NATS subscription per subject however many subscribers it
// has. It is safe for concurrent use. It does not own the connection:
// closing the Receiver leaves the connection open. See the package
// documentation for the concurrency model.
type Receiver struct {
	nc       *nats.Conn
	opts     Options
	subjects wire.Subjects
	log      *slog.Logger
	reg      *registry

	// closeMu: Subscribe holds it for reading while it registers, Close
	// takes it for writing to set closed, so that no topic is added after
	// Close has torn the registry down.
	closeMu sync.RWMutex
	closed  bool // closeMu

	natsSubs                              atomic.Int64
	messages, delivered, dropped, invalid atomic.Uint64
}

// upstream is a topic's NATS subscription, stored in shard.Topic.Upstream.
// A NATS subscription's callbacks run one at a time on its own goroutine
// (nats.go), so dec needs no lock.
type upstream struct {
	r     *Receiver
	t     *topic
	topic string
	dec   wire.Decoder
	sub   *nats.Subscription
	err   error // non-nil when the NATS subscription could not be created
}

// New returns a Receiver that subscribes on nc. nc must not be nil; opts
// are validated (errors wrap ErrInvalidOptions).
func New(nc *nats.Conn, opts Options) (*Receiver, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil *nats.Conn", ErrInvalidOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Receiver{
		nc:       nc,
		opts:     opts,
		subjects: opts.subjects(),
		log:      opts.Logger,
		reg:      shard.New[struct{}, *subscriber](opts.Shards, 0),
	}, nil
}

// Subscribe returns a channel of the events published on topic from now on:
// when Subscribe returns, the NATS server knows the subscription (unless
// the round trip failed, which is logged; nats.go then sends it on
// reconnect). The channel buffers Options.Capacity events; when it is full,
// Options.FullMode decides which event is dropped, and the delivering
// goroutine never blocks. The channel is closed, after the events buffered
// before, when the topic completes (HotChocolate {"kind":1} or the raw
// header Subhub-Complete: true), when ctx is cancelled, or when the
// Receiver is closed; when it closes, a NATS subscription the topic no
// longer needs has been released (Unsubscribe sent). Event.Data is shared
// with the topic's other subscribers and must not be modified.
//
// Errors wrap ErrClosed, ErrInvalidTopic, ErrSubscribe or ctx's error.
func (r *Receiver) Subscribe(ctx context.Context, topicName string) (<-chan Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	subject := r.subjects.Subject(topicName)
	if err := wire.CheckSubject(subject); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidTopic, topicName, err)
	}
	s := newSubscriber(r.opts.Capacity, r.opts.FullMode)

	r.closeMu.RLock()
	if r.closed {
		r.closeMu.RUnlock()
		return nil, ErrClosed
	}
	t, _, err := r.reg.Add(subject, struct{}{}, s)
	if err != nil { // ErrDuplicate cannot happen: s is new
		r.closeMu.RUnlock()
		return nil, err
	}
	// Whoever takes UpMu first on a live topic creates its upstream, so that
	// no Subscribe returns before the topic's NATS subscription exists.
	t.UpMu.Lock()
	var up *upstream
	if t.Upstream == nil && !t.Dead() {
		up = r.subscribeUpstream(ctx, t, topicName)
		t.Upstream = up
	} else if t.Upstream != nil {
		up = t.Upstream.(*upstream)
	}
	t.UpMu.Unlock()
	r.closeMu.RUnlock()

	if up != nil && up.err != nil {
		// Nobody will deliver on this topic: end it for every subscriber.
		r.endTopic(t)
		return nil, up.err
	}
	// If the topic died meanwhile (completion, Close), s is already closed
	// and the closed channel is the right answer.
	s.setStop(context.AfterFunc(ctx, func() { r.unsubscribe(subject, s) }))
	if s.ring != nil {
		go s.pump(ctx.Done())
	}
	return s.ch, nil
}

// subscribeUpstream creates t's NATS subscription and waits for the server
// to know it. t.UpMu held.
func (r *Receiver) subscribeUpstream(ctx context.Context, t *topic, topicName string) *upstream {
	up := &upstream{r: r, t: t, topic: topicName}
	up.dec.Serializer = r.opts.Serializer
	up.dec.Envelope = r.opts.Envelope
	sub, err := r.nc.Subscribe(t.Subject, up.handle)
	if err != nil {
		up.err = fmt.Errorf("%w %s: %w", ErrSubscribe, t.Subject, err)
		return up
	}
	up.sub = sub
	r.natsSubs.Add(1)
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := r.nc.FlushWithContext(fctx); err != nil {
		r.log.Warn("receiver: flush after subscribe", "subject", t.Subject, "err", err)
	}
	return up
}

// unsubscribe removes s from subject (ctx cancelled), releases the NATS
// subscription if s was the last subscriber, and then closes s's channel.
// It does nothing if s was removed already (completion, Close).
func (r *Receiver) unsubscribe(subject string, s *subscriber) {
	t, last, ok := r.reg.Remove(subject, struct{}{}, s)
	if !ok {
		return
	}
	if last {
		r.release(t)
	}
	s.close()
}

// endTopic removes t from the registry (if it is still there) with all its
// subscribers, releases its upstream and then closes their channels.
func (r *Receiver) endTopic(t *topic) {
	if t.Dead() {
		return // ended before; its subject may have a newer topic
	}
	// Only t: a newer topic of the subject subscribed after this
	// completion was published, and its own upstream will carry any later
	// one.
	if r.reg.RemoveTopicIf(t.Subject, func(x *topic) bool { return x == t }) == nil {
		return
	}
	r.release(t)
	closeAll(t)
}

// closeAll closes every subscriber of the dead topic t.
func closeAll(t *topic) {
	for i := 0; i < t.NumGroups(); i++ {
		_, subs := t.Group(i)
		for _, s := range subs {
			s.close()
		}
	}
}

// release unsubscribes the dead topic t's NATS subscription, if any. Called
// once per topic (shard's refcount contract); takes t.UpMu.
func (r *Receiver) release(t *topic) {
	t.UpMu.Lock()
	defer t.UpMu.Unlock()
	up, _ := t.Upstream.(*upstream)
	if up == nil || up.sub == nil {
		return
	}
	if err := up.sub.Unsubscribe(); err != nil {
		r.log.Debug("receiver: nats unsubscribe", "subject", t.Subject, "err", err)
	}
	up.sub = nil
	r.natsSubs.Add(-1)
}

// handle is the NATS callback of one subject: it decodes the message once,
// copies the event once and hands the same bytes to every local
// subscriber of the topic. It never blocks on a subscriber.
func (u *upstream) handle(m *nats.Msg) {
	r := u.r
	defer r.messages.Add(1)
	if u.t.Dead() {
		return // unsubscribed; a message still in flight
	}
	complete := m.Header != nil && m.Header.Get(wire.CompleteHeader) == "true"
	kind, event, err := u.dec.Decode(m.Data, complete)
	if err != nil {
		r.invalid.Add(1)
		r.log.Warn("receiver: dropped undecodable message", "subject", m.Subject, "err", err)
		return
	}
	switch kind {
	case wire.EventComplete:
		r.endTopic(u.t)
		return
	case wire.EventData:
	default:
		return
	}
	if u.t.Len() == 0 {
		return
	}
	ev := Event{Topic: u.topic, Data: append([]byte(nil), event...)}
	mode := r.opts.FullMode
	var delivered, dropped uint64
	r.reg.View(u.t.Subject, func(t *topic) {
		if t != u.t {
			return // a newer topic of the subject; it has its own upstream
		}
		for i := 0; i < t.NumGroups(); i++ {
			_, subs := t.Group(i)
			for _, s := range subs {
				d, x := s.deliver(ev, mode)
				if d {
					delivered++
				}
				if x {
					dropped++
				}
			}
		}
	})
	r.delivered.Add(delivered)
	r.dropped.Add(dropped)
}

// NATSSubscriptions returns the number of NATS subscriptions the Receiver
// holds now: one per subject with at least one subscriber.
func (r *Receiver) NATSSubscriptions() int { return int(r.natsSubs.Load()) }

// Stats returns the Receiver's counters. Each is read atomically; together
// they are not a snapshot of one instant.
func (r *Receiver) Stats() Stats {
	return Stats{
		Messages:  r.messages.Load(),
		Delivered: r.delivered.Load(),
		Dropped:   r.dropped.Load(),
		Invalid:   r.invalid.Load(),
	}
}

// Close closes every subscriber's channel (after its buffered events),
// releases every NATS subscription and makes later Subscribe calls fail with
// ErrClosed. It does not close the NATS connection. Close is idempotent and
// returns nil.
func (r *Receiver) Close() error {
	r.closeMu.Lock()
	already := r.closed
	r.closed = true
	r.closeMu.Unlock()
	if already {
		return nil
	}
	for _, subject := range r.reg.Subjects() {
		if t := r.reg.RemoveTopic(subject); t != nil {
			r.release(t)
			closeAll(t)
		}
	}
	return nil
}
