package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestAppendMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payloadBytes, wantLen int
	}{
		{0, len(`{"seq":12,"ts":1700000000000000000,"pad":""}`)},
		{10, len(`{"seq":12,"ts":1700000000000000000,"pad":""}`)},
		{100, 100},
		{4096, 4096},
	}
	for _, tc := range tests {
		cfg := DefaultConfig()
		cfg.PayloadBytes = tc.payloadBytes
		p := &publisher{cfg: &cfg, pad: make([]byte, tc.payloadBytes)}
		for i := range p.pad {
			p.pad[i] = 'x'
		}
		b := p.appendMessage(nil, 12, 1700000000000000000)
		require.Len(t, b, tc.wantLen)
		v, err := fastjson.ParseBytes(b)
		require.NoError(t, err)
		require.EqualValues(t, 12, v.GetInt64("seq"))
		require.EqualValues(t, 1700000000000000000, v.GetInt64("ts"))
	}
}

// publishEndpoint is a stand-in for the hub's HTTP publish API.
func publishEndpoint(t *testing.T, natsURL, token string) string {
	nc, err := nats.Connect(natsURL)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var body struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Topic == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := nc.Publish(body.Topic, body.Payload); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(func() { srv.Close(); nc.Close() })
	return srv.URL + "/publish"
}

func TestRunPublishHTTP(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{dropEvery: 10})
	endpoint := publishEndpoint(t, natsURL, "secret")
	tests := []struct {
		name                      string
		token                     string
		published, errs, expected int64
	}{
		{"authorized", "secret", 200, 0, 600},
		{"wrong token", "nope", 0, 200, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(fs.url, natsURL)
			cfg.Publish, cfg.PublishURL, cfg.PublishToken = PublishHTTP, endpoint, tc.token
			r, err := Run(context.Background(), cfg, nil)
			require.NoError(t, err)
			require.Equal(t, tc.published, r.Published)
			require.Equal(t, tc.errs, r.PublishErrors)
			require.Equal(t, tc.expected, r.Expected)
			require.Equal(t, tc.expected/10, r.Lost)
			require.Zero(t, r.OutOfOrder, "one sender per topic keeps order")
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc, err := nats.Connect(natsURL)
	require.NoError(t, err)
	defer nc.Close()
	seen := 0
	_, err = nc.Subscribe("lt.>", func(*nats.Msg) {
		if seen++; seen == 20 {
			cancel()
		}
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	cfg := testConfig(fs.url, natsURL)
	cfg.Duration = time.Minute
	r, err := Run(ctx, cfg, nil)
	require.NoError(t, err)
	require.True(t, r.Interrupted)
	require.GreaterOrEqual(t, r.Published, int64(20))
	require.Less(t, r.Published, int64(2000))
}

func TestRunNATSUnreachable(t *testing.T) {
	t.Parallel()
	cfg := testConfig("ws://127.0.0.1:1/graphql", "nats://127.0.0.1:1")
	_, err := Run(context.Background(), cfg, nil)
	require.ErrorIs(t, err, ErrPublish)
	code, _, errOut := runMain(t, "--url", "ws://127.0.0.1:1/graphql", "--nats-url", "nats://127.0.0.1:1", "--duration", "1s")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "subhub loadtest: publisher failed: nats nats://127.0.0.1:1: ")
}
