package hub

import (
	"bytes"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/internal/natsopt/natsopttest"
)

// natsOpts builds the nats.Options of flags.
func natsOpts(t *testing.T, flags natsopt.Flags) []nats.Option {
	t.Helper()
	opts, err := flags.Options()
	require.NoError(t, err)
	return opts
}

// serverSubs counts the subscriptions of the server's clients whose name
// starts with "subhub-" (hub connections).
func serverSubs(srv *server.Server) int {
	cz, err := srv.Connz(&server.ConnzOptions{Subscriptions: true})
	if err != nil {
		return -1
	}
	n := 0
	for _, ci := range cz.Conns {
		if strings.HasPrefix(ci.Name, "subhub-") {
			n += len(ci.Subs)
		}
	}
	return n
}

// securedServers starts one embedded NATS server per way of securing it and
// returns, per name, its URL and the settings that get in.
func securedServers(t *testing.T) map[string]struct {
	url   string
	flags natsopt.Flags
	srv   *server.Server
} {
	t.Helper()
	pki := natsopttest.NewPKI(t)
	out := map[string]struct {
		url   string
		flags natsopt.Flags
		srv   *server.Server
	}{}
	add := func(name string, o *server.Options, flags natsopt.Flags) {
		srv := natsopttest.Start(t, o)
		out[name] = struct {
			url   string
			flags natsopt.Flags
			srv   *server.Server
		}{srv.ClientURL(), flags, srv}
	}
	o := &server.Options{}
	pki.TLS(o, false)
	add("tls", o, natsopt.Flags{TLSCA: pki.CAFile})
	o = &server.Options{}
	pki.TLS(o, true)
	add("mtls", o, natsopt.Flags{TLSCA: pki.CAFile, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey})
	o = &server.Options{}
	add("nkey", o, natsopt.Flags{Nkey: natsopttest.NkeyUser(t, o)})
	o = &server.Options{}
	op := natsopttest.NewOperator(t, o)
	add("creds", o, natsopt.Flags{Creds: op.Creds(t)})
	return out
}

// A hub given the right credentials and TLS settings subscribes over the
// secured NATS server and delivers what a publisher with the same settings
// sends there with subhub publish.
func TestNATSSecuredBackplane(t *testing.T) {
	t.Parallel()
	for name, s := range securedServers(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := natsOpts(t, s.flags)
			h := startHub(t, s.url, func(o *Options) { o.NATSOptions = opts })
			c := dialWS(t, h)
			c.init()
			c.subscribe("1", topicQuery("secured."+name))
			require.Eventually(t, func() bool { return serverSubs(s.srv) == 1 }, 5*time.Second, 10*time.Millisecond)

			// Published by the subhub publish command with the same flags.
			var stdout, stderr bytes.Buffer
			args := append([]string{"--nats-url", s.url}, natsopttest.Args(s.flags)...)
			code := publish.Main(t.Context(), append(args, "secured."+name, `{"via":"`+name+`"}`), &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			m := c.next()
			require.Equal(t, "next", m["type"], "%v", m)
			require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"via": name}}}, m["payload"])
		})
	}
}

// mtlsRefused is how a client without a certificate learns that the server
// requires one: from the server's alert, or (when the server closed the
// socket before the client read the alert) from the write that failed.
const mtlsRefused = `tls: certificate required|nats: tls error: connection closed by remote after TLS handshake`

// A server that refuses the hub's credentials or TLS settings at start
// fails New at once, with NATS's reason, instead of being retried in the
// background without end.
func TestNATSRefusedAtStartFailsNew(t *testing.T) {
	t.Parallel()
	servers := securedServers(t)
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	tests := []struct {
		name, server string
		flags        natsopt.Flags
		want         string
	}{
		{"tls without ca", "tls", natsopt.Flags{}, "x509: certificate signed by unknown authority"},
		{"tls with another ca", "tls", natsopt.Flags{TLSCA: natsopttest.OtherCA(t)}, "x509: certificate signed by unknown authority"},
		{"mtls without client cert", "mtls", natsopt.Flags{TLSCA: servers["mtls"].flags.TLSCA}, mtlsRefused},
		{"nkey of another user", "nkey", natsopt.Flags{Nkey: natsopttest.SeedFile(t, other)}, "nats: Authorization Violation"},
		{"no nkey", "nkey", natsopt.Flags{}, "nats: Authorization Violation"},
		{"creds of an unknown account", "creds", natsopt.Flags{Creds: natsopttest.StrangerCreds(t)}, "nats: Authorization Violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := servers[tt.server].url
			var logs lockedBuffer
			h, err := New(Options{
				Listen:      "127.0.0.1:0",
				NATSURLs:    []string{url},
				NATSPool:    2,
				NATSOptions: natsOpts(t, tt.flags),
				Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
			})
			require.Nil(t, h)
			require.ErrorContains(t, err, "hub: nats connect "+url+": ")
			require.Regexp(t, tt.want, err.Error())
			require.NotContains(t, logs.String(), "retrying in the background")
			require.Eventually(t, func() bool {
				return serverSubs(servers[tt.server].srv) == 0 && servers[tt.server].srv.NumClients() == 0
			},
				5*time.Second, 10*time.Millisecond, "the failed pool left connections behind")
		})
	}
}

// Once running, a hub whose server starts refusing it (the server was
// restarted with other users) logs that at error level, once rather than
// at every attempt, keeps retrying, and recovers when the server takes it
// again.
func TestNATSRefusalOnReconnectIsLoggedAndRetried(t *testing.T) {
	t.Parallel()
	o := &server.Options{}
	seed := natsopttest.NkeyUser(t, o)
	hubUser := o.Nkeys
	srv := natsopttest.Start(t, o)
	port := srv.Addr().(*net.TCPAddr).Port
	url := "nats://127.0.0.1:" + strconv.Itoa(port)

	var logs lockedBuffer
	h := startHub(t, url, func(o *Options) {
		o.NATSOptions = natsOpts(t, natsopt.Flags{Nkey: seed})
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	nc := h.NATS()

	srv.Shutdown()
	srv.WaitForShutdown()
	o2 := &server.Options{Port: port}
	natsopttest.NkeyUser(t, o2) // someone else
	srv2 := natsopttest.Start(t, o2)
	const refused = `level=ERROR msg="nats refused the connection, retrying: check the NATS credentials and TLS settings" conn=0 url=` +
		`nats://127.0.0.1:`
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), refused) }, 10*time.Second, 20*time.Millisecond)
	require.Contains(t, strings.ToLower(logs.String()), "nats: authorization violation")
	attempts := nc.Stats().Reconnects
	require.Eventually(t, func() bool { return nc.Stats().Reconnects >= attempts+3 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, strings.Count(logs.String(), "nats refused the connection"), logs.String())
	require.False(t, h.Healthy())

	srv2.Shutdown()
	srv2.WaitForShutdown()
	natsopttest.Start(t, &server.Options{Port: port, Nkeys: hubUser})
	require.Eventually(t, h.Healthy, 10*time.Second, 20*time.Millisecond, "the hub gave up after the refusals")
	require.Contains(t, logs.String(), `msg="nats reconnected" conn=0`)
}
