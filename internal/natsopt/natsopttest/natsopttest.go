// Package natsopttest builds secured embedded NATS servers for tests: a
// private CA with server and client certificates written as PEM files,
// nkey users and an operator-mode account with a .creds file. Every server
// listens on 127.0.0.1 on a free port.
package natsopttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/internal/natsopt"
)

// PKI is a private CA and the certificates it issued, as PEM files in a
// test's temporary directory. The server certificate is for 127.0.0.1 and
// localhost.
type PKI struct {
	CAFile                string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
	ca                    *x509.Certificate
	caKey                 *ecdsa.PrivateKey
	server, client        tls.Certificate
	dir                   string
}

// NewPKI generates a CA, a server and a client certificate.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{dir: t.TempDir()}
	p.caKey = newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "subhub test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	require.NoError(t, err)
	p.ca, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	p.CAFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	p.ServerCert, p.ServerKey, p.server = p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.ClientCert, p.ClientKey, p.client = p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	return p
}

// OtherCA returns the CA file of an unrelated CA, which verifies nothing
// that p issued.
func OtherCA(t testing.TB) string { return NewPKI(t).CAFile }

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func (p *PKI) issue(t testing.TB, name string, usage x509.ExtKeyUsage) (certFile, keyFile string, cert tls.Certificate) {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile = p.write(t, name+".pem", "CERTIFICATE", der)
	keyFile = p.write(t, name+"-key.pem", "PRIVATE KEY", keyDER)
	cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	return certFile, keyFile, cert
}

func (p *PKI) write(t testing.TB, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// TLS makes o require TLS with p's server certificate; with verifyClients
// it requires and verifies a client certificate issued by p's CA (mutual
// TLS).
func (p *PKI) TLS(o *server.Options, verifyClients bool) {
	tc := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if verifyClients {
		pool := x509.NewCertPool()
		pool.AddCert(p.ca)
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	o.TLS, o.TLSVerify, o.TLSConfig, o.TLSTimeout = true, verifyClients, tc, 2
}

// NkeyUser adds a user authenticated by a new nkey to o and returns the
// file holding its seed.
func NkeyUser(t testing.TB, o *server.Options) (seedFile string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err := kp.PublicKey()
	require.NoError(t, err)
	o.Nkeys = append(o.Nkeys, &server.NkeyUser{Nkey: pub})
	return SeedFile(t, kp)
}

// SeedFile writes kp's seed to a file of its own.
func SeedFile(t testing.TB, kp nkeys.KeyPair) string {
	t.Helper()
	seed, err := kp.Seed()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "user.nk")
	require.NoError(t, os.WriteFile(path, append(seed, '\n'), 0o600))
	return path
}

// Operator is an operator-mode trust chain: an operator that o trusts, an
// account it signed, registered with an in-memory account resolver.
type Operator struct {
	operator, account nkeys.KeyPair
	accountPub        string
	resolver          *server.MemAccResolver
}

// NewOperator makes o trust a new operator and resolve its account from
// memory. Register the account with Operator.Register once the server runs.
func NewOperator(t testing.TB, o *server.Options) *Operator {
	t.Helper()
	op := &Operator{resolver: &server.MemAccResolver{}}
	var err error
	op.operator, err = nkeys.CreateOperator()
	require.NoError(t, err)
	opub, err := op.operator.PublicKey()
	require.NoError(t, err)
	op.account, err = nkeys.CreateAccount()
	require.NoError(t, err)
	op.accountPub, err = op.account.PublicKey()
	require.NoError(t, err)
	ac := jwt.NewAccountClaims(op.accountPub)
	ac.Name = "subhub"
	accJWT, err := ac.Encode(op.operator)
	require.NoError(t, err)
	require.NoError(t, op.resolver.Store(op.accountPub, accJWT))
	o.TrustedKeys = []string{opub}
	o.AccountResolver = op.resolver
	return op
}

// Creds writes a .creds file for a new user of the account.
func (op *Operator) Creds(t testing.TB) string {
	t.Helper()
	return CredsFile(t, op.account)
}

// CredsFile writes a .creds file for a new user signed by account, which
// a server trusts only if it knows account.
func CredsFile(t testing.TB, account nkeys.KeyPair) string {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	require.NoError(t, err)
	upub, err := ukp.PublicKey()
	require.NoError(t, err)
	uc := jwt.NewUserClaims(upub)
	uc.Name = "subhub"
	userJWT, err := uc.Encode(account)
	require.NoError(t, err)
	seed, err := ukp.Seed()
	require.NoError(t, err)
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "user.creds")
	require.NoError(t, os.WriteFile(path, creds, 0o600))
	return path
}

// StrangerCreds writes a .creds file for a user of an account that no
// operator signed: a server in operator mode refuses it.
func StrangerCreds(t testing.TB) string {
	t.Helper()
	akp, err := nkeys.CreateAccount()
	require.NoError(t, err)
	return CredsFile(t, akp)
}

// Start runs an embedded NATS server with o on 127.0.0.1, on a free port
// unless o.Port is set.
func Start(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	o.Host, o.NoLog, o.NoSigs = "127.0.0.1", true, true
	if o.Port == 0 {
		o.Port = -1
	}
	srv, err := server.NewServer(o)
	require.NoError(t, err)
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	require.True(t, srv.ReadyForConnections(10*time.Second), "nats server not ready")
	return srv
}

// Args returns the command-line flags that set f.
func Args(f natsopt.Flags) []string {
	var args []string
	for _, a := range []struct{ name, v string }{
		{"--nats-creds", f.Creds}, {"--nats-nkey", f.Nkey}, {"--nats-tls-ca", f.TLSCA},
		{"--nats-tls-cert", f.TLSCert}, {"--nats-tls-key", f.TLSKey},
	} {
		if a.v != "" {
			args = append(args, a.name, a.v)
		}
	}
	return args
}
