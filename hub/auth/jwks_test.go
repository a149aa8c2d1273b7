package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// jwksServer serves a JWKS on 127.0.0.1 and counts the requests.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	status   int
	body     []byte
	// gate, when set, holds every request until it is closed.
	gate chan struct{}
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.serve(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		status, body, gate := s.status, s.body, s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve makes the server answer with a JWKS of keys, 200.
func (s *jwksServer) serve(t testing.TB, keys ...map[string]any) {
	t.Helper()
	list := make([]any, len(keys))
	for i, k := range keys {
		list[i] = k
	}
	s.answer(http.StatusOK, mustJSON(t, map[string]any{"keys": list}))
}

func (s *jwksServer) answer(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *jwksServer) hold(gate chan struct{}) {
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
}

// jwksVerifier makes a Verifier of s's JWKS, closed at the test's end.
func jwksVerifier(t testing.TB, s *jwksServer, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{JWKSURL: s.URL + "/jwks", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mod != nil {
		mod(&cfg)
	}
	v, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

// signKid signs claims with key and m, with kid in the header unless it is
// empty.
func signKid(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// refreshers counts the goroutines running remoteKeys.run.
func refreshers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte("auth.(*remoteKeys).run("))
}

func TestJWKSVerify(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	ec := testECKeys(t)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edPub := edPriv.Public().(ed25519.PublicKey)
	s := newJWKSServer(t,
		copyWith(rsaJWKOf(&rk.PublicKey), "kid", "rsa"),
		copyWith(rsaJWKOf(&rk.PublicKey), "kid", "rs256-only", "alg", "RS256"),
		copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "p256"),
		copyWith(ecJWKOf(t, &ec.p384.PublicKey), "kid", "p384", "alg", "ES384"),
		copyWith(ecJWKOf(t, &ec.p521.PublicKey), "kid", "p521"),
		copyWith(edJWKOf(edPub), "kid", "ed", "use", "sig"),
		copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "enc", "use", "enc"),
	)
	v := jwksVerifier(t, s, nil)
	require.Equal(t, jwksAlgs, v.Algorithms())
	c := jwt.MapClaims{"sub": "u"}

	for _, tc := range []struct {
		m   jwt.SigningMethod
		key any
		kid string
	}{
		{jwt.SigningMethodRS256, rk, "rsa"},
		{jwt.SigningMethodRS384, rk, "rsa"},
		{jwt.SigningMethodRS512, rk, "rsa"},
		{jwt.SigningMethodPS256, rk, "rsa"},
		{jwt.SigningMethodPS384, rk, "rsa"},
		{jwt.SigningMethodPS512, rk, "rsa"},
		{jwt.SigningMethodRS256, rk, "rs256-only"},
		{jwt.SigningMethodES256, ec.p256, "p256"},
		{jwt.SigningMethodES384, ec.p384, "p384"},
		{jwt.SigningMethodES512, ec.p521, "p521"},
		{jwt.SigningMethodEdDSA, edPriv, "ed"},
	} {
		g, err := v.Verify(signKid(t, tc.m, tc.key, tc.kid, c))
		require.NoError(t, err, "%s %s", tc.m.Alg(), tc.kid)
		require.NotNil(t, g)
	}
	require.Equal(t, int64(1), s.requests.Load(), "known kids need no fetch")

	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"the alg of another key type", signKid(t, jwt.SigningMethodES256, ec.p256, "rsa", c), ErrInvalidToken},
		{"RSA token, EC kid", signKid(t, jwt.SigningMethodRS256, rk, "p256", c), ErrInvalidToken},
		{"not the key's alg", signKid(t, jwt.SigningMethodPS256, rk, "rs256-only", c), ErrInvalidToken},
		{"another curve's alg", signKid(t, jwt.SigningMethodES384, ec.p384, "p256", c), ErrInvalidToken},
		{"ES256 on the ES384 key", signKid(t, jwt.SigningMethodES256, ec.p256, "p384", c), ErrInvalidToken},
		{"signed by another key", signKid(t, jwt.SigningMethodES256, testECKeys(t).p256, "p256", c), ErrInvalidToken},
		{"wrong EC key, right curve", signKid(t, jwt.SigningMethodES512, testECKeys(t).p521, "p521", c), ErrInvalidToken},
		{"HS256 keyed with the RSA modulus", signKid(t, jwt.SigningMethodHS256, rk.PublicKey.N.Bytes(), "rsa", c), ErrInvalidToken},
		{"use enc key", signKid(t, jwt.SigningMethodES256, ec.p256, "enc", c), ErrUnknownKey},
		{"no kid, several keys", signKid(t, jwt.SigningMethodRS256, rk, "", c), ErrUnknownKey},
	} {
		_, err := v.Verify(tc.tok)
		require.ErrorIs(t, err, tc.want, tc.name)
	}
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	_, err = v.Verify(unsigned)
	require.ErrorIs(t, err, ErrInvalidToken)

	// A kid that is not a string.
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = 7
	str, err := tok.SignedString(rk)
	require.NoError(t, err)
	_, err = v.Verify(str)
	require.ErrorIs(t, err, ErrInvalidToken)
	require.Equal(t, "unknown signing key", Reason(ErrUnknownKey))
}

