package wire

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/gobwas/ws"
)

func BenchmarkAppendWSDelivery(b *testing.B) {
	prefix := AppendNextPrefix(nil, ProtoTransportWS, []byte("4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c"))
	for _, n := range []int{100, 1000} {
		b.Run("payload="+strconv.Itoa(n), func(b *testing.B) {
			payload := bytes.Repeat([]byte("1"), n)
			buf := make([]byte, 0, n+len(prefix)+ws.MaxHeaderSize)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				buf = AppendWSDelivery(buf[:0], prefix, payload)
			}
		})
	}
}

func BenchmarkAppendNextPrefix(b *testing.B) {
	id := []byte("4e8a0c4b-3f1d-4a52-8c9e-2a7b6d0f1e3c")
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(id)))
	for b.Loop() {
		buf = AppendNextPrefix(buf[:0], ProtoTransportWS, id)
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	cases := []struct{ name, s string }{
		{"ascii", "subscription OnMessage($room: ID!) { messageAdded(room: $room) { id text } }"},
		{"escapes", "line one\nline \"two\"\ttabbed\\"},
		{"utf8", "Grüße aus Köln — 東京 😀 Grüße aus Köln"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s := []byte(tc.s)
			buf := make([]byte, 0, 4*len(s)+2)
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				buf = AppendJSONString(buf[:0], s)
			}
		})
	}
}
