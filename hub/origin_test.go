package hub

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

const appOrigin = "https://app.example.com"

func TestParseAllowedOrigins(t *testing.T) {
	for in, want := range map[string][]string{
		"":                            nil,
		" , ":                         nil,
		"*":                           {"*"},
		" * ":                         {"*"},
		"https://app.example.com":     {"https://app.example.com"},
		"HTTPS://App.Example.COM":     {"https://app.example.com"},
		"https://app.example.com:443": {"https://app.example.com"},
		"http://app.example.com:80":   {"http://app.example.com"},
		"http://app.example.com:443":  {"http://app.example.com:443"},
		"http://localhost:3000, https://a.b,http://localhost:3000": {"http://localhost:3000", "https://a.b"},
		"http://[::1]:8080":             {"http://[::1]:8080"},
		"http://127.0.0.1:5173":         {"http://127.0.0.1:5173"},
		"chrome-extension://abcdefgh":   {"chrome-extension://abcdefgh"},
		"https://xn--bcher-kva.example": {"https://xn--bcher-kva.example"},
		"https://*.example.com":         {"https://*.example.com"},
		"HTTPS://*.Example.COM:443":     {"https://*.example.com"},
		"https://*.example.com:8443":    {"https://*.example.com:8443"},
		"http://*.localhost:3000":       {"http://*.localhost:3000"},
		"https://*.a.example, https://a.example, https://*.a.example:443": {"https://*.a.example", "https://a.example"},
	} {
		got, err := ParseAllowedOrigins(in)
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
	for in, want := range map[string]string{
		"*,https://a.example":         `"*" allows every origin and cannot be combined`,
		"https://a.example,*":         `"*" allows every origin and cannot be combined`,
		"https://app.example.com/":    "has more than an origin",
		"https://app.example.com/x":   "has more than an origin",
		"https://app.example.com?x":   "has more than an origin",
		"https://app.example.com?":    "has more than an origin",
		"https://app.example.com#":    "has more than an origin",
		"https://u:p@app.example.com": "has more than an origin",
		"app.example.com":             "is not an origin: want scheme://host[:port]",
		"localhost:3000":              "is not an origin",
		"https://":                    "is not an origin",
		"https://:443":                "is not an origin",
		"https://a.example:":          "is not an origin",
		"https://a.example:0":         "port 0 is not between 1 and 65535",
		"https://a.example:70000":     "port 70000 is not between 1 and 65535",
		"https://a.example:x":         "is not an origin",
		"https://*":                   `"https://*": a wildcard needs a domain after it: want scheme://*.domain[:port]`,
		"https://*:443":               "a wildcard needs a domain after it",
		"https://*.":                  "a wildcard needs a domain after it",
		"https://a.*.com":             `"https://a.*.com": "*" may only stand for whole labels at the left of the host`,
		"https://*example.com":        `"*" may only stand for whole labels at the left`,
		"https://*.*.example.com":     `"*" may only stand for whole labels at the left`,
		"https://a*.example.com":      `"*" may only stand for whole labels at the left`,
		"*.example.com":               `"*.example.com" has no scheme: want scheme://*.domain[:port], such as https://*.example.com`,
		"*://a.example.com":           "the scheme cannot be a wildcard",
		"https*://a.example.com":      "the scheme cannot be a wildcard",
		"example.*":                   "is not an origin or a wildcard pattern",
		"https://*.example.com/":      `"https://*.example.com/" has more than an origin`,
		"https://*.example.com:0":     `"https://*.example.com:0": port 0 is not between 1 and 65535`,
		"https://*.com":               `"https://*.com" would allow every site under the top-level domain "com"`,
		"https://*.1.2.3":             "a wildcard needs a domain name, not an IP address",
		"https://*.[::1]:8080":        "a wildcard needs a domain name, not an IP address",
		"https://*.example.com.":      `"example.com." is not a domain name`,
		"https://*..example.com":      "is not a domain name",
		"https://*.bücher.example":    "xn--",
		"null":                        `"null" cannot be allowed`,
		"https://bücher.example":      "xn--",
		"mailto:x@example.com":        "is not an origin",
	} {
		_, err := ParseAllowedOrigins(in)
		require.Error(t, err, "%q", in)
		require.ErrorContains(t, err, want, "%q", in)
		require.NotContains(t, err.Error(), "\n")
	}
	many := make([]string, maxAllowedOrigins+1)
	for i := range many {
		many[i] = "https://a" + strconv.Itoa(i) + ".example"
	}
	_, err := ParseAllowedOrigins(strings.Join(many, ","))
	require.ErrorContains(t, err, "at most 4096")
	for i := range many {
		many[i] = "https://*.a" + strconv.Itoa(i) + ".example"
	}
	_, err = ParseAllowedOrigins(strings.Join(many[:maxOriginPatterns], ","))
	require.NoError(t, err)
	_, err = ParseAllowedOrigins(strings.Join(many[:maxOriginPatterns+1], ","))
	require.ErrorContains(t, err, "65 wildcard patterns; at most 64")
}

func TestOriginPatternMatch(t *testing.T) {
	t.Parallel()
	p, err := newOriginPolicy([]string{"https://*.example.com, http://*.dev.example:8080, https://app.other.example"})
	require.NoError(t, err)
	require.Len(t, p.patterns, 2)
	for origin, want := range map[string]bool{
		"https://a.example.com":              true,
		"https://a.b.example.com":            true,
		"https://xn--bcher-kva.example.com":  true,
		"https://a-b_c.example.com":          true,
		"https://A.Example.COM":              true, // case-insensitive, like exact entries
		" https://a.example.com ":            true,
		"https://example.com":                false, // the domain itself is not a subdomain
		"https://.example.com":               false,
		"https://a..example.com":             false,
		"https://evilexample.com":            false,
		"https://a.evilexample.com":          false,
		"https://example.com.evil.example":   false,
		"https://a.example.com.evil":         false,
		"http://a.example.com":               false, // another scheme
		"wss://a.example.com":                false,
		"https://a.example.com:443":          false, // browsers never send a default port
		"https://a.example.com:8443":         false, // another port
		"https://evil.example:1.example.com": false,
		"https://u@a.example.com":            false,
		"https://evil.example/.example.com":  false,
		"https://evil.example?.example.com":  false,
		"https://a b.example.com":            false,
		"https://a.example.com.":             false,
		"http://x.dev.example:8080":          true,
		"http://x.dev.example":               false, // the pattern's port is required
		"http://x.dev.example:8081":          false,
		"http://dev.example:8080":            false,
		"https://app.other.example":          true, // exact entries still work
		"https://x.app.other.example":        false,
		"null":                               false,
		"":                                   false,
	} {
		cors, ok := p.match(http.Header{"Origin": {origin}})
		require.Equal(t, want, ok, "%q", origin)
		b := string(p.appendHeaders(nil, cors))
		if want {
			o := strings.ToLower(strings.TrimSpace(origin))
			require.Equal(t, "Access-Control-Allow-Origin: "+o+"\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n", b, "%q", origin)
		} else {
			require.Equal(t, "Vary: Origin\r\n", b, "%q", origin)
		}
	}
	cors, ok := p.match(http.Header{"Origin": {"https://a.example.com", "https://b.example.com"}})
	require.False(t, ok, "two Origins")
	require.Equal(t, "Vary: Origin\r\n", string(p.appendHeaders(nil, cors)))
	cors, ok = p.match(http.Header{})
	require.True(t, ok, "no Origin")
	require.Equal(t, "Vary: Origin\r\n", string(p.appendHeaders(nil, cors)))

	for _, pat := range []string{"http://*.localhost", "http://*.localhost:3000"} {
		p, err := newOriginPolicy([]string{pat})
		require.NoError(t, err)
		_, ok := p.match(http.Header{"Origin": {strings.Replace(pat, "*", "app", 1)}})
		require.True(t, ok, pat)
	}
}

// conn must stay in its size class: the CORS answer is one pointer.
func TestConnSize(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(conn{}), uintptr(208))
}

