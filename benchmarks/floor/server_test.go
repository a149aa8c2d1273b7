package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// env is one naive server on a free loopback port backed by an embedded NATS
// server.
type env struct {
	ns   *natsserver.Server
	nc   *nats.Conn // publisher
	addr string
	base uint32 // subscriptions the NATS server holds without any client
}

func startEnv(t *testing.T) *env {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(5*time.Second))
	t.Cleanup(ns.Shutdown)

	srvNC, err := nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	t.Cleanup(srvNC.Close)
	pub, err := nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	t.Cleanup(pub.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, srvNC, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("serve did not return after cancel")
		}
	})
	return &env{ns: ns, nc: pub, addr: ln.Addr().String(), base: ns.NumSubscriptions()}
}

// waitSubs waits until the NATS server holds n subscriptions beyond its
// own system ones.
func (e *env) waitSubs(t *testing.T, n uint32) {
	t.Helper()
	require.Eventually(t, func() bool { return e.ns.NumSubscriptions() == e.base+n }, 5*time.Second, 5*time.Millisecond)
}

func (e *env) publish(t *testing.T, subject, data string) {
	t.Helper()
	require.NoError(t, e.nc.Publish(subject, []byte(data)))
	require.NoError(t, e.nc.Flush())
}

type wsClient struct {
	t    *testing.T
	conn net.Conn
	r    io.Reader
}

func dial(t *testing.T, addr string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := ws.Dialer{Protocols: []string{Subprotocol}}.Dial(ctx, "ws://"+addr+"/graphql")
	require.NoError(t, err)
	require.Equal(t, Subprotocol, hs.Protocol)
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	return c
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	require.NoError(c.t, wsutil.WriteClientText(c.conn, []byte(msg)))
}

func (c *wsClient) read() wsutil.Message {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	msgs, err := wsutil.ReadServerMessage(c.r, nil)
	require.NoError(c.t, err)
	require.Len(c.t, msgs, 1)
	return msgs[0]
}

func (c *wsClient) readText() string {
	c.t.Helper()
	m := c.read()
	require.Equal(c.t, ws.OpText, m.OpCode, "payload %q", m.Payload)
	return string(m.Payload)
}

func (c *wsClient) init() {
	c.t.Helper()
	c.send(`{"type":"connection_init"}`)
	require.JSONEq(c.t, `{"type":"connection_ack"}`, c.readText())
}

func (c *wsClient) subscribe(id, topic string) {
	c.t.Helper()
	c.send(`{"id":"` + id + `","type":"subscribe","payload":{"query":"subscription { topic(name: \"` + topic + `\") }"}}`)
}

func (c *wsClient) expectClose(code ws.StatusCode) {
	c.t.Helper()
	m := c.read()
	require.Equal(c.t, ws.OpClose, m.OpCode, "payload %q", m.Payload)
	got, _ := ws.ParseCloseFrameData(m.Payload)
	require.Equal(c.t, code, got)
}

func TestDeliversOneFramePerSubscriberVerbatim(t *testing.T) {
	e := startEnv(t)
	a, b, c := dial(t, e.addr), dial(t, e.addr), dial(t, e.addr)
	for _, x := range []*wsClient{a, b, c} {
		x.init()
	}
	a.subscribe("lt.3", "lt.3")
	a.subscribe("lt.4", "lt.4")
	b.subscribe("lt.3", "lt.3")
	c.subscribe("lt.4", "lt.4")
	e.waitSubs(t, 2) // one NATS subscription per topic

	big := `{"pad":"` + strings.Repeat("x", 70000) + `"}`
	tests := []struct {
		name    string
		subject string
		event   string
		readers []*wsClient
	}{
		{
			name:    "small",
			subject: "lt.3",
			event:   `{"seq":7,"ts":1764770000000000123,"pad":"xx"}`,
			readers: []*wsClient{a, b},
		},
		{
			name:    "medium, 16-bit length",
			subject: "lt.4",
			event:   `{"pad":"` + strings.Repeat("y", 300) + `"}`,
			readers: []*wsClient{a, c},
		},
		{
			name:    "large, 64-bit length",
			subject: "lt.3",
			event:   big,
			readers: []*wsClient{a, b},
		},
		{
			name:    "not parsed",
			subject: "lt.4",
			event:   ` [1, "two" ,null] `,
			readers: []*wsClient{a, c},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.publish(t, tt.subject, tt.event)
			want := `{"id":"` + tt.subject + `","type":"next","payload":{"data":{"topic":` + tt.event + `}}}`
			for _, r := range tt.readers {
				require.Equal(t, want, r.readText())
			}
		})
	}
}

