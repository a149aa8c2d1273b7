package wire

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type sseEvent struct {
	event, data string
}

// parseSSE is a test reader following the HTML event-stream parsing rules
// (lines end at CRLF, LF or CR; "data" lines join with LF; one space after
// the colon is dropped; comments are ignored; a blank line dispatches).
func parseSSE(t *testing.T, stream []byte) (events []sseEvent, comments []string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, c := range data {
			switch c {
			case '\n':
				return i + 1, data[:i], nil
			case '\r':
				if i+1 < len(data) && data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				if i+1 == len(data) && !atEOF {
					return 0, nil, nil
				}
				return i + 1, data[:i], nil
			}
		}
		if atEOF && len(data) > 0 {
			t.Fatalf("stream does not end with a line end: %q", data)
		}
		return 0, nil, nil
	})
	var ev sseEvent
	var data []string
	seen := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if seen {
				ev.data = strings.Join(data, "\n")
				events = append(events, ev)
			}
			ev, data, seen = sseEvent{}, nil, false
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			comments = append(comments, value)
		case "event":
			ev.event = value
		case "data":
			data = append(data, value)
			seen = true
		default:
			t.Fatalf("unexpected field %q", field)
		}
	}
	require.NoError(t, sc.Err())
	require.False(t, seen, "undispatched event at end of stream")
	return events, comments
}

func TestAppendSSEEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		event string
		data  string
		want  string
		// decoded is the data a client reassembles (lone CRs and CRLFs
		// become LFs), when it differs from data.
		decoded *string
	}{
		{name: "next", event: "next", data: `{"data":{"a":1}}`, want: "event: next\ndata: {\"data\":{\"a\":1}}\n\n"},
		{name: "complete", event: "complete", data: "", want: "event: complete\ndata: \n\n"},
		{name: "no event name", event: "", data: "x", want: "data: x\n\n"},
		{name: "lf", event: "next", data: "{\n  \"data\": 1\n}", want: "event: next\ndata: {\ndata:   \"data\": 1\ndata: }\n\n"},
		{name: "crlf", event: "next", data: "a\r\nb", want: "event: next\ndata: a\ndata: b\n\n", decoded: ssePtr("a\nb")},
		{name: "lone cr", event: "next", data: "a\rb", want: "event: next\ndata: a\ndata: b\n\n", decoded: ssePtr("a\nb")},
		{name: "cr cr lf", event: "next", data: "a\r\r\nb", want: "event: next\ndata: a\ndata: \ndata: b\n\n", decoded: ssePtr("a\n\nb")},
		{name: "trailing lf", event: "next", data: "a\n", want: "event: next\ndata: a\ndata: \n\n"},
		{name: "trailing cr", event: "next", data: "a\r", want: "event: next\ndata: a\ndata: \n\n", decoded: ssePtr("a\n")},
		{name: "only lf", event: "next", data: "\n", want: "event: next\ndata: \ndata: \n\n"},
		{name: "leading space kept", event: "next", data: " x", want: "event: next\ndata:  x\n\n"},
		{name: "colon in data", event: "next", data: "a: b", want: "event: next\ndata: a: b\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendSSEEvent([]byte("keep"), tc.event, []byte(tc.data))
			require.Equal(t, "keep"+tc.want, string(got))

			events, _ := parseSSE(t, got[len("keep"):])
			require.Len(t, events, 1)
			want := tc.data
			if tc.decoded != nil {
				want = *tc.decoded
			}
			require.Equal(t, sseEvent{event: tc.event, data: want}, events[0])
		})
	}
	t.Run("stream", func(t *testing.T) {
		var b []byte
		b = AppendSSEComment(b, "keep-alive")
		b = AppendSSEEvent(b, "next", []byte("{\"data\":\n1}"))
		b = AppendSSEComment(b, "")
		b = AppendSSEEvent(b, "next", []byte(`{"data":2}`))
		b = AppendSSEEvent(b, "complete", nil)
		events, comments := parseSSE(t, b)
		require.Equal(t, []sseEvent{{"next", "{\"data\":\n1}"}, {"next", `{"data":2}`}, {"complete", ""}}, events)
		require.Equal(t, []string{"keep-alive", ""}, comments)
	})
}

func TestAppendSSEComment(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text, want string }{
		{"keep-alive", "ping", ": ping\n\n"},
		{"empty", "", ": \n\n"},
		{"multi-line", "a\nb\r\nc\rd", ": a\n: b\n: c\n: d\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendSSEComment(nil, tc.text)
			require.Equal(t, tc.want, string(got))
			events, comments := parseSSE(t, got)
			require.Empty(t, events)
			require.NotEmpty(t, comments)
		})
	}
}

func ssePtr(s string) *string { return &s }
