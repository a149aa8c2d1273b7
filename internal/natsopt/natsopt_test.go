package natsopt_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/internal/natsopt/natsopttest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestRegister(t *testing.T) {
	t.Parallel()
	var f natsopt.Flags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	require.True(t, f.IsZero())
	require.NoError(t, fs.Parse([]string{"--nats-creds", "a", "--nats-nkey", "b", "--nats-tls-ca", "c", "--nats-tls-cert", "d", "--nats-tls-key", "e"}))
	require.Equal(t, natsopt.Flags{Creds: "a", Nkey: "b", TLSCA: "c", TLSCert: "d", TLSKey: "e"}, f)
	require.False(t, f.IsZero())
}

func TestOptionsNone(t *testing.T) {
	t.Parallel()
	opts, err := natsopt.Flags{}.Options()
	require.NoError(t, err)
	require.Empty(t, opts)
}

// Bad input is one line that names the flag, and never the seed.
func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	pki := natsopttest.NewPKI(t)
	ukp, err := nkeys.CreateUser()
	require.NoError(t, err)
	userSeed := natsopttest.SeedFile(t, ukp)
	akp, err := nkeys.CreateAccount()
	require.NoError(t, err)
	accountSeed := natsopttest.SeedFile(t, akp)
	accSeed, err := akp.Seed()
	require.NoError(t, err)
	creds := natsopttest.CredsFile(t, akp)
	credsText, err := os.ReadFile(creds)
	require.NoError(t, err)
	// A creds file whose seed is another user's.
	jwtPart, _, ok := strings.Cut(string(credsText), "************************* IMPORTANT")
	require.True(t, ok)
	otherSeed, err := ukp.Seed()
	require.NoError(t, err)
	mismatched := writeFile(t, "mismatch.creds", jwtPart+"-----BEGIN USER NKEY SEED-----\n"+string(otherSeed)+"\n------END USER NKEY SEED------\n")
	missing := filepath.Join(t.TempDir(), "missing")

	tests := []struct {
		name  string
		flags natsopt.Flags
		want  string
	}{
		{"creds and nkey", natsopt.Flags{Creds: creds, Nkey: userSeed}, "--nats-creds and --nats-nkey are exclusive: set one"},
		{"missing creds", natsopt.Flags{Creds: missing}, "--nats-creds " + missing + ": no such file or directory"},
		{"creds is a directory", natsopt.Flags{Creds: t.TempDir()}, "is a directory"},
		{"creds is garbage", natsopt.Flags{Creds: writeFile(t, "x.creds", "hello\n")}, "not a NATS credentials file"},
		{"creds is a seed", natsopt.Flags{Creds: accountSeed}, "not a NATS credentials file"},
		{"creds without seed", natsopt.Flags{Creds: writeFile(t, "jwt.creds", jwtPart)}, "no user nkey seed after the JWT"},
		{"creds with another seed", natsopt.Flags{Creds: mismatched}, "the seed is not the key of the JWT's user U"},
		{"missing nkey", natsopt.Flags{Nkey: missing}, "--nats-nkey " + missing + ": no such file or directory"},
		{"nkey is garbage", natsopt.Flags{Nkey: writeFile(t, "x.nk", "SUnope\n")}, "no valid nkey seed found"},
		{"nkey is an account seed", natsopt.Flags{Nkey: accountSeed}, "not a user seed"},
		{"missing ca", natsopt.Flags{TLSCA: missing}, "--nats-tls-ca " + missing + ": no such file or directory"},
		{"ca not pem", natsopt.Flags{TLSCA: writeFile(t, "ca.pem", "not a certificate")}, "no PEM certificate found"},
		{"ca is a key", natsopt.Flags{TLSCA: pki.ClientKey}, "no PEM certificate found"},
		{"cert without key", natsopt.Flags{TLSCert: pki.ClientCert}, "--nats-tls-cert needs --nats-tls-key"},
		{"key without cert", natsopt.Flags{TLSKey: pki.ClientKey}, "--nats-tls-key needs --nats-tls-cert"},
		{"missing cert", natsopt.Flags{TLSCert: missing, TLSKey: pki.ClientKey}, "--nats-tls-cert " + missing + ": no such file"},
		{"missing key", natsopt.Flags{TLSCert: pki.ClientCert, TLSKey: missing}, "--nats-tls-key " + missing + ": no such file"},
		{"key of another cert", natsopt.Flags{TLSCert: pki.ClientCert, TLSKey: pki.ServerKey}, "private key does not match public key"},
		{"cert and key swapped", natsopt.Flags{TLSCert: pki.ClientKey, TLSKey: pki.ClientCert}, "--nats-tls-cert"},
		{"bad ca after good creds", natsopt.Flags{Creds: creds, TLSCA: accountSeed}, "--nats-tls-ca " + accountSeed + ": no PEM certificate found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.flags.Options()
			require.Error(t, err)
			require.Nil(t, opts)
			require.Contains(t, err.Error(), tt.want)
			require.NotContains(t, err.Error(), "\n")
			require.NotContains(t, err.Error(), string(accSeed))
			require.NotContains(t, err.Error(), string(otherSeed))
		})
	}
}

