package hub

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/wire"
)

func loadExampleSchema(t *testing.T) *graphql.Schema {
	t.Helper()
	s, err := graphql.LoadSchemaFile("../examples/schema.graphql")
	require.NoError(t, err)
	return s
}

// HotChocolate publishers (MD5 subjects, {"body":..,"kind":0} envelopes,
// here MessagePack through AlterNats) reach clients projected through a
// user schema, and {"kind":1} completes the subscription.
func TestHotChocolateEnvelopeWithSchema(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	opts := publish.Options{Serializer: wire.SerializerMsgpack, Envelope: wire.EnvelopeHotChocolate, TopicPrefix: "app"}
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.Schema = loadExampleSchema(t)
		o.Serializer, o.Envelope, o.TopicPrefix = opts.Serializer, opts.Envelope, opts.TopicPrefix
	})
	pub := publish.New(connectNATS(t, e.ClientURL()), opts)

	c := dialWS(t, h)
	c.init()
	c.subscribe("b", `subscription { bookAdded(shelf: "s1") { __typename title t2: title shelf formats } }`)
	waitNATSSubs(t, e, 1)
	require.Equal(t, []string{wire.HotChocolateSubject("app", "books.s1.added")}, h.reg.Subjects())

	ctx := context.Background()
	require.NoError(t, pub.Publish(ctx, "books.s1.added", map[string]any{
		"id": "1", "title": "Dune", "shelf": "s1", "formats": []string{"EBOOK"}, "secret": "not selected",
	}))
	m := c.next()
	require.Equal(t, "next", m["type"])
	require.Equal(t, map[string]any{"data": map[string]any{"bookAdded": map[string]any{
		"__typename": "Book", "title": "Dune", "t2": "Dune", "shelf": "s1", "formats": []any{"EBOOK"},
	}}}, m["payload"])

	require.NoError(t, pub.Complete(ctx, "books.s1.added"))
	m = c.next()
	require.Equal(t, "complete", m["type"])
	require.Equal(t, "b", m["id"])
	waitNATSSubs(t, e, 0)
}

