package wire

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// FuzzFrameHeader compares ParseFrameHeader with gobwas/ws's blocking
// ReadHeader on arbitrary bytes.
func FuzzFrameHeader(f *testing.F) {
	for _, b := range [][]byte{
		{0x81, 0x85, 1, 2, 3, 4},
		{0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4},
		{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
		{0x88, 0x82, 1, 2, 3, 4},
		{0x01, 0x80, 0, 0, 0, 0},
		{0xC1, 0x80},
		{0x89, 0xFE},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, ok, err := ParseFrameHeader(b)
		if err != nil {
			require.False(t, ok)
			require.GreaterOrEqual(t, len(b), 2)
			op, l7 := ws.OpCode(b[0]&0x0F), b[1]&0x7F
			switch err {
			case ErrFrameReservedBits:
				require.NotZero(t, b[0]&0x70)
			case ErrFrameOpCode:
				require.True(t, op.IsReserved())
			case ErrFrameControlFragmented:
				require.True(t, op.IsControl())
				require.Zero(t, b[0]&0x80)
			case ErrFrameControlTooLong:
				require.True(t, op.IsControl())
				require.Greater(t, l7, byte(125))
			case ErrFrameLength:
				require.Equal(t, byte(127), l7)
				require.NotZero(t, b[2]&0x80)
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		std, stdErr := ws.ReadHeader(bytes.NewReader(b))
		if !ok {
			require.Error(t, stdErr, "gobwas read a header from %x", b)
			require.Zero(t, n)
			return
		}
		require.NoError(t, stdErr)
		require.Equal(t, std, h)
		wantN := 2 + map[byte]int{126: 2, 127: 8}[b[1]&0x7F] // the encoding used, not the minimal one
		if h.Masked {
			wantN += 4
		}
		require.Equal(t, wantN, n)
		require.False(t, h.OpCode.IsReserved())
		require.Zero(t, h.Rsv)
	})
}

// FuzzAppendCloseFrame checks that any code and reason give a close frame a
// WebSocket reader accepts, with the reason cut at a UTF-8 boundary.
func FuzzAppendCloseFrame(f *testing.F) {
	f.Add(uint16(4400), "Invalid message received")
	f.Add(uint16(1000), strings.Repeat("é", 70))
	f.Add(uint16(4409), strings.Repeat("a", 121)+"😀")
	f.Fuzz(func(t *testing.T, code uint16, reason string) {
		frame := AppendCloseFrame(nil, code, reason)
		fr, err := ws.ReadFrame(bytes.NewReader(frame))
		require.NoError(t, err)
		require.Equal(t, ws.OpClose, fr.Header.OpCode)
		require.LessOrEqual(t, len(fr.Payload), 125)
		if code == 0 {
			require.Empty(t, fr.Payload)
			return
		}
		gotCode, gotReason := ws.ParseCloseFrameData(fr.Payload)
		require.Equal(t, ws.StatusCode(code), gotCode)
		require.True(t, strings.HasPrefix(reason, gotReason))
		require.GreaterOrEqual(t, len(gotReason), min(len(reason), MaxCloseReason-3))
		if utf8.ValidString(reason) {
			require.True(t, utf8.ValidString(gotReason))
			if len(gotReason) < len(reason) {
				// Cut as late as possible: the next rune did not fit.
				_, size := utf8.DecodeRuneInString(reason[len(gotReason):])
				require.Greater(t, len(gotReason)+size, MaxCloseReason)
			}
		}
	})
}
