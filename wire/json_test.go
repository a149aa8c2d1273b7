package wire

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// validUTF8PerByte is what a JSON string decoder must return for our
// encoding of s: s with each invalid byte replaced by U+FFFD.
func validUTF8PerByte(s string) string {
	var b strings.Builder
	for _, r := range s { // ranging yields RuneError, width 1, per bad byte
		b.WriteRune(r)
	}
	return b.String()
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "hello world", `"hello world"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"slash kept", "a/b", `"a/b"`},
		{"short escapes", "\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"nul", "\x00", `"\u0000"`},
		{"other controls", "\x01\x1f\x0b", `"\u0001\u001f\u000b"`},
		{"del kept", "\x7f", "\"\x7f\""},
		{"two-byte", "é", `"é"`},
		{"line separators kept", "\u2028\u2029", "\"\u2028\u2029\""},
		{"four-byte", "😀", `"😀"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"lone continuation", "\x80", `"\ufffd"`},
		{"truncated three-byte", "\xe2\x82", `"\ufffd\ufffd"`},
		{"truncated at end", "ok\xf0\x9f\x98", `"ok\ufffd\ufffd\ufffd"`},
		{"overlong", "\xc0\xaf", `"\ufffd\ufffd"`},
		{"utf-8 surrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"above U+10FFFF", "\xf4\x90\x80\x80", `"\ufffd\ufffd\ufffd\ufffd"`},
		{"mixed", "id-\"1\"\n\xff😀", `"id-\"1\"\n\ufffd😀"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendJSONString([]byte("prefix:"), []byte(tc.in))
			require.Equal(t, "prefix:"+tc.want, string(got))
			require.Equal(t, "x"+tc.want, string(AppendJSONStringString([]byte("x"), tc.in)))

			body := got[len("prefix:"):]
			require.True(t, json.Valid(body))
			var back string
			require.NoError(t, json.Unmarshal(body, &back))
			require.Equal(t, validUTF8PerByte(tc.in), back)
		})
	}
}

func TestAppendJSONStringEveryByte(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		in := []byte{'a', byte(c), 'z'}
		out := AppendJSONString(nil, in)
		require.True(t, json.Valid(out), "byte %#x: %q", c, out)
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, validUTF8PerByte(string(in)), back, "byte %#x", c)
	}
}

// TestJSONUTF8Len compares the encoder's UTF-8 judgement with the standard
// library over every 1- to 3-byte prefix and representative fourth bytes.
func TestJSONUTF8Len(t *testing.T) {
	t.Parallel()
	var b [4]byte
	for b0 := 0x80; b0 < 0x100; b0++ {
		for b1 := range 256 {
			for b2 := range 256 {
				for _, b3 := range []byte{0x41, 0x80, 0xBF} {
					b = [4]byte{byte(b0), byte(b1), byte(b2), b3}
					r, size := utf8.DecodeRune(b[:])
					want := size
					if r == utf8.RuneError && size == 1 {
						want = 0
					}
					if got := jsonUTF8Len(b[:], 0); got != want {
						t.Fatalf("% x: got %d, want %d", b, got, want)
					}
				}
			}
		}
	}
	for n := 1; n < 4; n++ {
		require.Equal(t, 0, jsonUTF8Len([]byte("😀")[:n], 0), "truncated to %d bytes", n)
	}
}

func TestJSONUnescape(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, raw, want string }{
		{"plain", `abc`, "abc"},
		{"simple escapes", `\"\\\/\b\f\n\r\t`, "\"\\/\b\f\n\r\t"},
		{"unicode", `\u00e9\u20AC`, "é€"},
		{"pair", `\ud83d\ude00`, "😀"},
		{"lone high", `\ud83dx`, "\uFFFDx"},
		{"high then high", `\ud83d\ud83d\ude00`, "\uFFFD😀"},
		{"lone low", `\ude00`, "\uFFFD"},
		{"high at end", `a\ud800`, "a\uFFFD"},
		{"nul", `\u0000`, "\x00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := jsonUnescape(nil, []byte(tc.raw))
			require.Equal(t, tc.want, string(got))
			require.LessOrEqual(t, len(got), len(tc.raw))
			var std string
			require.NoError(t, json.Unmarshal([]byte(`"`+tc.raw+`"`), &std))
			require.Equal(t, std, string(got))
		})
	}
}

// FuzzAppendJSONString checks that any bytes encode to valid JSON that
// decodes back to the input (invalid UTF-8 replaced per byte).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\x1f\u2028", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendJSONString(nil, s)
		require.True(t, json.Valid(out), "%q", out)
		require.True(t, utf8.Valid(out))
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, validUTF8PerByte(string(s)), back)
		require.Equal(t, string(out), string(AppendJSONStringString(nil, string(s))))
	})
}

func TestJSONSWARSpecial(t *testing.T) {
	t.Parallel()
	naive := func(w [8]byte) bool {
		for _, c := range w {
			if c == '"' || c == '\\' || c < 0x20 {
				return true
			}
		}
		return false
	}
	for pos := range 8 {
		for c := range 256 {
			for _, fill := range []byte{'a', 0x7F, 0x80, 0xFF, 0x21, 0x5D} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				got := jsonSWARSpecial(binary.LittleEndian.Uint64(w[:]))
				if got != naive(w) {
					t.Fatalf("% x: got %v", w, got)
				}
			}
		}
	}
}
