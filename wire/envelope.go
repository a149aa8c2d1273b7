package wire

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// HotChocolate message kinds (HotChocolate.Subscriptions.MessageKind).
const (
	hcKindDefault      = 0
	hcKindCompleted    = 1
	hcKindUnsubscribed = 2
)

// hcCompleteJSON is HotChocolate's completion message.
const hcCompleteJSON = `{"kind":1}`

// decodeHotChocolateJSON decodes a HotChocolate message sent with a JSON
// serializer: the envelope JSON itself, or a JSON string literal holding it.
func (d *Decoder) decodeHotChocolateJSON(body []byte) (EventKind, []byte, error) {
	t := bpTrimSpace(body)
	if len(t) > 0 && t[0] == '"' {
		if err := fastjson.ValidateBytes(t); err != nil {
			return 0, nil, fmt.Errorf("%w: string literal: %v", ErrInvalidEnvelope, err)
		}
		d.str = jsonUnescape(d.str[:0], t[1:len(t)-1])
		if len(d.str) == 0 {
			return EventIgnore, nil, nil
		}
		return d.envelopeJSON(d.str)
	}
	return d.envelopeJSON(t)
}

// envelopeJSON decodes the envelope JSON text b; the returned event aliases b.
func (d *Decoder) envelopeJSON(b []byte) (EventKind, []byte, error) {
	b = bpTrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return 0, nil, fmt.Errorf("%w: not a JSON object", ErrInvalidEnvelope)
	}
	if err := fastjson.ValidateBytes(b); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrInvalidEnvelope, err)
	}
	// b is a valid JSON object from here on.
	var body []byte
	kind := 0 // a missing kind is MessageKind.Default, as in HotChocolate
	i := bpSkipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		if b[i] == ',' {
			i = bpSkipSpace(b, i+1)
		}
		end := bpSkipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			d.key = jsonUnescape(d.key[:0], key)
			key = d.key
		}
		i = bpSkipSpace(b, end)
		i = bpSkipSpace(b, i+1) // ':'
		start := i
		i = bpSkipValue(b, i)
		val := b[start:i]
		switch {
		case bpIsKey(key, "body", "Body"):
			body = val
			if string(val) == "null" {
				body = nil
			}
		case bpIsKey(key, "kind", "Kind"):
			k, ok := bpSmallUint(val)
			if !ok {
				return 0, nil, fmt.Errorf("%w: %.32s", ErrUnknownKind, val)
			}
			kind = k
		}
		i = bpSkipSpace(b, i)
	}
	return hcResult(kind, body)
}

func hcResult(kind int, body []byte) (EventKind, []byte, error) {
	switch kind {
	case hcKindDefault:
		if body == nil {
			return 0, nil, fmt.Errorf("%w: kind 0 without body", ErrInvalidEnvelope)
		}
		if !utf8.Valid(body) {
			return 0, nil, errEventNotUTF8
		}
		return EventData, body, nil
	case hcKindCompleted:
		return EventComplete, nil, nil
	case hcKindUnsubscribed:
		return EventIgnore, nil, nil
	}
	return 0, nil, fmt.Errorf("%w: %d", ErrUnknownKind, kind)
}

func bpIsKey(key []byte, lower, upper string) bool {
	return string(key) == lower || string(key) == upper
}

// bpSmallUint parses a JSON integer literal in [0, 1<<20).
func bpSmallUint(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 6 || (v[0] == '0' && len(v) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// bpSkipSpace returns the index of the first non-space byte of b at or after i.
func bpSkipSpace(b []byte, i int) int {
	for i < len(b) && bpIsSpace(b[i]) {
		i++
	}
	return i
}

// bpSkipString returns the index just past the JSON string starting at b[i]
// (a '"'). b must be valid JSON.
func bpSkipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// bpSkipValue returns the index just past the JSON value starting at b[i].
// b must be valid JSON.
func bpSkipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return bpSkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = bpSkipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// decodeHotChocolateMsgpack decodes a HotChocolate message sent with a
// MessagePack serializer: a str holding the envelope JSON, a map envelope, or
// the raw envelope JSON.
func (d *Decoder) decodeHotChocolateMsgpack(body []byte) (EventKind, []byte, error) {
	c := body[0]
	switch {
	case c == '{' || bpIsSpace(c):
		return d.envelopeJSON(body)
	case c >= 0xa0 && c <= 0xbf, c == 0xd9, c == 0xda, c == 0xdb:
		s, rest, err := readMsgpackStr(body)
		if err != nil {
			return 0, nil, err
		}
		if len(rest) != 0 {
			return 0, nil, fmt.Errorf("%w: %d bytes after the str", ErrInvalidMsgpack, len(rest))
		}
		if len(s) == 0 {
			return EventIgnore, nil, nil
		}
		return d.envelopeJSON(s)
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		return d.envelopeMsgpackMap(body)
	}
	return 0, nil, fmt.Errorf("%w: msgpack type 0x%02x", ErrInvalidEnvelope, c)
}

// envelopeMsgpackMap decodes the map envelope {"body":<value>,"kind":<int>};
// the body is converted to JSON in the Decoder's scratch.
func (d *Decoder) envelopeMsgpackMap(b []byte) (EventKind, []byte, error) {
	n, b, err := readMsgpackMapLen(b)
	if err != nil {
		return 0, nil, err
	}
	var body []byte
	kind := 0
	out := d.buf[:0]
	for ; n > 0; n-- {
		var key []byte
		key, b, err = readMsgpackStr(b)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: envelope key: %w", ErrInvalidEnvelope, err)
		}
		switch {
		case bpIsKey(key, "body", "Body"):
			if len(b) > 0 && b[0] == 0xc0 { // nil
				body, b = nil, b[1:]
				continue
			}
			out, b, err = appendMsgpackJSON(out[:0], b, 1)
			if err != nil {
				d.buf = out[:0]
				return 0, nil, err
			}
			body = out
		case bpIsKey(key, "kind", "Kind"):
			var k int64
			k, b, err = readMsgpackInt(b)
			if err != nil {
				return 0, nil, fmt.Errorf("%w: kind: %w", ErrUnknownKind, err)
			}
			if k < 0 || k > hcKindUnsubscribed {
				return 0, nil, fmt.Errorf("%w: %d", ErrUnknownKind, k)
			}
			kind = int(k)
		default:
			b, err = skipMsgpack(b, 1)
			if err != nil {
				return 0, nil, err
			}
		}
	}
	d.buf = out[:0]
	if len(b) != 0 {
		return 0, nil, fmt.Errorf("%w: %d bytes after the map", ErrInvalidMsgpack, len(b))
	}
	return hcResult(kind, body)
}

// appendHotChocolateJSON appends {"body":<event>,"kind":0}.
func appendHotChocolateJSON(dst, event []byte) []byte {
	dst = append(dst, `{"body":`...)
	dst = append(dst, event...)
	return append(dst, `,"kind":0}`...)
}
