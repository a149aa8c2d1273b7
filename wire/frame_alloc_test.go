//go:build !race

package wire

import (
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

func TestFrameAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	masked := []byte{0x81, 0x80 | 126, 0x01, 0x00, 1, 2, 3, 4}
	payload := make([]byte, 300)
	closePayload := []byte{0x03, 0xE8, 'b', 'y', 'e'}
	var sink int
	cases := []struct {
		name string
		fn   func()
	}{
		{"AppendFrameHeader 7-bit", func() { buf = AppendFrameHeader(buf[:0], ws.OpText, 100) }},
		{"AppendFrameHeader 16-bit", func() { buf = AppendFrameHeader(buf[:0], ws.OpText, 1000) }},
		{"AppendFrameHeader 64-bit", func() { buf = AppendFrameHeader(buf[:0], ws.OpBinary, 1<<20) }},
		{"AppendTextFrame", func() { buf = AppendTextFrame(buf[:0], payload[:100]) }},
		{"AppendCloseFrame", func() { buf = AppendCloseFrame(buf[:0], 4400, "Invalid message received") }},
		{"ParseFrameHeader", func() {
			h, n, _, _ := ParseFrameHeader(masked)
			sink += n + int(h.Length)
		}},
		{"ParseFrameHeader error", func() {
			_, _, _, err := ParseFrameHeader([]byte{0xC1, 0x80})
			if err != nil {
				sink++
			}
		}},
		{"Unmask", func() { Unmask(payload, [4]byte{1, 2, 3, 4}, 3) }},
		{"ParseCloseFrameData", func() {
			code, reason, _ := ParseCloseFrameData(closePayload)
			sink += int(code) + len(reason)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Zero(t, testing.AllocsPerRun(100, tc.fn))
		})
	}
	require.NotZero(t, sink)
}
