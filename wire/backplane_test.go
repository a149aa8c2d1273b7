package wire

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func readBackplaneFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "backplane", name))
	require.NoError(t, err)
	return b
}

func TestParseSerializer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Serializer
		ok   bool
	}{
		{"json", SerializerJSON, true},
		{"msgpack", SerializerMsgpack, true},
		{"JSON", 0, false},
		{"", 0, false},
		{"messagepack", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSerializer(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrUnknownSerializer)
				require.ErrorContains(t, err, "want json or msgpack")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Envelope
		ok   bool
	}{
		{"raw", EnvelopeRaw, true},
		{"hotchocolate", EnvelopeHotChocolate, true},
		{"HotChocolate", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEnvelope(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrUnknownEnvelope)
				require.ErrorContains(t, err, "want raw or hotchocolate")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

// backplaneGolden are the fixtures in testdata/backplane; the MessagePack ones are
// also spelled out byte by byte here, independently of any msgpack library.
var backplaneGolden = []struct {
	file    string
	ser     Serializer
	env     Envelope
	kind    EventKind
	literal []byte // hand-written expectation of the fixture's bytes, if not plain text
	encoded bool   // AppendEvent/AppendCompletion produce exactly this fixture
}{
	{file: "raw-json.msg", ser: SerializerJSON, env: EnvelopeRaw, kind: EventData, encoded: true},
	{
		file: "raw-msgpack.msg", ser: SerializerMsgpack, env: EnvelopeRaw, kind: EventData, encoded: true,
		literal: mpBytes(0x82, 0xa2, "id", 0xa1, "1", 0xa5, "price", 0xcb, 0x40, 0x29, 0, 0, 0, 0, 0, 0),
	},
	{
		file: "hotchocolate-json.msg", ser: SerializerJSON, env: EnvelopeHotChocolate, kind: EventData, encoded: true,
		literal: []byte(`{"body":{"id":"1","price":12.5},"kind":0}`),
	},
	{
		file: "hotchocolate-json-complete.msg", ser: SerializerJSON, env: EnvelopeHotChocolate, kind: EventComplete, encoded: true,
		literal: []byte(`{"kind":1}`),
	},
	{
		file: "hotchocolate-json-alternats.msg", ser: SerializerJSON, env: EnvelopeHotChocolate, kind: EventData,
		literal: []byte(`"{\"body\":{\"id\":\"1\",\"price\":12.5},\"kind\":0}"`),
	},
	{
		file: "hotchocolate-json-alternats-complete.msg", ser: SerializerJSON, env: EnvelopeHotChocolate, kind: EventComplete,
		literal: []byte(`"{\"kind\":1}"`),
	},
	{
		file: "hotchocolate-msgpack-alternats.msg", ser: SerializerMsgpack, env: EnvelopeHotChocolate, kind: EventData, encoded: true,
		literal: mpBytes(0xd9, 41, `{"body":{"id":"1","price":12.5},"kind":0}`),
	},
	{
		file: "hotchocolate-msgpack-alternats-complete.msg", ser: SerializerMsgpack, env: EnvelopeHotChocolate, kind: EventComplete, encoded: true,
		literal: mpBytes(0xaa, `{"kind":1}`),
	},
	{
		file: "hotchocolate-msgpack-map.msg", ser: SerializerMsgpack, env: EnvelopeHotChocolate, kind: EventData,
		literal: mpBytes(0x82, 0xa4, "body", 0x82, 0xa2, "id", 0xa1, "1", 0xa5, "price", 0xcb, 0x40, 0x29, 0, 0, 0, 0, 0, 0, 0xa4, "kind", 0x00),
	},
	{
		file: "hotchocolate-msgpack-map-complete.msg", ser: SerializerMsgpack, env: EnvelopeHotChocolate, kind: EventComplete,
		literal: mpBytes(0x81, 0xa4, "kind", 0x01),
	},
	{file: "hotchocolate-msgpack-raw.msg", ser: SerializerMsgpack, env: EnvelopeHotChocolate, kind: EventData},
}

func TestDecodeGolden(t *testing.T) {
	t.Parallel()
	event := readBackplaneFixture(t, "event.json")
	for _, tt := range backplaneGolden {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			msg := readBackplaneFixture(t, tt.file)
			if tt.literal != nil {
				require.Equal(t, tt.literal, msg, "fixture bytes")
			}
			d := Decoder{Serializer: tt.ser, Envelope: tt.env}
			kind, got, err := d.Decode(msg, false)
			require.NoError(t, err)
			require.Equal(t, tt.kind, kind)
			if kind == EventData {
				require.Equal(t, string(event), string(got))
			} else {
				require.Nil(t, got)
			}
		})
	}
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	event := readBackplaneFixture(t, "event.json")
	for _, tt := range backplaneGolden {
		if !tt.encoded {
			continue
		}
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			want := readBackplaneFixture(t, tt.file)
			prefix := []byte("keep:")
			var got []byte
			if tt.kind == EventComplete {
				got = AppendCompletion(prefix, tt.ser, tt.env)
			} else {
				var err error
				got, err = AppendEvent(prefix, tt.ser, tt.env, event)
				require.NoError(t, err)
			}
			require.Equal(t, string(prefix), string(got[:len(prefix)]), "dst prefix kept")
			require.Equal(t, want, got[len(prefix):])
		})
	}
}

