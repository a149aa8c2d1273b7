package wire

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// MaxCloseReason is the longest close reason that fits a close frame: a
// control frame carries at most 125 bytes, two of which are the code.
const MaxCloseReason = 123

// MaxFrameHeaderSize is the longest WebSocket frame header (client frames
// with a 64-bit length and a mask). Server headers are at most 10 bytes.
const MaxFrameHeaderSize = ws.MaxHeaderSize

// AppendFrameHeader appends the header of an unmasked FIN frame (server to
// client) with opcode op and a payload of length bytes, using the shortest
// length encoding. It panics if length is negative.
func AppendFrameHeader(dst []byte, op ws.OpCode, length int) []byte {
	b0 := 0x80 | byte(op)&0x0F
	switch {
	case length < 0:
		panic("wire: negative frame length")
	case length <= 125:
		return append(dst, b0, byte(length))
	case length <= 0xFFFF:
		return append(dst, b0, 126, byte(length>>8), byte(length))
	default:
		l := uint64(length)
		return append(dst, b0, 127,
			byte(l>>56), byte(l>>48), byte(l>>40), byte(l>>32),
			byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
	}
}

// AppendTextFrame appends an unmasked FIN text frame carrying body.
func AppendTextFrame(dst, body []byte) []byte {
	dst = AppendFrameHeader(dst, ws.OpText, len(body))
	return append(dst, body...)
}

// AppendCloseFrame appends an unmasked close frame with status code and
// reason. The reason is cut to MaxCloseReason bytes, at a UTF-8 boundary if
// it is valid UTF-8. A zero code produces a close frame with an empty body
// ("no status code") and ignores reason.
func AppendCloseFrame(dst []byte, code uint16, reason string) []byte {
	if code == 0 {
		return AppendFrameHeader(dst, ws.OpClose, 0)
	}
	reason = truncateCloseReason(reason)
	dst = AppendFrameHeader(dst, ws.OpClose, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}

func truncateCloseReason(s string) string {
	if len(s) <= MaxCloseReason {
		return s
	}
	// A valid rune starts at most 3 bytes before s[n]; stopping there also
	// bounds the cut for invalid UTF-8.
	n := MaxCloseReason
	for n > MaxCloseReason-3 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ParseFrameHeader parses a frame header from the start of b without
// blocking. n is the header's length in bytes; ok is false (with a nil
// error) when b does not yet hold the whole header, so the caller reads more
// and calls again. Errors are *ProtocolError (close code 1002): reserved bits
// set (no extensions are negotiated), reserved opcodes, control frames that
// are fragmented or longer than 125 bytes, 64-bit lengths with the top bit
// set; all but the last are reported as soon as the first two bytes are there.
//
// ParseFrameHeader does not check that the frame is masked (clients must
// mask, h.Masked) nor continuation order; the connection's reader does.
func ParseFrameHeader(b []byte) (h ws.Header, n int, ok bool, err error) {
	if len(b) < 2 {
		return ws.Header{}, 0, false, nil
	}
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 {
		return ws.Header{}, 0, false, ErrFrameReservedBits
	}
	h.Fin = b0&0x80 != 0
	h.OpCode = ws.OpCode(b0 & 0x0F)
	h.Masked = b1&0x80 != 0
	l7 := b1 & 0x7F
	switch h.OpCode {
	case ws.OpContinuation, ws.OpText, ws.OpBinary:
	case ws.OpClose, ws.OpPing, ws.OpPong:
		if !h.Fin {
			return ws.Header{}, 0, false, ErrFrameControlFragmented
		}
		if l7 > 125 {
			return ws.Header{}, 0, false, ErrFrameControlTooLong
		}
	default:
		return ws.Header{}, 0, false, ErrFrameOpCode
	}
	n = 2
	switch l7 {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	if len(b) < n {
		return ws.Header{}, 0, false, nil
	}
	switch l7 {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		l := binary.BigEndian.Uint64(b[2:10])
		if l>>63 != 0 {
			return ws.Header{}, 0, false, ErrFrameLength
		}
		h.Length = int64(l)
	default:
		h.Length = int64(l7)
	}
	if h.Masked {
		copy(h.Mask[:], b[n-4:n])
	}
	return h, n, true, nil
}

// Unmask XORs payload with mask in place. offset is the number of bytes of
// this frame's payload already unmasked by earlier calls, so a payload that
// arrives in chunks can be unmasked chunk by chunk.
func Unmask(payload []byte, mask [4]byte, offset int) {
	ws.Cipher(payload, mask, offset)
}

// IsValidCloseCode reports whether code may appear in a close frame: 1000-1003,
// 1007-1014 and 3000-4999 (RFC 6455 section 7.4 and the IANA registry; 1004,
// 1005, 1006 and 1015 must never be sent).
func IsValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseCloseFrameData parses the unmasked payload of a received close frame.
// An empty payload means no status code: code 0, nil reason. reason aliases
// payload. Errors: ErrCloseFrameShort for a 1-byte payload, ErrCloseCode for
// codes IsValidCloseCode rejects (both close code 1002), ErrCloseReasonUTF8
// for a reason that is not valid UTF-8 (close code 1007); code is returned
// with the latter two.
func ParseCloseFrameData(payload []byte) (code uint16, reason []byte, err error) {
	switch len(payload) {
	case 0:
		return 0, nil, nil
	case 1:
		return 0, nil, ErrCloseFrameShort
	}
	code = binary.BigEndian.Uint16(payload)
	if !IsValidCloseCode(code) {
		return code, nil, ErrCloseCode
	}
	reason = payload[2:]
	if !utf8.Valid(reason) {
		return code, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}
