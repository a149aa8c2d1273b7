// Package benchsrvtest holds the test fixtures shared by the benchmark
// servers' tests: an embedded NATS server with the server under test on a
// free loopback port, a minimal graphql-transport-ws client, and the
// command-line checks every server's run function must pass.
package benchsrvtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/benchmarks/internal/benchsrv"
)

// StartNATS runs an embedded NATS server on a free loopback port.
func StartNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(5*time.Second))
	t.Cleanup(ns.Shutdown)
	return ns
}

// Env is one server under test on a free loopback port backed by an
// embedded NATS server.
type Env struct {
	NS   *natsserver.Server
	NC   *nats.Conn // publisher
	Addr string
	base uint32 // subscriptions the NATS server holds without any client
}

// StartEnv serves with serve until the test ends (and checks that serve
// returns cleanly when cancelled).
func StartEnv(t *testing.T, serve benchsrv.ServeFunc) *Env {
	t.Helper()
	ns := StartNATS(t)
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
	return &Env{NS: ns, NC: pub, Addr: ln.Addr().String(), base: ns.NumSubscriptions()}
}

// WaitSubs waits until the NATS server holds n subscriptions beyond its own
// system ones.
func (e *Env) WaitSubs(t *testing.T, n uint32) {
	t.Helper()
	require.Eventually(t, func() bool { return e.NS.NumSubscriptions() == e.base+n }, 5*time.Second, 5*time.Millisecond)
}

// Publish publishes data on subject and flushes.
func (e *Env) Publish(t *testing.T, subject, data string) {
	t.Helper()
	require.NoError(t, e.NC.Publish(subject, []byte(data)))
	require.NoError(t, e.NC.Flush())
}

// WSClient is a minimal graphql-transport-ws test client.
type WSClient struct {
	t    *testing.T
	Conn net.Conn
	r    io.Reader
}

// Dial connects to ws://addr/graphql offering subprotocol.
func Dial(t *testing.T, addr, subprotocol string) *WSClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := ws.Dialer{Protocols: []string{subprotocol}}.Dial(ctx, "ws://"+addr+"/graphql")
	require.NoError(t, err)
	require.Equal(t, subprotocol, hs.Protocol)
	t.Cleanup(func() { conn.Close() })
	c := &WSClient{t: t, Conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	return c
}

// Send writes one masked text message.
func (c *WSClient) Send(msg string) {
	c.t.Helper()
	require.NoError(c.t, wsutil.WriteClientText(c.Conn, []byte(msg)))
}

// Read reads the next server message (5 s timeout).
func (c *WSClient) Read() wsutil.Message {
	c.t.Helper()
	require.NoError(c.t, c.Conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	msgs, err := wsutil.ReadServerMessage(c.r, nil)
	require.NoError(c.t, err)
	require.Len(c.t, msgs, 1)
	return msgs[0]
}

// ReadText reads the next message and requires a text frame.
func (c *WSClient) ReadText() string {
	c.t.Helper()
	m := c.Read()
	require.Equal(c.t, ws.OpText, m.OpCode, "payload %q", m.Payload)
	return string(m.Payload)
}

// Init sends connection_init and expects connection_ack.
func (c *WSClient) Init() {
	c.t.Helper()
	c.Send(`{"type":"connection_init"}`)
	require.JSONEq(c.t, `{"type":"connection_ack"}`, c.ReadText())
}

// Subscribe subscribes id to the pass-through topic.
func (c *WSClient) Subscribe(id, topic string) {
	c.t.Helper()
	c.Send(`{"id":"` + id + `","type":"subscribe","payload":{"query":"subscription { topic(name: \"` + topic + `\") }"}}`)
}

// ExpectClose reads a close frame with code.
func (c *WSClient) ExpectClose(code ws.StatusCode) {
	c.t.Helper()
	m := c.Read()
	require.Equal(c.t, ws.OpClose, m.OpCode, "payload %q", m.Payload)
	got, _ := ws.ParseCloseFrameData(m.Payload)
	require.Equal(c.t, code, got)
}

// TestProtocolViolations checks that a server closes graphql-transport-ws
// protocol violations with the protocol's codes and leaves no NATS
// subscription behind.
func TestProtocolViolations(t *testing.T, serve benchsrv.ServeFunc, subprotocol string) {
	sub := `{"id":"a","type":"subscribe","payload":{"query":"subscription { topic(name: \"t\") }"}}`
	tests := []struct {
		name   string
		init   bool
		send   []string
		expect ws.StatusCode
	}{
		{name: "subscribe before ack", send: []string{sub}, expect: 4401},
		{name: "duplicate id", init: true, send: []string{sub, sub}, expect: 4409},
		{name: "second init", init: true, send: []string{`{"type":"connection_init"}`}, expect: 4429},
		{name: "not JSON", send: []string{`hello`}, expect: 4400},
		{name: "unknown type", init: true, send: []string{`{"type":"start","id":"1"}`}, expect: 4400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := StartEnv(t, serve)
			c := Dial(t, e.Addr, subprotocol)
			if tt.init {
				c.Init()
			}
			for _, m := range tt.send {
				c.Send(m)
			}
			c.ExpectClose(tt.expect)
			e.WaitSubs(t, 0)
		})
	}
}

// RunFunc is a benchmark server's command-line entry point.
type RunFunc func(ctx context.Context, args []string, stderr io.Writer) int

// TestRun checks a server's run: it serves until cancelled (the
// SIGINT/SIGTERM path) and exits 0, and fails with 2 for bad flags and 1
// without NATS.
func TestRun(t *testing.T, run RunFunc) {
	t.Run("serves until cancelled", func(t *testing.T) {
		ns := StartNATS(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs syncBuffer
		status := make(chan int, 1)
		go func() { status <- run(ctx, []string{"--listen", "127.0.0.1:0", "--nats-url", ns.ClientURL()}, &logs) }()
		require.Eventually(t, func() bool { return bytes.Contains([]byte(logs.String()), []byte("serving")) }, 5*time.Second, 5*time.Millisecond)
		cancel()
		select {
		case code := <-status:
			require.Equal(t, 0, code, "logs: %s", logs.String())
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
		}
		require.Contains(t, logs.String(), "stopped")
	})
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{name: "bad log level", args: []string{"--log-level", "loud"}, want: 2},
		{name: "unknown flag", args: []string{"--no-such-flag"}, want: 2},
		{name: "no NATS", args: []string{"--listen", "127.0.0.1:0", "--nats-url", "nats://127.0.0.1:1"}, want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, run(context.Background(), tt.args, io.Discard))
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
