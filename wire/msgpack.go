package wire

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/valyala/fastjson"
)

// MessagePack format bytes (https://github.com/msgpack/msgpack/blob/master/spec.md).
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpExt16    = 0xc8
	mpExt32    = 0xc9
	mpFloat32  = 0xca
	mpFloat64  = 0xcb
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpFixExt1  = 0xd4
	mpFixExt16 = 0xd8
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpMap16    = 0xde
	mpMap32    = 0xdf
)

func mpTruncated(what string) error {
	return fmt.Errorf("%w: truncated %s", ErrInvalidMsgpack, what)
}

// mpReadUint reads an n-byte big-endian unsigned integer from b.
func mpReadUint(b []byte, n int) (uint64, []byte, bool) {
	if len(b) < n {
		return 0, b, false
	}
	switch n {
	case 1:
		return uint64(b[0]), b[1:], true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), b[2:], true
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), b[4:], true
	}
	return binary.BigEndian.Uint64(b), b[8:], true
}

// mpSizeWidth returns the width of the length field of a str/bin/array/map/ext
// format byte with an explicit length.
func mpSizeWidth(c byte) int {
	switch c {
	case mpBin8, mpExt8, mpStr8:
		return 1
	case mpBin16, mpExt16, mpStr16, mpArray16, mpMap16:
		return 2
	}
	return 4
}

// readMsgpackStr reads a str value; the returned bytes alias b.
func readMsgpackStr(b []byte) (s, rest []byte, err error) {
	if len(b) == 0 {
		return nil, b, mpTruncated("str")
	}
	c := b[0]
	var n uint64
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, b = uint64(c&0x1f), b[1:]
	case c == mpStr8, c == mpStr16, c == mpStr32:
		var ok bool
		if n, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return nil, b, mpTruncated("str length")
		}
	default:
		return nil, b, fmt.Errorf("%w: want str, have type 0x%02x", ErrUnsupportedMsgpack, c)
	}
	if uint64(len(b)) < n {
		return nil, b, mpTruncated("str")
	}
	return b[:n], b[n:], nil
}

// readMsgpackMapLen reads a map header.
func readMsgpackMapLen(b []byte) (n uint64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, b, mpTruncated("map")
	}
	c := b[0]
	switch {
	case c >= 0x80 && c <= 0x8f:
		n, b = uint64(c&0x0f), b[1:]
	case c == mpMap16, c == mpMap32:
		var ok bool
		if n, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return 0, b, mpTruncated("map length")
		}
	default:
		return 0, b, fmt.Errorf("%w: want map, have type 0x%02x", ErrInvalidEnvelope, c)
	}
	if n > uint64(len(b))/2 {
		return 0, b, mpTruncated("map")
	}
	return n, b, nil
}

// readMsgpackInt reads an integer that fits an int64.
func readMsgpackInt(b []byte) (int64, []byte, error) {
	if len(b) == 0 {
		return 0, b, mpTruncated("int")
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		return int64(c), b[1:], nil
	case c >= 0xe0:
		return int64(int8(c)), b[1:], nil
	case c >= mpUint8 && c <= mpUint64:
		u, rest, ok := mpReadUint(b[1:], 1<<(c-mpUint8))
		if !ok {
			return 0, b, mpTruncated("uint")
		}
		if u > math.MaxInt64 {
			return 0, b, fmt.Errorf("%w: uint64 %d out of range", ErrUnsupportedMsgpack, u)
		}
		return int64(u), rest, nil
	case c >= mpInt8 && c <= mpInt64:
		w := 1 << (c - mpInt8)
		u, rest, ok := mpReadUint(b[1:], w)
		if !ok {
			return 0, b, mpTruncated("int")
		}
		return mpSignExtend(u, w), rest, nil
	}
	return 0, b, fmt.Errorf("%w: want int, have type 0x%02x", ErrUnsupportedMsgpack, c)
}

func mpSignExtend(u uint64, width int) int64 {
	switch width {
	case 1:
		return int64(int8(u))
	case 2:
		return int64(int16(u))
	case 4:
		return int64(int32(u))
	}
	return int64(u)
}

