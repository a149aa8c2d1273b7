package wire

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// gobwasHeader is ws.WriteHeader's encoding of h.
func gobwasHeader(t *testing.T, h ws.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, ws.WriteHeader(&buf, h))
	return buf.Bytes()
}

var frameLengths = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20, 1<<32 + 5}

func TestAppendFrameHeader(t *testing.T) {
	t.Parallel()
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpClose, ws.OpPing, ws.OpPong, ws.OpContinuation} {
		for _, n := range frameLengths {
			t.Run(strconv.Itoa(int(op))+"/"+strconv.Itoa(n), func(t *testing.T) {
				want := gobwasHeader(t, ws.Header{Fin: true, OpCode: op, Length: int64(n)})
				got := AppendFrameHeader([]byte("x"), op, n)
				require.Equal(t, want, got[1:])
				require.Equal(t, ws.HeaderSize(ws.Header{Length: int64(n)}), len(got)-1)

				h, hn, ok, err := ParseFrameHeader(got[1:])
				if op.IsControl() && n > 125 {
					require.ErrorIs(t, err, ErrFrameControlTooLong)
					return
				}
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, len(got)-1, hn)
				require.Equal(t, ws.Header{Fin: true, OpCode: op, Length: int64(n)}, h)
			})
		}
	}
	require.Panics(t, func() { AppendFrameHeader(nil, ws.OpText, -1) })
}

func TestAppendTextFrame(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			body := bytes.Repeat([]byte("a"), n)
			f, err := ws.ReadFrame(bytes.NewReader(AppendTextFrame(nil, body)))
			require.NoError(t, err)
			require.Equal(t, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(n)}, f.Header)
			require.Equal(t, string(body), string(f.Payload))
		})
	}
}

func TestParseFrameHeader(t *testing.T) {
	t.Parallel()
	mask := [4]byte{1, 2, 3, 4}
	valid := []ws.Header{
		{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: 0},
		{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: 125},
		{Fin: false, OpCode: ws.OpText, Masked: true, Mask: mask, Length: 126},
		{Fin: false, OpCode: ws.OpContinuation, Masked: true, Mask: mask, Length: 65535},
		{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: mask, Length: 65536},
		{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: mask, Length: 1<<63 - 1},
		{Fin: true, OpCode: ws.OpClose, Masked: true, Mask: mask, Length: 125},
		{Fin: true, OpCode: ws.OpPing, Masked: true, Mask: mask, Length: 4},
		{Fin: true, OpCode: ws.OpPong, Masked: false, Length: 0},
		{Fin: true, OpCode: ws.OpText, Masked: false, Length: 70000},
	}
	for _, want := range valid {
		t.Run("valid/"+strconv.Itoa(int(want.OpCode))+"/"+strconv.FormatInt(want.Length, 10), func(t *testing.T) {
			b := gobwasHeader(t, want)
			// Every proper prefix is incomplete; the whole header parses,
			// and trailing payload bytes are not consumed.
			for i := range len(b) {
				_, n, ok, err := ParseFrameHeader(b[:i])
				require.NoError(t, err, "prefix %d", i)
				require.False(t, ok, "prefix %d", i)
				require.Zero(t, n)
			}
			h, n, ok, err := ParseFrameHeader(append(b, "payload"...))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, len(b), n)
			require.Equal(t, want, h)
		})
	}

	bad := []struct {
		name string
		b    []byte
		err  error
	}{
		{"rsv1", []byte{0x80 | 0x40 | 0x1, 0x80}, ErrFrameReservedBits},
		{"rsv2", []byte{0x80 | 0x20 | 0x1, 0x80}, ErrFrameReservedBits},
		{"rsv3", []byte{0x80 | 0x10 | 0x1, 0x80}, ErrFrameReservedBits},
		{"opcode 3", []byte{0x83, 0x80}, ErrFrameOpCode},
		{"opcode 7", []byte{0x87, 0x80}, ErrFrameOpCode},
		{"opcode 11", []byte{0x8B, 0x80}, ErrFrameOpCode},
		{"opcode 15", []byte{0x8F, 0x80}, ErrFrameOpCode},
		{"fragmented close", []byte{0x08, 0x80}, ErrFrameControlFragmented},
		{"fragmented ping", []byte{0x09, 0x80}, ErrFrameControlFragmented},
		{"ping 126", []byte{0x89, 0x80 | 126}, ErrFrameControlTooLong},
		{"close 127", []byte{0x88, 0x80 | 127}, ErrFrameControlTooLong},
		{"64-bit top bit", append([]byte{0x81, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, mask[:]...), ErrFrameLength},
		{"64-bit all ones", append([]byte{0x82, 127}, bytes.Repeat([]byte{0xFF}, 8)...), ErrFrameLength},
	}
	for _, tc := range bad {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			h, n, ok, err := ParseFrameHeader(tc.b)
			require.ErrorIs(t, err, tc.err)
			require.False(t, ok)
			require.Zero(t, n)
			require.Equal(t, ws.Header{}, h)
			var pe *ProtocolError
			require.ErrorAs(t, err, &pe)
		})
	}
}