func TestSubjectPrefixAndTopicTemplates(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.Schema = loadExampleSchema(t)
		o.SubjectPrefix = "tenant1"
	})
	nc := connectNATS(t, e.ClientURL())
	c := dialWS(t, h)
	c.init()
	c.sendJSON(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($g: Genre!) { newTitles(genre: $g) { title ... on Book { isbn } } }`,
		"variables": map[string]any{"g": "POETRY"},
	}})
	waitNATSSubs(t, e, 1)
	require.Equal(t, []string{"tenant1.catalog.POETRY.HARDCOVER"}, h.reg.Subjects())
	require.NoError(t, nc.Publish("tenant1.catalog.POETRY.HARDCOVER", []byte(`{"__typename":"Book","title":"Odes","isbn":"978"}`)))
	m := c.next()
	require.Equal(t, map[string]any{"data": map[string]any{"newTitles": map[string]any{"title": "Odes", "isbn": "978"}}}, m["payload"])

	// An argument that would change the subject's shape is refused.
	c.subscribe("bad", `subscription { bookAdded(shelf: "a.b") { title } }`)
	m = c.next()
	require.Equal(t, "error", m["type"])
	require.Contains(t, m["payload"].([]any)[0].(map[string]any)["message"], "shelf")
	// Queries are refused with a clear message.
	c.subscribe("q", `{ node(id: "1") { id } }`)
	m = c.next()
	require.Equal(t, "error", m["type"])
	require.Contains(t, m["payload"].([]any)[0].(map[string]any)["message"], "subscriptions only")
}

// A topic completed by a publisher completes it on every node.
func TestCompletionReachesBothNodes(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h1 := startHub(t, e.ClientURL(), nil)
	h2 := startHub(t, e.ClientURL(), nil)
	c1, c2 := dialWS(t, h1), dialWS(t, h2)
	c1.init()
	c2.init()
	c1.subscribe("a", topicQuery("ends"))
	c2.subscribe("b", topicQuery("ends"))
	waitNATSSubs(t, e, 2)
	pub := publish.New(connectNATS(t, e.ClientURL()), publish.Options{})
	require.NoError(t, pub.Complete(context.Background(), "ends"))
	for _, c := range []*wsClient{c1, c2} {
		m := c.next()
		require.Equal(t, "complete", m["type"])
	}
	waitNATSSubs(t, e, 0)
}

func TestHTTPPublish(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) {
		o.PublishToken = "s3cret"
		o.MaxMessageBytes = 1024
	})
	c := dialWS(t, h)
	c.init()
	c.subscribe("p", topicQuery("http.t"))
	waitNATSSubs(t, e, 1)

	post := func(auth, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, "http://"+h.Addr().String()+"/publish", strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b := make([]byte, 512)
		n, _ := resp.Body.Read(b)
		return resp.StatusCode, string(b[:n])
	}
	good := `{"topic":"http.t","payload":{"v":1}}`
	for _, tc := range []struct {
		name, auth, body string
		status           int
	}{
		{"no token", "", good, http.StatusUnauthorized},
		{"wrong token", "Bearer nope", good, http.StatusUnauthorized},
		{"not bearer", "Basic czNjcmV0", good, http.StatusUnauthorized},
		{"bad JSON", "Bearer s3cret", `{"topic":`, http.StatusBadRequest},
		{"unknown field", "Bearer s3cret", `{"topic":"http.t","payload":1,"x":2}`, http.StatusBadRequest},
		{"no payload", "Bearer s3cret", `{"topic":"http.t"}`, http.StatusBadRequest},
		// Strict keys: what a gateway in front reads is what is published.
		{"key in another case", "Bearer s3cret", `{"Topic":"http.t","payload":1}`, http.StatusBadRequest},
		{"duplicate key", "Bearer s3cret", `{"topic":"other.t","payload":1,"topic":"http.t"}`, http.StatusBadRequest},
		{"trailing data", "Bearer s3cret", `{"topic":"http.t","payload":1} x`, http.StatusBadRequest},
		{"two objects", "Bearer s3cret", `{"topic":"http.t","payload":1}{"topic":"http.t","payload":2}`, http.StatusBadRequest},
		{"not an object", "Bearer s3cret", `["http.t",1]`, http.StatusBadRequest},
		{"complete not a boolean", "Bearer s3cret", `{"topic":"http.t","complete":"yes"}`, http.StatusBadRequest},
		{"topic not a string", "Bearer s3cret", `{"topic":7,"payload":1}`, http.StatusBadRequest},
		{"bad topic", "Bearer s3cret", `{"topic":"a.*","payload":1}`, http.StatusBadRequest},
		{"too big", "Bearer s3cret", `{"topic":"http.t","payload":"` + strings.Repeat("x", 2000) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		status, body := post(tc.auth, tc.body)
		require.Equal(t, tc.status, status, "%s: %s", tc.name, body)
	}
	// Nothing above was published.
	c.expectSilence(200 * time.Millisecond)
	require.Zero(t, h.Stats().Published.Load())

	status, _ := post("Bearer s3cret", good)
	require.Equal(t, http.StatusAccepted, status)
	m := c.next()
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"v": float64(1)}}}, m["payload"])

	status, _ = post("Bearer s3cret", `{"topic":"http.t","complete":true}`)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "complete", c.next()["type"])
}

// A topic too long for a NATS protocol line is refused: publishing it would
// make the NATS server close the hub's connection, which its subscriptions
// share.
func TestHTTPPublishOverlongTopic(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PublishToken = "s3cret" })
	c := dialWS(t, h)
	c.init()
	c.subscribe("p", topicQuery("http.t"))
	waitNATSSubs(t, e, 1)
	post := func(body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, "http://"+h.Addr().String()+"/publish", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, body := post(`{"topic":"` + strings.Repeat("x", 6000) + `","payload":1}`)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "more than 2048")

	require.True(t, h.Healthy())
	status, body = post(`{"topic":"http.t","payload":2}`)
	require.Equal(t, http.StatusAccepted, status, body)
	require.Equal(t, map[string]any{"data": map[string]any{"topic": float64(2)}}, c.next()["payload"])
}