func TestAppendCompletionRaw(t *testing.T) {
	t.Parallel()
	for _, ser := range []Serializer{SerializerJSON, SerializerMsgpack} {
		t.Run(ser.String(), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, []byte("x"), AppendCompletion([]byte("x"), ser, EnvelopeRaw))
			// The raw completion travels in the header.
			d := Decoder{Serializer: ser}
			kind, event, err := d.Decode(AppendCompletion(nil, ser, EnvelopeRaw), true)
			require.NoError(t, err)
			require.Equal(t, EventComplete, kind)
			require.Nil(t, event)
		})
	}
}

func TestAppendEventInvalid(t *testing.T) {
	t.Parallel()
	for _, ser := range []Serializer{SerializerJSON, SerializerMsgpack} {
		for _, env := range []Envelope{EnvelopeRaw, EnvelopeHotChocolate} {
			for _, in := range []string{``, `{`, `{"a":1}x`, `nul`, `'a'`} {
				t.Run(ser.String()+"/"+env.String()+"/"+in, func(t *testing.T) {
					t.Parallel()
					got, err := AppendEvent([]byte("dst"), ser, env, []byte(in))
					require.ErrorIs(t, err, ErrInvalidEvent)
					require.Equal(t, "dst", string(got))
				})
			}
		}
	}
	_, err := AppendEvent(nil, SerializerMsgpack, EnvelopeRaw, []byte(`1e400`))
	require.ErrorIs(t, err, ErrInvalidEvent)
	_, err = AppendEvent(nil, SerializerJSON, EnvelopeHotChocolate, []byte("\"\xff\""))
	require.ErrorIs(t, err, ErrInvalidEvent)
}

// TestRoundTrip encodes events with every serializer×envelope and decodes them.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	events := []string{
		`{"id":"1","price":12.5}`,
		`{"name":"a \"quoted\" \\ name\n","tags":["Ünï","\u2028"],"n":null,"ok":true}`,
		`"just a string"`,
		`42`,
		`[]`,
		`{"deep":{"a":[{"b":[-1,0.5,1e-9]}]}}`,
		`{"long":"` + strings.Repeat("x", 70000) + `"}`,
	}
	for _, ser := range []Serializer{SerializerJSON, SerializerMsgpack} {
		for _, env := range []Envelope{EnvelopeRaw, EnvelopeHotChocolate} {
			for i, ev := range events {
				t.Run(ser.String()+"/"+env.String()+"/"+string(rune('a'+i)), func(t *testing.T) {
					t.Parallel()
					msg, err := AppendEvent(nil, ser, env, []byte(ev))
					require.NoError(t, err)
					d := Decoder{Serializer: ser, Envelope: env}
					kind, got, err := d.Decode(msg, false)
					require.NoError(t, err)
					require.Equal(t, EventData, kind)
					require.JSONEq(t, ev, string(got))

					kind, got, err = d.Decode(AppendCompletion(nil, ser, env), env == EnvelopeRaw)
					require.NoError(t, err)
					require.Equal(t, EventComplete, kind)
					require.Nil(t, got)
				})
			}
		}
	}
}

