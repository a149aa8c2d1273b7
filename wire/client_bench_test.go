package wire

import "testing"

const benchSubscribe = `{"id":"4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c","type":"subscribe","payload":{"query":"subscription OnMessage($room: ID!) { messageAdded(room: $room) { id text author { name } } }","operationName":"OnMessage","variables":{"room":"lobby"}}}`

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name  string
		proto Protocol
		msg   string
	}{
		{"subscribe", ProtoTransportWS, benchSubscribe},
		{"subscribe_escaped", ProtoTransportWS, `{"id":"1","type":"subscribe","payload":{"query":"subscription OnMessage($room: ID!) {\n  messageAdded(room: $room) {\n    id\n    text\n  }\n}","variables":{"room":"lobby"}}}`},
		{"complete", ProtoTransportWS, `{"id":"4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c","type":"complete"}`},
		{"ping", ProtoTransportWS, `{"type":"ping"}`},
		{"legacy_start", ProtoLegacy, `{"id":"1","type":"start","payload":{"variables":{},"extensions":{},"operationName":null,"query":"subscription {\n  onMessage {\n    id\n    __typename\n  }\n}\n"}}`},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var p Parser
			var m ClientMessage
			data := []byte(tc.msg)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := p.Parse(tc.proto, data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