// skipMsgpack skips one well-formed value of any type (ext included).
func skipMsgpack(b []byte, depth int) ([]byte, error) {
	if depth > bpMaxDepth {
		return b, fmt.Errorf("%w: nesting deeper than %d", ErrUnsupportedMsgpack, bpMaxDepth)
	}
	if len(b) == 0 {
		return b, mpTruncated("value")
	}
	c := b[0]
	var count uint64 // container elements to skip
	var skip uint64  // bytes to skip after the header
	var ok bool
	switch {
	case c <= 0x7f, c >= 0xe0, c == mpNil, c == mpFalse, c == mpTrue:
		return b[1:], nil
	case c >= 0x80 && c <= 0x8f:
		count, b = 2*uint64(c&0x0f), b[1:]
	case c >= 0x90 && c <= 0x9f:
		count, b = uint64(c&0x0f), b[1:]
	case c >= 0xa0 && c <= 0xbf:
		skip, b = uint64(c&0x1f), b[1:]
	case c == mpBin8, c == mpBin16, c == mpBin32, c == mpStr8, c == mpStr16, c == mpStr32:
		if skip, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return b, mpTruncated("length")
		}
	case c == mpExt8, c == mpExt16, c == mpExt32:
		if skip, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return b, mpTruncated("ext length")
		}
		skip++ // type byte
	case c == mpFloat32:
		skip, b = 4, b[1:]
	case c == mpFloat64:
		skip, b = 8, b[1:]
	case c >= mpUint8 && c <= mpUint64:
		skip, b = 1<<(c-mpUint8), b[1:]
	case c >= mpInt8 && c <= mpInt64:
		skip, b = 1<<(c-mpInt8), b[1:]
	case c >= mpFixExt1 && c <= mpFixExt16:
		skip, b = 1+1<<(c-mpFixExt1), b[1:]
	case c == mpArray16, c == mpArray32:
		if count, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return b, mpTruncated("array length")
		}
	case c == mpMap16, c == mpMap32:
		if count, b, ok = mpReadUint(b[1:], mpSizeWidth(c)); !ok {
			return b, mpTruncated("map length")
		}
		count *= 2
	default: // 0xc1 is never used
		return b, fmt.Errorf("%w: type 0x%02x", ErrInvalidMsgpack, c)
	}
	if uint64(len(b)) < skip {
		return b, mpTruncated("value")
	}
	b = b[skip:]
	if count > uint64(len(b)) {
		return b, mpTruncated("container")
	}
	var err error
	for ; count > 0; count-- {
		if b, err = skipMsgpack(b, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendMsgpackJSON converts the MessagePack value at the start of src to
// JSON appended to dst, and returns the bytes after the value.
func appendMsgpackJSON(dst, src []byte, depth int) (out, rest []byte, err error) {
	if depth > bpMaxDepth {
		return dst, src, fmt.Errorf("%w: nesting deeper than %d", ErrUnsupportedMsgpack, bpMaxDepth)
	}
	if len(src) == 0 {
		return dst, src, mpTruncated("value")
	}
	c := src[0]
	b := src[1:]
	var ok bool
	var n uint64
	switch {
	case c <= 0x7f:
		return strconv.AppendUint(dst, uint64(c), 10), b, nil
	case c >= 0xe0:
		return strconv.AppendInt(dst, int64(int8(c)), 10), b, nil
	case c == mpNil:
		return append(dst, "null"...), b, nil
	case c == mpFalse:
		return append(dst, "false"...), b, nil
	case c == mpTrue:
		return append(dst, "true"...), b, nil
	case c >= 0xa0 && c <= 0xbf, c == mpStr8, c == mpStr16, c == mpStr32:
		var s []byte
		if s, b, err = readMsgpackStr(src); err != nil {
			return dst, src, err
		}
		return AppendJSONString(dst, s), b, nil
	case c == mpBin8, c == mpBin16, c == mpBin32:
		if n, b, ok = mpReadUint(b, mpSizeWidth(c)); !ok || uint64(len(b)) < n {
			return dst, src, mpTruncated("bin")
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, b[:n])
		return append(dst, '"'), b[n:], nil
	case c >= mpUint8 && c <= mpUint64:
		if n, b, ok = mpReadUint(b, 1<<(c-mpUint8)); !ok {
			return dst, src, mpTruncated("uint")
		}
		return strconv.AppendUint(dst, n, 10), b, nil
	case c >= mpInt8 && c <= mpInt64:
		w := 1 << (c - mpInt8)
		if n, b, ok = mpReadUint(b, w); !ok {
			return dst, src, mpTruncated("int")
		}
		return strconv.AppendInt(dst, mpSignExtend(n, w), 10), b, nil
	case c == mpFloat32:
		if n, b, ok = mpReadUint(b, 4); !ok {
			return dst, src, mpTruncated("float32")
		}
		f := math.Float32frombits(uint32(n))
		if dst, err = bpAppendFloat(dst, float64(f), 32); err != nil {
			return dst, src, err
		}
		return dst, b, nil
	case c == mpFloat64:
		if n, b, ok = mpReadUint(b, 8); !ok {
			return dst, src, mpTruncated("float64")
		}
		if dst, err = bpAppendFloat(dst, math.Float64frombits(n), 64); err != nil {
			return dst, src, err
		}
		return dst, b, nil
	case c >= 0x90 && c <= 0x9f, c == mpArray16, c == mpArray32:
		if c <= 0x9f {
			n = uint64(c & 0x0f)
		} else if n, b, ok = mpReadUint(b, mpSizeWidth(c)); !ok {
			return dst, src, mpTruncated("array length")
		}
		if n > uint64(len(b)) {
			return dst, src, mpTruncated("array")
		}
		dst = append(dst, '[')
		for i := uint64(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, b, err = appendMsgpackJSON(dst, b, depth+1); err != nil {
				return dst, src, err
			}
		}
		return append(dst, ']'), b, nil
	case c >= 0x80 && c <= 0x8f, c == mpMap16, c == mpMap32:
		if c <= 0x8f {
			n = uint64(c & 0x0f)
		} else if n, b, ok = mpReadUint(b, mpSizeWidth(c)); !ok {
			return dst, src, mpTruncated("map length")
		}
		if n > uint64(len(b))/2 {
			return dst, src, mpTruncated("map")
		}
		dst = append(dst, '{')
		for i := uint64(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var key []byte
			if key, b, err = readMsgpackStr(b); err != nil {
				return dst, src, fmt.Errorf("map key: %w", err)
			}
			dst = AppendJSONString(dst, key)
			dst = append(dst, ':')
			if dst, b, err = appendMsgpackJSON(dst, b, depth+1); err != nil {
				return dst, src, err
			}
		}
		return append(dst, '}'), b, nil
	case c == mpExt8, c == mpExt16, c == mpExt32, c >= mpFixExt1 && c <= mpFixExt16:
		return dst, src, fmt.Errorf("%w: ext type 0x%02x", ErrUnsupportedMsgpack, c)
	}
	return dst, src, fmt.Errorf("%w: type 0x%02x", ErrInvalidMsgpack, c)
}

// bpAppendFloat appends f as a JSON number the way encoding/json does.
func bpAppendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%w: float %v", ErrUnsupportedMsgpack, f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' { // clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendMsgpackStrHeader appends the header of a str of length n.
func appendMsgpackStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(dst, mpStr8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, mpStr16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, mpStr32), uint32(n))
}

