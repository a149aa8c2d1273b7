package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// graphqlWSVerdicts is the verdict of the reference server, npm graphql-ws
// 6.4.2, on graphql-transport-ws messages: the table inputs of parse tests,
// the fuzz seeds and extra edge cases. accept means the server acts on the
// message: ws decodes the frame as UTF-8 (fatally), parseMessage (JSON.parse
// + validateMessage) succeeds and the type is one a server handles; the id,
// query and operationName are what parseMessage returned (nil: absent or
// null; lone surrogates shown as U+FFFD, as Go strings hold them).
//
// Generated with e2e/node's node_modules by running, for each input:
//
//	const text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(buf);
//	const m = parseMessage(text); // from 'graphql-ws'
//	accept = ['connection_init','ping','pong','subscribe','complete'].includes(m.type);
//
// One known divergence: JSON nested deeper than 512 levels is accepted by
// JSON.parse and rejected by Parse (a bound on hostile input).
var graphqlWSVerdicts = []struct {
	in                   string
	accept               bool
	id, query, operation any // string or nil
}{
	{`{"type":"connection_init"}`, true, nil, nil, nil},
	{`{"type":"connection_init","payload":{"token":"a b","n":[1,2.5e3,null]}}`, true, nil, nil, nil},
	{`{"type":"connection_init","payload":null}`, true, nil, nil, nil},
	{` { "payload" : { } , "type" : "connection_init" } `, true, nil, nil, nil},
	{`{"type":"connection_init","payload":[]}`, false, nil, nil, nil},
	{`{"type":"connection_init","payload":"x"}`, false, nil, nil, nil},
	{`{"type":"ping"}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"t":1}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":1}`, false, nil, nil, nil},
	{"{\"type\":\"pong\"}\n", true, nil, nil, nil},
	{`{"type":"pong","payload":false}`, false, nil, nil, nil},
	{`{"id":"2d6a5d8e-7d1b-4f3a-9c3e-1f2a3b4c5d6e","type":"subscribe","payload":{"query":"subscription { greetings }"}}`, true, strv(`2d6a5d8e-7d1b-4f3a-9c3e-1f2a3b4c5d6e`), strv(`subscription { greetings }`), nil},
	{`{"type":"subscribe","id":"1","payload":{"operationName":"OnMsg","query":"subscription OnMsg($r: ID!) { m(room: $r) { id } }","variables":{"r":"7"},"extensions":{"persistedQuery":{"version":1}}}}`, true, strv(`1`), strv(`subscription OnMsg($r: ID!) { m(room: $r) { id } }`), strv(`OnMsg`)},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","operationName":null,"variables":null,"extensions":null}}`, true, strv(`1`), strv(`q`), nil},
	{`{"type":"subscribe","id":"1","payload":{"query":""}}`, true, strv(`1`), strv(``), nil},
	{`{"type":"subscribe","id":"a\"b\\c\/d\u00e9\ud83d\ude00","payload":{"query":"subscription {\n\tx\r\n}\b\f","operationName":"Caf\u00E9"}}`, true, strv(`a"b\c/dé😀`), strv("subscription {\n\tx\r\n}\x08\x0c"), strv(`Café`)},
	{`{"type":"subscribe","id":"\ud800x\udc00\ud800\u0041","payload":{"query":"q"}}`, true, strv(`�x��A`), strv(`q`), nil},
	{`{"type":"subscribe","id":"ü\u2028","payload":{"query":"{ é }"}}`, true, strv("ü\u2028"), strv(`{ é }`), nil},
	{`{"\u0074ype":"sub\u0073cribe","i\u0064":"1","payload":{"\u0071uery":"q"}}`, true, strv(`1`), strv(`q`), nil},
	{`{"type":"ping","id":"1","id":"2","type":"subscribe","payload":{"query":"a","variables":{"x":1}},"payload":{"query":"b"}}`, true, strv(`2`), strv(`b`), nil},
	{`{"type":"subscribe","id":"1","query":"top","payload":{"query":"q","variables":{"query":"nested","id":"x"}}}`, true, strv(`1`), strv(`q`), nil},
	{`{"type":"subscribe","payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":1,"payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"","payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1"}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":null}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":[]}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":null}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":{}}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","operationName":1}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","variables":[]}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","variables":"{}"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","extensions":true}}`, false, nil, nil, nil},
	{`{"id":"7","type":"complete"}`, true, strv(`7`), nil, nil},
	{`{"type":"complete"}`, false, nil, nil, nil},
	{`{"type":"complete","id":null}`, false, nil, nil, nil},
	{`{"type":"complete","id":""}`, false, nil, nil, nil},
	{`{"type":"foo"}`, false, nil, nil, nil},
	{`{"type":"next","id":"1","payload":{}}`, false, nil, nil, nil},
	{`{"type":"start","id":"1","payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"a\"\n\u0000"}`, false, nil, nil, nil},
	{`{"type":"xxxxxxxxxxxxxxxxxxxxxxxéééé"}`, false, nil, nil, nil},
	{`{"id":"1"}`, false, nil, nil, nil},
	{`{"type":null}`, false, nil, nil, nil},
	{`{"type":""}`, false, nil, nil, nil},
	{`{"type":1}`, false, nil, nil, nil},
	{`{"type":{"a":1}}`, false, nil, nil, nil},
	{`{"type":"Ping"}`, false, nil, nil, nil},
	{`{"Type":"ping"}`, false, nil, nil, nil},
	{``, false, nil, nil, nil},
	{" \n\t", false, nil, nil, nil},
	{`{"type":"ping"`, false, nil, nil, nil},
	{`{"type":"ping"} {}`, false, nil, nil, nil},
	{`{"type":"ping",}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[1,]}}`, false, nil, nil, nil},
	{`{'type':'ping'}`, false, nil, nil, nil},
	{`{type:"ping"}`, false, nil, nil, nil},
	{`{"type" "ping"}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":NaN}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":01}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":1.}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":1e}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":+1}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":-}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[0,-0,-1.5e-3,1E+2,10.01]}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[true,false,null]}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"a":tru}}`, false, nil, nil, nil},
	{"{\"type\":\"ping\",\"payload\":{\"a\":\"x\ny\"}}", false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":"\x41"}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":"\u12"}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":"\u12G4"}}`, false, nil, nil, nil},
	{`{"type":"ping`, false, nil, nil, nil},
	{"{\"type\":\"ping\",\"payload\":{\"a\":\"\xff\"}}", false, nil, nil, nil},
	{`[{"type":"ping"}]`, false, nil, nil, nil},
	{`"ping"`, false, nil, nil, nil},
	{`1`, false, nil, nil, nil},
	{`null`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`, true, nil, nil, nil},
	{`{"type":"connection_init","payload":{"Authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}}`, true, nil, nil, nil},
	{`{"type":"pong","payload":{"latency":3}}`, true, nil, nil, nil},
	{`{"id":"4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c","type":"subscribe","payload":{"query":"subscription { greetings }"}}`, true, strv(`4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c`), strv(`subscription { greetings }`), nil},
	{`{"id":"1","type":"subscribe","payload":{"query":"subscription OnReview($ep: Episode!) {\n  reviewAdded(episode: $ep) {\n    stars\n    commentary\n  }\n}","operationName":"OnReview","variables":{"ep":"JEDI"},"extensions":{}}}`, true, strv(`1`), strv("subscription OnReview($ep: Episode!) {\n  reviewAdded(episode: $ep) {\n    stars\n    commentary\n  }\n}"), strv(`OnReview`)},
	{`{"id":"1","type":"complete"}`, true, strv(`1`), nil, nil},
	{`{"type":"subscribe","id":"a\"\\\u00e9\ud83d\ude00","payload":{"query":"q"}}`, true, strv(`a"\é😀`), strv(`q`), nil},
	{`{"type":"next","id":"1","payload":{"data":{}}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[1,-2.5e+3,true,false,null,"\u0000"]}}`, true, nil, nil, nil},
	{`[`, false, nil, nil, nil},
	{"{\"type\":\"\xff\"}", false, nil, nil, nil},
	{`{"type":false}`, false, nil, nil, nil},
	{`{"type":0}`, false, nil, nil, nil},
	{`{"type":true}`, false, nil, nil, nil},
	{`{"type":[]}`, false, nil, nil, nil},
	{`{"type":"ping","payload":[]}`, false, nil, nil, nil},
	{`{"type":"pong","payload":[1]}`, false, nil, nil, nil},
	{`{"type":"connection_init","payload":0}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","operationName":""}}`, true, strv(`1`), strv(`q`), strv(``)},
	{`{"type":"subscribe","id":" ","payload":{"query":"q"}}`, true, strv(` `), strv(`q`), nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","variables":{},"extensions":{}}}`, true, strv(`1`), strv(`q`), nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","operationName":false}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","variables":0}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","variables":false}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","extensions":[]}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":true,"payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":["1"],"payload":{"query":"q"}}`, false, nil, nil, nil},
	{`{"type":"complete","id":0}`, false, nil, nil, nil},
	{`{"type":"connection_ack"}`, false, nil, nil, nil},
	{`{"type":"error","id":"1","payload":[]}`, false, nil, nil, nil},
	{`{"type":"ping","payload":null,"extra":[1,{"a":null}]}`, true, nil, nil, nil},
	{"\ufeff{\"type\":\"ping\"}", false, nil, nil, nil},
	{"{\"type\":\"ping\"}\u00a0", false, nil, nil, nil},
	{`{"type":"ping","payload":{"n":1.0e+400}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"n":-0.0}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"s":"\u0000\uFFFF\uD800"}}`, true, nil, nil, nil},
	{`{"type":"subscribe","id":"\ud800","payload":{"query":"\udfff"}}`, true, strv(`�`), strv(`�`), nil},
	{`{"type":"subscribe","id":"\u0000","payload":{"query":"\u0000"}}`, true, strv("\x00"), strv("\x00"), nil},
	{"{\"type\":\"ping\",\"payload\":{\"a\":\"\x7f\"}}", true, nil, nil, nil},
	{"{\"type\":\"ping\",\"payload\":{\"a\":\"\u2028\"}}", true, nil, nil, nil},
	{"\t\r\n {\"type\":\"ping\"} \t\r\n", true, nil, nil, nil},
	{"{\"type\":\"ping\",\"payload\":{}}\x00", false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":1,}}`, false, nil, nil, nil},
	{`{"type":"ping",,"payload":{}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":[1 2]}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":.5}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":1e5}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"a":1E-5}}`, true, nil, nil, nil},
	{`{"type":"ping","payload":{"a":0x10}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":Infinity}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":undefined}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":"\'"}}`, false, nil, nil, nil},
	{`{"type":"ping","payload":{"a":"\a"}}`, false, nil, nil, nil},
	{`{"__proto__":{"type":"ping"}}`, false, nil, nil, nil},
	{`{"type":"subscribe","id":"1","payload":{"query":"q","__proto__":{"variables":[]}}}`, true, strv(`1`), strv(`q`), nil},
	{`{"type":"subscribe","id":"1","payload":{"__proto__":{"query":"q"}}}`, false, nil, nil, nil},
}

func TestParseMatchesGraphQLWS(t *testing.T) {
	t.Parallel()
	var p Parser
	for i, v := range graphqlWSVerdicts {
		var m ClientMessage
		err := p.Parse(ProtoTransportWS, []byte(v.in), &m)
		accept := v.accept
		if oracleNesting([]byte(v.in)) > jsonMaxDepth {
			accept = false // the documented divergence
		}
		if !accept {
			require.Error(t, err, "case %d: %q", i, v.in)
			continue
		}
		require.NoError(t, err, "case %d: %q", i, v.in)
		require.Equal(t, v.id, viewBytes(m.ID), "case %d: %q", i, v.in)
		require.Equal(t, v.query, viewBytes(m.Query), "case %d: %q", i, v.in)
		require.Equal(t, v.operation, viewBytes(m.OperationName), "case %d: %q", i, v.in)
	}
	require.Len(t, graphqlWSVerdicts, 135)
}
