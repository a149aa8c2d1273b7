package hub

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawHTTP sends req on a new connection and returns a reader of the response.
func rawHTTP(t *testing.T, h *Hub, req string) (*bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", h.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	return bufio.NewReader(conn), conn
}

func TestSSEStream(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())

	body := `{"query":"subscription { topic(name: \"s\") }"}`
	br, _ := rawHTTP(t, h, "POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	waitNATSSubs(t, e, 1)

	require.NoError(t, nc.Publish("s", []byte(`{"text":"two\nlines"}`)))
	events := bufio.NewReader(resp.Body)
	require.Equal(t, "event: next\n", readLine(t, events))
	require.Equal(t, `data: {"data":{"topic":{"text":"two\nlines"}}}`+"\n", readLine(t, events))
	require.Equal(t, "\n", readLine(t, events))

	msgComplete(t, nc, "s")
	require.Equal(t, "event: complete\n", readLine(t, events))
	require.Equal(t, "data: \n", readLine(t, events))
	require.Equal(t, "\n", readLine(t, events))
	_, err = events.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the stream ends after complete")
	waitNATSSubs(t, e, 0)
}

func TestSSEGetAndValidationErrors(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)

	q := url.QueryEscape(`subscription { topic(nam: "x") }`)
	br, _ := rawHTTP(t, h, "GET /graphql?query="+q+" HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	all, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	s := string(all)
	require.True(t, strings.HasPrefix(s, "event: next\ndata: {\"errors\":[{\"message\":"), s)
	require.True(t, strings.HasSuffix(s, "event: complete\ndata: \n\n"), s)

	for _, tc := range []struct {
		req    string
		status int
	}{
		{"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 5\r\n\r\n{nope", http.StatusBadRequest},
		{"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 2\r\n\r\n{}", http.StatusBadRequest},
		{"PUT /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 2\r\n\r\n{}", http.StatusMethodNotAllowed},
		{"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 99999999\r\n\r\n", http.StatusRequestEntityTooLarge},
		{"GARBAGE\r\n\r\n", http.StatusBadRequest},
	} {
		br, _ := rawHTTP(t, h, tc.req)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, tc.req)
		require.Equal(t, tc.status, resp.StatusCode, tc.req)
	}
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	s, err := r.ReadString('\n')
	require.NoError(t, err)
	return s
}