func TestOptionsAllowedOrigins(t *testing.T) {
	o, err := Options{NATSURLs: []string{"nats://127.0.0.1:1"}}.withDefaults()
	require.NoError(t, err)
	require.Nil(t, o.origins, "CORS is off by default")

	o, err = Options{NATSURLs: []string{"nats://127.0.0.1:1"}, AllowedOrigins: []string{"https://A.example", "http://b.example:8080,https://a.example"}}.withDefaults()
	require.NoError(t, err)
	require.Len(t, o.origins.index, 2)

	_, err = Options{NATSURLs: []string{"nats://127.0.0.1:1"}, AllowedOrigins: []string{"https://a.example/app"}}.withDefaults()
	require.ErrorIs(t, err, ErrInvalidOption)
	require.ErrorContains(t, err, "allowed-origins: ")
}

// answer sends a raw request to h and returns the response with its body
// read when it has a length (a stream's body is left to the caller).
func answer(t *testing.T, h *Hub, req string) (*http.Response, string) {
	t.Helper()
	br, _ := rawHTTP(t, h, req)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err, req)
	if resp.ContentLength < 0 {
		return resp, ""
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func requireNoCORS(t *testing.T, resp *http.Response, msg string) {
	t.Helper()
	for k := range resp.Header {
		require.False(t, strings.HasPrefix(k, "Access-Control-"), "%s: unexpected %s", msg, k)
	}
}

func requireCORS(t *testing.T, resp *http.Response, origin string, msg string) {
	t.Helper()
	require.Equal(t, []string{origin}, resp.Header.Values("Access-Control-Allow-Origin"), msg)
	if origin == "*" {
		require.Empty(t, resp.Header.Values("Access-Control-Allow-Credentials"), msg)
	} else {
		require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"), msg)
	}
	require.Contains(t, resp.Header.Values("Vary"), "Origin", msg)
}

func sseGet(topic, headers string) string {
	return "GET /graphql?query=" + url.QueryEscape(topicQuery(topic)) + " HTTP/1.1\r\nHost: rt.example.com\r\nAccept: text/event-stream\r\n" + headers + "\r\n"
}

func ssePost(topic, headers string) string {
	body := `{"query":` + strconv.Quote(topicQuery(topic)) + `}`
	return "POST /graphql HTTP/1.1\r\nHost: rt.example.com\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n" + headers + "\r\n" + body
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.AllowedOrigins = []string{appOrigin, "http://localhost:3000"} })

	// What a browser sends before graphql-sse's POST with a token.
	resp, body := answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: rt.example.com\r\nOrigin: https://app.example.com\r\n"+
		"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: accept,authorization,content-type,traceparent\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, body)
	requireCORS(t, resp, appOrigin, "preflight")
	require.Equal(t, "GET, POST", resp.Header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "accept, authorization, content-type, traceparent", resp.Header.Get("Access-Control-Allow-Headers"))
	require.Equal(t, "600", resp.Header.Get("Access-Control-Max-Age"))
	require.Empty(t, resp.Header.Values("Content-Length"), "a 204 has no Content-Length (RFC 9110 §8.6)")
	require.ElementsMatch(t, []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"},
		strings.Split(strings.Join(resp.Header.Values("Vary"), ", "), ", "))

	// Requested names that are not field names are not echoed.
	resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: rt.example.com\r\nOrigin: http://localhost:3000\r\n"+
		"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: last-event-id, bad name, x:y\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	requireCORS(t, resp, "http://localhost:3000", "preflight")
	require.Equal(t, "last-event-id", resp.Header.Get("Access-Control-Allow-Headers"))

	// Without requested headers there is no Allow-Headers.
	resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: rt.example.com\r\nOrigin: https://app.example.com\r\nAccess-Control-Request-Method: GET\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, resp.Header.Values("Access-Control-Allow-Headers"))

	for _, origin := range []string{"https://evil.example", "https://app.example.com.evil.example", "http://app.example.com", "null", ""} {
		resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: rt.example.com\r\nOrigin: "+origin+"\r\nAccess-Control-Request-Method: POST\r\n\r\n")
		require.Equal(t, http.StatusForbidden, resp.StatusCode, origin)
		requireNoCORS(t, resp, origin)
	}
	require.Equal(t, int64(5), h.Stats().OriginRefused.Load())

	// OPTIONS that is not a preflight says what the endpoint allows.
	resp, body = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: rt.example.com\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, body)
	require.Equal(t, "GET, POST, OPTIONS", resp.Header.Get("Allow"))
	requireNoCORS(t, resp, "plain OPTIONS")
	require.Equal(t, []string{"Origin"}, resp.Header.Values("Vary"))

	_, metrics := httpGet(t, h, "/metrics", nil)
	require.Contains(t, metrics, "\nsubhub_origin_refused_total 5\n")
}