func TestJWKSTokenWithoutKid(t *testing.T) {
	t.Parallel()
	ec := testECKeys(t)
	s := newJWKSServer(t, ecJWKOf(t, &ec.p256.PublicKey), copyWith(ecJWKOf(t, &ec.p384.PublicKey), "use", "enc"))
	v := jwksVerifier(t, s, nil)
	_, err := v.Verify(signKid(t, jwt.SigningMethodES256, ec.p256, "", nil))
	require.NoError(t, err, "the only usable key")
	_, err = v.Verify(signKid(t, jwt.SigningMethodES256, ec.p256, "k1", nil))
	require.ErrorIs(t, err, ErrUnknownKey, "a kid names no key without one")
}

// A flood of tokens with unknown kids costs one fetch per
// JWKSUnknownKidInterval; concurrent ones share it; a token with a kid
// added since is accepted after that fetch.
func TestJWKSUnknownKidRefresh(t *testing.T) {
	t.Parallel()
	ec := testECKeys(t)
	s := newJWKSServer(t, copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "a"))
	v := jwksVerifier(t, s, nil)
	now := time.Unix(1_800_000_000, 0)
	var clock sync.Mutex
	v.remote.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
	require.Equal(t, int64(1), s.requests.Load())

	s.serve(t, copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "a"), copyWith(ecJWKOf(t, &ec.p384.PublicKey), "kid", "b"))
	_, err := v.Verify(signKid(t, jwt.SigningMethodES384, ec.p384, "b", nil))
	require.NoError(t, err, "accepted after the refresh its kid caused")
	require.Equal(t, int64(2), s.requests.Load())

	bogus := signKid(t, jwt.SigningMethodES384, ec.p384, "bogus", nil)
	for range 20 {
		_, err = v.Verify(bogus)
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	require.Equal(t, int64(2), s.requests.Load(), "rate-limited")
	advance(JWKSUnknownKidInterval - time.Second)
	_, err = v.Verify(bogus)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, int64(2), s.requests.Load(), "still rate-limited")
	advance(time.Second)
	_, err = v.Verify(bogus)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, int64(3), s.requests.Load(), "one fetch per interval")

	// Concurrent unknown kids wait for one fetch.
	advance(JWKSUnknownKidInterval)
	gate := make(chan struct{})
	s.hold(gate)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := v.Verify(bogus)
			require.ErrorIs(t, err, ErrUnknownKey)
		})
	}
	require.Eventually(t, func() bool { return s.requests.Load() == 4 }, 5*time.Second, time.Millisecond)
	close(gate)
	wg.Wait()
	require.Equal(t, int64(4), s.requests.Load(), "one fetch for all")
}

