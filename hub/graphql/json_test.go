package graphql

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestAppendJSNumber(t *testing.T) {
	t.Parallel()
	// Expected strings are JavaScript's String(n).
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {100, "100"}, {1.5, "1.5"}, {-2.25, "-2.25"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123456789012345680000, "123456789012345680000"},
		{1.5e-7, "1.5e-7"}, {1e-7, "1e-7"}, {-1e-7, "-1e-7"}, {0.000001, "0.000001"}, {1.23e-18, "1.23e-18"},
		{0.30000000000000004, "0.30000000000000004"}, {9007199254740992, "9007199254740992"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {5e-324, "5e-324"}, {1.5e300, "1.5e+300"},
		{math.Inf(1), "null"}, {math.NaN(), "null"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, string(appendJSNumber(nil, tc.in)))
		})
	}
}

func TestJSNumber(t *testing.T) {
	t.Parallel()
	// Expected values are JavaScript's Number(s); ok false means NaN.
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, true}, {"  ", 0, true}, {" 12 ", 12, true}, {"\u00a0\n12\u2028", 12, true},
		{"0x1F", 31, true}, {"0X1f", 31, true}, {"0o17", 15, true}, {"0b101", 5, true},
		{"-0x1F", 0, false}, {"0b102", 0, false}, {"0x", 0, false}, {"1_000", 0, false},
		{"Infinity", math.Inf(1), true}, {"-Infinity", math.Inf(-1), true}, {"infinity", 0, false}, {"inf", 0, false},
		{".5", 0.5, true}, {"5.", 5, true}, {"+.5e1", 5, true}, {"-1E-2", -0.01, true},
		{".", 0, false}, {"1e", 0, false}, {"e5", 0, false}, {"1e+", 0, false}, {"--1", 0, false}, {"12abc", 0, false},
		{"NaN", 0, false}, {"1e400", math.Inf(1), true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := jsNumber(tc.in)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, got)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"q\"b\\", `"q\"b\\"`},
		{"\n\r\t\b\f\x01\x1f", `"\n\r\t\b\f\u0001\u001f"`},
		{"é😀\u2028", "\"é😀\u2028\""},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			out := appendJSONString(nil, tc.in)
			require.Equal(t, tc.want, string(out))
			require.True(t, json.Valid(out))
			require.Equal(t, string(out), string(appendJSONString(nil, []byte(tc.in))))
		})
	}
}

// JSON.parse keeps a lone surrogate escape as one UTF-16 code unit and
// JSON.stringify writes it back as the same escape; fastjson alone left the
// six characters, which came out as "\\udc00".
func TestLoneSurrogatesRoundTripAsJSONStringify(t *testing.T) {
	for in, want := range map[string]string{
		`"a\udc00b"`:             `"a\udc00b"`,
		`"\ud83d tail"`:          `"\ud83d tail"`,
		`"\ud83d\ude00"`:         `"😀"`,
		`"\uD83D\uDE00 \uDBFF"`:  `"😀 \udbff"`,
		`"\ud83d\u0041"`:         `"\ud83dA"`,
		`"\\ud800"`:              `"\\ud800"`,
		`"\\\ud800"`:             `"\\\ud800"`,
		`{"k\udfff":["\udc00"]}`: `{"k\udfff":["\udc00"]}`,
		`"\u00e9\n"`:             `"é\n"`,
	} {
		text := []byte(in)
		if marked, ok := MarkLoneSurrogates(nil, text); ok {
			text = marked
		}
		v, err := fastjson.ParseBytes(text)
		require.NoError(t, err, in)
		require.Equal(t, want, string(appendValue(nil, v)), in)
	}
}

func TestMarkLoneSurrogatesLeavesOtherTextAlone(t *testing.T) {
	for _, in := range []string{`{"a":"b"}`, `"\ud83d\ude00"`, `"\\ud800"`, `"\n\"\u0041"`, `"\u12"`, `"\`} {
		_, ok := MarkLoneSurrogates(nil, []byte(in))
		require.False(t, ok, in)
	}
}

func TestIsJSONNumber(t *testing.T) {
	for _, ok := range []string{"0", "-0", "12", "1.50", "1E2", "1e+400", "-3.5e-7", "12345678901234567890"} {
		require.True(t, isJSONNumber([]byte(ok)), ok)
	}
	for _, bad := range []string{"", "+", "+1", "01", "1.", ".5", "-", "1e", "1e+", "NaN", "inf", "0x10", "1 "} {
		require.False(t, isJSONNumber([]byte(bad)), bad)
	}
}
