package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/wire"
)

func TestOneNATSSubscriptionPerSubject(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-fanout", Options{})
	pub := newPublisher(t, srv, Options{})
	ctx := context.Background()

	counts := map[string]int{"books.a": 100, "books.b": 10}
	subs := map[string][]<-chan Event{}
	for topic, n := range counts {
		for range n {
			subs[topic] = append(subs[topic], subscribe(t, r, topic))
		}
	}
	require.Equal(t, 2, r.NATSSubscriptions())
	require.ElementsMatch(t, []string{"books.a", "books.b"}, serverSubs(t, srv, "recv-fanout"))

	for topic := range counts {
		for i := range 3 {
			require.NoError(t, pub.PublishRaw(ctx, topic, []byte(fmt.Sprintf(`{"topic":%q,"n":%d}`, topic, i))))
		}
	}
	for topic, chans := range subs {
		var first []Event
		for si, ch := range chans {
			for i := range 3 {
				ev := recv(t, ch)
				require.Equal(t, topic, ev.Topic)
				require.JSONEq(t, fmt.Sprintf(`{"topic":%q,"n":%d}`, topic, i), string(ev.Data))
				if si == 0 {
					first = append(first, ev)
				} else {
					require.Same(t, &first[i].Data[0], &ev.Data[0], "event bytes are copied once and shared")
				}
			}
			require.Empty(t, ch)
		}
	}
	require.Equal(t, Stats{Messages: 6, Delivered: 3 * 110}, r.Stats())
}

func TestLastUnsubscribeReleasesNATSSubscription(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-release", Options{})
	pub := newPublisher(t, srv, Options{})

	ctxs := make([]context.CancelFunc, 3)
	chans := make([]<-chan Event, 3)
	for i := range chans {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := r.Subscribe(ctx, "orders")
		require.NoError(t, err)
		ctxs[i], chans[i] = cancel, ch
	}
	requireServerSubs(t, srv, "recv-release", 1)

	for i := range 2 {
		ctxs[i]()
		requireClosed(t, chans[i])
		require.Equal(t, 1, r.NATSSubscriptions(), "subscribers remain")
	}
	require.NoError(t, pub.PublishRaw(context.Background(), "orders", []byte(`1`)))
	require.Equal(t, "1", string(recv(t, chans[2]).Data))

	ctxs[2]()
	requireClosed(t, chans[2])
	require.Equal(t, 0, r.NATSSubscriptions())
	requireServerSubs(t, srv, "recv-release", 0)

	// Subscribing again creates a new NATS subscription that delivers.
	ch := subscribe(t, r, "orders")
	require.Equal(t, 1, r.NATSSubscriptions())
	requireServerSubs(t, srv, "recv-release", 1)
	require.NoError(t, pub.PublishRaw(context.Background(), "orders", []byte(`2`)))
	require.Equal(t, "2", string(recv(t, ch).Data))
}

func TestCompletionClosesEverySubscriber(t *testing.T) {
	t.Parallel()
	for _, env := range []wire.Envelope{wire.EnvelopeRaw, wire.EnvelopeHotChocolate} {
		for _, ser := range []wire.Serializer{wire.SerializerJSON, wire.SerializerMsgpack} {
			t.Run(env.String()+"/"+ser.String(), func(t *testing.T) {
				t.Parallel()
				srv := runNATS(t)
				opts := Options{Serializer: ser, Envelope: env, TopicPrefix: "shop", SubjectPrefix: "tenant1"}
				r := newReceiver(t, srv, "recv-complete", opts)
				pub := newPublisher(t, srv, opts)
				ctx := context.Background()

				chans := make([]<-chan Event, 5)
				for i := range chans {
					chans[i] = subscribe(t, r, "stock")
				}
				other := subscribe(t, r, "prices")
				requireServerSubs(t, srv, "recv-complete", 2)

				require.NoError(t, pub.Publish(ctx, "stock", map[string]int{"n": 1}))
				require.NoError(t, pub.Publish(ctx, "stock", map[string]int{"n": 2}))
				require.NoError(t, pub.Complete(ctx, "stock"))
				for _, ch := range chans {
					require.JSONEq(t, `{"n":1}`, string(recv(t, ch).Data))
					require.JSONEq(t, `{"n":2}`, string(recv(t, ch).Data))
					requireClosed(t, ch)
				}
				requireServerSubs(t, srv, "recv-complete", 1)
				require.Equal(t, 1, r.NATSSubscriptions())

				// The other topic is untouched.
				require.NoError(t, pub.Publish(ctx, "prices", 3))
				require.Equal(t, "3", string(recv(t, other).Data))
			})
		}
	}
}

