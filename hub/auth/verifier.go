package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Config configures a Verifier. Exactly one of Secret, PublicKeyPEM and
// JWKSURL must be set.
type Config struct {
	// Secret is the HMAC key of HS256/HS384/HS512 tokens, at least
	// MinSecretBytes long.
	Secret []byte
	// PublicKeyPEM is a PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY" or a
	// "CERTIFICATE" whose key is used): RSA (at least 2048 bits) for
	// RS256/384/512 and PS256/384/512, ECDSA P-256/P-384/P-521 for
	// ES256/ES384/ES512, Ed25519 for EdDSA.
	PublicKeyPEM []byte
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Audience, when set, must be one of the token's aud.
	Audience string
	// JWKSURL is the http or https URL of a JSON Web Key Set (RFC 7517)
	// whose keys verify tokens, chosen by the token's kid; a token without
	// kid is accepted only if the set has exactly one usable key. Usable
	// keys are RSA (at least 2048 bits), EC P-256/P-384/P-521 and OKP
	// Ed25519 ones whose use, if given, is "sig"; a key's alg, if given,
	// is the only algorithm it verifies. New fetches the set (an error if
	// it cannot be fetched or holds no usable key) and starts a goroutine
	// that refreshes it every JWKSRefresh; a token whose kid the set lacks
	// refreshes it too, at most once per JWKSUnknownKidInterval. A failed
	// refresh keeps the keys there were and logs a warning. Close stops the
	// goroutine.
	JWKSURL string
	// JWKSRefresh is the interval of background JWKS refreshes. Zero value
	// means DefaultJWKSRefresh.
	JWKSRefresh time.Duration
	// HTTPClient fetches the JWKS; a fetch is bounded by JWKSTimeout
	// whatever the client's Timeout. Nil means a client of its own.
	HTTPClient *http.Client
	// Logger receives what happens to the JWKS: loaded, changed, keys
	// skipped, refreshes that failed. Nil means slog.Default().
	Logger *slog.Logger
	// Leeway is the clock skew allowed on exp and nbf, at most MaxLeeway.
	// Zero value means DefaultLeeway; negative (NoLeeway) means none.
	Leeway time.Duration
}

// NoLeeway is the Config.Leeway that allows no clock skew.
const NoLeeway time.Duration = -1

// Enabled reports whether c asks for authentication (a key is set).
func (c Config) Enabled() bool {
	return len(c.Secret) > 0 || len(c.PublicKeyPEM) > 0 || c.JWKSURL != ""
}

const (
	// MinSecretBytes is the shortest HMAC secret accepted: 256 bits, the
	// output size of HS256 (RFC 7518 §3.2).
	MinSecretBytes = 32
	// DefaultLeeway is the clock skew allowed on exp and nbf by default.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway is the largest Config.Leeway: beyond it a leeway is no
	// longer clock skew but a longer token lifetime.
	MaxLeeway = 5 * time.Minute
	// minRSABits is the smallest RSA modulus accepted.
	minRSABits = 2048
)

// Verifier checks tokens against one key or a JWKS. Safe for concurrent
// use.
type Verifier struct {
	key    any         // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey; nil with remote
	remote *remoteKeys // the JWKS of Config.JWKSURL; nil without
	algs   []string    // the algorithms of key, or of any JWKS key
	leeway time.Duration
	parser *jwt.Parser
	now    func() time.Time
}