// Clients that send "Expect: 100-continue" (curl, for bodies over 1 KiB)
// get the interim response instead of waiting for their timeout.
func TestHTTPPublishExpectContinue(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PublishToken = "s3cret" })
	body := `{"topic":"cont","payload":"` + strings.Repeat("x", 2000) + `"}`
	br, conn := rawHTTP(t, h, "POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nExpect: 100-continue\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n")
	require.Equal(t, "HTTP/1.1 100 Continue\r\n", readLine(t, br))
	require.Equal(t, "\r\n", readLine(t, br))
	_, err := conn.Write([]byte(body))
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// nats.go reports a slow consumer once per run of dropped messages, not once
// per message: subhub_nats_dropped_total counted the runs, so a burst that
// lost thousands of events showed as 1.
func TestNATSDroppedCountsMessages(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	nc := connectNATS(t, e.ClientURL())
	// A subscription on the pooled connection (so with the fan-out loops'
	// error handler) whose channel has room for one message.
	ch := make(chan *nats.Msg, 1)
	ns, err := h.pool[0].ChanSubscribe("drops", ch)
	require.NoError(t, err)
	require.NoError(t, h.pool[0].Flush())
	for i := 0; i < 100; i++ {
		require.NoError(t, nc.Publish("drops", []byte(`1`)))
	}
	require.NoError(t, nc.Flush())
	require.Eventually(t, func() bool { n, _ := ns.Dropped(); return n == 99 }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return h.Stats().NATSDropped.Load() == 99 }, 5*time.Second, 5*time.Millisecond,
		"have %d", h.Stats().NATSDropped.Load())
	_, body := httpGet(t, h, "/metrics", nil)
	require.Contains(t, body, "\nsubhub_nats_dropped_total 99\n")

	// A later run on the same subscription adds its messages too, and an
	// unsubscribed subscription is no longer tracked.
	<-ch
	for i := 0; i < 10; i++ {
		require.NoError(t, nc.Publish("drops", []byte(`2`)))
	}
	require.NoError(t, nc.Flush())
	require.Eventually(t, func() bool { return h.Stats().NATSDropped.Load() == 108 }, 5*time.Second, 5*time.Millisecond,
		"have %d", h.Stats().NATSDropped.Load())
	require.NoError(t, ns.Unsubscribe())
	h.syncDrops()
	h.dropsMu.Lock()
	require.Empty(t, h.drops)
	h.dropsMu.Unlock()
}

// With the HotChocolate envelope a topic is hashed into its subject, so a
// topic HotChocolate publishes to ("OnMessage_John Doe", dots and spaces
// included) can be subscribed to, and its events arrive.
func TestHotChocolateTopicsNeedNotBeSubjects(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	opts := publish.Options{Envelope: wire.EnvelopeHotChocolate}
	h := startHub(t, e.ClientURL(), func(o *Options) { o.Envelope = opts.Envelope })
	pub := publish.New(connectNATS(t, e.ClientURL()), opts)

	c := dialWS(t, h)
	c.init()
	c.subscribe("a", `subscription { topic(name: "OnMessage_John Doe.eu") }`)
	waitNATSSubs(t, e, 1)
	require.Equal(t, []string{wire.HotChocolateSubject("", "OnMessage_John Doe.eu")}, h.reg.Subjects())
	require.NoError(t, pub.Publish(context.Background(), "OnMessage_John Doe.eu", map[string]any{"text": "hi"}))
	m := c.next()
	require.Equal(t, "next", m["type"])
	require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"text": "hi"}}}, m["payload"])
}