func TestFullModes(t *testing.T) {
	t.Parallel()
	const published, capacity = 100, 4
	tests := []struct {
		mode      FullMode
		want      []int
		delivered uint64 // put into the buffer, possibly dropped later
	}{
		{DropOldest, []int{96, 97, 98, 99}, published},
		{DropWrite, []int{0, 1, 2, 3}, capacity},
		{DropNewest, []int{0, 1, 2, 99}, published},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			srv := runNATS(t)
			r := newReceiver(t, srv, "recv-full", Options{Capacity: capacity, FullMode: tt.mode})
			pub := newPublisher(t, srv, Options{})
			slow := subscribe(t, r, "ticks")
			ctx := context.Background()
			for i := range published {
				require.NoError(t, pub.PublishRaw(ctx, "ticks", []byte(strconv.Itoa(i))))
			}
			require.Eventually(t, func() bool { return r.Stats().Messages == published },
				waitFor, time.Millisecond)
			require.Equal(t, Stats{Messages: published, Delivered: tt.delivered, Dropped: published - capacity}, r.Stats())
			var got []int
			for range capacity {
				n, err := strconv.Atoi(string(recv(t, slow).Data))
				require.NoError(t, err)
				got = append(got, n)
			}
			require.Equal(t, tt.want, got)
			// Nothing else was buffered: completion closes the channel next.
			require.NoError(t, pub.Complete(ctx, "ticks"))
			requireClosed(t, slow)
		})
	}
}

type book struct {
	Title string   `json:"title"`
	Tags  []string `json:"tags"`
	Pages int      `json:"pages"`
}

func TestHotChocolateMsgpackRoundTrip(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	opts := Options{Serializer: wire.SerializerMsgpack, Envelope: wire.EnvelopeHotChocolate, TopicPrefix: "library"}
	r := newReceiver(t, srv, "recv-hc", opts)
	pub := newPublisher(t, srv, opts)
	ctx := context.Background()

	raw := subscribe(t, r, "bookAdded:fiction")
	typed, err := SubscribeTyped[*book](ctx, r, "bookAdded:fiction")
	require.NoError(t, err)
	require.Equal(t, []string{wire.HotChocolateSubject("library", "bookAdded:fiction")}, serverSubs(t, srv, "recv-hc"))

	want := book{Title: "Dune \u00e9", Tags: []string{"sf", "classic"}, Pages: 412}
	require.NoError(t, pub.Publish(ctx, "bookAdded:fiction", want))
	ev := recv(t, raw)
	require.Equal(t, "bookAdded:fiction", ev.Topic)
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(ev.Data))
	require.Equal(t, &want, recv(t, typed))

	require.NoError(t, pub.Complete(ctx, "bookAdded:fiction"))
	requireClosed(t, raw)
	requireClosed(t, typed)
}

