package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/internal/natsopt/natsopttest"
)

// subhub publish reaches a NATS server that requires TLS from a private CA
// and operator-mode credentials, with the settings from flags or from the
// environment; the wrong settings fail with NATS's reason in one line.
func TestMainSecured(t *testing.T) {
	t.Parallel()
	pki := natsopttest.NewPKI(t)
	o := &server.Options{}
	pki.TLS(o, true)
	op := natsopttest.NewOperator(t, o)
	srv := natsopttest.Start(t, o)
	good := natsopt.Flags{Creds: op.Creds(t), TLSCA: pki.CAFile, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey}
	subOpts, err := good.Options()
	require.NoError(t, err)
	subNC, err := nats.Connect(srv.ClientURL(), subOpts...)
	require.NoError(t, err)
	t.Cleanup(subNC.Close)

	nkeyOpts := &server.Options{}
	seed := natsopttest.NkeyUser(t, nkeyOpts)
	nkeySrv := natsopttest.Start(t, nkeyOpts)
	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	nkeySub, err := nats.Connect(nkeySrv.ClientURL(), natsOpts(t, natsopt.Flags{Nkey: seed})...)
	require.NoError(t, err)
	t.Cleanup(nkeySub.Close)

	withCreds := func(creds string) natsopt.Flags { f := good; f.Creds = creds; return f }
	withoutCert := good
	withoutCert.TLSCert, withoutCert.TLSKey = "", ""

	tests := []struct {
		name  string
		url   string
		sub   *nats.Conn
		flags natsopt.Flags
		env   envMap
		want  string // stderr; empty: published
	}{
		{name: "creds and mtls", url: srv.ClientURL(), sub: subNC, flags: good},
		{name: "from the environment", url: srv.ClientURL(), sub: subNC, env: envMap{
			"SUBHUB_NATS_CREDS": good.Creds, "SUBHUB_NATS_TLS_CA": good.TLSCA, "SUBHUB_NATS_TLS_CERT": good.TLSCert, "SUBHUB_NATS_TLS_KEY": good.TLSKey,
		}},
		{name: "nkey", url: nkeySrv.ClientURL(), sub: nkeySub, flags: natsopt.Flags{Nkey: seed}},
		{name: "nkey of another user", url: nkeySrv.ClientURL(), flags: natsopt.Flags{Nkey: natsopttest.SeedFile(t, other)}, want: "nats: Authorization Violation"},
		{name: "creds of an unknown account", url: srv.ClientURL(), flags: withCreds(natsopttest.StrangerCreds(t)), want: "nats: Authorization Violation"},
		{name: "no creds", url: srv.ClientURL(), flags: withCreds(""), want: "nats: Authorization Violation"},
		{name: "no client certificate", url: srv.ClientURL(), flags: withoutCert, want: "tls"},
		{name: "another ca", url: srv.ClientURL(), flags: func() natsopt.Flags { f := good; f.TLSCA = natsopttest.OtherCA(t); return f }(),
			want: "x509: certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			topic := "secured." + strings.ReplaceAll(tt.name, " ", "_")
			var sub *nats.Subscription
			if tt.sub != nil {
				sub = subscribe(t, tt.sub, topic)
			}
			args := append([]string{"--nats-url", tt.url}, natsopttest.Args(tt.flags)...)
			code, stdout, stderr := runCLI(t, tt.env, append(args, topic, `{"ok":true}`)...)
			if tt.want != "" {
				require.Equal(t, 1, code, stdout)
				require.True(t, strings.HasPrefix(stderr, "subhub publish: connect "+tt.url+": "), stderr)
				require.Contains(t, stderr, tt.want)
				require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
				return
			}
			require.Equal(t, 0, code, stderr)
			require.Equal(t, `{"ok":true}`, string(nextMsg(t, sub).Data))
			requireNoMsg(t, tt.sub, sub)
		})
	}
}

// A malformed seed is refused before connecting, and the message does not
// quote the file.
func TestMainBadSeedIsNotPrinted(t *testing.T) {
	t.Parallel()
	kp, err := nkeys.CreateAccount()
	require.NoError(t, err)
	seed, err := kp.Seed()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "account.nk")
	require.NoError(t, os.WriteFile(path, seed, 0o600))
	for _, flag := range []string{"--nats-nkey", "--nats-creds", "--nats-tls-ca"} {
		code, stdout, stderr := runCLI(t, envMap{"SUBHUB_NATS_URL": closedURL(t)}, flag, path, "books", "1")
		require.Equal(t, 2, code, flag)
		require.Empty(t, stdout)
		require.Contains(t, stderr, flag+" "+path+": ")
		require.NotContains(t, stderr, string(seed))
		require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	}
}

func natsOpts(t *testing.T, f natsopt.Flags) []nats.Option {
	t.Helper()
	opts, err := f.Options()
	require.NoError(t, err)
	return opts
}