// Refreshes on the interval pick up a rotation; failed ones, whatever
// the failure, keep the keys there were.
func TestJWKSPeriodicRefresh(t *testing.T) {
	t.Parallel()
	ec := testECKeys(t)
	s := newJWKSServer(t, copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "a"))
	v := jwksVerifier(t, s, func(c *Config) { c.JWKSRefresh = 5 * time.Millisecond })
	tokA := signKid(t, jwt.SigningMethodES256, ec.p256, "a", nil)
	_, err := v.Verify(tokA)
	require.NoError(t, err)

	for _, fail := range []struct {
		status int
		body   []byte
	}{
		{http.StatusInternalServerError, []byte("oops")},
		{http.StatusOK, []byte("{not json")},
		{http.StatusOK, []byte(`{"keys":[]}`)},
		{http.StatusOK, bytes.Repeat([]byte(" "), MaxJWKSBytes+1)},
	} {
		s.answer(fail.status, fail.body)
		n := s.requests.Load()
		require.Eventually(t, func() bool { return s.requests.Load() >= n+2 }, 5*time.Second, time.Millisecond)
		_, err = v.Verify(tokA)
		require.NoError(t, err, "%d %.20q: the old keys are kept", fail.status, fail.body)
	}

	s.serve(t, copyWith(ecJWKOf(t, &ec.p384.PublicKey), "kid", "b"))
	require.Eventually(t, func() bool { return v.remote.set.Load().find("b", true) != nil }, 5*time.Second, time.Millisecond,
		"the interval's refresh picks up the new set")
	_, err = v.Verify(signKid(t, jwt.SigningMethodES384, ec.p384, "b", nil))
	require.NoError(t, err)
	_, err = v.Verify(tokA)
	require.ErrorIs(t, err, ErrUnknownKey, "a key removed from the set is no longer accepted")
}

// Not parallel: it counts every refresher of the process, and parallel
// tests run only after the sequential ones, each of which closes its own.
func TestJWKSCloseStopsTheRefresher(t *testing.T) {
	ec := testECKeys(t)
	s := newJWKSServer(t, copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "a"))
	require.Zero(t, refreshers())
	// Requests are counted as the client starts them: the server may see
	// one cancelled by Close after Close returned.
	var started atomic.Int64
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		started.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	v, err := New(Config{JWKSURL: s.URL, JWKSRefresh: time.Millisecond, HTTPClient: client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return refreshers() == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return started.Load() > 3 }, 5*time.Second, time.Millisecond)
	v.Close()
	// run may still be returning after it closed done.
	require.Eventually(t, func() bool { return refreshers() == 0 }, 5*time.Second, time.Millisecond, "Close ends the refresher")
	v.Close() // again: nothing
	n := started.Load()
	_, err = v.Verify(signKid(t, jwt.SigningMethodES256, ec.p256, "a", nil))
	require.NoError(t, err, "the last keys still verify")
	_, err = v.Verify(signKid(t, jwt.SigningMethodES256, ec.p256, "b", nil))
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, n, started.Load(), "no fetch after Close")

	// Close cancels a fetch under way: a caller waiting for it returns.
	s2 := newJWKSServer(t, copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "a"))
	v2, err := New(Config{JWKSURL: s2.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	gate := make(chan struct{})
	defer close(gate)
	s2.hold(gate)
	done := make(chan error)
	go func() {
		_, err := v2.Verify(signKid(t, jwt.SigningMethodES256, ec.p256, "b", nil))
		done <- err
	}()
	require.Eventually(t, func() bool { return s2.requests.Load() == 2 }, 5*time.Second, time.Millisecond)
	v2.Close()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrUnknownKey)
	case <-time.After(5 * time.Second):
		t.Fatal("Verify still waits for a fetch after Close")
	}
	require.Eventually(t, func() bool { return refreshers() == 0 }, 5*time.Second, time.Millisecond)
}