func TestDecodeHotChocolate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ser   Serializer
		in    []byte
		kind  EventKind
		event string
	}{
		{"json order kind first", SerializerJSON, []byte(`{"kind":0,"body":{"a":1}}`), EventData, `{"a":1}`},
		{"json white space", SerializerJSON, []byte(" \n{ \"body\" : [1, 2] ,\t\"kind\" : 0 }\r\n"), EventData, `[1, 2]`},
		{"json scalar body", SerializerJSON, []byte(`{"body":"s\"}","kind":0}`), EventData, `"s\"}"`},
		{"json number body", SerializerJSON, []byte(`{"body":-1.5e3,"kind":0}`), EventData, `-1.5e3`},
		{"json false body", SerializerJSON, []byte(`{"body":false}`), EventData, `false`},
		{"json missing kind is default", SerializerJSON, []byte(`{"body":{}}`), EventData, `{}`},
		{"json pascal case", SerializerJSON, []byte(`{"Body":{"x":"}"},"Kind":0}`), EventData, `{"x":"}"}`},
		{"json escaped key", SerializerJSON, []byte(`{"b\u006fdy":{"x":1},"kind":0}`), EventData, `{"x":1}`},
		{"json unknown keys ignored", SerializerJSON, []byte(`{"id":{"body":1},"body":{"x":[{}]},"v":[1,"]"],"kind":0}`), EventData, `{"x":[{}]}`},
		{"json complete with body", SerializerJSON, []byte(`{"body":{"x":1},"kind":1}`), EventComplete, ``},
		{"json unsubscribed", SerializerJSON, []byte(`{"kind":2}`), EventIgnore, ``},
		{"json empty", SerializerJSON, []byte{}, EventIgnore, ``},
		{"json alternats empty string", SerializerJSON, []byte(`""`), EventIgnore, ``},
		{
			"json alternats escapes", SerializerJSON,
			[]byte(`"{\"body\":{\"name\":\"a \\\"b\\\" \\u00dc \\ud83d\\ude00\"},\"kind\":0}"`),
			EventData, `{"name":"a \"b\" \u00dc \ud83d\ude00"}`,
		},
		{"json alternats unicode escape of brace", SerializerJSON, []byte(`"\u007b\"kind\":1}"`), EventComplete, ``},
		{"json alternats unsubscribed", SerializerJSON, []byte(`"{\"kind\":2}"`), EventIgnore, ``},
		{"msgpack raw json", SerializerMsgpack, []byte(`{"body":[true],"kind":0}`), EventData, `[true]`},
		{"msgpack raw json complete", SerializerMsgpack, []byte(`{"kind":1}`), EventComplete, ``},
		{"msgpack str empty", SerializerMsgpack, mpBytes(0xa0), EventIgnore, ``},
		{"msgpack str16", SerializerMsgpack, mpBytes(0xda, 0x00, 0x19, `{"body":"x","kind":0}    `), EventData, `"x"`},
		{"msgpack str32", SerializerMsgpack, mpBytes(0xdb, 0, 0, 0, 0x0a, `{"kind":2}`), EventIgnore, ``},
		{"msgpack map body first", SerializerMsgpack, mpBytes(0x82, 0xa4, "body", 0x92, 0x01, 0xc3, 0xa4, "kind", 0x00), EventData, `[1,true]`},
		{"msgpack map kind first", SerializerMsgpack, mpBytes(0x82, 0xa4, "Kind", 0xd0, 0x00, 0xa4, "Body", 0xa1, "s"), EventData, `"s"`},
		{"msgpack map missing kind", SerializerMsgpack, mpBytes(0x81, 0xa4, "body", 0x80), EventData, `{}`},
		{"msgpack map unknown key skipped", SerializerMsgpack, mpBytes(0x83, 0xa2, "ts", 0xd6, 0xff, 0, 0, 0, 0, 0xa4, "body", 0xc3, 0xa4, "kind", 0xcc, 0x00), EventData, `true`},
		{"msgpack map16 complete", SerializerMsgpack, mpBytes(0xde, 0x00, 0x01, 0xa4, "kind", 0x01), EventComplete, ``},
		{"msgpack map unsubscribed", SerializerMsgpack, mpBytes(0x81, 0xa4, "kind", 0x02), EventIgnore, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Serializer: tt.ser, Envelope: EnvelopeHotChocolate}
			kind, event, err := d.Decode(tt.in, true) // the header is ignored here
			require.NoError(t, err)
			require.Equal(t, tt.kind, kind)
			if tt.kind != EventData {
				require.Nil(t, event)
				return
			}
			require.Equal(t, tt.event, string(event))
			require.NoError(t, fastjson.ValidateBytes(event))
		})
	}
}

func TestDecodeRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ser      Serializer
		in       []byte
		complete bool
		kind     EventKind
		event    string
	}{
		{"json object", SerializerJSON, []byte(`{"a":1}`), false, EventData, `{"a":1}`},
		{"json trimmed", SerializerJSON, []byte(" [1]\n"), false, EventData, `[1]`},
		{"json scalar", SerializerJSON, []byte(`"x"`), false, EventData, `"x"`},
		{"json empty", SerializerJSON, nil, false, EventIgnore, ``},
		{"json complete header", SerializerJSON, nil, true, EventComplete, ``},
		{"json complete header wins over body", SerializerJSON, []byte(`{"a":1}`), true, EventComplete, ``},
		{"json complete header with junk body", SerializerJSON, []byte(`junk`), true, EventComplete, ``},
		{"msgpack empty", SerializerMsgpack, nil, false, EventIgnore, ``},
		{"msgpack complete header", SerializerMsgpack, nil, true, EventComplete, ``},
		{"msgpack value", SerializerMsgpack, mpBytes(0x81, 0xa1, "a", 0x01), false, EventData, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Serializer: tt.ser}
			kind, event, err := d.Decode(tt.in, tt.complete)
			require.NoError(t, err)
			require.Equal(t, tt.kind, kind)
			if tt.kind != EventData {
				require.Nil(t, event)
				return
			}
			require.Equal(t, tt.event, string(event))
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	const hc, raw = EnvelopeHotChocolate, EnvelopeRaw
	const js, mpk = SerializerJSON, SerializerMsgpack
	tests := []struct {
		name string
		ser  Serializer
		env  Envelope
		in   []byte
		want error
	}{
		{"raw json invalid", js, raw, []byte(`{"a":}`), ErrInvalidEvent},
		{"raw json trailing", js, raw, []byte(`{"a":1}}`), ErrInvalidEvent},
		{"raw json white space only", js, raw, []byte(" "), ErrInvalidEvent},
		{"raw json NaN", js, raw, []byte(`NaN`), ErrInvalidEvent},
		{"raw json not utf8", js, raw, []byte("{\"a\":\"\xff\"}"), ErrInvalidEvent},
		{"hc json body not utf8", js, hc, []byte("{\"body\":\"\xc3\",\"kind\":0}"), ErrInvalidEvent},
		{"hc json alternats body not utf8", js, hc, []byte("\"{\\\"body\\\":\\\"\xff\\\"}\""), ErrInvalidEvent},
		{"hc msgpack str body not utf8", mpk, hc, mpBytes(0xae, "{\"body\":\"\xed\xa0\x80\"}"), ErrInvalidEvent},
		{"raw msgpack truncated", mpk, raw, mpBytes(0x82, 0xa1, "a", 0x01), ErrInvalidMsgpack},
		{"raw msgpack NaN", mpk, raw, mpBytes(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), ErrUnsupportedMsgpack},
		{"hc json invalid", js, hc, []byte(`{"body":{,"kind":0}`), ErrInvalidEnvelope},
		{"hc json not an object", js, hc, []byte(`[{"body":1,"kind":0}]`), ErrInvalidEnvelope},
		{"hc json number", js, hc, []byte(`0`), ErrInvalidEnvelope},
		{"hc json kind 0 without body", js, hc, []byte(`{"kind":0}`), ErrInvalidEnvelope},
		{"hc json null body", js, hc, []byte(`{"body":null,"kind":0}`), ErrInvalidEnvelope},
		{"hc json empty object", js, hc, []byte(`{}`), ErrInvalidEnvelope},
		{"hc json unknown kind", js, hc, []byte(`{"body":1,"kind":3}`), ErrUnknownKind},
		{"hc json negative kind", js, hc, []byte(`{"kind":-1}`), ErrUnknownKind},
		{"hc json fractional kind", js, hc, []byte(`{"kind":1.0}`), ErrUnknownKind},
		{"hc json string kind", js, hc, []byte(`{"kind":"1"}`), ErrUnknownKind},
		{"hc json huge kind", js, hc, []byte(`{"kind":99999999999999999999}`), ErrUnknownKind},
		{"hc json NaN body", js, hc, []byte(`{"body":NaN,"kind":0}`), ErrInvalidEnvelope},
		{"hc json string literal unterminated", js, hc, []byte(`"{\"kind\":1}`), ErrInvalidEnvelope},
		{"hc json string literal bad escape", js, hc, []byte(`"{\x}"`), ErrInvalidEnvelope},
		{"hc json string literal of non-envelope", js, hc, []byte(`"hello"`), ErrInvalidEnvelope},
		{"hc json string literal invalid inner", js, hc, []byte(`"{\"body\":}"`), ErrInvalidEnvelope},
		{"hc json string literal kind 0 without body", js, hc, []byte(`"{\"kind\":0}"`), ErrInvalidEnvelope},
		{"hc json double string literal", js, hc, []byte(`"\"{\\\"kind\\\":1}\""`), ErrInvalidEnvelope},
		{"hc json rejects msgpack str", js, hc, mpBytes(0xaa, `{"kind":1}`), ErrInvalidEnvelope},
		{"hc msgpack str truncated", mpk, hc, mpBytes(0xd9, 0x29, `{"body":1`), ErrInvalidMsgpack},
		{"hc msgpack str trailing", mpk, hc, mpBytes(0xaa, `{"kind":1}`, 0xc0), ErrInvalidMsgpack},
		{"hc msgpack str invalid json", mpk, hc, mpBytes(0xa3, `{"}`), ErrInvalidEnvelope},
		{"hc msgpack str kind 0 without body", mpk, hc, mpBytes(0xaa, `{"kind":0}`), ErrInvalidEnvelope},
		{"hc msgpack str unknown kind", mpk, hc, mpBytes(0xaa, `{"kind":7}`), ErrUnknownKind},
		{"hc msgpack rejects json string literal", mpk, hc, []byte(`"{\"kind\":1}"`), ErrInvalidEnvelope},
		{"hc msgpack int", mpk, hc, mpBytes(0x01), ErrInvalidEnvelope},
		{"hc msgpack array", mpk, hc, mpBytes(0x91, 0x01), ErrInvalidEnvelope},
		{"hc msgpack map without body", mpk, hc, mpBytes(0x81, 0xa4, "kind", 0x00), ErrInvalidEnvelope},
		{"hc msgpack map nil body", mpk, hc, mpBytes(0x82, 0xa4, "body", 0xc0, 0xa4, "kind", 0x00), ErrInvalidEnvelope},
		{"hc msgpack map unknown kind", mpk, hc, mpBytes(0x81, 0xa4, "kind", 0x03), ErrUnknownKind},
		{"hc msgpack map negative kind", mpk, hc, mpBytes(0x81, 0xa4, "kind", 0xff), ErrUnknownKind},
		{"hc msgpack map string kind", mpk, hc, mpBytes(0x81, 0xa4, "kind", 0xa1, "0"), ErrUnknownKind},
		{"hc msgpack map int key", mpk, hc, mpBytes(0x81, 0x00, 0x00), ErrInvalidEnvelope},
		{"hc msgpack map truncated", mpk, hc, mpBytes(0x82, 0xa4, "kind", 0x00), ErrInvalidMsgpack},
		{"hc msgpack map truncated body", mpk, hc, mpBytes(0x81, 0xa4, "body", 0x92, 0x01), ErrInvalidMsgpack},
		{"hc msgpack map body ext", mpk, hc, mpBytes(0x81, 0xa4, "body", 0xd4, 0x01, 0x00), ErrUnsupportedMsgpack},
		{"hc msgpack map body NaN", mpk, hc, mpBytes(0x81, 0xa4, "body", 0xca, 0x7f, 0xc0, 0x00, 0x00), ErrUnsupportedMsgpack},
		{"hc msgpack map trailing", mpk, hc, mpBytes(0x81, 0xa4, "kind", 0x01, 0xc0), ErrInvalidMsgpack},
		{"hc msgpack map unknown key truncated", mpk, hc, mpBytes(0x81, 0xa1, "x", 0xcd, 0x01), ErrInvalidMsgpack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Serializer: tt.ser, Envelope: tt.env}
			require.NotPanics(t, func() {
				_, event, err := d.Decode(tt.in, false)
				require.ErrorIs(t, err, tt.want)
				require.Nil(t, event)
			})
		})
	}
}

