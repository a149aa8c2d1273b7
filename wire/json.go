package wire

import "encoding/binary"

// This file holds the strict JSON scanner behind Parser and the JSON string
// encoder behind every Append function. The scanner validates the complete
// input as RFC 8259 JSON (the grammar JavaScript's JSON.parse accepts, which is
// what the reference servers use) and records where the handful of fields a
// client message can carry are, without building a value tree and without
// copying: spans index the caller's input.

// jsonKind is the type of a scanned JSON value.
type jsonKind uint8

const (
	jsonAbsent jsonKind = iota
	jsonString
	jsonNumber
	jsonObject
	jsonArray
	jsonTrue
	jsonFalse
	jsonNull
)

// jsonSpan locates one value in the scanned input: data[start:end], quotes
// included for strings.
type jsonSpan struct {
	start, end int
	kind       jsonKind
}

// Fields recorded by the scanner.
const (
	jsonFieldType = iota
	jsonFieldID
	jsonFieldPayload
	jsonFieldQuery
	jsonFieldOperationName
	jsonFieldVariables
	jsonFieldExtensions
	jsonNumFields
)

// Scan levels: which object keys are recorded.
const (
	jsonLevelNone    uint8 = iota // record nothing (nested values)
	jsonLevelMessage              // a WebSocket message: type, id, payload
	jsonLevelRequest              // a GraphQL request: query, operationName, variables, extensions
)

// jsonMaxDepth bounds nesting so that hostile input cannot grow the stack
// without limit.
const jsonMaxDepth = 512

// jsonScanner validates one JSON text and records field spans. Not safe for
// concurrent use; reused by Parser.
type jsonScanner struct {
	data   []byte
	fields [jsonNumFields]jsonSpan
}

// scan validates data as exactly one JSON value surrounded by optional
// whitespace, recording fields of the top-level object per level. It reports
// the top-level kind, or ok=false if data is not valid JSON.
func (s *jsonScanner) scan(data []byte, level uint8) (kind jsonKind, ok bool) {
	s.data = data
	s.fields = [jsonNumFields]jsonSpan{}
	i := jsonSkipWS(data, 0)
	end, kind := s.value(i, 0, level)
	if end < 0 || jsonSkipWS(data, end) != len(data) {
		return jsonAbsent, false
	}
	return kind, true
}

func jsonSkipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value starting at d[i] and returns the index just past it,
// or -1 if the input is not valid JSON there.
func (s *jsonScanner) value(i, depth int, level uint8) (int, jsonKind) {
	d := s.data
	if i >= len(d) {
		return -1, jsonAbsent
	}
	switch c := d[i]; c {
	case '{':
		if depth >= jsonMaxDepth {
			return -1, jsonAbsent
		}
		return s.object(i+1, depth+1, level), jsonObject
	case '[':
		if depth >= jsonMaxDepth {
			return -1, jsonAbsent
		}
		return s.array(i+1, depth+1), jsonArray
	case '"':
		return jsonScanString(d, i), jsonString
	case 't':
		return jsonLiteral(d, i, "true"), jsonTrue
	case 'f':
		return jsonLiteral(d, i, "false"), jsonFalse
	case 'n':
		return jsonLiteral(d, i, "null"), jsonNull
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return jsonScanNumber(d, i), jsonNumber
		}
		return -1, jsonAbsent
	}
}

func jsonLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// object scans object members after the opening brace at d[i-1].
func (s *jsonScanner) object(i, depth int, level uint8) int {
	d := s.data
	i = jsonSkipWS(d, i)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return -1
		}
		kEnd := jsonScanString(d, i)
		if kEnd < 0 {
			return -1
		}
		f := -1
		if level != jsonLevelNone {
			f = jsonFieldOf(level, d[i+1:kEnd-1])
		}
		i = jsonSkipWS(d, kEnd)
		if i >= len(d) || d[i] != ':' {
			return -1
		}
		i = jsonSkipWS(d, i+1)
		sub := jsonLevelNone
		if f == jsonFieldPayload {
			// The last "payload" wins, as with JSON.parse: forget fields of
			// an earlier one.
			sub = jsonLevelRequest
			s.fields[jsonFieldQuery] = jsonSpan{}
			s.fields[jsonFieldOperationName] = jsonSpan{}
			s.fields[jsonFieldVariables] = jsonSpan{}
			s.fields[jsonFieldExtensions] = jsonSpan{}
		}
		start := i
		end, kind := s.value(i, depth, sub)
		if end < 0 {
			return -1
		}
		if f >= 0 {
			s.fields[f] = jsonSpan{start: start, end: end, kind: kind}
		}
		i = jsonSkipWS(d, end)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = jsonSkipWS(d, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// array scans array elements after the opening bracket at d[i-1].
func (s *jsonScanner) array(i, depth int) int {
	d := s.data
	i = jsonSkipWS(d, i)
	if i < len(d) && d[i] == ']' {
		return i + 1
	}
	for {
		end, _ := s.value(i, depth, jsonLevelNone)
		if end < 0 {
			return -1
		}
		i = jsonSkipWS(d, end)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i = jsonSkipWS(d, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// jsonField maps a raw (possibly escaped) object key to the field it names at
// level, or -1.
func jsonFieldOf(level uint8, raw []byte) int {
	// The longest key we look for is 13 bytes; escaped, at most 6 times that.
	var buf [6 * 16]byte
	key := raw
	for _, c := range raw {
		if c == '\\' {
			if len(raw) > len(buf) {
				return -1
			}
			key = jsonUnescape(buf[:0], raw)
			break
		}
	}
	if level == jsonLevelMessage {
		switch string(key) {
		case "type":
			return jsonFieldType
		case "id":
			return jsonFieldID
		case "payload":
			return jsonFieldPayload
		}
		return -1
	}
	switch string(key) {
	case "query":
		return jsonFieldQuery
	case "operationName":
		return jsonFieldOperationName
	case "variables":
		return jsonFieldVariables
	case "extensions":
		return jsonFieldExtensions
	}
	return -1
}

// jsonScanString validates the string whose opening quote is d[i] and returns
// the index just past its closing quote, or -1. UTF-8 validity is checked by
// the caller for the whole input.
func jsonScanString(d []byte, i int) int {
	j := i + 1
	for {
		// Skip eight plain bytes at a time.
		for len(d)-j >= 8 && !jsonSWARSpecial(binary.LittleEndian.Uint64(d[j:])) {
			j += 8
		}
		if j >= len(d) {
			return -1
		}
		switch c := d[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			j++
			if j >= len(d) {
				return -1
			}
			switch d[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if len(d)-j < 5 {
					return -1
				}
				for _, h := range d[j+1 : j+5] {
					if jsonHexVal(h) < 0 {
						return -1
					}
				}
				j += 5
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			j++
		}
	}
}

const (
	swarLSB = 0x0101010101010101
	swarMSB = 0x8080808080808080
)

// jsonSWARSpecial reports whether any of the eight bytes in w is '"', '\\'
// or a control character below 0x20 (a byte that ends a plain run inside a
// JSON string).
func jsonSWARSpecial(w uint64) bool {
	q := w ^ ('"' * swarLSB)
	b := w ^ ('\\' * swarLSB)
	return ((w-0x20*swarLSB)&^w|(q-swarLSB)&^q|(b-swarLSB)&^b)&swarMSB != 0
}

func jsonHexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// jsonScanNumber validates the number starting at d[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonScanNumber(d []byte, i int) int {
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = jsonDigits(d, i+1)
	default:
		return -1
	}
	if i < len(d) && d[i] == '.' {
		j := jsonDigits(d, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := jsonDigits(d, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func jsonDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// jsonUnescape appends the decoded contents of a validated JSON string (raw:
// the bytes between the quotes) to dst. Unpaired surrogates decode to U+FFFD.
// The result is never longer than raw.
func jsonUnescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		e := raw[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := jsonHex4(raw[i:])
			i += 4
			switch {
			case r >= 0xD800 && r < 0xDC00:
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := jsonHex4(raw[i+2:]); r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						i += 6
						break
					}
				}
				r = 0xFFFD
			case r >= 0xDC00 && r < 0xE000:
				r = 0xFFFD
			}
			dst = jsonAppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

func jsonHex4(b []byte) rune {
	return rune(jsonHexVal(b[0])<<12 | jsonHexVal(b[1])<<8 | jsonHexVal(b[2])<<4 | jsonHexVal(b[3]))
}

func jsonAppendRune(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r)&0x3F)
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	default:
		return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12)&0x3F, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	}
}

// jsonSafeASCII reports the ASCII bytes that appear unescaped inside a JSON
// string.
var jsonSafeASCII = func() (t [128]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const jsonHexDigits = "0123456789abcdef"

// AppendJSONString appends s to dst as a quoted JSON string escaped per RFC
// 8259: '"', '\\' and control characters below U+0020 are escaped (\n, \r, \t,
// \b, \f or \u00XX); valid UTF-8, U+2028 and U+2029 included, is copied as it
// is; each byte of invalid UTF-8 is replaced with \ufffd. It does not allocate
// when dst has room for the result.
func AppendJSONString(dst []byte, s []byte) []byte {
	return jsonAppendStr(dst, s)
}

// AppendJSONStringString is AppendJSONString for a string.
func AppendJSONStringString(dst []byte, s string) []byte {
	return jsonAppendStr(dst, s)
}

func jsonAppendStr[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain ASCII bytes at a time.
		for len(s)-i >= 8 {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if w&swarMSB != 0 || jsonSWARSpecial(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < 0x80 {
			if jsonSafeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHexDigits[c>>4], jsonHexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		n := jsonUTF8Len(s, i)
		if n == 0 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonUTF8Len returns the length of the valid UTF-8 sequence starting with the
// non-ASCII byte s[i], or 0 if there is none (same judgement as
// utf8.DecodeRune returning RuneError with size 1).
func jsonUTF8Len[T ~string | ~[]byte](s T, i int) int {
	c := s[i]
	rest := len(s) - i
	var lo, hi byte = 0x80, 0xBF
	switch {
	case c >= 0xC2 && c <= 0xDF:
		if rest >= 2 && s[i+1] >= 0x80 && s[i+1] <= 0xBF {
			return 2
		}
	case c >= 0xE0 && c <= 0xEF:
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
		if rest >= 3 && s[i+1] >= lo && s[i+1] <= hi && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
			return 3
		}
	case c >= 0xF0 && c <= 0xF4:
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
		if rest >= 4 && s[i+1] >= lo && s[i+1] <= hi && s[i+2] >= 0x80 && s[i+2] <= 0xBF &&
			s[i+3] >= 0x80 && s[i+3] <= 0xBF {
			return 4
		}
	}
	return 0
}