// Every way a JWKS cannot be used fails New with a one-line reason, and
// leaves no refresher behind. Not parallel: it counts refreshers.
func TestJWKSStartupErrors(t *testing.T) {
	rk := testRSAKey(t)
	good := mustJSON(t, map[string]any{"keys": []any{copyWith(rsaJWKOf(&rk.PublicKey), "kid", "r")}})
	huge := append([]byte(`{"keys":[`), bytes.Repeat([]byte(`{"kty":"RSA"},`), MaxJWKSBytes/14)...)
	huge = append(huge, []byte(`{}]}`)...)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	for name, tc := range map[string]struct {
		status  int
		body    []byte
		chunked bool
		url     string // instead of the server's
		client  *http.Client
		want    string
	}{
		"404":                {status: 404, body: good, want: "HTTP 404 Not Found"},
		"500":                {status: 500, body: []byte("x"), want: "HTTP 500 Internal Server Error"},
		"not JSON":           {status: 200, body: []byte("<html>"), want: "not a JWKS"},
		"no usable key":      {status: 200, body: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), want: `no usable key among 1; key 0: kty oct`},
		"too large":          {status: 200, body: huge, want: "larger than 1048576 bytes"},
		"too large, chunked": {status: 200, body: huge, chunked: true, want: "larger than 1048576 bytes"},
		"unreachable":        {url: deadURL, want: "connection refused"},
		"ftp":                {url: "ftp://127.0.0.1/jwks", want: "want an http:// or https:// URL"},
		"no host":            {url: "http:///jwks", want: "want an http:// or https:// URL"},
		"not a URL":          {url: "http://[::1", want: "JWKS URL"},
		"relative":           {url: "/jwks", want: "want an http:// or https:// URL"},
		"slow":               {status: 200, body: good, client: &http.Client{Timeout: 50 * time.Millisecond}, want: "Client.Timeout exceeded"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name == "slow" {
				<-r.Context().Done()
				return
			}
			if !tc.chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write(tc.body)
		}))
		u := srv.URL + "/jwks"
		if tc.url != "" {
			u = tc.url
		}
		v, err := New(Config{JWKSURL: u, HTTPClient: tc.client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		srv.Close()
		require.Nil(t, v, name)
		require.ErrorIs(t, err, ErrInvalidConfig, name)
		require.Contains(t, err.Error(), tc.want, name)
		require.NotContains(t, err.Error(), "\n", name)
		require.NotContains(t, err.Error(), "c2VjcmV0", "%s: the document is never echoed", name)
		require.Zero(t, refreshers(), name)
	}

	// The URL's password is not shown.
	_, err := New(Config{JWKSURL: "http://user:hunter2@" + strings.TrimPrefix(deadURL, "http://")})
	require.ErrorContains(t, err, "user:xxxxx@")
	require.NotContains(t, err.Error(), "hunter2")
}

func TestLeewayAndJWKSConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"leeway too large":      {Config{Secret: secret, Leeway: MaxLeeway + time.Second}, "a leeway of 5m1s is more than 5m0s"},
		"negative refresh":      {Config{JWKSURL: "http://127.0.0.1:1/", JWKSRefresh: -time.Second}, "refresh interval -1s is negative"},
		"JWKS and a secret":     {Config{Secret: secret, JWKSURL: "http://127.0.0.1:1/"}, "exclusive"},
		"JWKS and a public key": {Config{PublicKeyPEM: []byte("x"), JWKSURL: "http://127.0.0.1:1/"}, "exclusive"},
	} {
		_, err := New(tc.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, name)
		require.ErrorContains(t, err, tc.want, name)
	}
	require.True(t, Config{JWKSURL: "http://x"}.Enabled())

	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		leeway time.Duration
		exp    time.Duration // from now
		ok     bool
	}{
		{NoLeeway, time.Second, true},
		{NoLeeway, -time.Second, false},
		{0, -29 * time.Second, true}, // DefaultLeeway
		{0, -31 * time.Second, false},
		{MaxLeeway, -299 * time.Second, true},
		{MaxLeeway, -301 * time.Second, false},
	} {
		v := newVerifier(t, Config{Secret: secret, Leeway: tc.leeway})
		v.now = func() time.Time { return now }
		_, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": now.Add(tc.exp).Unix()}))
		if tc.ok {
			require.NoError(t, err, "leeway %s, exp %s", tc.leeway, tc.exp)
		} else {
			require.ErrorIs(t, err, ErrExpired, "leeway %s, exp %s", tc.leeway, tc.exp)
		}
	}
}
