package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

func TestServerMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"ack", AppendConnectionAck(nil, nil), `{"type":"connection_ack"}`},
		{"ack empty payload", AppendConnectionAck(nil, []byte{}), `{"type":"connection_ack"}`},
		{"ack payload", AppendConnectionAck(nil, []byte(`{"node":"a"}`)), `{"type":"connection_ack","payload":{"node":"a"}}`},
		{"ping", AppendPing(nil, nil), `{"type":"ping"}`},
		{"ping payload", AppendPing(nil, []byte(`{"t":1}`)), `{"type":"ping","payload":{"t":1}}`},
		{"pong", AppendPong(nil, nil), `{"type":"pong"}`},
		{"pong payload", AppendPong(nil, []byte(`{"t":1}`)), `{"type":"pong","payload":{"t":1}}`},
		{"error", AppendError(nil, []byte("1"), []byte(`[{"message":"boom"}]`)),
			`{"id":"1","type":"error","payload":[{"message":"boom"}]}`},
		{"error escaped id", AppendError(nil, []byte("a\"\n"), []byte(`[]`)),
			`{"id":"a\"\n","type":"error","payload":[]}`},
		{"complete", AppendComplete(nil, ProtoTransportWS, []byte("42")), `{"id":"42","type":"complete"}`},
		{"complete legacy", AppendComplete(nil, ProtoLegacy, []byte("42")), `{"id":"42","type":"complete"}`},
		{"legacy error", AppendLegacyError(nil, []byte("3"), []byte(`{"message":"Invalid message type!"}`)),
			`{"id":"3","type":"error","payload":{"message":"Invalid message type!"}}`},
		{"legacy error empty id", AppendLegacyError(nil, []byte{}, []byte(`[]`)), `{"id":"","type":"error","payload":[]}`},
		{"legacy error no id", AppendLegacyError(nil, nil, []byte(`{"message":"x"}`)), `{"type":"error","payload":{"message":"x"}}`},
		{"connection error", AppendConnectionError(nil, `bad "token"`), `{"type":"connection_error","payload":{"message":"bad \"token\""}}`},
		{"keep-alive", AppendKeepAlive(nil), `{"type":"ka"}`},
		{"next prefix", AppendNextPrefix(nil, ProtoTransportWS, []byte("1")), `{"id":"1","type":"next","payload":`},
		{"data prefix", AppendNextPrefix(nil, ProtoLegacy, []byte("1")), `{"id":"1","type":"data","payload":`},
		{"next prefix escaped id", AppendNextPrefix(nil, ProtoTransportWS, []byte("\u2028\x01")), "{\"id\":\"\u2028\\u0001\",\"type\":\"next\",\"payload\":"},
		{"next", AppendNext(nil, ProtoTransportWS, []byte("1"), []byte(`{"data":{"a":1}}`)), `{"id":"1","type":"next","payload":{"data":{"a":1}}}`},
		{"data", AppendNext(nil, ProtoLegacy, []byte("1"), []byte(`{"data":null}`)), `{"id":"1","type":"data","payload":{"data":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, string(tc.got))
			if strings.HasSuffix(tc.want, ":") {
				return // a prefix, checked by the round trip below
			}
			var msg map[string]any
			require.NoError(t, json.Unmarshal(tc.got, &msg))
			require.IsType(t, "", msg["type"])
		})
	}
}

func TestServerMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	ids := []string{"1", "", "a\"b\\c", "\x00\n\u2028é😀", "\xff"}
	for _, id := range ids {
		for _, proto := range []Protocol{ProtoTransportWS, ProtoLegacy} {
			t.Run(proto.String()+"/"+id, func(t *testing.T) {
				var msg struct {
					ID      string          `json:"id"`
					Type    string          `json:"type"`
					Payload json.RawMessage `json:"payload"`
				}
				wantID := validUTF8PerByte(id)
				payload := `{"data":{"x":[1,"\n"]}}`
				prefix := AppendNextPrefix([]byte("junk"), proto, []byte(id))[len("junk"):]
				full := append(append(bytes.Clone(prefix), payload...), '}')
				require.NoError(t, json.Unmarshal(full, &msg))
				require.Equal(t, wantID, msg.ID)
				require.Equal(t, map[Protocol]string{ProtoTransportWS: "next", ProtoLegacy: "data"}[proto], msg.Type)
				require.JSONEq(t, payload, string(msg.Payload))
				require.Equal(t, full, AppendNext(nil, proto, []byte(id), []byte(payload)))

				msg.ID, msg.Type, msg.Payload = "", "", nil
				require.NoError(t, json.Unmarshal(AppendComplete(nil, proto, []byte(id)), &msg))
				require.Equal(t, wantID, msg.ID)
				require.Equal(t, "complete", msg.Type)

				require.NoError(t, json.Unmarshal(AppendError(nil, []byte(id), []byte(`[{"message":"m"}]`)), &msg))
				require.Equal(t, wantID, msg.ID)
				require.Equal(t, "error", msg.Type)
				require.JSONEq(t, `[{"message":"m"}]`, string(msg.Payload))
			})
		}
	}
	t.Run("connection error message", func(t *testing.T) {
		for _, s := range []string{"", "x", "quote\" and \\", "\x00\x1f", "\xfe"} {
			var msg struct {
				Type    string `json:"type"`
				Payload struct {
					Message string `json:"message"`
				} `json:"payload"`
			}
			require.NoError(t, json.Unmarshal(AppendConnectionError(nil, s), &msg))
			require.Equal(t, "connection_error", msg.Type)
			require.Equal(t, validUTF8PerByte(s), msg.Payload.Message)
		}
	})
}

// readServerFrames decodes server frames with gobwas/ws's reader.
func readServerFrames(t *testing.T, b []byte) []ws.Frame {
	t.Helper()
	r := bytes.NewReader(b)
	var frames []ws.Frame
	for r.Len() > 0 {
		f, err := ws.ReadFrame(r)
		require.NoError(t, err)
		frames = append(frames, f)
	}
	return frames
}

func TestAppendWSDelivery(t *testing.T) {
	t.Parallel()
	// prefix (34 bytes) + payload + '}' crosses each length encoding's edge.
	for _, n := range []int{0, 1, 90, 91, 100, 1000, 65500, 65501, 70000} {
		t.Run("payload="+strconv.Itoa(n), func(t *testing.T) {
			prefix := AppendNextPrefix(nil, ProtoTransportWS, []byte("7"))
			require.Len(t, prefix, 34)
			payload := []byte(strings.Repeat("1", n)) // a JSON number when n > 0
			frame := AppendWSDelivery([]byte("keep"), prefix, payload)
			require.Equal(t, "keep", string(frame[:4]))
			frames := readServerFrames(t, frame[4:])
			require.Len(t, frames, 1)
			f := frames[0]
			require.True(t, f.Header.Fin)
			require.False(t, f.Header.Masked)
			require.Equal(t, ws.OpText, f.Header.OpCode)
			require.Equal(t, string(prefix)+string(payload)+"}", string(f.Payload))
			require.Equal(t, n > 0, json.Valid(f.Payload))
			require.Equal(t, frame[4:], AppendTextFrame(nil, AppendNext(nil, ProtoTransportWS, []byte("7"), payload)))
		})
	}
	t.Run("batched frames", func(t *testing.T) {
		var buf []byte
		prefixes := [][]byte{AppendNextPrefix(nil, ProtoTransportWS, []byte("1")), AppendNextPrefix(nil, ProtoLegacy, []byte("2"))}
		for i := range 10 {
			buf = AppendWSDelivery(buf, prefixes[i%2], []byte(`{"data":{"n":`+strconv.Itoa(i)+`}}`))
		}
		frames := readServerFrames(t, buf)
		require.Len(t, frames, 10)
		for i, f := range frames {
			var msg struct {
				ID, Type string
				Payload  struct{ Data struct{ N int } }
			}
			require.NoError(t, json.Unmarshal(f.Payload, &msg))
			require.Equal(t, i, msg.Payload.Data.N)
			require.Equal(t, []string{"next", "data"}[i%2], msg.Type)
		}
	})
}
