package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/wire"
)

// Options configures a Publisher. The zero value publishes raw JSON on the
// subject named like the topic.
type Options struct {
	// Serializer is the byte format of messages. Zero value means JSON.
	Serializer wire.Serializer
	// Envelope frames events. Zero value means raw (completion by the header
	// wire.CompleteHeader).
	Envelope wire.Envelope
	// TopicPrefix is HotChocolate's SubscriptionOptions.TopicPrefix (used by
	// the HotChocolate envelope only). Empty means none.
	TopicPrefix string
	// SubjectPrefix is prepended to every subject as SubjectPrefix + "."
	// (multi-tenant accounts). Empty means none.
	SubjectPrefix string
}

func (o Options) subjects() wire.Subjects {
	return wire.Subjects{Envelope: o.Envelope, TopicPrefix: o.TopicPrefix, SubjectPrefix: o.SubjectPrefix}
}

// subject returns the NATS subject of topic, or an error wrapping
// ErrInvalidTopic when it is not a literal subject.
func (o Options) subject(topic string) (string, error) {
	s := o.subjects().Subject(topic)
	if err := wire.CheckSubject(s); err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidTopic, topic, err)
	}
	return s, nil
}

// appendEvent appends the message carrying event (JSON).
func (o Options) appendEvent(dst, event []byte) ([]byte, error) {
	out, err := wire.AppendEvent(dst, o.Serializer, o.Envelope, event)
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	return out, nil
}

// Publisher publishes events and completions on a NATS connection. It is safe
// for concurrent use. It does not own the connection: closing and flushing it
// is the caller's business.
type Publisher struct {
	nc   *nats.Conn
	opts Options
	bufs sync.Pool // *[]byte, encoding scratch; nats.Conn copies on publish
}

// New returns a Publisher that publishes on nc with opts.
func New(nc *nats.Conn, opts Options) *Publisher {
	return &Publisher{nc: nc, opts: opts}
}

// Publish publishes v as an event on topic. v is marshalled with encoding/json;
// a json.RawMessage is published as is (it must be valid JSON). Use PublishRaw
// for JSON held in a []byte, which encoding/json would turn into base64.
// Errors wrap ErrInvalidTopic, ErrInvalidJSON, the context's error, or the
// connection's.
func (p *Publisher) Publish(ctx context.Context, topic string, v any) error {
	var event []byte
	switch v := v.(type) {
	case json.RawMessage:
		event = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidJSON, err)
		}
		event = b
	}
	return p.PublishRaw(ctx, topic, event)
}

// PublishRaw publishes event, which must be valid JSON (else ErrInvalidJSON),
// on topic. event is not retained after PublishRaw returns.
func (p *Publisher) PublishRaw(ctx context.Context, topic string, event []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	subject, err := p.opts.subject(topic)
	if err != nil {
		return err
	}
	bp, _ := p.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer p.bufs.Put(bp)
	data, err := p.opts.appendEvent((*bp)[:0], event)
	*bp = data[:0]
	if err != nil {
		return err
	}
	if err := p.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("publish: %s: %w", subject, err)
	}
	return nil
}

// Complete ends every subscription on topic: with the HotChocolate envelope
// it publishes {"kind":1}, with the raw envelope an empty message carrying the
// header wire.CompleteHeader: true.
func (p *Publisher) Complete(ctx context.Context, topic string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	subject, err := p.opts.subject(topic)
	if err != nil {
		return err
	}
	msg := completionMsg(subject, p.opts)
	if err := p.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("publish: complete %s: %w", subject, err)
	}
	return nil
}

func completionMsg(subject string, o Options) *nats.Msg {
	msg := &nats.Msg{Subject: subject}
	if o.Envelope == wire.EnvelopeRaw {
		msg.Header = nats.Header{wire.CompleteHeader: []string{"true"}}
		return msg
	}
	msg.Data = wire.AppendCompletion(nil, o.Serializer, o.Envelope)
	return msg
}
