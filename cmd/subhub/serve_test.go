package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/internal/natsopt/natsopttest"
	"github.com/subhub/subhub/wire"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServeDefaultsEnvAndFlags(t *testing.T) {
	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, ":8080", cfg.opts.Listen)
	require.Equal(t, "/graphql", cfg.opts.Path)
	require.Equal(t, "127.0.0.1:4222", cfg.embeddedNATS)
	require.Equal(t, 3*time.Second, cfg.opts.InitTimeout)
	require.Equal(t, 1, cfg.opts.NATSPool)
	require.Equal(t, 20*time.Millisecond, cfg.opts.Coalesce)
	require.Equal(t, 1000, cfg.opts.MaxFields)

	cfg, err = parseServe([]string{"--nats-pool", "4"}, env(map[string]string{
		"SUBHUB_NATS_URL":   "nats://a:4222,nats://b:4222",
		"SUBHUB_NATS_POOL":  "2",
		"SUBHUB_SHARDS":     "16",
		"SUBHUB_ENVELOPE":   "hotchocolate",
		"SUBHUB_SERIALIZER": "msgpack",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "nats://a:4222,nats://b:4222", cfg.natsURL)
	require.Equal(t, 4, cfg.opts.NATSPool, "the flag wins over the environment")
	require.Equal(t, 16, cfg.opts.Shards)
	require.Equal(t, wire.EnvelopeHotChocolate, cfg.opts.Envelope)
	require.Equal(t, wire.SerializerMsgpack, cfg.opts.Serializer)
}

func TestParseServeRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--nats-pool", "0"}, nil, "--nats-pool must be positive"},
		{[]string{"--max-fields", "0"}, nil, "--max-fields must be positive"},
		{[]string{"--max-subscriptions", "-1"}, nil, "--max-subscriptions must be positive"},
		{[]string{"--shutdown-grace", "-1s"}, nil, "--shutdown-grace must not be negative"},
		{[]string{"--init-timeout", "-1s"}, nil, "--init-timeout must be positive"},
		{[]string{"--nats-ping-interval", "0s"}, nil, "--nats-ping-interval must be positive"},
		{[]string{"--serializer", "xml"}, nil, "--serializer"},
		{[]string{"--envelope", "soap"}, nil, "--envelope"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--shards", "-2"}, nil, "--shards"},
		{[]string{"--coalesce", "-1ms"}, nil, "--coalesce must be between 0 and 100ms"},
		{nil, map[string]string{"SUBHUB_COALESCE": "1s"}, "--coalesce must be between 0 and 100ms, got 1s"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{nil, map[string]string{"SUBHUB_NATS_POOL": "many"}, "SUBHUB_NATS_POOL"},
		{[]string{"--nope"}, nil, "flag provided but not defined"},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		require.Error(t, err, "%v %v", tc.args, tc.env)
		require.Contains(t, err.Error(), tc.want)
	}
}

func TestParseServeAllowedOrigins(t *testing.T) {
	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Empty(t, cfg.opts.AllowedOrigins, "no CORS by default")

	cfg, err = parseServe(nil, env(map[string]string{"SUBHUB_ALLOWED_ORIGINS": "https://App.example.com, http://localhost:3000"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:3000"}, cfg.opts.AllowedOrigins)

	cfg, err = parseServe([]string{"--allowed-origins", "https://*.Example.com,http://localhost:3000"}, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"https://*.example.com", "http://localhost:3000"}, cfg.opts.AllowedOrigins)

	cfg, err = parseServe([]string{"--allowed-origins", "*"}, env(map[string]string{"SUBHUB_ALLOWED_ORIGINS": "https://a.example"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"*"}, cfg.opts.AllowedOrigins, "the flag wins over the environment")

	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--allowed-origins", "https://app.example.com/"}, nil, `--allowed-origins: "https://app.example.com/" has more than an origin`},
		{[]string{"--allowed-origins", "app.example.com"}, nil, `--allowed-origins: "app.example.com" is not an origin: want scheme://host[:port]`},
		{[]string{"--allowed-origins", "*,https://a.example"}, nil, `--allowed-origins: "*" allows every origin and cannot be combined with a list`},
		{nil, map[string]string{"SUBHUB_ALLOWED_ORIGINS": "https://a.*.example.com"}, `--allowed-origins: "https://a.*.example.com": "*" may only stand for whole labels at the left of the host`},
		{[]string{"--allowed-origins", "*.example.com"}, nil, `--allowed-origins: "*.example.com" has no scheme`},
		{[]string{"--allowed-origins", "https://*"}, nil, `--allowed-origins: "https://*": a wildcard needs a domain after it`},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		require.Error(t, err, "%v %v", tc.args, tc.env)
		require.Contains(t, err.Error(), tc.want)
		require.NotContains(t, err.Error(), "\n", "one line")
	}
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--allowed-origins", "https://a.example/path"}))
}

func TestRunUnknownCommand(t *testing.T) {
	require.Equal(t, 2, run(t.Context(), []string{"frobnicate"}))
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--shards", "-1"}))
	require.Equal(t, 0, run(t.Context(), []string{"serve", "--help"}))
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestParseServeJWT(t *testing.T) {
	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.False(t, cfg.opts.JWT.Enabled(), "authentication is off by default")

	secret := "0123456789abcdef0123456789abcdef"
	cfg, err = parseServe([]string{"--jwt-issuer", "https://idp"}, env(map[string]string{
		"SUBHUB_JWT_SECRET":   secret,
		"SUBHUB_JWT_AUDIENCE": "subhub",
		"SUBHUB_JWT_ISSUER":   "ignored",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []byte(secret), cfg.opts.JWT.Secret)
	require.Equal(t, "https://idp", cfg.opts.JWT.Issuer, "the flag wins over the environment")
	require.Equal(t, "subhub", cfg.opts.JWT.Audience)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	keyFile := writeFile(t, "key.pem", pemBytes)
	cfg, err = parseServe([]string{"--jwt-public-key", keyFile}, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, pemBytes, cfg.opts.JWT.PublicKeyPEM)
	require.Empty(t, cfg.opts.JWT.Secret)

	badPEM := writeFile(t, "bad.pem", []byte("hello"))
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--jwt-secret", "short"}, nil, "--jwt-secret: the secret is 5 bytes, at least 32 are required"},
		{nil, map[string]string{"SUBHUB_JWT_SECRET": "short"}, "--jwt-secret: the secret is 5 bytes"},
		{[]string{"--jwt-secret", secret, "--jwt-public-key", keyFile}, nil, "--jwt-secret, --jwt-public-key and --jwt-jwks-url are exclusive: set one"},
		{[]string{"--jwt-jwks-url", "https://idp.example/jwks", "--jwt-public-key", keyFile}, nil, "--jwt-secret, --jwt-public-key and --jwt-jwks-url are exclusive"},
		{[]string{"--jwt-jwks-url", "https://idp.example/jwks"}, map[string]string{"SUBHUB_JWT_SECRET": secret}, "are exclusive"},
		{[]string{"--jwt-jwks-url", "ftp://idp.example/jwks"}, nil, `--jwt-jwks-url: JWKS URL "ftp://idp.example/jwks": want an http:// or https:// URL`},
		{[]string{"--jwt-jwks-url", "idp.example/jwks"}, nil, "want an http:// or https:// URL"},
		{[]string{"--jwt-jwks-url", "https://idp.example/jwks", "--jwt-jwks-refresh", "1s"}, nil, "--jwt-jwks-refresh must be at least 10s, got 1s"},
		{[]string{"--jwt-jwks-url", "https://idp.example/jwks", "--jwt-jwks-refresh", "0"}, nil, "--jwt-jwks-refresh must be at least 10s, got 0s"},
		{[]string{"--jwt-leeway", "-1s"}, nil, "--jwt-leeway must be between 0 and 5m0s, got -1s"},
		{nil, map[string]string{"SUBHUB_JWT_LEEWAY": "6m"}, "--jwt-leeway must be between 0 and 5m0s, got 6m0s"},
		{[]string{"--jwt-leeway", "soon"}, nil, "invalid value"},
		{[]string{"--jwt-public-key", filepath.Join(t.TempDir(), "missing.pem")}, nil, "--jwt-public-key: open "},
		{[]string{"--jwt-public-key", badPEM}, nil, "--jwt-public-key " + badPEM + ": no PEM block found"},
		{[]string{"--jwt-audience", "x"}, nil, "--jwt-issuer and --jwt-audience need --jwt-secret, --jwt-public-key or --jwt-jwks-url"},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		require.Error(t, err, "%v %v", tc.args, tc.env)
		require.Contains(t, err.Error(), tc.want)
		require.NotContains(t, err.Error(), "\n", "one line")
	}
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--jwt-secret", "short"}))
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--jwt-public-key", badPEM}))
}

func TestParseServeJWKSAndLeeway(t *testing.T) {
	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, auth.DefaultLeeway, cfg.opts.JWT.Leeway, "30s by default")
	require.Equal(t, auth.DefaultJWKSRefresh, cfg.opts.JWT.JWKSRefresh)

	cfg, err = parseServe([]string{"--jwt-leeway", "0"}, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, auth.NoLeeway, cfg.opts.JWT.Leeway, "0 is no leeway, not Config's default")
	cfg, err = parseServe(nil, env(map[string]string{"SUBHUB_JWT_LEEWAY": "5m"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, 5*time.Minute, cfg.opts.JWT.Leeway)

	cfg, err = parseServe([]string{"--jwt-jwks-url", "https://idp.example/.well-known/jwks.json", "--jwt-issuer", "https://idp.example/"},
		env(map[string]string{"SUBHUB_JWT_JWKS_REFRESH": "1m", "SUBHUB_JWT_LEEWAY": "10s"}), io.Discard)
	require.NoError(t, err, "parsing fetches nothing")
	require.Equal(t, "https://idp.example/.well-known/jwks.json", cfg.opts.JWT.JWKSURL)
	require.Equal(t, time.Minute, cfg.opts.JWT.JWKSRefresh)
	require.Equal(t, 10*time.Second, cfg.opts.JWT.Leeway)
	require.True(t, cfg.opts.JWT.Enabled())

	// A JWKS that cannot be fetched stops serve before it listens.
	idp := httptest.NewServer(http.NotFoundHandler())
	defer idp.Close()
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--nats-url", "nats://127.0.0.1:1", "--listen", "127.0.0.1:0", "--jwt-jwks-url", idp.URL + "/jwks"}))
}

// A flag that does not parse gets the same one-line reason as a value out of
// range (README: "Invalid values exit with status 2 and a one-line
// reason"); only --help prints the flag list.
func TestParseServeReportsParseErrorsInOneLine(t *testing.T) {
	for _, args := range [][]string{{"--shards", "abc"}, {"--request-timeout", "1"}, {"--nope"}} {
		var out strings.Builder
		_, err := parseServe(args, env(nil), &out)
		require.Error(t, err, "%v", args)
		require.Empty(t, out.String(), "%v", args)
		require.NotContains(t, err.Error(), "\n")
	}
	var out strings.Builder
	_, err := parseServe([]string{"--help"}, env(nil), &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	require.Contains(t, out.String(), "usage: subhub [serve] [flags]")
	require.Contains(t, out.String(), "-embedded-nats-listen string")
}

func TestParseServeNATSAuth(t *testing.T) {
	pki := natsopttest.NewPKI(t)
	o := &server.Options{}
	seed := natsopttest.NkeyUser(t, o)

	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Empty(t, cfg.opts.NATSOptions)

	cfg, err = parseServe([]string{"--nats-tls-ca", pki.CAFile}, env(map[string]string{
		"SUBHUB_NATS_URL":  "tls://127.0.0.1:4222",
		"SUBHUB_NATS_NKEY": seed,
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, natsopt.Flags{Nkey: seed, TLSCA: pki.CAFile}, cfg.natsAuth)
	require.Len(t, cfg.opts.NATSOptions, 2, "nkey and TLS")

	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--nats-nkey", seed}, nil, "--nats-creds, --nats-nkey and --nats-tls-* need --nats-url: the embedded NATS server has no authentication or TLS"},
		{[]string{"--nats-url", "nats://x", "--nats-creds", seed, "--nats-nkey", seed}, nil, "--nats-creds and --nats-nkey are exclusive: set one"},
		{[]string{"--nats-url", "nats://x", "--nats-tls-cert", pki.ClientCert}, nil, "--nats-tls-cert needs --nats-tls-key"},
		{[]string{"--nats-url", "nats://x"}, map[string]string{"SUBHUB_NATS_TLS_CA": seed}, "--nats-tls-ca " + seed + ": no PEM certificate found"},
		{[]string{"--nats-url", "nats://x", "--nats-creds", seed}, nil, "--nats-creds " + seed + ": not a NATS credentials file"},
		{[]string{"--nats-url", "nats://x", "--nats-nkey", "/nonexistent/u.nk"}, nil, "--nats-nkey /nonexistent/u.nk: no such file or directory"},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		require.Error(t, err, "%v %v", tc.args, tc.env)
		require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q", err)
		require.NotContains(t, err.Error(), "\n")
	}
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// serve joins a NATS server that requires an nkey over mutual TLS with the
// flags, and exits 1 at once (not retrying in the background) when the
// server refuses its key.
func TestServeSecuredNATS(t *testing.T) {
	pki := natsopttest.NewPKI(t)
	o := &server.Options{}
	pki.TLS(o, true)
	seed := natsopttest.NkeyUser(t, o)
	srv := natsopttest.Start(t, o)
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	tlsArgs := []string{"--nats-tls-ca", pki.CAFile, "--nats-tls-cert", pki.ClientCert, "--nats-tls-key", pki.ClientKey}

	args := append([]string{"serve", "--listen", freeAddr(t), "--nats-url", srv.ClientURL(), "--nats-nkey", natsopttest.SeedFile(t, other)}, tlsArgs...)
	require.Equal(t, 1, run(t.Context(), args))

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr, "--nats-url", srv.ClientURL(), "--nats-nkey", seed}, tlsArgs...))
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		cz, err := srv.Connz(nil)
		return err == nil && len(cz.Conns) == 1 && cz.Conns[0].Name == "subhub-0" && cz.Conns[0].TLSVersion != ""
	}, 5*time.Second, 20*time.Millisecond)
	cancel()
	require.Equal(t, 0, <-done)
}

// The README's flags table lists exactly the flags of subhub serve.
func TestREADMEFlagsTableMatchesServe(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(b), "\n## Flags\n")
	require.True(t, ok, "README has no ## Flags section")
	table, _, _ = strings.Cut(table, "\n## ")
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		if name, ok := strings.CutPrefix(line, "| `--"); ok {
			name, _, _ = strings.Cut(name, "`")
			documented = append(documented, name)
		}
	}
	var flags []string
	newServeFlags(&serveConfig{}, io.Discard).VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
	require.ElementsMatch(t, flags, documented)
}