func TestTwoNodesEachGetEveryEventOnce(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	opts := Options{Envelope: wire.EnvelopeHotChocolate}
	nodes := []*Receiver{newReceiver(t, srv, "node-a", opts), newReceiver(t, srv, "node-b", opts)}
	pub := newPublisher(t, srv, opts)
	ctx := context.Background()

	var chans []<-chan Event
	for _, r := range nodes {
		for range 3 {
			chans = append(chans, subscribe(t, r, "feed"))
		}
	}
	requireServerSubs(t, srv, "node-", 2)
	const n = 20
	for i := range n {
		require.NoError(t, pub.Publish(ctx, "feed", i))
	}
	require.NoError(t, pub.Publish(ctx, "feed", "end"))
	for _, ch := range chans {
		for i := range n {
			require.Equal(t, strconv.Itoa(i), string(recv(t, ch).Data))
		}
		require.Equal(t, `"end"`, string(recv(t, ch).Data), "no duplicates before the sentinel")
	}
	for _, r := range nodes {
		require.Equal(t, uint64(n+1), r.Stats().Messages)
	}
}

func TestSubscribeTypedDropsUndecodable(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-typed", Options{})
	pub := newPublisher(t, srv, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ch, err := SubscribeTyped[book](ctx, r, "books")
	require.NoError(t, err)
	require.NoError(t, pub.PublishRaw(ctx, "books", []byte(`"not a book"`)))
	require.NoError(t, pub.PublishRaw(ctx, "books", []byte(`{"title":"Emma","pages":"many"}`)))
	require.NoError(t, pub.PublishRaw(ctx, "books", []byte(`{"title":"Emma","pages":474}`)))
	require.Equal(t, book{Title: "Emma", Pages: 474}, recv(t, ch))

	cancel()
	requireClosed(t, ch)
	require.Eventually(t, func() bool { return r.NATSSubscriptions() == 0 }, waitFor, time.Millisecond)
}

func TestInvalidMessagesAreCountedAndSkipped(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-invalid", Options{Envelope: wire.EnvelopeHotChocolate})
	ch := subscribe(t, r, "t")
	nc := connect(t, srv, "raw-publisher")
	subject := wire.HotChocolateSubject("", "t")
	for _, body := range []string{`{"kind":0}`, `{"body":1,"kind":7}`, `not json`, ``, `{"kind":2}`, `{"body":{"ok":true},"kind":0}`} {
		require.NoError(t, nc.Publish(subject, []byte(body)))
	}
	require.JSONEq(t, `{"ok":true}`, string(recv(t, ch).Data))
	require.Eventually(t, func() bool { return r.Stats().Messages == 6 }, waitFor, time.Millisecond)
	require.Equal(t, Stats{Messages: 6, Delivered: 1, Invalid: 3}, r.Stats())
	require.Empty(t, ch)
}

func TestCloseEndsEverything(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r, err := New(connect(t, srv, "recv-close"), Options{})
	require.NoError(t, err)
	a, b := subscribe(t, r, "a"), subscribe(t, r, "b")
	typed, err := SubscribeTyped[int](context.Background(), r, "a")
	require.NoError(t, err)
	requireServerSubs(t, srv, "recv-close", 2)

	require.NoError(t, r.Close())
	requireClosed(t, a)
	requireClosed(t, b)
	requireClosed(t, typed)
	require.Equal(t, 0, r.NATSSubscriptions())
	requireServerSubs(t, srv, "recv-close", 0)

	_, err = r.Subscribe(context.Background(), "a")
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, r.Close(), "Close is idempotent")
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-errors", Options{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		topic string
		want  error
	}{
		{"wildcard", context.Background(), "books.*", ErrInvalidTopic},
		{"space", context.Background(), "a b", ErrInvalidTopic},
		{"empty", context.Background(), "", ErrInvalidTopic},
		{"cancelled", cancelled, "books", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := r.Subscribe(tt.ctx, tt.topic)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, ch)
		})
	}
	require.Equal(t, 0, r.NATSSubscriptions())

	nc := connect(t, srv, "recv-closed-conn")
	closedConn, err := New(nc, Options{})
	require.NoError(t, err)
	nc.Close()
	_, err = closedConn.Subscribe(context.Background(), "books")
	require.ErrorIs(t, err, ErrSubscribe)
	require.Equal(t, 0, closedConn.NATSSubscriptions())
	topics, subs := closedConn.reg.Len()
	require.Zero(t, topics+subs, "a failed subscription leaves nothing registered")
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	nc := connect(t, srv, "recv-new")
	tests := []struct {
		name string
		opts Options
	}{
		{"serializer", Options{Serializer: 9}},
		{"envelope", Options{Envelope: 9}},
		{"capacity", Options{Capacity: -1}},
		{"full mode", Options{FullMode: 9}},
		{"shards", Options{Shards: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(nc, tt.opts)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	_, err := New(nil, Options{})
	require.ErrorIs(t, err, ErrInvalidOptions)

	r, err := New(nc, Options{Shards: 3})
	require.NoError(t, err)
	require.Equal(t, DefaultCapacity, r.opts.Capacity)
	require.Equal(t, 3, r.reg.Shards())
}

// TestConcurrentChurn subscribes and cancels on a few topics from many
// goroutines while events flow, then checks that nothing is left behind.
func TestConcurrentChurn(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	r := newReceiver(t, srv, "recv-churn", Options{Capacity: 2, FullMode: DropNewest, Shards: 2})
	pubConn := connect(t, srv, "publisher")
	pub := publish.New(pubConn, publish.Options{})
	topics := []string{"t0", "t1", "t2"}

	stop := make(chan struct{})
	var pubWG sync.WaitGroup
	pubWG.Add(1)
	go func() {
		defer pubWG.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := pub.PublishRaw(context.Background(), topics[i%len(topics)], []byte(strconv.Itoa(i))); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 49 {
				if err := pub.Complete(context.Background(), topics[i%len(topics)]); err != nil {
					t.Error(err)
					return
				}
				// A round trip per 50 messages paces the publisher, so that
				// the server never cuts the receiver off as a slow consumer.
				if err := pubConn.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				ctx, cancel := context.WithCancel(context.Background())
				ch, err := r.Subscribe(ctx, topics[(g+i)%len(topics)])
				if err != nil {
					t.Error(err)
					cancel()
					return
				}
				if i%2 == 0 {
					select { // read a little, possibly the closing of a completion
					case <-ch:
					default:
					}
				}
				cancel()
				for range ch { // closed by the cancel (or a completion)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	pubWG.Wait()
	require.Equal(t, 0, r.NATSSubscriptions())
	topicsLeft, subsLeft := r.reg.Len()
	require.Zero(t, topicsLeft+subsLeft)
	requireServerSubs(t, srv, "recv-churn", 0)
}

// TestConcurrentFirstSubscribers races many first Subscribe calls of one
// subject: one NATS subscription is made, every call returns only once the
// server knows it, and an event published right after reaches all of them.
func TestConcurrentFirstSubscribers(t *testing.T) {
	t.Parallel()
	for _, mode := range []FullMode{DropOldest, DropNewest} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			srv := runNATS(t)
			r := newReceiver(t, srv, "recv-first", Options{FullMode: mode})
			pub := newPublisher(t, srv, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			chans := make([]<-chan Event, 50)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range chans {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ch, err := r.Subscribe(ctx, "fresh")
					if err != nil {
						t.Error(err)
						return
					}
					chans[i] = ch
				}()
			}
			close(start)
			wg.Wait()
			require.Equal(t, 1, r.NATSSubscriptions())
			require.Equal(t, []string{"fresh"}, serverSubs(t, srv, "recv-first"), "known to the server when Subscribe returns")

			require.NoError(t, pub.PublishRaw(ctx, "fresh", []byte(`"hello"`)))
			for _, ch := range chans {
				require.Equal(t, `"hello"`, string(recv(t, ch).Data))
			}
			cancel()
			for _, ch := range chans {
				requireClosed(t, ch)
			}
			require.Equal(t, 0, r.NATSSubscriptions())
			requireServerSubs(t, srv, "recv-first", 0)
		})
	}
}
