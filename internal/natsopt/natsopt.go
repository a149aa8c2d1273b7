// Package natsopt holds the NATS authentication and TLS settings that every
// subhub command shares (--nats-creds, --nats-nkey, --nats-tls-ca,
// --nats-tls-cert, --nats-tls-key) and turns them into nats.Options.
//
// Files are read and checked when the options are built, so that a missing
// file, a malformed PEM or seed, or a certificate without its key stops a
// command at startup with a one-line reason naming the flag. Error messages
// never quote a file's contents. The credentials file is read again at
// every connection attempt (nats.UserCredentials), so that a renewed one
// needs no restart; the nkey's public key and the TLS files are read once.
package natsopt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Flags are the file paths of the NATS authentication and TLS flags. The
// zero value means none: authentication, if any, comes from the NATS URL
// (user:password@ or token@), and TLS only from a tls:// URL or a server
// that requires it, verified against the system's roots.
type Flags struct {
	// Creds is a user credentials file: a user JWT and its nkey seed
	// (operator mode). Exclusive with Nkey.
	Creds string
	// Nkey is a file holding a user nkey seed (SU...).
	Nkey string
	// TLSCA is a PEM file of CA certificates that verify the server's
	// certificate instead of the system's roots. Setting it requires TLS.
	TLSCA string
	// TLSCert and TLSKey are the PEM client certificate and its private key
	// for mutual TLS; both or neither. Setting them requires TLS.
	TLSCert, TLSKey string
}

// Register declares the flags on fs, with the same names and help in every
// command.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Creds, "nats-creds", "", "NATS user credentials `file` (.creds: user JWT and nkey seed, operator mode); exclusive with --nats-nkey")
	fs.StringVar(&f.Nkey, "nats-nkey", "", "NATS user nkey seed `file` (SU...)")
	fs.StringVar(&f.TLSCA, "nats-tls-ca", "", "PEM `file` of the CA certificate(s) that verify the NATS server (default: the system's roots); requires TLS")
	fs.StringVar(&f.TLSCert, "nats-tls-cert", "", "PEM client certificate `file` for mutual TLS with NATS (with --nats-tls-key); requires TLS")
	fs.StringVar(&f.TLSKey, "nats-tls-key", "", "PEM private key `file` of --nats-tls-cert")
}

// IsZero reports whether no flag is set.
func (f Flags) IsZero() bool { return f == Flags{} }

// Options checks the files and returns the nats.Options that apply them
// (none for the zero Flags). The error names the flag and never quotes a
// file's contents.
func (f Flags) Options() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case f.Creds != "" && f.Nkey != "":
		return nil, errors.New("--nats-creds and --nats-nkey are exclusive: set one")
	case f.Creds != "":
		if err := checkCreds(f.Creds); err != nil {
			return nil, fmt.Errorf("--nats-creds %s: %w", f.Creds, err)
		}
		opts = append(opts, nats.UserCredentials(f.Creds))
	case f.Nkey != "":
		o, err := nkeyOption(f.Nkey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey %s: %w", f.Nkey, err)
		}
		opts = append(opts, o)
	}
	tc, err := f.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// checkCreds reads a credentials file as nats.UserCredentials will: the
// first decorated block must be a user JWT, the second the seed of that user.
func checkCreds(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return unwrapPath(err)
	}
	defer wipe(b)
	token, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return errors.New("no user JWT found")
	}
	// Without decorations ParseDecoratedJWT returns the whole file as the
	// token: decoding it is what tells a .creds file from anything else.
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return errors.New("not a NATS credentials file: want a user JWT and nkey seed between -----BEGIN/END----- lines, as nsc writes them")
	}
	kp, err := jwt.ParseDecoratedUserNKey(b)
	if err != nil {
		return errors.New("no user nkey seed after the JWT")
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return errors.New("invalid user nkey seed")
	}
	if pub != uc.Subject {
		return fmt.Errorf("the seed is not the key of the JWT's user %s", uc.Subject)
	}
	return nil
}

// nkeyOption is nats.NkeyOptionFromSeed with errors that say what is wrong
// with the file.
func nkeyOption(path string) (nats.Option, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer wipe(b)
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return nil, errors.New("no valid nkey seed found (want a user seed, SU...)")
	}
	pub, err := kp.PublicKey()
	kp.Wipe()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, errors.New("not a user seed: want SU..., not an account or operator seed")
	}
	o, err := nats.NkeyOptionFromSeed(path)
	if err != nil { // the file changed since it was read
		return nil, errors.New("invalid nkey seed")
	}
	return o, nil
}

// tlsConfig builds the client TLS configuration, or nil when no TLS flag is
// set. nats.go fills in ServerName from each server's URL.
func (f Flags) tlsConfig() (*tls.Config, error) {
	if f.TLSCA == "" && f.TLSCert == "" && f.TLSKey == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.TLSCA != "" {
		b, err := os.ReadFile(f.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("--nats-tls-ca %s: %w", f.TLSCA, unwrapPath(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--nats-tls-ca %s: no PEM certificate found", f.TLSCA)
		}
		tc.RootCAs = pool
	}
	switch {
	case f.TLSCert != "" && f.TLSKey == "":
		return nil, errors.New("--nats-tls-cert needs --nats-tls-key")
	case f.TLSKey != "" && f.TLSCert == "":
		return nil, errors.New("--nats-tls-key needs --nats-tls-cert")
	case f.TLSCert != "":
		certPEM, err := os.ReadFile(f.TLSCert)
		if err != nil {
			return nil, fmt.Errorf("--nats-tls-cert %s: %w", f.TLSCert, unwrapPath(err))
		}
		keyPEM, err := os.ReadFile(f.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--nats-tls-key %s: %w", f.TLSKey, unwrapPath(err))
		}
		defer wipe(keyPEM)
		// crypto/tls names the part it could not parse and never quotes it.
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("--nats-tls-cert %s, --nats-tls-key %s: %w", f.TLSCert, f.TLSKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Refused reports whether err, from connecting to NATS, says that the
// server refused this client's credentials or that the two sides' TLS
// settings do not fit (an unknown certificate authority, a missing client
// certificate, TLS wanted by one side only): errors that retrying will not
// cure, as opposed to a server that is down or unreachable.
func Refused(err error) bool {
	for _, e := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked,
		nats.ErrAccountAuthExpired, nats.ErrSecureConnRequired, nats.ErrSecureConnWanted} {
		if errors.Is(err, e) {
			return true
		}
	}
	// crypto/tls reports an alert from the server (a client certificate
	// missing or refused, after the handshake in TLS 1.3) this way.
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return true
	}
	var ne net.Error // a handshake cut short by a slow network is not
	return errors.Is(err, nats.ErrTLS) && !(errors.As(err, &ne) && ne.Timeout())
}

// unwrapPath drops the path from an *os.PathError: the message names the
// flag and the file already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}