func TestCORSSSE(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.AllowedOrigins = []string{appOrigin}
		o.PublishToken = "t"
	})
	nc := connectNATS(t, e.ClientURL())

	// graphql-sse's POST from an allowed origin: CORS headers on the
	// stream's head, events as usual.
	br, _ := rawHTTP(t, h, ssePost("cors.post", "Origin: "+appOrigin+"\r\n"))
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	requireCORS(t, resp, appOrigin, "SSE POST")
	waitNATSSubs(t, e, 1)
	require.NoError(t, nc.Publish("cors.post", []byte(`1`)))
	msgComplete(t, nc, "cors.post")
	events, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "event: next\ndata: {\"data\":{\"topic\":1}}\n\nevent: complete\ndata: \n\n", string(events))

	// EventSource's GET, and an upper-case Origin from a non-browser.
	for _, origin := range []string{appOrigin, "HTTPS://APP.EXAMPLE.COM"} {
		resp, _ = answer(t, h, sseGet("cors.get", "Origin: "+origin+"\r\n"))
		require.Equal(t, http.StatusOK, resp.StatusCode, origin)
		requireCORS(t, resp, appOrigin, origin)
	}

	// An HTTP/1.0 stream has the headers too.
	resp, _ = answer(t, h, "GET /graphql?query="+url.QueryEscape(topicQuery("cors.10"))+" HTTP/1.0\r\nAccept: text/event-stream\r\nOrigin: "+appOrigin+"\r\n\r\n")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, resp.TransferEncoding)
	requireCORS(t, resp, appOrigin, "HTTP/1.0")

	// Without Origin (not a page of another site): served, no CORS headers,
	// but Vary: Origin since the answer depends on it.
	for _, req := range []string{sseGet("cors.none", ""), ssePost("cors.none", "")} {
		resp, _ = answer(t, h, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		requireNoCORS(t, resp, "no Origin")
		require.Equal(t, []string{"Origin"}, resp.Header.Values("Vary"))
	}

	// Other origins are refused before anything starts.
	for _, req := range []string{sseGet("cors.evil", "Origin: https://evil.example\r\n"), ssePost("cors.evil", "Origin: https://evil.example\r\n")} {
		resp, body := answer(t, h, req)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, body, "origin")
		requireNoCORS(t, resp, "refused")
	}
	require.Equal(t, int64(2), h.Stats().OriginRefused.Load())

	// Error answers carry the headers, so that the page can read them.
	origin := "Origin: " + appOrigin + "\r\n"
	for name, tc := range map[string]struct {
		req    string
		status int
	}{
		"bad JSON":      {"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "Content-Length: 5\r\n\r\n{nope", http.StatusBadRequest},
		"no query":      {"GET /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "\r\n", http.StatusBadRequest},
		"method":        {"PUT /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "Content-Length: 2\r\n\r\n{}", http.StatusMethodNotAllowed},
		"too large":     {"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "Content-Length: 99999999\r\n\r\n", http.StatusRequestEntityTooLarge},
		"chunked":       {"POST /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusLengthRequired},
		"not a stream":  {"GET /graphql HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n", http.StatusUpgradeRequired},
		"bad variables": {"GET /graphql?query=x&variables=1 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + origin + "\r\n", http.StatusBadRequest},
	} {
		resp, _ := answer(t, h, tc.req)
		require.Equal(t, tc.status, resp.StatusCode, name)
		requireCORS(t, resp, appOrigin, name)
	}

	// Server-to-server endpoints never carry CORS headers.
	for _, path := range []string{"/healthz", "/metrics", "/publish", "/nope"} {
		resp, _ := httpGet(t, h, path, map[string]string{"Origin": appOrigin})
		requireNoCORS(t, resp, path)
		require.Empty(t, resp.Header.Values("Vary"), path)
	}
	resp, _ = answer(t, h, "OPTIONS /publish HTTP/1.1\r\nHost: x\r\nOrigin: "+appOrigin+"\r\nAccess-Control-Request-Method: POST\r\n\r\n")
	require.NotEqual(t, http.StatusNoContent, resp.StatusCode)
	requireNoCORS(t, resp, "OPTIONS /publish")
}

// A refused token's 401 is readable by the page: it carries the headers.
func TestCORSUnauthorized(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		withJWT(o)
		o.AllowedOrigins = []string{appOrigin}
	})
	resp, body := answer(t, h, sseGet("cors.auth", "Origin: "+appOrigin+"\r\n"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
	require.NotEmpty(t, body)
	requireCORS(t, resp, appOrigin, "401")
}

func TestCORSWebSocketOrigin(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.AllowedOrigins = []string{appOrigin} })

	a := dialWSHeader(t, h, http.Header{"Origin": {appOrigin}})
	a.init()
	b := dialWS(t, h) // no Origin: not a browser
	b.init()

	for _, origin := range []string{"https://evil.example", "null", "http://app.example.com"} {
		requireUpgradeForbidden(t, h, origin)
	}
	require.Equal(t, int64(3), h.Stats().OriginRefused.Load())
	_, metrics := httpGet(t, h, "/metrics", nil)
	require.Contains(t, metrics, "\nsubhub_origin_refused_total 3\n")
	a.sync()
	b.sync()
}

func TestCORSAnyOrigin(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.AllowedOrigins = []string{"*"} })

	resp, _ := answer(t, h, sseGet("any", "Origin: https://anywhere.example\r\n"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireCORS(t, resp, "*", "SSE")

	resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: x\r\nOrigin: null\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	requireCORS(t, resp, "*", "preflight")
	require.Equal(t, "content-type", resp.Header.Get("Access-Control-Allow-Headers"))

	resp, _ = answer(t, h, "PUT /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nOrigin: https://x.example\r\nContent-Length: 2\r\n\r\n{}")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	requireCORS(t, resp, "*", "405")

	c := dialWSHeader(t, h, http.Header{"Origin": {"https://anywhere.example"}})
	c.init()
	require.Zero(t, h.Stats().OriginRefused.Load())
}

// A wildcard entry allows the WebSockets and SSE streams of every
// subdomain's pages, and the answers name the page's own origin.
func TestCORSWildcardOrigin(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.AllowedOrigins = []string{"https://*.example.com", appOrigin} })

	for _, origin := range []string{"https://tenant1.example.com", "https://a.b.example.com", appOrigin} {
		c := dialWSHeader(t, h, http.Header{"Origin": {origin}})
		c.init()
		resp, _ := answer(t, h, sseGet("wild", "Origin: "+origin+"\r\n"))
		require.Equal(t, http.StatusOK, resp.StatusCode, origin)
		requireCORS(t, resp, origin, origin)
		resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: x\r\nOrigin: "+origin+"\r\nAccess-Control-Request-Method: POST\r\n\r\n")
		require.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
		requireCORS(t, resp, origin, "preflight from "+origin)
	}
	refused := []string{"https://example.com", "https://evilexample.com", "http://a.example.com", "https://a.example.com:8443", "https://a.example.com.evil.example"}
	for _, origin := range refused {
		requireUpgradeForbidden(t, h, origin)
		resp, _ := answer(t, h, sseGet("wild", "Origin: "+origin+"\r\n"))
		require.Equal(t, http.StatusForbidden, resp.StatusCode, origin)
		requireNoCORS(t, resp, origin)
	}
	require.Equal(t, int64(2*len(refused)), h.Stats().OriginRefused.Load())
}

// Without AllowedOrigins nothing changes for WebSocket and SSE clients:
// no CORS headers, every Origin served. Only a preflight, which no
// same-origin or non-browser client sends, is refused.
func TestCORSOffByDefault(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)

	c := dialWSHeader(t, h, http.Header{"Origin": {"https://anywhere.example"}})
	c.init()

	br, _ := rawHTTP(t, h, ssePost("off", "Origin: https://anywhere.example\r\n"))
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireNoCORS(t, resp, "SSE")
	require.Empty(t, resp.Header.Values("Vary"))
	// The head is complete: the first event follows it.
	waitNATSSubs(t, e, 1)
	nc := connectNATS(t, e.ClientURL())
	require.NoError(t, nc.Publish("off", []byte(`2`)))
	require.Equal(t, "event: next\n", readLine(t, bufio.NewReader(resp.Body)))

	resp, _ = answer(t, h, "PUT /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nOrigin: https://x.example\r\nContent-Length: 2\r\n\r\n{}")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	requireNoCORS(t, resp, "405")

	resp, body := answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: x\r\nOrigin: https://x.example\r\nAccess-Control-Request-Method: POST\r\n\r\n")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, "--allowed-origins")
	requireNoCORS(t, resp, "preflight")

	resp, _ = answer(t, h, "OPTIONS /graphql HTTP/1.1\r\nHost: x\r\n\r\n")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "GET, POST, OPTIONS", resp.Header.Get("Allow"))
	c.sync()
}

// requireUpgradeForbidden dials a WebSocket upgrade from origin and requires
// the 403 that refuses it.
func requireUpgradeForbidden(t *testing.T, h *Hub, origin string) {
	t.Helper()
	d := ws.Dialer{Protocols: []string{wire.SubprotocolTransportWS}, Timeout: 5 * time.Second,
		Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {origin}})}
	_, _, _, err := d.Dial(t.Context(), "ws://"+h.Addr().String()+"/graphql")
	var rejected ws.StatusError
	require.ErrorAs(t, err, &rejected, origin)
	require.Equal(t, http.StatusForbidden, int(rejected), origin)
}
