package publish

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

// envMap is a fake environment for run.
type envMap map[string]string

func (e envMap) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// closedURL returns a nats:// URL on a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "nats://" + addr
}

func runCLI(t *testing.T, env envMap, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLIStdin(t, env, strings.NewReader(""), args...)
}

func runCLIStdin(t *testing.T, env envMap, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env.lookup, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMainArgErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  envMap
		args []string
		want string
	}{
		{"no args", nil, nil, "missing TOPIC"},
		{"missing json", nil, []string{"books"}, "missing JSON event"},
		{"too many args", nil, []string{"books", "1", "2"}, "too many arguments"},
		{"unknown flag", nil, []string{"--nope", "books", "1"}, "flag provided but not defined: -nope"},
		{"bad serializer", nil, []string{"--serializer", "xml", "books", "1"}, `--serializer: wire: unknown serializer "xml" (want json or msgpack)`},
		{"bad envelope", nil, []string{"--envelope=redis", "books", "1"}, `--envelope: wire: unknown envelope "redis" (want raw or hotchocolate)`},
		{"bad count", nil, []string{"--count", "x", "books", "1"}, `invalid value "x" for flag -count`},
		{"zero count", nil, []string{"--count", "0", "books", "1"}, "--count must be at least 1"},
		{"invalid json", nil, []string{"books", "{nope}"}, "publish: invalid JSON event"},
		{"wildcard topic", nil, []string{"books.*", "1"}, "publish: invalid topic"},
		{"empty topic", nil, []string{"--complete", ""}, "publish: invalid topic"},
		{"bad subject prefix", nil, []string{"--envelope", "hotchocolate", "--subject-prefix", "a b", "t", "1"}, "publish: invalid topic"},
		{"bad env serializer", envMap{"SUBHUB_SERIALIZER": "xml"}, []string{"books", "1"}, "unknown serializer"},
		{"bad env count", envMap{"SUBHUB_COUNT": "many"}, []string{"books", "1"}, `environment SUBHUB_COUNT="many"`},
		{"bad env complete", envMap{"SUBHUB_COMPLETE": "maybe"}, []string{"books"}, `environment SUBHUB_COMPLETE="maybe"`},
		{"flag overrides env", envMap{"SUBHUB_ENVELOPE": "hotchocolate"}, []string{"--envelope", "raw", "a b", "1"}, "publish: invalid topic"},
		{"creds and nkey", nil, []string{"--nats-creds", "a.creds", "--nats-nkey", "a.nk", "books", "1"}, "--nats-creds and --nats-nkey are exclusive: set one"},
		{"missing creds from env", envMap{"SUBHUB_NATS_CREDS": "/nonexistent/a.creds"}, []string{"books", "1"}, "--nats-creds /nonexistent/a.creds: no such file or directory"},
		{"missing nkey", nil, []string{"--nats-nkey", "/nonexistent/a.nk", "books", "1"}, "--nats-nkey /nonexistent/a.nk: no such file or directory"},
		{"cert without key", nil, []string{"--nats-tls-cert", "/nonexistent/c.pem", "books", "1"}, "--nats-tls-cert needs --nats-tls-key"},
		{"key without cert from env", envMap{"SUBHUB_NATS_TLS_KEY": "/nonexistent/k.pem"}, []string{"books", "1"}, "--nats-tls-key needs --nats-tls-cert"},
		{"missing ca", nil, []string{"--nats-tls-ca", "/nonexistent/ca.pem", "books", "1"}, "--nats-tls-ca /nonexistent/ca.pem: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No server is needed: argument errors are found before connecting.
			env := envMap{"SUBHUB_NATS_URL": closedURL(t)}
			for k, v := range tt.env {
				env[k] = v
			}
			code, stdout, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, 2, code, stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tt.want)
			require.True(t, strings.HasPrefix(stderr, "subhub publish: "), stderr)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

func TestMainHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, arg)
			require.Equal(t, 0, code)
			require.Empty(t, stderr)
			require.Contains(t, stdout, "usage: subhub publish")
			for _, flag := range []string{"-nats-url", "-serializer", "-envelope", "-topic-prefix", "-subject-prefix", "-complete", "-count",
				"-nats-creds", "-nats-nkey", "-nats-tls-ca", "-nats-tls-cert", "-nats-tls-key", "--nats-tls-cert with --nats-tls-key for mutual TLS"} {
				require.Contains(t, stdout, flag)
			}
		})
	}
}