// appendMsgpackInt appends i in its shortest form.
func appendMsgpackInt(dst []byte, i int64) []byte {
	if i >= 0 {
		return appendMsgpackUint(dst, uint64(i))
	}
	switch {
	case i >= -32:
		return append(dst, byte(int8(i)))
	case i >= math.MinInt8:
		return append(dst, mpInt8, byte(int8(i)))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, mpInt16), uint16(int16(i)))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, mpInt32), uint32(int32(i)))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpInt64), uint64(i))
}

// appendMsgpackUint appends u in its shortest form.
func appendMsgpackUint(dst []byte, u uint64) []byte {
	switch {
	case u <= 0x7f:
		return append(dst, byte(u))
	case u <= math.MaxUint8:
		return append(dst, mpUint8, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, mpUint16), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, mpUint32), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpUint64), u)
}

// appendMsgpackContainer appends an array (mapBase 0x90) or map (0x80) header.
func appendMsgpackContainer(dst []byte, fix byte, n int) []byte {
	c16, c32 := byte(mpArray16), byte(mpArray32)
	if fix == 0x80 {
		c16, c32 = mpMap16, mpMap32
	}
	switch {
	case n < 16:
		return append(dst, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, c32), uint32(n))
}

// appendJSONMsgpack converts a parsed JSON value to MessagePack: objects to
// maps in document order, integers that fit int64/uint64 to the shortest int
// form, other numbers to float64.
func appendJSONMsgpack(dst []byte, v *fastjson.Value) ([]byte, error) {
	switch v.Type() {
	case fastjson.TypeNull:
		return append(dst, mpNil), nil
	case fastjson.TypeTrue:
		return append(dst, mpTrue), nil
	case fastjson.TypeFalse:
		return append(dst, mpFalse), nil
	case fastjson.TypeString:
		s := v.GetStringBytes()
		dst = appendMsgpackStrHeader(dst, len(s))
		return append(dst, s...), nil
	case fastjson.TypeNumber:
		return appendJSONNumberMsgpack(dst, v.MarshalTo(nil))
	case fastjson.TypeArray:
		a := v.GetArray()
		dst = appendMsgpackContainer(dst, 0x90, len(a))
		var err error
		for _, e := range a {
			if dst, err = appendJSONMsgpack(dst, e); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case fastjson.TypeObject:
		o := v.GetObject()
		dst = appendMsgpackContainer(dst, 0x80, o.Len())
		var err error
		o.Visit(func(k []byte, e *fastjson.Value) {
			if err != nil {
				return
			}
			dst = appendMsgpackStrHeader(dst, len(k))
			dst = append(dst, k...)
			dst, err = appendJSONMsgpack(dst, e)
		})
		return dst, err
	}
	return dst, fmt.Errorf("%w: json type %v", ErrInvalidEvent, v.Type())
}

func appendJSONNumberMsgpack(dst, lit []byte) ([]byte, error) {
	isInt := true
	for _, c := range lit {
		if c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	s := string(lit)
	if isInt {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return appendMsgpackInt(dst, i), nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return appendMsgpackUint(dst, u), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%w: number %.32s out of float64 range", ErrInvalidEvent, lit)
	}
	return binary.BigEndian.AppendUint64(append(dst, mpFloat64), math.Float64bits(f)), nil
}
