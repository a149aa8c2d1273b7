//go:build !race

package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAllocs(t *testing.T) {
	cases := []struct {
		name  string
		proto Protocol
		msg   string
	}{
		{"subscribe", ProtoTransportWS, benchSubscribe},
		{"subscribe escaped", ProtoTransportWS, `{"id":"a\"b\u00e9","type":"subscribe","payload":{"query":"subscription {\n  m(room: \"r\") { id }\n}","operationName":"O\tP","variables":{"r":"x\ny"}}}`},
		{"ping", ProtoTransportWS, `{"type":"ping","payload":{"t":1}}`},
		{"complete", ProtoTransportWS, `{"id":"1","type":"complete"}`},
		{"legacy start", ProtoLegacy, `{"id":"1","type":"start","payload":{"variables":{},"extensions":{},"operationName":null,"query":"subscription {\n  onMessage {\n    id\n  }\n}\n"}}`},
		{"sse", ProtoSSE, `{"query":"subscription { greetings }","variables":{"a":[1,2]}}`},
		{"sentinel error", ProtoTransportWS, `{"type":"subscribe","id":"1","payload":{"query":1}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var m ClientMessage
			data := []byte(tc.msg)
			_ = p.Parse(tc.proto, data, &m) // warm up the scratch space
			allocs := testing.AllocsPerRun(100, func() {
				_ = p.Parse(tc.proto, data, &m)
			})
			require.Zero(t, allocs)
		})
	}
}