func TestMainConnectFailure(t *testing.T) {
	t.Parallel()
	url := closedURL(t)
	code, stdout, stderr := runCLI(t, nil, "--nats-url", url, "books", `{"id":"1"}`)
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "subhub publish: connect "+url)
	require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)

	// The environment's URL is used when the flag is absent.
	code, _, stderr = runCLI(t, envMap{"SUBHUB_NATS_URL": url}, "books", `1`)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, url)
}

func TestMainPublish(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	subNC := connect(t, srv)
	envJSON := `{"body":{"id":"1"},"kind":0}`

	tests := []struct {
		name        string
		env         envMap
		args        []string
		subject     string
		events      int
		event       string
		complete    string // expected completion body; "" with the header for raw
		rawComplete bool
		stdout      string
	}{
		{
			name: "raw json count", args: []string{"--count", "3", "books.added", `{"id":"1"}`},
			subject: "books.added", events: 3, event: `{"id":"1"}`,
			stdout: "published 3 event(s) on books.added\n",
		},
		{
			name: "raw complete only", args: []string{"--complete", "books.done"},
			subject: "books.done", rawComplete: true,
			stdout: "published 0 event(s) on books.done, then completed it\n",
		},
		{
			name: "raw event then complete, flags from env", env: envMap{"SUBHUB_COMPLETE": "true", "SUBHUB_SUBJECT_PREFIX": "acme"},
			args:    []string{"books.env", `{"id":"1"}`},
			subject: "acme.books.env", events: 1, event: `{"id":"1"}`, rawComplete: true,
			stdout: "published 1 event(s) on acme.books.env, then completed it\n",
		},
		{
			// printf '%s' 'Subscription:onBookAdded' | md5sum
			name: "hotchocolate msgpack from env", env: envMap{"SUBHUB_SERIALIZER": "msgpack", "SUBHUB_ENVELOPE": "hotchocolate", "SUBHUB_TOPIC_PREFIX": "Subscription"},
			args:    []string{"--count=2", "--complete", "onBookAdded", `{"id":"1"}`},
			subject: "122156489F60831E75656596683FA1B0", events: 2,
			event: string(append([]byte{0xa0 | byte(len(envJSON))}, envJSON...)), complete: "\xaa" + `{"kind":1}`,
			stdout: "published 2 event(s) on 122156489F60831E75656596683FA1B0, then completed it\n",
		},
		{
			// printf '%s' 'onBookAdded' | md5sum
			name: "hotchocolate json, flag wins over env", env: envMap{"SUBHUB_SERIALIZER": "msgpack"},
			args:    []string{"--serializer", "json", "--envelope", "hotchocolate", "--complete", "onBookAdded", `{"id":"1"}`},
			subject: "847BC9168E04FFEC07C07F0C8598F710", events: 1, event: envJSON, complete: `{"kind":1}`,
			stdout: "published 1 event(s) on 847BC9168E04FFEC07C07F0C8598F710, then completed it\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := subscribe(t, subNC, tt.subject)
			env := envMap{"SUBHUB_NATS_URL": closedURL(t)} // the flag must win
			for k, v := range tt.env {
				env[k] = v
			}
			args := append([]string{"--nats-url", srv.ClientURL()}, tt.args...)
			code, stdout, stderr := runCLI(t, env, args...)
			require.Equal(t, 0, code, stderr)
			require.Empty(t, stderr)
			require.Equal(t, tt.stdout, stdout)

			for range tt.events {
				msg := nextMsg(t, sub)
				require.Equal(t, tt.event, string(msg.Data))
				require.Empty(t, msg.Header)
			}
			if tt.rawComplete || tt.complete != "" {
				msg := nextMsg(t, sub)
				require.Equal(t, tt.complete, string(msg.Data))
				if tt.rawComplete {
					require.Equal(t, nats.Header{wire.CompleteHeader: []string{"true"}}, msg.Header)
				} else {
					require.Empty(t, msg.Header)
				}
			}
			requireNoMsg(t, subNC, sub)
		})
	}
}