func TestCompleteAndDisconnectUnsubscribe(t *testing.T) {
	e := startEnv(t)
	a, b := dial(t, e.addr), dial(t, e.addr)
	a.init()
	b.init()
	a.subscribe("lt.1", "lt.1")
	a.subscribe("lt.2", "lt.2")
	b.subscribe("lt.2", "lt.2")
	e.waitSubs(t, 2)
	a.send(`{"id":"lt.1","type":"complete"}`)
	a.send(`{"id":"unknown","type":"complete"}`)
	e.waitSubs(t, 1)
	e.publish(t, "lt.1", `1`)
	e.publish(t, "lt.2", `2`)
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":2}}}`, a.readText())
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":2}}}`, b.readText())

	// The id is free for reuse after complete.
	a.subscribe("lt.1", "lt.1")
	e.waitSubs(t, 2)
	require.NoError(t, a.conn.Close())
	e.waitSubs(t, 1) // b still holds lt.2
	e.publish(t, "lt.2", `3`)
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":3}}}`, b.readText())
	require.NoError(t, b.conn.Close())
	e.waitSubs(t, 0)
}

func TestPingPongOwnIDsAndErrors(t *testing.T) {
	e := startEnv(t)
	a := dial(t, e.addr)
	a.init()
	a.send(`{"type":"ping"}`)
	require.Equal(t, `{"type":"pong"}`, a.readText())
	require.NoError(t, wsutil.WriteClientMessage(a.conn, ws.OpPing, []byte("hi")))
	m := a.read()
	require.Equal(t, ws.OpPong, m.OpCode)
	require.Equal(t, "hi", string(m.Payload))

	// Own ids (the load tool's churn and repeated topics) get their own frame.
	a.subscribe("lt.9#c1", "lt.9")
	a.subscribe("lt.9", "lt.9")
	e.waitSubs(t, 1)
	e.publish(t, "lt.9", `{"a":1}`)
	require.Equal(t, `{"id":"lt.9#c1","type":"next","payload":{"data":{"topic":{"a":1}}}}`, a.readText())
	require.Equal(t, `{"id":"lt.9","type":"next","payload":{"data":{"topic":{"a":1}}}}`, a.readText())
	a.send(`{"id":"lt.9#c1","type":"complete"}`)
	a.send(`{"id":"lt.9","type":"complete"}`)
	a.send(`{"id":"bad","type":"subscribe","payload":{"query":"subscription { other }"}}`)
	require.JSONEq(t, `{"id":"bad","type":"error","payload":[{"message":"floor: query has no topic(name: \"...\") field"}]}`, a.readText())
	e.waitSubs(t, 0)
}

func TestProtocolViolationsClose(t *testing.T) {
	tests := []struct {
		name   string
		init   bool
		send   []string
		expect ws.StatusCode
	}{
		{
			name:   "subscribe before ack",
			send:   []string{`{"id":"t","type":"subscribe","payload":{"query":"subscription { topic(name: \"t\") }"}}`},
			expect: 4401,
		},
		{
			name: "duplicate id",
			init: true,
			send: []string{
				`{"id":"t","type":"subscribe","payload":{"query":"subscription { topic(name: \"t\") }"}}`,
				`{"id":"t","type":"subscribe","payload":{"query":"subscription { topic(name: \"t\") }"}}`,
			},
			expect: 4409,
		},
		{
			name:   "second init",
			init:   true,
			send:   []string{`{"type":"connection_init"}`},
			expect: 4429,
		},
		{
			name:   "not JSON",
			send:   []string{`hello`},
			expect: 4400,
		},
		{
			name:   "unknown type",
			init:   true,
			send:   []string{`{"type":"start","id":"1"}`},
			expect: 4400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t)
			c := dial(t, e.addr)
			if tt.init {
				c.init()
			}
			for _, m := range tt.send {
				c.send(m)
			}
			c.expectClose(tt.expect)
			e.waitSubs(t, 0)
		})
	}
}

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want []byte
	}{
		{
			name: "empty",
			n:    0,
			want: []byte{0x81, 0},
		},
		{
			name: "7-bit max",
			n:    125,
			want: []byte{0x81, 125},
		},
		{
			name: "16-bit min",
			n:    126,
			want: []byte{0x81, 126, 0, 126},
		},
		{
			name: "16-bit max",
			n:    65535,
			want: []byte{0x81, 126, 0xff, 0xff},
		},
		{
			name: "64-bit min",
			n:    65536,
			want: []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendHeader(nil, ws.OpText, tt.n)
			require.Equal(t, tt.want, got)
			h, err := ws.ReadHeader(bytes.NewReader(got))
			require.NoError(t, err)
			require.Equal(t, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(tt.n)}, h)
		})
	}
}