func TestUnmask(t *testing.T) {
	t.Parallel()
	mask := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	naive := func(p []byte) []byte {
		out := bytes.Clone(p)
		for i := range out {
			out[i] ^= mask[i%4]
		}
		return out
	}
	for _, n := range []int{0, 1, 3, 4, 15, 16, 17, 100, 1000} {
		for _, chunk := range []int{1, 2, 3, 5, 7, 16, 1000} {
			t.Run(strconv.Itoa(n)+"/"+strconv.Itoa(chunk), func(t *testing.T) {
				plain := make([]byte, n)
				for i := range plain {
					plain[i] = byte(i * 7)
				}
				masked := naive(plain)
				for off := 0; off < n; off += chunk {
					Unmask(masked[off:min(off+chunk, n)], mask, off)
				}
				require.Equal(t, plain, masked)
			})
		}
	}
}

func TestAppendCloseFrame(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		code       uint16
		reason     string
		wantReason string
	}{
		{"no reason", 1000, "", ""},
		{"short", 4400, "Invalid message received", "Invalid message received"},
		{"exactly 123", 4500, strings.Repeat("a", 123), strings.Repeat("a", 123)},
		{"124 ascii", 4500, strings.Repeat("a", 124), strings.Repeat("a", 123)},
		{"two-byte rune across the limit", 4409, strings.Repeat("a", 122) + "é", strings.Repeat("a", 122)},
		{"two-byte rune ending at the limit", 4409, strings.Repeat("a", 121) + "éb", strings.Repeat("a", 121) + "é"},
		{"four-byte rune across the limit", 4409, strings.Repeat("a", 121) + "😀", strings.Repeat("a", 121)},
		{"three-byte runes", 4409, strings.Repeat("€", 50), strings.Repeat("€", 41)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendCloseFrame(nil, tc.code, tc.reason)
			f, err := ws.ReadFrame(bytes.NewReader(b))
			require.NoError(t, err)
			require.Equal(t, ws.OpClose, f.Header.OpCode)
			require.True(t, f.Header.Fin)
			require.LessOrEqual(t, len(f.Payload), 125)
			code, reason := ws.ParseCloseFrameData(f.Payload)
			require.Equal(t, ws.StatusCode(tc.code), code)
			require.Equal(t, tc.wantReason, reason)
			require.True(t, utf8.ValidString(reason))

			gotCode, gotReason, err := ParseCloseFrameData(f.Payload)
			require.NoError(t, err)
			require.Equal(t, tc.code, gotCode)
			require.Equal(t, tc.wantReason, string(gotReason))
		})
	}
	t.Run("zero code has an empty body", func(t *testing.T) {
		require.Equal(t, []byte{0x88, 0}, AppendCloseFrame(nil, 0, "ignored"))
	})
}

func TestParseCloseFrameData(t *testing.T) {
	t.Parallel()
	body := func(code uint16, reason string) []byte {
		return append(binary.BigEndian.AppendUint16(nil, code), reason...)
	}
	cases := []struct {
		name      string
		payload   []byte
		code      uint16
		reason    string
		err       error
		reasonNil bool
	}{
		{name: "empty", payload: nil, code: 0, reasonNil: true},
		{name: "one byte", payload: []byte{0x03}, err: ErrCloseFrameShort},
		{name: "1000", payload: body(1000, ""), code: 1000},
		{name: "1000 reason", payload: body(1000, "bye é"), code: 1000, reason: "bye é"},
		{name: "1003", payload: body(1003, ""), code: 1003},
		{name: "1007", payload: body(1007, ""), code: 1007},
		{name: "1011", payload: body(1011, ""), code: 1011},
		{name: "1014", payload: body(1014, ""), code: 1014},
		{name: "3000", payload: body(3000, ""), code: 3000},
		{name: "4999", payload: body(4999, "x"), code: 4999, reason: "x"},
		{name: "0", payload: body(0, ""), code: 0, err: ErrCloseCode},
		{name: "999", payload: body(999, ""), code: 999, err: ErrCloseCode},
		{name: "1004", payload: body(1004, ""), code: 1004, err: ErrCloseCode},
		{name: "1005", payload: body(1005, ""), code: 1005, err: ErrCloseCode},
		{name: "1006", payload: body(1006, ""), code: 1006, err: ErrCloseCode},
		{name: "1015", payload: body(1015, ""), code: 1015, err: ErrCloseCode},
		{name: "1016", payload: body(1016, ""), code: 1016, err: ErrCloseCode},
		{name: "2999", payload: body(2999, ""), code: 2999, err: ErrCloseCode},
		{name: "5000", payload: body(5000, ""), code: 5000, err: ErrCloseCode},
		{name: "65535", payload: body(65535, ""), code: 65535, err: ErrCloseCode},
		{name: "invalid utf-8", payload: body(1000, "a\xff"), code: 1000, err: ErrCloseReasonUTF8},
		{name: "utf-16 surrogate in utf-8", payload: body(1000, "\xed\xa0\x80"), code: 1000, err: ErrCloseReasonUTF8},
		{name: "truncated rune", payload: body(1000, "\xc3"), code: 1000, err: ErrCloseReasonUTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseCloseFrameData(tc.payload)
			require.Equal(t, tc.code, code)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, reason)
				return
			}
			require.NoError(t, err)
			if tc.reasonNil {
				require.Nil(t, reason)
			}
			require.Equal(t, tc.reason, string(reason))
			require.Equal(t, tc.code >= 1000, IsValidCloseCode(tc.code))
		})
	}
}
