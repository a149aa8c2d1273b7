package main

import (
	"encoding/json"
	"github.com/subhub/subhub/benchmarks/internal/benchsrvtest"
	"reflect"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"
)

func TestDeliversToEverySubscriber(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a, b := benchsrvtest.Dial(t, e.Addr, Subprotocol), benchsrvtest.Dial(t, e.Addr, Subprotocol)
	a.Init()
	b.Init()
	a.Subscribe("lt.3", "lt.3")
	a.Subscribe("other", "lt.3")
	b.Subscribe("lt.3", "lt.3")
	b.Subscribe("lt.4", "lt.4")
	e.WaitSubs(t, 4)

	const event = `{"seq":7,"ts":1764770000000000123,"pad":"xx"}`
	e.Publish(t, "lt.3", event)
	want := map[string]bool{
		`{"id":"lt.3","type":"next","payload":{"data":{"topic":` + event + `}}}`:  true,
		`{"id":"other","type":"next","payload":{"data":{"topic":` + event + `}}}`: true,
	}
	for range 2 {
		got := a.ReadText()
		matched := false
		for w := range want {
			if jsonEq(w, got) {
				delete(want, w)
				matched = true
			}
		}
		require.True(t, matched, "unexpected frame %s", got)
	}
	require.JSONEq(t, `{"id":"lt.3","type":"next","payload":{"data":{"topic":`+event+`}}}`, b.ReadText())

	e.Publish(t, "lt.4", `[1,"two",null]`)
	require.JSONEq(t, `{"id":"lt.4","type":"next","payload":{"data":{"topic":[1,"two",null]}}}`, b.ReadText())
}

func TestCompleteAndDisconnectUnsubscribe(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a := benchsrvtest.Dial(t, e.Addr, Subprotocol)
	a.Init()
	a.Subscribe("x", "lt.1")
	a.Subscribe("y", "lt.2")
	e.WaitSubs(t, 2)
	a.Send(`{"id":"x","type":"complete"}`)
	a.Send(`{"id":"unknown","type":"complete"}`)
	e.WaitSubs(t, 1)
	e.Publish(t, "lt.1", `1`)
	e.Publish(t, "lt.2", `2`)
	require.JSONEq(t, `{"id":"y","type":"next","payload":{"data":{"topic":2}}}`, a.ReadText())

	// The id is free for reuse after complete.
	a.Subscribe("x", "lt.1")
	e.WaitSubs(t, 2)
	require.NoError(t, a.Conn.Close())
	e.WaitSubs(t, 0)
}

func TestPingPongAndVariables(t *testing.T) {
	e := benchsrvtest.StartEnv(t, serve)
	a := benchsrvtest.Dial(t, e.Addr, Subprotocol)
	a.Init()
	a.Send(`{"type":"ping"}`)
	require.JSONEq(t, `{"type":"pong"}`, a.ReadText())
	require.NoError(t, wsutil.WriteClientMessage(a.Conn, ws.OpPing, []byte("hi")))
	m := a.Read()
	require.Equal(t, ws.OpPong, m.OpCode)
	require.Equal(t, "hi", string(m.Payload))

	a.Send(`{"id":"v","type":"subscribe","payload":{"query":"subscription($t: String!) { topic(name: $t) }","variables":{"t":"lt.9"}}}`)
	e.WaitSubs(t, 1)
	e.Publish(t, "lt.9", `{"a":"b"}`)
	require.JSONEq(t, `{"id":"v","type":"next","payload":{"data":{"topic":{"a":"b"}}}}`, a.ReadText())

	a.Send(`{"id":"bad","type":"subscribe","payload":{"query":"subscription { other }"}}`)
	require.JSONEq(t, `{"id":"bad","type":"error","payload":[{"message":"naive: query has no topic(name: \"...\") field"}]}`, a.ReadText())
}

func TestProtocolViolationsClose(t *testing.T) {
	benchsrvtest.TestProtocolViolations(t, serve, Subprotocol)
}

func TestTopicName(t *testing.T) {
	tests := []struct {
		name    string
		payload subscribePayload
		want    string
		wantErr error
	}{
		{
			name:    "literal",
			payload: subscribePayload{Query: `subscription { topic(name: "lt.3") }`},
			want:    "lt.3",
		},
		{
			name:    "spacing and escapes",
			payload: subscribePayload{Query: "subscription{topic ( name :\"a\\u002eb\" )}"},
			want:    "a.b",
		},
		{
			name:    "variable",
			payload: subscribePayload{Query: `subscription S($n: String!) { topic(name: $n) }`, Variables: map[string]any{"n": "lt.0"}},
			want:    "lt.0",
		},
		{
			name:    "missing variable",
			payload: subscribePayload{Query: `subscription S($n: String!) { topic(name: $n) }`},
			wantErr: errNoTopic,
		},
		{
			name:    "no topic field",
			payload: subscribePayload{Query: `subscription { time }`},
			wantErr: errNoTopic,
		},
		{
			name:    "empty name",
			payload: subscribePayload{Query: `subscription { topic(name: "") }`},
			wantErr: errNoTopic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := topicName(tt.payload)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, got)
		})
	}
}

// jsonEq reports whether a and b hold equal JSON values.
func jsonEq(a, b string) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil && reflect.DeepEqual(va, vb)
}
