package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzAppendSSEEvent checks that an event stream reader recovers any data,
// with its line ends normalised to "\n" as the SSE format defines.
func FuzzAppendSSEEvent(f *testing.F) {
	f.Add("next", []byte(`{"data":{"a":"b"}}`))
	f.Add("complete", []byte(nil))
	f.Add("next", []byte("a\r\n\rb\n\n"))
	f.Fuzz(func(t *testing.T, event string, data []byte) {
		if strings.ContainsAny(event, "\r\n") || strings.Contains(event, ":") {
			return // callers pass fixed event names
		}
		events, _ := parseSSE(t, AppendSSEEvent(nil, event, data))
		require.Len(t, events, 1)
		want := strings.ReplaceAll(string(data), "\r\n", "\n")
		want = strings.ReplaceAll(want, "\r", "\n")
		require.Equal(t, sseEvent{event: event, data: want}, events[0])
	})
}