// A subscription the NATS server refuses for the hub user's permissions
// (reported asynchronously, after the SUB) ends with an error on both
// WebSocket protocols instead of leaving the client silent; the client's
// other subscriptions go on, and a later subscriber gets the error too.
func TestBackplaneRefusedSubscriptionEndsWithError(t *testing.T) {
	t.Parallel()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "hub", Password: "pw", Permissions: &server.Permissions{
				Subscribe: &server.SubjectPermission{Deny: []string{"secret.>"}},
			}},
			{Username: "pub", Password: "pw"},
		},
	})
	require.NoError(t, err)
	go srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second))
	t.Cleanup(srv.Shutdown)
	addr := srv.Addr().String()
	h := startHub(t, "nats://hub:pw@"+addr, nil)
	pub := connectNATS(t, "nats://pub:pw@"+addr)

	c := dialWS(t, h)
	c.init()
	c.subscribe("s", topicQuery("secret.x"))
	c.subscribe("o", topicQuery("open.x"))
	m := c.next()
	require.Equal(t, "error", m["type"], "message %v", m)
	require.Equal(t, "s", m["id"])
	require.Equal(t, []any{map[string]any{"message": errBackplaneForbidden[0].Message}}, m["payload"])
	require.Equal(t, int64(1), h.Stats().UpstreamErrors.Load())

	legacy := dialWS(t, h, wire.SubprotocolLegacy)
	legacy.send(`{"type":"connection_init"}`)
	require.Equal(t, "connection_ack", legacy.next()["type"])
	require.Equal(t, "ka", legacy.next()["type"])
	legacy.send(`{"type":"start","id":"l","payload":{"query":"subscription { topic(name: \"secret.x\") }"}}`)
	m = legacy.next()
	require.Equal(t, "error", m["type"], "message %v", m)
	require.Equal(t, "l", m["id"])
	require.Equal(t, map[string]any{"message": errBackplaneForbidden[0].Message}, m["payload"])

	// The refused subject holds nothing; the other subscription delivers.
	require.Eventually(t, func() bool { return h.Stats().Subscriptions.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"open.x"}, h.reg.Subjects())
	require.NoError(t, pub.Publish("open.x", []byte(`1`)))
	m = c.next()
	require.Equal(t, "next", m["type"], "message %v", m)
	require.Equal(t, "o", m["id"])
}

// A payload within --max-message-bytes but over the NATS server's
// max_payload is refused with 413, not 503: retrying cannot succeed.
func TestHTTPPublishOverNATSMaxPayload(t *testing.T) {
	t.Parallel()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: 1024})
	require.NoError(t, err)
	go srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second))
	t.Cleanup(srv.Shutdown)
	h := startHub(t, srv.ClientURL(), func(o *Options) { o.PublishToken = "s3cret" })
	req, err := http.NewRequest(http.MethodPost, "http://"+h.Addr().String()+"/publish",
		strings.NewReader(`{"topic":"big","payload":"`+strings.Repeat("x", 2000)+`"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Zero(t, h.Stats().Published.Load())
}

// The bearer scheme is case-insensitive and may be followed by several
// spaces (RFC 9110 §11.1, §11.4): clients that write "bearer" are served.
func TestHTTPPublishBearerScheme(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PublishToken = "s3cret" })
	body := `{"topic":"auth","payload":1}`
	for auth, status := range map[string]int{
		"Bearer s3cret":  http.StatusAccepted,
		"bearer s3cret":  http.StatusAccepted,
		"BEARER  s3cret": http.StatusAccepted,
		"Bearer":         http.StatusUnauthorized,
		"Bearers3cret":   http.StatusUnauthorized,
		"Basic s3cret":   http.StatusUnauthorized,
		"bearer s3cre":   http.StatusUnauthorized,
	} {
		br, _ := rawHTTP(t, h, "POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: "+auth+"\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\n\r\n"+body)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		require.Equal(t, status, resp.StatusCode, auth)
	}
	require.EqualValues(t, 3, h.Stats().Published.Load())
}
