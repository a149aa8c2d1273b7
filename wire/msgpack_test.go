package wire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
	"github.com/vmihailenco/msgpack/v5"
)

// mpBytes concatenates hand-written MessagePack fragments (bytes and strings).
func mpBytes(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic("mpBytes: unsupported part")
		}
	}
	return b
}

func TestMsgpackToJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"nil", mpBytes(0xc0), `null`},
		{"false", mpBytes(0xc2), `false`},
		{"true", mpBytes(0xc3), `true`},
		{"positive fixint 0", mpBytes(0x00), `0`},
		{"positive fixint 127", mpBytes(0x7f), `127`},
		{"negative fixint -1", mpBytes(0xff), `-1`},
		{"negative fixint -32", mpBytes(0xe0), `-32`},
		{"uint8", mpBytes(0xcc, 0xff), `255`},
		{"uint16", mpBytes(0xcd, 0xff, 0xfe), `65534`},
		{"uint32", mpBytes(0xce, 0xff, 0xff, 0xff, 0xff), `4294967295`},
		{"uint64 max", mpBytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), `18446744073709551615`},
		{"int8 -128", mpBytes(0xd0, 0x80), `-128`},
		{"int8 positive", mpBytes(0xd0, 0x05), `5`},
		{"int16 -32768", mpBytes(0xd1, 0x80, 0x00), `-32768`},
		{"int32 -2", mpBytes(0xd2, 0xff, 0xff, 0xff, 0xfe), `-2`},
		{"int64 min", mpBytes(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), `-9223372036854775808`},
		{"float32 1.5", mpBytes(0xca, 0x3f, 0xc0, 0x00, 0x00), `1.5`},
		{"float32 0.1 shortest", mpBytes(0xca, 0x3d, 0xcc, 0xcc, 0xcd), `0.1`},
		{"float64 12.5", mpBytes(0xcb, 0x40, 0x29, 0, 0, 0, 0, 0, 0), `12.5`},
		{"float64 -0.25", mpBytes(0xcb, 0xbf, 0xd0, 0, 0, 0, 0, 0, 0), `-0.25`},
		{"float64 1e21", mpBytes(0xcb, 0x44, 0x4b, 0x1a, 0xe4, 0xd6, 0xe2, 0xef, 0x50), `1e+21`},
		{"float64 1e-7", mpBytes(0xcb, 0x3e, 0x7a, 0xd7, 0xf2, 0x9a, 0xbc, 0xaf, 0x48), `1e-7`},
		{"float64 integral", mpBytes(0xcb, 0x40, 0x59, 0, 0, 0, 0, 0, 0), `100`},
		{"fixstr empty", mpBytes(0xa0), `""`},
		{"fixstr", mpBytes(0xa3, "abc"), `"abc"`},
		{"str8", mpBytes(0xd9, 0x03, "abc"), `"abc"`},
		{"str16", mpBytes(0xda, 0x00, 0x03, "abc"), `"abc"`},
		{"str32", mpBytes(0xdb, 0, 0, 0, 0x03, "abc"), `"abc"`},
		{"str escapes", mpBytes(0xa8, "a\"\\\n\t\x01/<"), `"a\"\\\n\t\u0001/<"`},
		{"str utf8", mpBytes(0xa5, "Ünï"), `"Ünï"`},
		{"str invalid utf8", mpBytes(0xa3, "a\xffb"), `"a\ufffdb"`},
		{"bin8", mpBytes(0xc4, 0x03, 0x01, 0x02, 0x03), `"AQID"`},
		{"bin16 empty", mpBytes(0xc5, 0x00, 0x00), `""`},
		{"bin32 padded", mpBytes(0xc6, 0, 0, 0, 0x01, 0xff), `"/w=="`},
		{"fixarray empty", mpBytes(0x90), `[]`},
		{"fixarray", mpBytes(0x93, 0x01, 0xa1, "x", 0xc0), `[1,"x",null]`},
		{"array16", mpBytes(0xdc, 0x00, 0x02, 0xc3, 0xc2), `[true,false]`},
		{"array32", mpBytes(0xdd, 0, 0, 0, 0x01, 0xff), `[-1]`},
		{"fixmap empty", mpBytes(0x80), `{}`},
		{"fixmap keeps order", mpBytes(0x82, 0xa1, "b", 0x01, 0xa1, "a", 0x02), `{"b":1,"a":2}`},
		{"map16", mpBytes(0xde, 0x00, 0x01, 0xa1, "k", 0xa1, "v"), `{"k":"v"}`},
		{"map32", mpBytes(0xdf, 0, 0, 0, 0x01, 0xd9, 0x01, "k", 0x90), `{"k":[]}`},
		{"map key escaped", mpBytes(0x81, 0xa3, "a\"b", 0x00), `{"a\"b":0}`},
		{
			"nested",
			mpBytes(0x82, 0xa4, "book", 0x83, 0xa2, "id", 0xcd, 0x01, 0x00, 0xa4, "tags", 0x92, 0xa1, "a", 0x91, 0x80, 0xa5, "price", 0xca, 0x41, 0x48, 0x00, 0x00,
				0xa3, "raw", 0xc4, 0x02, "hi"),
			`{"book":{"id":256,"tags":["a",[{}]],"price":12.5},"raw":"aGk="}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Serializer: SerializerMsgpack}
			kind, event, err := d.Decode(tt.in, false)
			require.NoError(t, err)
			require.Equal(t, EventData, kind)
			require.Equal(t, tt.want, string(event))
			require.NoError(t, fastjson.ValidateBytes(event))
		})
	}
}

func TestMsgpackToJSONErrors(t *testing.T) {
	t.Parallel()
	deep := bytes.Repeat([]byte{0x91}, bpMaxDepth+2)
	deep = append(deep, 0xc0)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"never used 0xc1", mpBytes(0xc1), ErrInvalidMsgpack},
		{"truncated uint16", mpBytes(0xcd, 0x01), ErrInvalidMsgpack},
		{"truncated int64", mpBytes(0xd3, 0, 0, 0), ErrInvalidMsgpack},
		{"truncated float32", mpBytes(0xca, 0x3f), ErrInvalidMsgpack},
		{"truncated float64", mpBytes(0xcb, 0x40, 0x29), ErrInvalidMsgpack},
		{"truncated fixstr", mpBytes(0xa5, "ab"), ErrInvalidMsgpack},
		{"truncated str8 length", mpBytes(0xd9), ErrInvalidMsgpack},
		{"truncated str32", mpBytes(0xdb, 0xff, 0xff, 0xff, 0xff, "a"), ErrInvalidMsgpack},
		{"truncated bin8", mpBytes(0xc4, 0x05, 0x01), ErrInvalidMsgpack},
		{"truncated array", mpBytes(0x92, 0x01), ErrInvalidMsgpack},
		{"huge array32", mpBytes(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0), ErrInvalidMsgpack},
		{"truncated map value", mpBytes(0x81, 0xa1, "k"), ErrInvalidMsgpack},
		{"huge map32", mpBytes(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, "k", 0xc0), ErrInvalidMsgpack},
		{"trailing bytes", mpBytes(0xc0, 0xc0), ErrInvalidMsgpack},
		{"int map key", mpBytes(0x81, 0x01, 0x02), ErrUnsupportedMsgpack},
		{"nil map key", mpBytes(0x81, 0xc0, 0x02), ErrUnsupportedMsgpack},
		{"bin map key", mpBytes(0x81, 0xc4, 0x01, "k", 0x02), ErrUnsupportedMsgpack},
		{"fixext1", mpBytes(0xd4, 0x01, 0x00), ErrUnsupportedMsgpack},
		{"timestamp ext", mpBytes(0xd6, 0xff, 0, 0, 0, 0), ErrUnsupportedMsgpack},
		{"ext8", mpBytes(0xc7, 0x01, 0x05, 0x00), ErrUnsupportedMsgpack},
		{"float32 NaN", mpBytes(0xca, 0x7f, 0xc0, 0x00, 0x00), ErrUnsupportedMsgpack},
		{"float64 NaN", mpBytes(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), ErrUnsupportedMsgpack},
		{"float64 +Inf", mpBytes(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0), ErrUnsupportedMsgpack},
		{"float32 -Inf", mpBytes(0xca, 0xff, 0x80, 0x00, 0x00), ErrUnsupportedMsgpack},
		{"too deep", deep, ErrUnsupportedMsgpack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Serializer: SerializerMsgpack}
			_, event, err := d.Decode(tt.in, false)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, event)
		})
	}
}

// TestJSONToMsgpack checks AppendEvent's raw+msgpack conversion byte for byte
// against hand-written MessagePack, and against the msgpack library's decoding.
func TestJSONToMsgpack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []byte
	}{
		{"null", `null`, mpBytes(0xc0)},
		{"bools", `[true,false]`, mpBytes(0x92, 0xc3, 0xc2)},
		{"fixint", `127`, mpBytes(0x7f)},
		{"uint8", `128`, mpBytes(0xcc, 0x80)},
		{"uint16", `65535`, mpBytes(0xcd, 0xff, 0xff)},
		{"uint32", `65536`, mpBytes(0xce, 0x00, 0x01, 0x00, 0x00)},
		{"uint64", `18446744073709551615`, mpBytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
		{"negative fixint", `-32`, mpBytes(0xe0)},
		{"int8", `-33`, mpBytes(0xd0, 0xdf)},
		{"int16", `-129`, mpBytes(0xd1, 0xff, 0x7f)},
		{"int32", `-32769`, mpBytes(0xd2, 0xff, 0xff, 0x7f, 0xff)},
		{"int64", `-2147483649`, mpBytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)},
		{"float", `12.5`, mpBytes(0xcb, 0x40, 0x29, 0, 0, 0, 0, 0, 0)},
		{"exponent is float", `1e2`, mpBytes(0xcb, 0x40, 0x59, 0, 0, 0, 0, 0, 0)},
		{"beyond uint64 is float", `18446744073709551616`, mpBytes(0xcb, 0x43, 0xf0, 0, 0, 0, 0, 0, 0)},
		{"string unescaped", `"a\"\u00dc"`, mpBytes(0xa4, "a\"Ü")},
		{"str8", `"` + strings.Repeat("x", 32) + `"`, mpBytes(0xd9, 0x20, strings.Repeat("x", 32))},
		{"str16", `"` + strings.Repeat("x", 256) + `"`, mpBytes(0xda, 0x01, 0x00, strings.Repeat("x", 256))},
		{"object order", ` {"b":1, "a":{"c":[]}} `, mpBytes(0x82, 0xa1, "b", 0x01, 0xa1, "a", 0x81, 0xa1, "c", 0x90)},
		{"array16", `[` + strings.Repeat("0,", 15) + `0]`, mpBytes(0xdc, 0x00, 0x10, bytes.Repeat([]byte{0}, 16))},
		{"map16", `{` + strings.Repeat(`"k":0,`, 15) + `"k":0}`, mpBytes(0xde, 0x00, 0x10, bytes.Repeat([]byte{0xa1, 'k', 0}, 16))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AppendEvent(nil, SerializerMsgpack, EnvelopeRaw, []byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)

			// Independent check: the library decodes it to what encoding/json does.
			var fromMsgpack, fromJSON any
			require.NoError(t, msgpack.Unmarshal(got, &fromMsgpack))
			require.NoError(t, json.Unmarshal([]byte(tt.in), &fromJSON))
			a, err := json.Marshal(fromMsgpack)
			require.NoError(t, err)
			b, err := json.Marshal(fromJSON)
			require.NoError(t, err)
			require.JSONEq(t, string(b), string(a))
		})
	}
}

// TestMsgpackLibraryRoundTrip converts values encoded by the msgpack library
// and compares with encoding/json.
func TestMsgpackLibraryRoundTrip(t *testing.T) {
	t.Parallel()
	values := map[string]any{
		"map":     map[string]any{"a": 1, "b": []any{"x", 2.5, nil, true, int64(-1 << 40)}},
		"slice":   []any{uint64(1 << 63), int8(-5), float32(0.5)},
		"string":  "héllo \"world\"\n",
		"nested":  map[string]any{"m": map[string]any{"n": map[string]any{}}},
		"integer": 1 << 50,
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := msgpack.Marshal(v)
			require.NoError(t, err)
			var d Decoder
			d.Serializer = SerializerMsgpack
			kind, event, err := d.Decode(in, false)
			require.NoError(t, err)
			require.Equal(t, EventData, kind)
			want, err := json.Marshal(v)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(event))
		})
	}
}
