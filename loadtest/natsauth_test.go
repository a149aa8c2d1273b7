package loadtest

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/internal/natsopt/natsopttest"
)

// The load tool publishes through a NATS server that requires
// operator-mode credentials over mutual TLS, given the same flags as serve
// and publish; a refused user fails the run with NATS's reason.
func TestRunPublishNATSSecured(t *testing.T) {
	pki := natsopttest.NewPKI(t)
	o := &server.Options{}
	pki.TLS(o, true)
	op := natsopttest.NewOperator(t, o)
	natsURL := natsopttest.Start(t, o).ClientURL()
	good := natsopt.Flags{Creds: op.Creds(t), TLSCA: pki.CAFile, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey}
	goodOpts, err := good.Options()
	require.NoError(t, err)
	fs := startFakeWith(t, natsURL, faults{}, goodOpts)

	args := append([]string{"--url", fs.url, "--nats-url", natsURL, "--conns", "2", "--rate", "100", "--duration", "1s",
		"--warmup", "300ms", "--drain", "500ms", "--quiet"}, natsopttest.Args(good)...)
	cfg, err := ParseFlags(args)
	require.NoError(t, err)
	require.Len(t, cfg.NATSOptions, 2, "credentials and TLS")
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, int64(100), r.Published)
	require.Zero(t, r.PublishErrors)
	require.Equal(t, int64(200), r.Delivered)

	bad := good
	bad.Creds = natsopttest.StrangerCreds(t)
	cfg, err = ParseFlags(append(args, natsopttest.Args(bad)...))
	require.NoError(t, err)
	_, err = Run(context.Background(), cfg, nil)
	require.ErrorIs(t, err, ErrPublish)
	require.ErrorContains(t, err, "nats: Authorization Violation")
}

func TestParseFlagsNATSAuthErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nats-creds", "a", "--nats-nkey", "b"}, "--nats-creds and --nats-nkey are exclusive: set one"},
		{[]string{"--nats-tls-key", "k.pem"}, "--nats-tls-key needs --nats-tls-cert"},
		{[]string{"--nats-nkey", "/nonexistent/u.nk"}, "--nats-nkey /nonexistent/u.nk: no such file or directory"},
	} {
		_, err := ParseFlags(tc.args)
		require.True(t, errors.Is(err, ErrUsage), "%v", err)
		require.ErrorContains(t, err, tc.want)
		code, _, errOut := runMain(t, tc.args...)
		require.Equal(t, 2, code)
		require.Equal(t, "subhub loadtest: "+tc.want+"\n", errOut)
	}
}
