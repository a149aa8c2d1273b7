//go:build !race

package wire

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServerEncodersAllocs(t *testing.T) {
	id := []byte("4e8a0c4b-3f1d-\"4a52\"-8c9e")
	payload := []byte(`{"data":{"messageAdded":{"id":"1","text":"hi"}}}`)
	prefix := AppendNextPrefix(nil, ProtoTransportWS, id)
	big := bytes.Repeat([]byte("1"), 1000)
	buf := make([]byte, 0, 4096)
	cases := []struct {
		name string
		fn   func()
	}{
		{"AppendWSDelivery", func() { buf = AppendWSDelivery(buf[:0], prefix, payload) }},
		{"AppendWSDelivery 16-bit length", func() { buf = AppendWSDelivery(buf[:0], prefix, big) }},
		{"AppendNextPrefix", func() { buf = AppendNextPrefix(buf[:0], ProtoTransportWS, id) }},
		{"AppendNextPrefix legacy", func() { buf = AppendNextPrefix(buf[:0], ProtoLegacy, id) }},
		{"AppendNext", func() { buf = AppendNext(buf[:0], ProtoTransportWS, id, payload) }},
		{"AppendComplete", func() { buf = AppendComplete(buf[:0], ProtoTransportWS, id) }},
		{"AppendError", func() { buf = AppendError(buf[:0], id, []byte(`[]`)) }},
		{"AppendLegacyError", func() { buf = AppendLegacyError(buf[:0], id, payload) }},
		{"AppendConnectionAck", func() { buf = AppendConnectionAck(buf[:0], payload) }},
		{"AppendPing", func() { buf = AppendPing(buf[:0], nil) }},
		{"AppendPong", func() { buf = AppendPong(buf[:0], nil) }},
		{"AppendKeepAlive", func() { buf = AppendKeepAlive(buf[:0]) }},
		{"AppendConnectionError", func() { buf = AppendConnectionError(buf[:0], "bad \"token\"") }},
		{"AppendJSONString", func() { buf = AppendJSONString(buf[:0], []byte("a\"\n\xffé")) }},
		{"AppendJSONStringString", func() { buf = AppendJSONStringString(buf[:0], "a\"\n\xffé") }},
		{"AppendSSEEvent", func() { buf = AppendSSEEvent(buf[:0], "next", []byte("a\nb\r\nc")) }},
		{"AppendSSEComment", func() { buf = AppendSSEComment(buf[:0], "keep-alive") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Zero(t, testing.AllocsPerRun(100, tc.fn))
		})
	}
}
