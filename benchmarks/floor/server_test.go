package main

import (
	"bytes"
	"github.com/subhub/subhub/benchmarks/internal/benchsrvtest"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"
)

func TestDeliversOneFramePerSubscriberVerbatim(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a, b, c := benchsrvtest.Dial(t, e.Addr, Subprotocol), benchsrvtest.Dial(t, e.Addr, Subprotocol), benchsrvtest.Dial(t, e.Addr, Subprotocol)
	for _, x := range []*benchsrvtest.WSClient{a, b, c} {
		x.Init()
	}
	a.Subscribe("lt.3", "lt.3")
	a.Subscribe("lt.4", "lt.4")
	b.Subscribe("lt.3", "lt.3")
	c.Subscribe("lt.4", "lt.4")
	e.WaitSubs(t, 2) // one NATS subscription per topic

	big := `{"pad":"` + strings.Repeat("x", 70000) + `"}`
	tests := []struct {
		name    string
		subject string
		event   string
		readers []*benchsrvtest.WSClient
	}{
		{
			name:    "small",
			subject: "lt.3",
			event:   `{"seq":7,"ts":1764770000000000123,"pad":"xx"}`,
			readers: []*benchsrvtest.WSClient{a, b},
		},
		{
			name:    "medium, 16-bit length",
			subject: "lt.4",
			event:   `{"pad":"` + strings.Repeat("y", 300) + `"}`,
			readers: []*benchsrvtest.WSClient{a, c},
		},
		{
			name:    "large, 64-bit length",
			subject: "lt.3",
			event:   big,
			readers: []*benchsrvtest.WSClient{a, b},
		},
		{
			name:    "not parsed",
			subject: "lt.4",
			event:   ` [1, "two" ,null] `,
			readers: []*benchsrvtest.WSClient{a, c},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Publish(t, tt.subject, tt.event)
			want := `{"id":"` + tt.subject + `","type":"next","payload":{"data":{"topic":` + tt.event + `}}}`
			for _, r := range tt.readers {
				require.Equal(t, want, r.ReadText())
			}
		})
	}
}

func TestCompleteAndDisconnectUnsubscribe(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a, b := benchsrvtest.Dial(t, e.Addr, Subprotocol), benchsrvtest.Dial(t, e.Addr, Subprotocol)
	a.Init()
	b.Init()
	a.Subscribe("lt.1", "lt.1")
	a.Subscribe("lt.2", "lt.2")
	b.Subscribe("lt.2", "lt.2")
	e.WaitSubs(t, 2)
	a.Send(`{"id":"lt.1","type":"complete"}`)
	a.Send(`{"id":"unknown","type":"complete"}`)
	e.WaitSubs(t, 1)
	e.Publish(t, "lt.1", `1`)
	e.Publish(t, "lt.2", `2`)
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":2}}}`, a.ReadText())
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":2}}}`, b.ReadText())

	// The id is free for reuse after complete.
	a.Subscribe("lt.1", "lt.1")
	e.WaitSubs(t, 2)
	require.NoError(t, a.Conn.Close())
	e.WaitSubs(t, 1) // b still holds lt.2
	e.Publish(t, "lt.2", `3`)
	require.Equal(t, `{"id":"lt.2","type":"next","payload":{"data":{"topic":3}}}`, b.ReadText())
	require.NoError(t, b.Conn.Close())
	e.WaitSubs(t, 0)
}

func TestPingPongOwnIDsAndErrors(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a := benchsrvtest.Dial(t, e.Addr, Subprotocol)
	a.Init()
	a.Send(`{"type":"ping"}`)
	require.Equal(t, `{"type":"pong"}`, a.ReadText())
	require.NoError(t, wsutil.WriteClientMessage(a.Conn, ws.OpPing, []byte("hi")))
	m := a.Read()
	require.Equal(t, ws.OpPong, m.OpCode)
	require.Equal(t, "hi", string(m.Payload))

	// Own ids (the load tool's churn and repeated topics) get their own frame.
	a.Subscribe("lt.9#c1", "lt.9")
	a.Subscribe("lt.9", "lt.9")
	e.WaitSubs(t, 1)
	e.Publish(t, "lt.9", `{"a":1}`)
	require.Equal(t, `{"id":"lt.9#c1","type":"next","payload":{"data":{"topic":{"a":1}}}}`, a.ReadText())
	require.Equal(t, `{"id":"lt.9","type":"next","payload":{"data":{"topic":{"a":1}}}}`, a.ReadText())
	a.Send(`{"id":"lt.9#c1","type":"complete"}`)
	a.Send(`{"id":"lt.9","type":"complete"}`)
	a.Send(`{"id":"bad","type":"subscribe","payload":{"query":"subscription { other }"}}`)
	require.JSONEq(t, `{"id":"bad","type":"error","payload":[{"message":"floor: query has no topic(name: \"...\") field"}]}`, a.ReadText())
	e.WaitSubs(t, 0)
}

func TestProtocolViolationsClose(t *testing.T) {
	benchsrvtest.TestProtocolViolations(t, serve, Subprotocol)
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