// connect dials srv with flags, without retrying.
func connect(t *testing.T, url string, flags natsopt.Flags) (*nats.Conn, error) {
	t.Helper()
	opts, err := flags.Options()
	require.NoError(t, err)
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// roundTrip checks that nc can publish and receive through the server.
func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.SubscribeSync("secured")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("secured", []byte("hi")))
	msg, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "hi", string(msg.Data))
}

// A client whose certificate the server requires or refuses learns it from
// the server's alert, or, when the server closed the socket before the
// client read the alert, from the write that failed.
const (
	mtlsRefused = `tls: certificate required|nats: tls error: connection closed by remote after TLS handshake`
	mtlsBad     = `tls: bad certificate|nats: tls error: connection closed by remote after TLS handshake`
)

// Each secured server accepts the right settings and refuses the wrong ones
// with an error that Refused classifies as not worth retrying.
func TestConnectSecured(t *testing.T) {
	t.Parallel()
	pki := natsopttest.NewPKI(t)

	tlsOpts := &server.Options{}
	pki.TLS(tlsOpts, false)
	tlsURL := natsopttest.Start(t, tlsOpts).ClientURL()

	mtlsOpts := &server.Options{}
	pki.TLS(mtlsOpts, true)
	mtlsURL := natsopttest.Start(t, mtlsOpts).ClientURL()

	nkeyOpts := &server.Options{}
	seed := natsopttest.NkeyUser(t, nkeyOpts)
	nkeyURL := natsopttest.Start(t, nkeyOpts).ClientURL()
	otherUser, err := nkeys.CreateUser()
	require.NoError(t, err)

	opOpts := &server.Options{}
	op := natsopttest.NewOperator(t, opOpts)
	opURL := natsopttest.Start(t, opOpts).ClientURL()

	plainURL := natsopttest.Start(t, &server.Options{}).ClientURL()

	tests := []struct {
		name    string
		url     string
		flags   natsopt.Flags
		wantErr string // empty: connects and round-trips
	}{
		{"tls", tlsURL, natsopt.Flags{TLSCA: pki.CAFile}, ""},
		{"tls without ca", tlsURL, natsopt.Flags{}, "certificate signed by unknown authority"},
		{"tls with another ca", tlsURL, natsopt.Flags{TLSCA: natsopttest.OtherCA(t)}, "certificate signed by unknown authority"},
		{"tls to a plain server", plainURL, natsopt.Flags{TLSCA: pki.CAFile}, "secure connection not available"},
		{"mtls", mtlsURL, natsopt.Flags{TLSCA: pki.CAFile, TLSCert: pki.ClientCert, TLSKey: pki.ClientKey}, ""},
		{"mtls without client cert", mtlsURL, natsopt.Flags{TLSCA: pki.CAFile}, mtlsRefused},
		{"mtls with a server cert", mtlsURL, natsopt.Flags{TLSCA: pki.CAFile, TLSCert: pki.ServerCert, TLSKey: pki.ServerKey}, mtlsBad},
		{"nkey", nkeyURL, natsopt.Flags{Nkey: seed}, ""},
		{"nkey of another user", nkeyURL, natsopt.Flags{Nkey: natsopttest.SeedFile(t, otherUser)}, "nats: Authorization Violation"},
		{"nkey missing", nkeyURL, natsopt.Flags{}, "nats: Authorization Violation"},
		{"creds", opURL, natsopt.Flags{Creds: op.Creds(t)}, ""},
		{"creds of an unknown account", opURL, natsopt.Flags{Creds: natsopttest.StrangerCreds(t)}, "nats: Authorization Violation"},
		{"creds missing", opURL, natsopt.Flags{}, "nats: Authorization Violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nc, err := connect(t, tt.url, tt.flags)
			if tt.wantErr == "" {
				require.NoError(t, err)
				roundTrip(t, nc)
				return
			}
			require.Error(t, err)
			require.Regexp(t, tt.wantErr, err.Error())
			require.True(t, natsopt.Refused(err), "Refused(%v)", err)
		})
	}
}

// A server that is down is not a refusal: retrying may help.
func TestRefusedNotForUnreachable(t *testing.T) {
	t.Parallel()
	srv := natsopttest.Start(t, &server.Options{})
	url := srv.ClientURL()
	srv.Shutdown()
	srv.WaitForShutdown()
	_, err := nats.Connect(url)
	require.Error(t, err)
	require.False(t, natsopt.Refused(err), "Refused(%v)", err)
	require.False(t, natsopt.Refused(nil))
}