// TestDecoderReuse checks that a Decoder's scratch reuse does not corrupt the
// result of the current call when it follows a larger message.
func TestDecoderReuse(t *testing.T) {
	t.Parallel()
	d := Decoder{Serializer: SerializerJSON, Envelope: EnvelopeHotChocolate}
	big, err := AppendEvent(nil, SerializerJSON, EnvelopeHotChocolate, []byte(`{"s":"`+strings.Repeat("y", 1000)+`"}`))
	require.NoError(t, err)
	alternats := []byte(`"{\"body\":{\"s\":\"\\\"q\\\"\"},\"kind\":0}"`)
	for range 3 {
		kind, event, err := d.Decode(alternats, false)
		require.NoError(t, err)
		require.Equal(t, EventData, kind)
		require.Equal(t, `{"s":"\"q\""}`, string(event))
		_, event, err = d.Decode(big, false)
		require.NoError(t, err)
		require.Len(t, event, 1008)
	}

	m := Decoder{Serializer: SerializerMsgpack}
	for _, tt := range []struct {
		in   []byte
		want string
	}{
		{mpBytes(0x92, 0xa3, "abc", 0x01), `["abc",1]`},
		{mpBytes(0x01), `1`},
		{mpBytes(0x81, 0xa1, "k", 0xc3), `{"k":true}`},
	} {
		_, event, err := m.Decode(tt.in, false)
		require.NoError(t, err)
		require.Equal(t, tt.want, string(event))
	}
}

func TestKindStrings(t *testing.T) {
	t.Parallel()
	require.Equal(t, "data", EventData.String())
	require.Equal(t, "complete", EventComplete.String())
	require.Equal(t, "ignore", EventIgnore.String())
	require.Equal(t, "EventKind(9)", EventKind(9).String())
	require.Equal(t, "Serializer(9)", Serializer(9).String())
	require.Equal(t, "Envelope(9)", Envelope(9).String())
	d := Decoder{Envelope: Envelope(9)}
	_, _, err := d.Decode([]byte(`1`), false)
	require.ErrorIs(t, err, ErrUnknownEnvelope)
}