// New checks cfg and returns its Verifier; with a JWKSURL it fetches the
// JWKS, and the Verifier must be closed (Close). Errors wrap
// ErrInvalidConfig.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{leeway: cfg.Leeway, now: time.Now}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	case v.leeway > MaxLeeway:
		return nil, fmt.Errorf("%w: a leeway of %s is more than %s", ErrInvalidConfig, v.leeway, MaxLeeway)
	}
	if cfg.JWKSRefresh < 0 {
		return nil, fmt.Errorf("%w: the JWKS refresh interval %s is negative", ErrInvalidConfig, cfg.JWKSRefresh)
	}
	keys := 0
	for _, set := range []bool{len(cfg.Secret) > 0, len(cfg.PublicKeyPEM) > 0, cfg.JWKSURL != ""} {
		if set {
			keys++
		}
	}
	switch {
	case keys > 1:
		return nil, fmt.Errorf("%w: a secret, a public key and a JWKS URL are exclusive: set one", ErrInvalidConfig)
	case len(cfg.Secret) > 0:
		if len(cfg.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("%w: the secret is %d bytes, at least %d are required", ErrInvalidConfig, len(cfg.Secret), MinSecretBytes)
		}
		v.key = append([]byte(nil), cfg.Secret...)
		v.algs = []string{"HS256", "HS384", "HS512"}
	case len(cfg.PublicKeyPEM) > 0:
		key, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		if v.algs, err = algorithmsOf(key); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		v.key = key
	case cfg.JWKSURL != "":
		// Last: nothing may fail after the refresher started.
		r, err := newRemoteKeys(cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		v.remote = r
		v.algs = jwksAlgs
	default:
		return nil, fmt.Errorf("%w: no secret, public key or JWKS URL", ErrInvalidConfig)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.algs),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Algorithms returns the JWS algorithms v accepts; with a JWKS, each key
// accepts only those of its type (and its alg, if it has one).
func (v *Verifier) Algorithms() []string { return append([]string(nil), v.algs...) }

// Close stops the JWKS refresher of a Verifier made with a JWKSURL and
// waits for it to end; Verify keeps using the last keys fetched, without
// refreshing them. It does nothing for other Verifiers or a nil one, and
// may be called more than once.
func (v *Verifier) Close() {
	if v != nil && v.remote != nil {
		v.remote.close()
	}
}

// keyFor returns the key that verifies t: v.key, or the JWKS key that
// t's kid names if it verifies t's algorithm.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if v.remote == nil {
		return v.key, nil
	}
	raw, hasKid := t.Header["kid"]
	kid, ok := raw.(string)
	if hasKid && !ok {
		return nil, ErrInvalidToken
	}
	k := v.remote.lookup(kid, hasKid)
	switch {
	case k == nil:
		return nil, ErrUnknownKey
	case !k.algorithmAllowed(t.Method.Alg()):
		return nil, ErrInvalidToken
	}
	return k.key, nil
}

// parsePublicKey reads the first PEM block of b as a public key.
func parsePublicKey(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PUBLIC KEY: %v", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA PUBLIC KEY: %v", err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CERTIFICATE: %v", err)
		}
		return c.PublicKey, nil
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("the PEM block is a %s: give subhub the public key only", block.Type)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
}

// algorithmsOf returns the JWS algorithms that verify with key.
func algorithmsOf(key any) ([]string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("the RSA key has %d bits, at least %d are required", k.N.BitLen(), minRSABits)
		}
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		case elliptic.P521():
			return []string{"ES512"}, nil
		}
		return nil, fmt.Errorf("unsupported ECDSA curve %s: want P-256, P-384 or P-521", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	default:
		return nil, fmt.Errorf("unsupported public key type %T: want RSA, ECDSA or Ed25519", key)
	}
}

// claims are the claims subhub reads: the registered ones and subjects,
// kept raw so that a claim of the wrong type is told apart from none.
type claims struct {
	jwt.RegisteredClaims
	Subjects json.RawMessage `json:"subjects"`
}

// Verify checks token (the compact JWS, without "Bearer ") and returns
// what it grants. Errors are the package's token errors (ErrNoToken,
// ErrInvalidToken, ...), never wrapping anything that holds token bytes.
func (v *Verifier) Verify(token string) (*Grant, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		// WithValidMethods has refused any other algorithm already. A
		// token that marks header extensions critical must be refused by
		// a verifier that implements none (RFC 7515 §4.1.11).
		if _, crit := t.Header["crit"]; crit {
			return nil, ErrInvalidToken
		}
		return v.keyFor(t)
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknownKey):
		return nil, ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenSignatureInvalid),
		errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, ErrInvalidToken
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, ErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, ErrAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// Only iss and aud are required (when configured); jwt reports a
		// missing aud as invalid, a missing iss as "iss claim is required".
		if strings.Contains(err.Error(), "aud claim") {
			return nil, ErrAudience
		}
		return nil, ErrIssuer
	default:
		return nil, ErrInvalidToken
	}
	g := &Grant{}
	if c.ExpiresAt != nil {
		g.Deadline = c.ExpiresAt.Add(v.leeway)
	}
	if c.Subjects != nil {
		if g.subjects, err = parseSubjects(c.Subjects); err != nil {
			return nil, err
		}
		g.restricted = true
	}
	return g, nil
}
