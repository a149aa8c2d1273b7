package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type parseCase struct {
	name  string
	proto Protocol
	in    string
	want  msgView // compared when err and reason are empty
	err   error   // sentinel expected
	// reason is the expected ProtocolError reason when err is not a sentinel.
	reason string
}

func strv(s string) any { return s }

var parseCases = []parseCase{
	// graphql-transport-ws: connection_init, ping, pong.
	{name: "init", proto: ProtoTransportWS, in: `{"type":"connection_init"}`,
		want: msgView{Type: TypeConnectionInit}},
	{name: "init payload", proto: ProtoTransportWS, in: `{"type":"connection_init","payload":{"token":"a b","n":[1,2.5e3,null]}}`,
		want: msgView{Type: TypeConnectionInit, Payload: strv(`{"token":"a b","n":[1,2.5e3,null]}`)}},
	{name: "init payload null", proto: ProtoTransportWS, in: `{"type":"connection_init","payload":null}`,
		want: msgView{Type: TypeConnectionInit}},
	{name: "init payload empty object", proto: ProtoTransportWS, in: ` { "payload" : { } , "type" : "connection_init" } `,
		want: msgView{Type: TypeConnectionInit, Payload: strv(`{ }`)}},
	{name: "init payload array", proto: ProtoTransportWS, in: `{"type":"connection_init","payload":[]}`, err: ErrPayloadNotObjectOrNull},
	{name: "init payload string", proto: ProtoTransportWS, in: `{"type":"connection_init","payload":"x"}`, err: ErrPayloadNotObjectOrNull},
	{name: "ping", proto: ProtoTransportWS, in: `{"type":"ping"}`, want: msgView{Type: TypePing}},
	{name: "ping payload", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"t":1}}`,
		want: msgView{Type: TypePing, Payload: strv(`{"t":1}`)}},
	{name: "ping payload number", proto: ProtoTransportWS, in: `{"type":"ping","payload":1}`, err: ErrPayloadNotObjectOrNull},
	{name: "pong", proto: ProtoTransportWS, in: "{\"type\":\"pong\"}\n", want: msgView{Type: TypePong}},
	{name: "pong payload false", proto: ProtoTransportWS, in: `{"type":"pong","payload":false}`, err: ErrPayloadNotObjectOrNull},

	// subscribe.
	{name: "subscribe graphql-ws client", proto: ProtoTransportWS,
		in: `{"id":"2d6a5d8e-7d1b-4f3a-9c3e-1f2a3b4c5d6e","type":"subscribe","payload":{"query":"subscription { greetings }"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("2d6a5d8e-7d1b-4f3a-9c3e-1f2a3b4c5d6e"),
			Payload: strv(`{"query":"subscription { greetings }"}`), Query: strv("subscription { greetings }")}},
	{name: "subscribe all fields", proto: ProtoTransportWS,
		in: `{"type":"subscribe","id":"1","payload":{"operationName":"OnMsg","query":"subscription OnMsg($r: ID!) { m(room: $r) { id } }","variables":{"r":"7"},"extensions":{"persistedQuery":{"version":1}}}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("1"),
			Payload:       strv(`{"operationName":"OnMsg","query":"subscription OnMsg($r: ID!) { m(room: $r) { id } }","variables":{"r":"7"},"extensions":{"persistedQuery":{"version":1}}}`),
			Query:         strv("subscription OnMsg($r: ID!) { m(room: $r) { id } }"),
			OperationName: strv("OnMsg"), Variables: strv(`{"r":"7"}`), Extensions: strv(`{"persistedQuery":{"version":1}}`)}},
	{name: "subscribe nulls", proto: ProtoTransportWS,
		in: `{"type":"subscribe","id":"1","payload":{"query":"q","operationName":null,"variables":null,"extensions":null}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("1"),
			Payload: strv(`{"query":"q","operationName":null,"variables":null,"extensions":null}`), Query: strv("q")}},
	{name: "subscribe empty query", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":""}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("1"), Payload: strv(`{"query":""}`), Query: strv("")}},
	{name: "subscribe escapes", proto: ProtoTransportWS,
		in: `{"type":"subscribe","id":"a\"b\\c\/d\u00e9\ud83d\ude00","payload":{"query":"subscription {\n\tx\r\n}\b\f","operationName":"Caf\u00E9"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("a\"b\\c/dé😀"),
			Payload: strv(`{"query":"subscription {\n\tx\r\n}\b\f","operationName":"Caf\u00E9"}`),
			Query:   strv("subscription {\n\tx\r\n}\b\f"), OperationName: strv("Café")}},
	{name: "subscribe lone surrogates", proto: ProtoTransportWS,
		in:   `{"type":"subscribe","id":"\ud800x\udc00\ud800\u0041","payload":{"query":"q"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("\uFFFDx\uFFFD\uFFFDA"), Payload: strv(`{"query":"q"}`), Query: strv("q")}},
	{name: "subscribe raw utf8", proto: ProtoTransportWS,
		in:   `{"type":"subscribe","id":"ü\u2028","payload":{"query":"{ é }"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("ü\u2028"), Payload: strv(`{"query":"{ é }"}`), Query: strv("{ é }")}},
	{name: "escaped keys", proto: ProtoTransportWS,
		in:   `{"\u0074ype":"sub\u0073cribe","i\u0064":"1","payload":{"\u0071uery":"q"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("1"), Payload: strv(`{"\u0071uery":"q"}`), Query: strv("q")}},
	{name: "duplicate keys last wins", proto: ProtoTransportWS,
		in:   `{"type":"ping","id":"1","id":"2","type":"subscribe","payload":{"query":"a","variables":{"x":1}},"payload":{"query":"b"}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("2"), Payload: strv(`{"query":"b"}`), Query: strv("b")}},
	{name: "nested query ignored", proto: ProtoTransportWS,
		in: `{"type":"subscribe","id":"1","query":"top","payload":{"query":"q","variables":{"query":"nested","id":"x"}}}`,
		want: msgView{Type: TypeSubscribe, ID: strv("1"), Payload: strv(`{"query":"q","variables":{"query":"nested","id":"x"}}`),
			Query: strv("q"), Variables: strv(`{"query":"nested","id":"x"}`)}},
	{name: "subscribe without id", proto: ProtoTransportWS, in: `{"type":"subscribe","payload":{"query":"q"}}`, err: ErrIDNotString},
	{name: "subscribe numeric id", proto: ProtoTransportWS, in: `{"type":"subscribe","id":1,"payload":{"query":"q"}}`, err: ErrIDNotString},
	{name: "subscribe empty id", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"","payload":{"query":"q"}}`, err: ErrIDEmpty, want: msgView{ID: strv("")}},
	{name: "subscribe no payload", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1"}`, err: ErrPayloadNotObject, want: msgView{ID: strv("1")}},
	{name: "subscribe null payload", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":null}`, err: ErrPayloadNotObject, want: msgView{ID: strv("1")}},
	{name: "subscribe array payload", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":[]}`, err: ErrPayloadNotObject, want: msgView{ID: strv("1")}},
	{name: "subscribe no query", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{}}`, err: ErrQueryNotString, want: msgView{ID: strv("1")}},
	{name: "subscribe null query", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":null}}`, err: ErrQueryNotString, want: msgView{ID: strv("1")}},
	{name: "subscribe object query", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":{}}}`, err: ErrQueryNotString, want: msgView{ID: strv("1")}},
	{name: "subscribe operationName number", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":"q","operationName":1}}`, err: ErrOperationNameNotString, want: msgView{ID: strv("1")}},
	{name: "subscribe variables array", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":"q","variables":[]}}`, err: ErrVariablesNotObject, want: msgView{ID: strv("1")}},
	{name: "subscribe variables string", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":"q","variables":"{}"}}`, err: ErrVariablesNotObject, want: msgView{ID: strv("1")}},
	{name: "subscribe extensions true", proto: ProtoTransportWS, in: `{"type":"subscribe","id":"1","payload":{"query":"q","extensions":true}}`, err: ErrExtensionsNotObject, want: msgView{ID: strv("1")}},

	// complete.
	{name: "complete", proto: ProtoTransportWS, in: `{"id":"7","type":"complete"}`, want: msgView{Type: TypeComplete, ID: strv("7")}},
	{name: "complete without id", proto: ProtoTransportWS, in: `{"type":"complete"}`, err: ErrIDNotString},
	{name: "complete null id", proto: ProtoTransportWS, in: `{"type":"complete","id":null}`, err: ErrIDNotString},
	{name: "complete empty id", proto: ProtoTransportWS, in: `{"type":"complete","id":""}`, err: ErrIDEmpty, want: msgView{ID: strv("")}},

	// type.
	{name: "unknown type", proto: ProtoTransportWS, in: `{"type":"foo"}`, reason: `Unknown message type "foo"`},
	{name: "server type from client", proto: ProtoTransportWS, in: `{"type":"next","id":"1","payload":{}}`, reason: `Unknown message type "next"`, want: msgView{ID: strv("1")}},
	{name: "legacy type on transport-ws", proto: ProtoTransportWS, in: `{"type":"start","id":"1","payload":{"query":"q"}}`, reason: `Unknown message type "start"`, want: msgView{ID: strv("1")}},
	{name: "unknown type quoted", proto: ProtoTransportWS, in: `{"type":"a\"\n\u0000"}`, reason: `Unknown message type "a\"\n\x00"`},
	{name: "unknown type truncated", proto: ProtoTransportWS, in: `{"type":"` + strings.Repeat("x", 23) + `éééé"}`,
		reason: `Unknown message type "` + strings.Repeat("x", 23) + `"`},
	{name: "missing type", proto: ProtoTransportWS, in: `{"id":"1"}`, err: ErrMissingType},
	{name: "null type", proto: ProtoTransportWS, in: `{"type":null}`, err: ErrMissingType},
	{name: "empty type", proto: ProtoTransportWS, in: `{"type":""}`, err: ErrMissingType},
	{name: "numeric type", proto: ProtoTransportWS, in: `{"type":1}`, err: ErrTypeNotString},
	{name: "object type", proto: ProtoTransportWS, in: `{"type":{"a":1}}`, err: ErrTypeNotString},
	{name: "case-sensitive type", proto: ProtoTransportWS, in: `{"type":"Ping"}`, reason: `Unknown message type "Ping"`},
	{name: "case-sensitive key", proto: ProtoTransportWS, in: `{"Type":"ping"}`, err: ErrMissingType},

	// Not JSON, not an object.
	{name: "empty", proto: ProtoTransportWS, in: ``, err: ErrInvalidMessage},
	{name: "whitespace", proto: ProtoTransportWS, in: " \n\t", err: ErrInvalidMessage},
	{name: "truncated", proto: ProtoTransportWS, in: `{"type":"ping"`, err: ErrInvalidMessage},
	{name: "trailing data", proto: ProtoTransportWS, in: `{"type":"ping"} {}`, err: ErrInvalidMessage},
	{name: "trailing comma", proto: ProtoTransportWS, in: `{"type":"ping",}`, err: ErrInvalidMessage},
	{name: "array trailing comma", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":[1,]}}`, err: ErrInvalidMessage},
	{name: "single quotes", proto: ProtoTransportWS, in: `{'type':'ping'}`, err: ErrInvalidMessage},
	{name: "unquoted key", proto: ProtoTransportWS, in: `{type:"ping"}`, err: ErrInvalidMessage},
	{name: "missing colon", proto: ProtoTransportWS, in: `{"type" "ping"}`, err: ErrInvalidMessage},
	{name: "NaN", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":NaN}}`, err: ErrInvalidMessage},
	{name: "leading zero", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":01}}`, err: ErrInvalidMessage},
	{name: "bare dot", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":1.}}`, err: ErrInvalidMessage},
	{name: "bare exponent", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":1e}}`, err: ErrInvalidMessage},
	{name: "plus sign", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":+1}}`, err: ErrInvalidMessage},
	{name: "lone minus", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":-}}`, err: ErrInvalidMessage},
	{name: "numbers", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":[0,-0,-1.5e-3,1E+2,10.01]}}`,
		want: msgView{Type: TypePing, Payload: strv(`{"a":[0,-0,-1.5e-3,1E+2,10.01]}`)}},
	{name: "literals", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":[true,false,null]}}`,
		want: msgView{Type: TypePing, Payload: strv(`{"a":[true,false,null]}`)}},
	{name: "bad literal", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":tru}}`, err: ErrInvalidMessage},
	{name: "raw control char", proto: ProtoTransportWS, in: "{\"type\":\"ping\",\"payload\":{\"a\":\"x\ny\"}}", err: ErrInvalidMessage},
	{name: "bad escape", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":"\x41"}}`, err: ErrInvalidMessage},
	{name: "short unicode escape", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":"\u12"}}`, err: ErrInvalidMessage},
	{name: "bad hex", proto: ProtoTransportWS, in: `{"type":"ping","payload":{"a":"\u12G4"}}`, err: ErrInvalidMessage},
	{name: "unterminated string", proto: ProtoTransportWS, in: `{"type":"ping`, err: ErrInvalidMessage},
	{name: "invalid utf-8", proto: ProtoTransportWS, in: "{\"type\":\"ping\",\"payload\":{\"a\":\"\xff\"}}", err: ErrInvalidUTF8},
	{name: "array", proto: ProtoTransportWS, in: `[{"type":"ping"}]`, err: ErrNotObject},
	{name: "string", proto: ProtoTransportWS, in: `"ping"`, err: ErrNotObject},
	{name: "number", proto: ProtoTransportWS, in: `1`, err: ErrNotObject},
	{name: "null", proto: ProtoTransportWS, in: `null`, err: ErrNotObject},
	{name: "max nesting", proto: ProtoTransportWS,
		in:   `{"type":"ping","payload":{"a":` + strings.Repeat("[", jsonMaxDepth-2) + strings.Repeat("]", jsonMaxDepth-2) + `}}`,
		want: msgView{Type: TypePing, Payload: strv(`{"a":` + strings.Repeat("[", jsonMaxDepth-2) + strings.Repeat("]", jsonMaxDepth-2) + `}`)}},
	{name: "too deep", proto: ProtoTransportWS,
		in:  `{"type":"ping","payload":{"a":` + strings.Repeat("[", jsonMaxDepth-1) + strings.Repeat("]", jsonMaxDepth-1) + `}}`,
		err: ErrInvalidMessage},
	{name: "unknown protocol", proto: 0, in: `{"type":"ping"}`, err: ErrUnknownProtocol},
	{name: "unknown protocol 4", proto: 4, in: `{"type":"ping"}`, err: ErrUnknownProtocol},

	// Legacy subscriptions-transport-ws.
	{name: "legacy init", proto: ProtoLegacy, in: `{"type":"connection_init","payload":{}}`,
		want: msgView{Type: TypeConnectionInit, Payload: strv(`{}`)}},
	{name: "legacy init no payload", proto: ProtoLegacy, in: `{"type":"connection_init"}`, want: msgView{Type: TypeConnectionInit}},
	{name: "legacy init bad payload", proto: ProtoLegacy, in: `{"type":"connection_init","payload":"token"}`, err: ErrPayloadNotObjectOrNull},
	{name: "legacy start apollo", proto: ProtoLegacy,
		in: `{"id":"1","type":"start","payload":{"variables":{},"extensions":{},"operationName":null,"query":"subscription {\n  onMessage {\n    id\n    __typename\n  }\n}\n"}}`,
		want: msgView{Type: TypeStart, ID: strv("1"),
			Payload:   strv(`{"variables":{},"extensions":{},"operationName":null,"query":"subscription {\n  onMessage {\n    id\n    __typename\n  }\n}\n"}`),
			Query:     strv("subscription {\n  onMessage {\n    id\n    __typename\n  }\n}\n"),
			Variables: strv(`{}`), Extensions: strv(`{}`)}},
	{name: "legacy start empty id", proto: ProtoLegacy, in: `{"id":"","type":"start","payload":{"query":"q"}}`,
		want: msgView{Type: TypeStart, ID: strv(""), Payload: strv(`{"query":"q"}`), Query: strv("q")}},
	{name: "legacy start no id", proto: ProtoLegacy, in: `{"type":"start","payload":{"query":"q"}}`, err: ErrIDNotString},
	{name: "legacy start no payload", proto: ProtoLegacy, in: `{"id":"1","type":"start"}`, err: ErrPayloadNotObject, want: msgView{ID: strv("1")}},
	{name: "legacy start no query", proto: ProtoLegacy, in: `{"id":"1","type":"start","payload":{"variables":{}}}`, err: ErrQueryNotString, want: msgView{ID: strv("1")}},
	{name: "legacy stop", proto: ProtoLegacy, in: `{"id":"1","type":"stop"}`, want: msgView{Type: TypeStop, ID: strv("1")}},
	{name: "legacy stop no id", proto: ProtoLegacy, in: `{"type":"stop"}`, err: ErrIDNotString},
	{name: "legacy terminate", proto: ProtoLegacy, in: `{"type":"connection_terminate"}`, want: msgView{Type: TypeConnectionTerminate}},
	{name: "legacy unknown type keeps id", proto: ProtoLegacy, in: `{"id":"9","type":"subscribe","payload":{"query":"q"}}`,
		reason: `Unknown message type "subscribe"`, want: msgView{ID: strv("9")}},
	{name: "legacy ping unknown", proto: ProtoLegacy, in: `{"type":"ping"}`, reason: `Unknown message type "ping"`},

	// GraphQL over SSE request bodies.
	{name: "sse request", proto: ProtoSSE,
		in:   `{"query":"subscription($n:Int){c(n:$n)}","variables":{"n":3},"operationName":null,"extensions":{"e":1},"id":"ignored"}`,
		want: msgView{Type: TypeSubscribe, Query: strv("subscription($n:Int){c(n:$n)}"), Variables: strv(`{"n":3}`), Extensions: strv(`{"e":1}`)}},
	{name: "sse nested payload ignored", proto: ProtoSSE, in: `{"query":"q","payload":{"query":"inner"}}`,
		want: msgView{Type: TypeSubscribe, Query: strv("q")}},
	{name: "sse no query", proto: ProtoSSE, in: `{"variables":{}}`, err: ErrQueryNotString},
	{name: "sse bad variables", proto: ProtoSSE, in: `{"query":"q","variables":[1]}`, err: ErrVariablesNotObject},
	{name: "sse array body", proto: ProtoSSE, in: `[]`, err: ErrNotObject},
}

func TestParse(t *testing.T) {
	t.Parallel()
	var p Parser // one Parser for all cases: no state leaks between messages
	for _, tc := range parseCases {
		var m ClientMessage
		m.Query = []byte("stale") // Parse must overwrite every field
		err := p.Parse(tc.proto, []byte(tc.in), &m)
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.err != nil:
				require.ErrorIs(t, err, tc.err)
				require.Equal(t, tc.want, msgViewOf(&m))
			case tc.reason != "":
				var pe *ProtocolError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tc.reason, pe.Reason)
				require.Equal(t, "wire: "+tc.reason, err.Error())
				require.ErrorIs(t, err, ErrUnknownType)
				require.NotErrorIs(t, err, ErrInvalidMessage)
				require.Equal(t, tc.want, msgViewOf(&m))
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want, msgViewOf(&m))
			}
		})
	}
}

// TestParseOracle checks every table input against encoding/json and the
// oracle's restatement of the rules, so the two stay in agreement.
func TestParseOracle(t *testing.T) {
	t.Parallel()
	var p Parser
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			for proto := Protocol(0); proto <= ProtoSSE+1; proto++ {
				checkAgainstOracle(t, &p, proto, []byte(tc.in))
			}
		})
	}
}

func TestParseAliasing(t *testing.T) {
	t.Parallel()
	t.Run("unescaped fields alias the input", func(t *testing.T) {
		in := []byte(`{"type":"subscribe","id":"abc","payload":{"query":"q","variables":{"a":1}}}`)
		var p Parser
		var m ClientMessage
		require.NoError(t, p.Parse(ProtoTransportWS, in, &m))
		in[len(`{"type":"subscribe","id":"`)] = 'X'
		require.Equal(t, "Xbc", string(m.ID))
	})
	t.Run("escaped fields survive input changes and appends", func(t *testing.T) {
		in := []byte(`{"type":"subscribe","id":"a\nb","payload":{"query":"q\tq","operationName":"o\"p"}}`)
		var p Parser
		var m ClientMessage
		require.NoError(t, p.Parse(ProtoTransportWS, in, &m))
		clear(in)
		_ = append(m.ID, "zzzzzzzz"...) // capacity-limited: must not clobber Query
		require.Equal(t, "a\nb", string(m.ID))
		require.Equal(t, "q\tq", string(m.Query))
		require.Equal(t, "o\"p", string(m.OperationName))
	})
	t.Run("parser does not retain input", func(t *testing.T) {
		var p Parser
		var m ClientMessage
		require.NoError(t, p.Parse(ProtoTransportWS, []byte(`{"type":"ping"}`), &m))
		require.Nil(t, p.data)
		require.Nil(t, p.sc.data)
	})
}

func TestProtocolAndTypeNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    Protocol
		want string
	}{
		{ProtoTransportWS, "graphql-transport-ws"},
		{ProtoLegacy, "graphql-ws"},
		{ProtoSSE, "sse"},
		{0, "Protocol(0)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.p.String())
			got, ok := ProtocolForSubprotocol(tc.want)
			if tc.p == ProtoTransportWS || tc.p == ProtoLegacy {
				require.True(t, ok)
				require.Equal(t, tc.p, got)
			} else {
				require.False(t, ok)
			}
		})
	}
	names := map[MessageType]string{
		TypeConnectionInit: "connection_init", TypePing: "ping", TypePong: "pong", TypeSubscribe: "subscribe",
		TypeComplete: "complete", TypeStart: "start", TypeStop: "stop", TypeConnectionTerminate: "connection_terminate",
		0: "MessageType(0)",
	}
	for mt, want := range names {
		t.Run(want, func(t *testing.T) { require.Equal(t, want, mt.String()) })
	}
}

func TestProtocolErrorUnwrap(t *testing.T) {
	t.Parallel()
	require.Nil(t, ErrInvalidMessage.Unwrap())
	require.Nil(t, (&ProtocolError{Reason: "custom"}).Unwrap())
	require.NotErrorIs(t, ErrInvalidMessage, ErrUnknownType)
	require.NotErrorIs(t, &ProtocolError{Reason: ErrUnknownType.Reason}, ErrUnknownType)
	require.ErrorIs(t, ErrUnknownType, ErrUnknownType)
}

func TestParserScratchBound(t *testing.T) {
	t.Parallel()
	var p Parser
	var m ClientMessage
	big := `{"type":"subscribe","id":"a\nb","payload":{"query":"` + strings.Repeat("x", 2*parserMaxScratch) + `"}}`
	require.NoError(t, p.Parse(ProtoTransportWS, []byte(big), &m))
	require.Greater(t, cap(p.scratch), parserMaxScratch)
	id := m.ID

	require.NoError(t, p.Parse(ProtoTransportWS, []byte(`{"type":"complete","id":"c\nd"}`), &m))
	require.LessOrEqual(t, cap(p.scratch), parserMaxScratch)
	require.Equal(t, "c\nd", string(m.ID))
	require.Equal(t, "a\nb", string(id), "slices from the dropped scratch stay valid")
}
