package receiver

import (
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/shard"
	"github.com/subhub/subhub/wire"
)

// fanOutFixture is a Receiver without a NATS connection whose topic has n
// subscribers, and the upstream whose handle delivers to them: the
// delivering goroutine's work without the network. DropNewest pumps run
// when pumps is true, until the test ends.
func fanOutFixture(tb testing.TB, n int, opts Options, pumps bool) (*upstream, []*subscriber) {
	tb.Helper()
	opts, err := opts.withDefaults()
	require.NoError(tb, err)
	opts.Logger = slog.New(slog.DiscardHandler)
	r := &Receiver{opts: opts, subjects: opts.subjects(), log: opts.Logger,
		reg: shard.New[struct{}, *subscriber](opts.Shards, 0)}
	subject := r.subjects.Subject("bench")
	subs := make([]*subscriber, n)
	var t *topic
	for i := range subs {
		subs[i] = newSubscriber(opts.Capacity, opts.FullMode)
		t, _, err = r.reg.Add(subject, struct{}{}, subs[i])
		require.NoError(tb, err)
	}
	if pumps && opts.FullMode == DropNewest {
		done := make(chan struct{})
		tb.Cleanup(func() { close(done) })
		for _, s := range subs {
			go s.pump(done)
		}
	}
	up := &upstream{r: r, t: t, topic: "bench"}
	up.dec.Serializer, up.dec.Envelope = opts.Serializer, opts.Envelope
	return up, subs
}

// benchMsg is a message carrying a small book event in opts' format.
func benchMsg(tb testing.TB, opts Options) *nats.Msg {
	tb.Helper()
	data, err := wire.AppendEvent(nil, opts.Serializer, opts.Envelope,
		[]byte(`{"id":"b1","title":"Dune","shelf":"fiction","available":true}`))
	require.NoError(tb, err)
	return &nats.Msg{Subject: "bench", Data: data}
}
