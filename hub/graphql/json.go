package graphql

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
)

const hexDigits = "0123456789abcdef"

// float64Of returns the value of the JSON number v correctly rounded, as
// JSON.parse gives it. fastjson's Float64 is not correctly rounded: for a
// number with an exponent, or with a mantissa beyond 2^53, it scales by
// powers of ten in float64 arithmetic and can be off by one unit in the
// last place (9.8084e+05 becomes 980840.0000000001, which is no longer an
// Int, and 7.46E-7 a String "7.459999999999999e-7"). The number's text is
// appended to scratch to be parsed, beyond its length: with spare capacity
// in scratch nothing is allocated.
func float64Of(scratch []byte, v *fastjson.Value) float64 {
	text := v.MarshalTo(scratch)[len(scratch):]
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(text), len(text)), 64)
	if err == nil || errors.Is(err, strconv.ErrRange) {
		return f // ±Inf beyond the float64 range, as JSON.parse
	}
	// Not a JSON number's text (fastjson's parser takes "+1" or "01"):
	// its own reading.
	f, _ = v.Float64()
	return f
}

// appendJSONString appends s as a JSON string literal, escaping as
// JSON.stringify does; invalid UTF-8 bytes become U+FFFD, except the
// three-byte form of a lone UTF-16 surrogate (as MarkLoneSurrogates leaves
// it), which is written as its \uXXXX escape, as JSON.stringify writes a
// lone surrogate.
func appendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			if c == 0xed && i+2 < len(s) && s[i+1]&0xe0 == 0xa0 && s[i+2]&0xc0 == 0x80 {
				u := 0xd000 | uint16(s[i+1]&0x3f)<<6 | uint16(s[i+2]&0x3f)
				dst = append(dst, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
				i += 3
				start = i
				continue
			}
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSNumber appends f formatted as JavaScript's Number.prototype.toString
// (and so JSON.stringify) does: 3 for 3.0, 1e+21, 1.5e-7. Non-finite values
// are appended as null, as JSON.stringify does.
func appendJSNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	// e is d[.ddd]e±xx
	ep := 0
	for e[ep] != 'e' {
		ep++
	}
	var digits [24]byte
	k := 0
	for _, c := range e[:ep] {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[ep+1:]))
	n := exp + 1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits[:k]...)
		for i := k; i < n; i++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:k]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -n; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:k]...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:k]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// jsNumber converts s as JavaScript's Number(string) does; ok is false
// where JavaScript yields NaN.
func jsNumber(s string) (f float64, ok bool) {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return 0, true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			for i := 2; i < len(s); i++ {
				if d := digitVal(s[i]); d < 0 || d >= base {
					return 0, false
				}
			}
			n, ok := new(big.Int).SetString(s[2:], base)
			if !ok {
				return 0, false
			}
			f, _ := new(big.Float).SetInt(n).Float64()
			return f, true
		}
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if body == "Infinity" {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	// StrUnsignedDecimalLiteral: digits [. digits] [e [+-] digits], at least one digit in the mantissa.
	i, mant := 0, 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
		mant++
	}
	if i < len(body) && body[i] == '.' {
		i++
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			mant++
		}
	}
	if mant == 0 {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			i++
		}
		exp := 0
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// isJSSpace reports whether r is StrWhiteSpaceChar (WhiteSpace or LineTerminator).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a || unicode.Is(unicode.Zs, r)
}

// appendValue appends v as JSON.stringify(JSON.parse(v)) would: numbers in
// JavaScript form, strings re-escaped. A nil v appends null.
func appendValue(dst []byte, v *fastjson.Value) []byte { return appendJSON(dst, v, false) }

// appendPassThrough appends a custom scalar's value: as appendValue, but
// numbers keep the publisher's text. A JavaScript client parses both to the
// same number; any other client (a .NET one of a HotChocolate Long, say)
// gets integers beyond 2^53 exactly instead of rounded.
func appendPassThrough(dst []byte, v *fastjson.Value) []byte { return appendJSON(dst, v, true) }

func appendJSON(dst []byte, v *fastjson.Value, rawNumbers bool) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(k []byte, item *fastjson.Value) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, item, rawNumbers)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, item := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, item, rawNumbers)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b)
	case fastjson.TypeNumber:
		if rawNumbers {
			// fastjson's parser takes "+" or "01" for numbers; only a JSON
			// number's text is passed on (wire.Decoder validates events,
			// so the fallback is for other callers).
			if n := v.MarshalTo(dst); isJSONNumber(n[len(dst):]) {
				return n
			}
		}
		return appendJSNumber(dst, float64Of(dst, v))
	case fastjson.TypeTrue:
		return append(dst, "true"...)
	case fastjson.TypeFalse:
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

// MarkLoneSurrogates prepares JSON text for parsing by fastjson, which
// leaves a \uD800–\uDFFF escape that is not half of a pair as the six
// characters of the escape (and takes a high surrogate followed by any
// other \u escape as a pair). JSON.parse keeps a lone surrogate as one
// UTF-16 code unit, which JavaScript publishers produce whenever they cut a
// string inside a surrogate pair. Each such escape is replaced by the
// surrogate's three-byte (WTF-8) form, which appendJSONString writes back as
// the same escape. The rewritten text is appended to dst; ok is false, and
// dst untouched, when there is nothing to rewrite (the usual case, found
// without allocating).
func MarkLoneSurrogates(dst, text []byte) (out []byte, ok bool) {
	start := 0 // text[start:] is not yet copied to dst
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			j := bytes.IndexByte(text[i:], '\\')
			if j < 0 {
				break
			}
			i += j
		}
		if i+1 >= len(text) || text[i+1] != 'u' {
			i++ // any other escape is two characters
			continue
		}
		u, isHex := hex4(text, i+2)
		if !isHex {
			i++
			continue
		}
		if u < 0xd800 || u > 0xdfff {
			i += 5
			continue
		}
		if u < 0xdc00 {
			if lo, isHex := hex4(text, i+8); isHex && i+7 < len(text) && text[i+6] == '\\' && text[i+7] == 'u' && lo >= 0xdc00 && lo <= 0xdfff {
				i += 11 // a pair
				continue
			}
		}
		if !ok {
			dst, ok = append(dst, text[:i]...), true
		} else {
			dst = append(dst, text[start:i]...)
		}
		dst = append(dst, 0xed, 0xa0|byte(u>>6&0x1f), 0x80|byte(u&0x3f))
		i += 5
		start = i + 1
	}
	if !ok {
		return dst, false
	}
	return append(dst, text[start:]...), true
}

// hex4 parses the four hex digits at text[i:].
func hex4(text []byte, i int) (uint16, bool) {
	if i+4 > len(text) {
		return 0, false
	}
	var u uint16
	for _, c := range text[i : i+4] {
		d := digitVal(c)
		if d < 0 || d > 15 {
			return 0, false
		}
		u = u<<4 | uint16(d)
	}
	return u, true
}

// isJSONNumber reports whether b is a number as RFC 8259 §6 writes it.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
