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
	// The connection closes when the stream ends: a client must not keep
	// it for its next request.
	require.True(t, resp.Close, "Connection: close")
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

// An HTTP/1.0 client must not get a chunked body (RFC 9112 §6.1): its
// stream is bare events that end when the connection closes.
func TestSSEForHTTP10IsNotChunked(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	br, _ := rawHTTP(t, h, "GET /graphql?query="+url.QueryEscape(topicQuery("s10"))+" HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, resp.TransferEncoding)
	require.True(t, resp.Close)
	waitNATSSubs(t, e, 1)

	require.NoError(t, nc.Publish("s10", []byte(`1`)))
	msgComplete(t, nc, "s10")
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"data\":{\"topic\":1}}\n\nevent: complete\ndata: \n\n", string(rest))
}

// A HEAD answer has the GET answer's headers and no content (RFC 9110
// §9.3.2); an HTTP/1.0 request's Expect is ignored (RFC 9110 §10.1.1).
func TestHeadAndHTTP10Expect(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PublishToken = "t" })
	for _, path := range []string{"/healthz", "/metrics", "/graphql"} {
		br, _ := rawHTTP(t, h, "HEAD "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		status, err := br.ReadString('\n')
		require.NoError(t, err)
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			if line == "\r\n" {
				break
			}
			head.WriteString(line)
		}
		require.Contains(t, head.String(), "Content-Length: ", path)
		require.NotContains(t, head.String(), "Content-Length: 0\r\n", "%s: the length of the GET answer", path)
		rest, _ := io.ReadAll(br)
		require.Empty(t, string(rest), "%s (%s) has a body", path, strings.TrimSpace(status))
	}

	body := `{"topic":"e10","payload":1}`
	br, conn := rawHTTP(t, h, "POST /publish HTTP/1.0\r\nAuthorization: Bearer t\r\nExpect: 100-continue\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, err := br.ReadByte()
	var ne net.Error
	require.ErrorAs(t, err, &ne, "no 100 Continue for HTTP/1.0")
	require.True(t, ne.Timeout())
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(conn, body)
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// A request handled just as its timer answered 408 must not be answered a
// second time: the answer that comes second is dropped whole.
func TestNoSecondAnswerAfterRequestTimeout(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc, err := net.Dial("tcp", h.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	var c *conn
	require.Eventually(t, func() bool {
		h.connsMu.Lock()
		defer h.connsMu.Unlock()
		for x := range h.conns {
			c = x
		}
		return c != nil
	}, 5*time.Second, time.Millisecond)

	for _, raw := range []string{
		"GET /graphql?query=" + url.QueryEscape(topicQuery("late")) + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
		"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		require.NoError(t, err)
		// What the read side does after the timer's answer went out.
		c.onRequestTimeout()
		c.route(req, []byte(raw), nil, true)
	}
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	got, err := io.ReadAll(nc)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(got), "HTTP/1.1 "), "%q", got)
	require.True(t, strings.HasPrefix(string(got), "HTTP/1.1 408 "), "%q", got)
	require.Zero(t, h.Stats().Subscriptions.Load())
}

func TestAcceptsEventStream(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/event-stream":                         true,
		"TEXT/Event-Stream":                         true,
		"application/json, text/event-stream;q=0.5": true,
		"text/event-stream; charset=utf-8":          true,
		"text/event-stream;q=0":                     false,
		"text/event-stream; q=0.0":                  false,
		"*/*":                                       false,
		"text/*":                                    false,
		"application/json":                          false,
		"":                                          false,
	} {
		req := &http.Request{Header: http.Header{}}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		require.Equal(t, want, acceptsEventStream(req), "Accept: %q", accept)
	}
}

func TestUpgradeAndHeadChecks(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	upgrade := func(keys ...string) string {
		r := "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
		for _, k := range keys {
			r += "Sec-WebSocket-Key: " + k + "\r\n"
		}
		return r + "\r\n"
	}
	for name, tc := range map[string]struct {
		req    string
		status int
	}{
		"good key":                       {upgrade("dGhlIHNhbXBsZSBub25jZQ=="), http.StatusSwitchingProtocols},
		"key not base64":                 {upgrade("!!!!!!!!!!!!!!!!!!!!!!=="), http.StatusBadRequest},
		"key of 15 bytes":                {upgrade("dGhlIHNhbXBsZSBub25j"), http.StatusBadRequest},
		"two keys":                       {upgrade("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="), http.StatusBadRequest},
		"empty lines before the request": {"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
		"whole head over 16KiB":          {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 40<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
	} {
		br, _ := rawHTTP(t, h, tc.req)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, name)
		require.Equal(t, tc.status, resp.StatusCode, name)
	}
}

// Request lines and header lines may end in a bare LF (RFC 9112 §2.2), as
// net/http and gobwas/ws read them: such a request is answered at once, and
// its body starts after the first empty line, where those parsers end the
// head.
func TestBareLFLineEnds(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PublishToken = "t" })
	nc := connectNATS(t, e.ClientURL())
	sub, err := nc.SubscribeSync("lf")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	body := `{"topic":"lf","payload":1}`
	for name, tc := range map[string]struct {
		req    string
		status int
	}{
		"healthz":             {"GET /healthz HTTP/1.1\nHost: x\n\n", http.StatusOK},
		"empty LF line first": {"\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
		"mixed line ends":     {"GET /healthz HTTP/1.1\r\nHost: x\n\r\n", http.StatusOK},
		"upgrade": {"GET /graphql HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n" +
			"Sec-WebSocket-Protocol: graphql-transport-ws\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n", http.StatusSwitchingProtocols},
		"publish": {"POST /publish HTTP/1.1\nHost: x\nAuthorization: Bearer t\nContent-Length: " + strconv.Itoa(len(body)) + "\n\n" + body +
			"\r\n\r\n", http.StatusAccepted},
	} {
		br, _ := rawHTTP(t, h, tc.req)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, name)
		require.Equal(t, tc.status, resp.StatusCode, name)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "1", string(msg.Data))
}
