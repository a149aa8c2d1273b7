package wire

import (
	"testing"
)

// parseSeeds are messages as real clients send them: npm graphql-ws
// (graphql-transport-ws), Apollo's legacy WebSocketLink and StrawberryShake
// (subscriptions-transport-ws), and graphql-sse request bodies.
var parseSeeds = []struct {
	proto Protocol
	msg   string
}{
	{ProtoTransportWS, `{"type":"connection_init"}`},
	{ProtoTransportWS, `{"type":"connection_init","payload":{"Authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}}`},
	{ProtoTransportWS, `{"type":"ping"}`},
	{ProtoTransportWS, `{"type":"pong","payload":{"latency":3}}`},
	{ProtoTransportWS, `{"id":"4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c","type":"subscribe","payload":{"query":"subscription { greetings }"}}`},
	{ProtoTransportWS, `{"id":"1","type":"subscribe","payload":{"query":"subscription OnReview($ep: Episode!) {\n  reviewAdded(episode: $ep) {\n    stars\n    commentary\n  }\n}","operationName":"OnReview","variables":{"ep":"JEDI"},"extensions":{}}}`},
	{ProtoTransportWS, `{"id":"1","type":"complete"}`},
	{ProtoTransportWS, `{"type":"subscribe","id":"a\"\\\u00e9\ud83d\ude00","payload":{"query":"q"}}`},
	{ProtoTransportWS, `{"type":"next","id":"1","payload":{"data":{}}}`},
	{ProtoLegacy, `{"type":"connection_init","payload":{}}`},
	{ProtoLegacy, `{"id":"1","type":"start","payload":{"variables":{},"extensions":{},"operationName":null,"query":"subscription {\n  onMessage {\n    id\n    __typename\n  }\n}\n"}}`},
	{ProtoLegacy, `{"id":"2","type":"start","payload":{"query":"subscription OnBook { onBookAdded { title } }","operationName":"OnBook","variables":{}}}`},
	{ProtoLegacy, `{"id":"1","type":"stop"}`},
	{ProtoLegacy, `{"type":"connection_terminate"}`},
	{ProtoSSE, `{"query":"subscription { greetings }","variables":null,"operationName":null,"extensions":null}`},
	{ProtoTransportWS, `{"type":"ping","payload":{"a":[1,-2.5e+3,true,false,null,"\u0000"]}}`},
	{ProtoTransportWS, `[`},
	{ProtoTransportWS, "{\"type\":\"\xff\"}"},
}

// FuzzParse checks that Parse never panics and that it agrees with the
// encoding/json oracle on every input: the same verdict, the same reason
// family, and, when it succeeds, the same field values.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(uint8(s.proto), []byte(s.msg))
	}
	var p Parser
	f.Fuzz(func(t *testing.T, proto uint8, data []byte) {
		checkAgainstOracle(t, &p, Protocol(proto%5), data)
	})
}
