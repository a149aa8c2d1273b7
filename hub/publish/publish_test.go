package publish

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

type book struct {
	ID    string  `json:"id"`
	Price float64 `json:"price"`
}

const bookJSON = `{"id":"1","price":12.5}`

// bookMsgpack is bookJSON as MessagePack, written by hand.
var bookMsgpack = append([]byte("\x82\xa2id\xa11\xa5price\xcb"), 0x40, 0x29, 0, 0, 0, 0, 0, 0)

func TestPublisherModes(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	nc := connect(t, srv)
	subNC := connect(t, srv)

	envJSON := `{"body":` + bookJSON + `,"kind":0}`
	tests := []struct {
		name         string
		opts         Options
		topic        string
		subject      string
		event        []byte
		completeData []byte
		completeHdr  bool
	}{
		{
			name: "raw json", topic: "books.added", subject: "books.added",
			event: []byte(bookJSON), completeHdr: true,
		},
		{
			name: "raw json subject prefix", opts: Options{SubjectPrefix: "acme"}, topic: "books.added", subject: "acme.books.added",
			event: []byte(bookJSON), completeHdr: true,
		},
		{
			name: "raw msgpack", opts: Options{Serializer: wire.SerializerMsgpack}, topic: "books", subject: "books",
			event: bookMsgpack, completeHdr: true,
		},
		{
			// printf '%s' 'Subscription:onBookAdded' | md5sum
			name: "hotchocolate json", opts: Options{Envelope: wire.EnvelopeHotChocolate, TopicPrefix: "Subscription"},
			topic: "onBookAdded", subject: "122156489F60831E75656596683FA1B0",
			event: []byte(envJSON), completeData: []byte(`{"kind":1}`),
		},
		{
			// printf '%s' 'onBookAdded' | md5sum
			name: "hotchocolate msgpack", opts: Options{Serializer: wire.SerializerMsgpack, Envelope: wire.EnvelopeHotChocolate, SubjectPrefix: "t1"},
			topic: "onBookAdded", subject: "t1.847BC9168E04FFEC07C07F0C8598F710",
			event: append([]byte{0xd9, byte(len(envJSON))}, envJSON...), completeData: append([]byte{0xaa}, `{"kind":1}`...),
		},
		{
			// printf '%s' 'app:on book added' | md5sum — any topic is fine when hashed
			name: "hotchocolate topic with spaces", opts: Options{Envelope: wire.EnvelopeHotChocolate, TopicPrefix: "app"},
			topic: "on book added", subject: "6A4E249486D650D962B366E1578E5E2E",
			event: []byte(envJSON), completeData: []byte(`{"kind":1}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sub := subscribe(t, subNC, tt.subject)
			p := New(nc, tt.opts)

			require.NoError(t, p.Publish(ctx, tt.topic, book{ID: "1", Price: 12.5}))
			require.NoError(t, p.Publish(ctx, tt.topic, json.RawMessage(bookJSON)))
			require.NoError(t, p.PublishRaw(ctx, tt.topic, []byte(" "+bookJSON+"\n")))
			require.NoError(t, p.Complete(ctx, tt.topic))
			require.NoError(t, nc.Flush())

			dec := wire.Decoder{Serializer: tt.opts.Serializer, Envelope: tt.opts.Envelope}
			for range 3 {
				msg := nextMsg(t, sub)
				require.Equal(t, tt.subject, msg.Subject)
				require.Equal(t, tt.event, msg.Data)
				require.Empty(t, msg.Header)
				kind, event, err := dec.Decode(msg.Data, msg.Header.Get(wire.CompleteHeader) == "true")
				require.NoError(t, err)
				require.Equal(t, wire.EventData, kind)
				require.JSONEq(t, bookJSON, string(event))
			}
			msg := nextMsg(t, sub)
			require.Equal(t, string(tt.completeData), string(msg.Data))
			if tt.completeHdr {
				require.Equal(t, nats.Header{wire.CompleteHeader: []string{"true"}}, msg.Header)
			} else {
				require.Empty(t, msg.Header)
			}
			kind, _, err := dec.Decode(msg.Data, msg.Header.Get(wire.CompleteHeader) == "true")
			require.NoError(t, err)
			require.Equal(t, wire.EventComplete, kind)
			requireNoMsg(t, subNC, sub)
		})
	}
}

func TestPublisherErrors(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	nc := connect(t, srv)
	raw := New(nc, Options{})
	hc := New(nc, Options{Envelope: wire.EnvelopeHotChocolate, SubjectPrefix: "bad..prefix"})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"empty topic", func() error { return raw.PublishRaw(ctx, "", []byte(`1`)) }, ErrInvalidTopic},
		{"wildcard topic", func() error { return raw.PublishRaw(ctx, "books.*", []byte(`1`)) }, ErrInvalidTopic},
		{"full wildcard topic", func() error { return raw.Publish(ctx, "books.>", 1) }, ErrInvalidTopic},
		{"empty token", func() error { return raw.PublishRaw(ctx, "books..added", []byte(`1`)) }, ErrInvalidTopic},
		{"space in topic", func() error { return raw.PublishRaw(ctx, "books added", []byte(`1`)) }, ErrInvalidTopic},
		{"newline in topic", func() error { return raw.Complete(ctx, "books\r\nPUB x 1") }, ErrInvalidTopic},
		{"invalid subject prefix", func() error { return hc.PublishRaw(ctx, "onBookAdded", []byte(`1`)) }, ErrInvalidTopic},
		{"invalid json", func() error { return raw.PublishRaw(ctx, "books", []byte(`{"id":`)) }, ErrInvalidJSON},
		{"empty json", func() error { return raw.PublishRaw(ctx, "books", nil) }, ErrInvalidJSON},
		{"invalid raw message", func() error { return raw.Publish(ctx, "books", json.RawMessage(`nope`)) }, ErrInvalidJSON},
		{"unmarshalable", func() error { return raw.Publish(ctx, "books", make(chan int)) }, ErrInvalidJSON},
		{"msgpack number out of range", func() error {
			return New(nc, Options{Serializer: wire.SerializerMsgpack}).PublishRaw(ctx, "books", []byte(`1e999`))
		}, ErrInvalidJSON},
		{"cancelled publish", func() error { return raw.PublishRaw(cancelled, "books", []byte(`1`)) }, context.Canceled},
		{"cancelled complete", func() error { return raw.Complete(cancelled, "books") }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tt.call(), tt.want)
		})
	}
}

func TestPublisherClosedConn(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	nc := connect(t, srv)
	p := New(nc, Options{})
	nc.Close()
	require.ErrorIs(t, p.PublishRaw(context.Background(), "books", []byte(`1`)), nats.ErrConnectionClosed)
	require.ErrorIs(t, p.Complete(context.Background(), "books"), nats.ErrConnectionClosed)
}

func TestPublisherConcurrent(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	nc := connect(t, srv)
	subNC := connect(t, srv)
	const goroutines, each = 8, 200
	var got atomic.Int64
	var bad atomic.Int64
	_, err := subNC.Subscribe("books.>", func(m *nats.Msg) {
		var b book
		if json.Unmarshal(m.Data, &b) != nil || b.ID == "" {
			bad.Add(1)
		}
		got.Add(1)
	})
	require.NoError(t, err)
	require.NoError(t, subNC.Flush())

	p := New(nc, Options{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := p.Publish(context.Background(), "books.added", book{ID: string(rune('a' + g)), Price: float64(i)}); err != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, nc.Flush())
	require.Eventually(t, func() bool { return got.Load() == goroutines*each }, 10*time.Second, 5*time.Millisecond)
	require.Zero(t, bad.Load())
}