// TestMainEventFromStdinAndFile publishes events too large for a command
// line: "-" reads standard input, "@FILE" a file.
func TestMainEventFromStdinAndFile(t *testing.T) {
	t.Parallel()
	srv := runNATS(t)
	subNC := connect(t, srv)
	sub := subscribe(t, subNC, "big")
	env := envMap{"SUBHUB_NATS_URL": srv.ClientURL()}
	// 300 KiB: more than one argument may hold on Linux (128 KiB).
	event := `{"text":"` + strings.Repeat("x", 300<<10) + `"}`

	code, stdout, stderr := runCLIStdin(t, env, strings.NewReader(event), "big", "-")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "published 1 event(s) on big\n", stdout)
	require.Equal(t, event, string(nextMsg(t, sub).Data))

	file := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(file, []byte(event), 0o600))
	code, _, stderr = runCLI(t, env, "--count", "2", "big", "@"+file)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, event, string(nextMsg(t, sub).Data))
	require.Equal(t, event, string(nextMsg(t, sub).Data))
	requireNoMsg(t, subNC, sub)

	// Bad input from either source is refused before anything is sent.
	for _, tt := range []struct {
		name, stdin, arg, want string
	}{
		{"empty stdin", "", "-", "publish: invalid JSON event"},
		{"stdin not json", "{nope}", "-", "publish: invalid JSON event"},
		{"missing file", "", "@" + filepath.Join(t.TempDir(), "missing.json"), "event file: open "},
		{"directory", "", "@" + t.TempDir(), "read event from "},
	} {
		code, _, stderr := runCLIStdin(t, env, strings.NewReader(tt.stdin), "big", tt.arg)
		require.Equal(t, 2, code, tt.name)
		require.Contains(t, stderr, tt.want, tt.name)
	}
	requireNoMsg(t, subNC, sub)
}

func TestEventArgLimit(t *testing.T) {
	t.Parallel()
	b, err := eventArg("-", strings.NewReader("12345"), 5)
	require.NoError(t, err)
	require.Equal(t, "12345", string(b))
	_, err = eventArg("-", strings.NewReader("123456"), 5)
	require.EqualError(t, err, "event from standard input is larger than 5 bytes")
	b, err = eventArg(`{"a":1}`, nil, 1)
	require.NoError(t, err, "an event on the command line is not read, so not limited here")
	require.Equal(t, `{"a":1}`, string(b))
}

// TestMainProcessEnv checks that Main reads the process environment.
func TestMainProcessEnv(t *testing.T) {
	srv := runNATS(t)
	subNC := connect(t, srv)
	sub := subscribe(t, subNC, "proc.env")
	t.Setenv("SUBHUB_NATS_URL", srv.ClientURL())
	t.Setenv("SUBHUB_COUNT", strconv.Itoa(2))
	var out, errOut bytes.Buffer
	require.Equal(t, 0, Main(context.Background(), []string{"proc.env", `true`}, &out, &errOut), errOut.String())
	require.Equal(t, "true", string(nextMsg(t, sub).Data))
	require.Equal(t, "true", string(nextMsg(t, sub).Data))
	requireNoMsg(t, subNC, sub)

	t.Setenv("SUBHUB_ENVELOPE", "bogus")
	require.Equal(t, 2, Main(context.Background(), []string{"proc.env", `true`}, &out, &errOut))
}

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "nats://a:4222,nats://u:xxxxx@b:4222,nats://tok@c:4222,nats://v:xxxxx@d:4222",
		RedactURLs("nats://a:4222,nats://u:s3cret@b:4222", "nats://tok@c:4222", " nats://v:pw@d:4222"))
}
