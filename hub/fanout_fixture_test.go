package hub

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/shard"
	"github.com/subhub/subhub/wire"
)

// fanoutFixture is a hub without sockets: n upgraded connections each with
// one subscription to one subject, spread over `plans` distinct plans.
type fanoutFixture struct {
	h       *Hub
	l       *loop
	conns   []*conn
	subject string
	visit   func(t *topic)
	v       *fastjson.Value
}

func newFanoutFixture(tb testing.TB, n, plans int) *fanoutFixture {
	tb.Helper()
	h := &Hub{
		opts: Options{MaxOutboundBytes: 1 << 30},
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		reg:  shard.New[groupKey, *sub](1, 0),
	}
	cache := graphql.NewCache(graphql.DefaultSchema(), 16)
	var ops []graphql.Operation
	for i := 0; i < plans; i++ {
		op, errs := cache.Compile(graphql.Request{Query: fmt.Sprintf(`subscription { a%d: topic(name: "bench") }`, i)})
		require.Empty(tb, errs)
		ops = append(ops, op)
	}
	f := &fanoutFixture{h: h, l: newLoop(h, 0), subject: "bench"}
	for i := 0; i < n; i++ {
		c := &conn{h: h, state: stateWS, proto: wire.ProtoTransportWS}
		id := []byte(fmt.Sprintf("sub-%d", i))
		op := ops[i%plans]
		s := &sub{c: c, id: string(id), subject: f.subject, key: groupKey{plan: op.Plan, proto: c.proto}}
		s.prefix = wire.AppendNextPrefix(nil, c.proto, id)
		_, _, err := h.reg.Add(f.subject, s.key, s)
		require.NoError(tb, err)
		f.conns = append(f.conns, c)
	}
	f.visit = func(t *topic) { f.l.deliver(t, f.v) }
	return f
}

// deliverOnce empties every queue and fans v out once.
func (f *fanoutFixture) deliverOnce(v *fastjson.Value) {
	for _, c := range f.conns {
		c.out = c.out[:0]
		c.dirty = false
	}
	f.l.dirty = f.l.dirty[:0]
	f.v = v
	f.h.reg.View(f.subject, f.visit)
}
