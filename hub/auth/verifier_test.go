package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey is one 2048-bit key for the whole package: generating it
// takes a while under -race.
func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
	})
	return rsaKey
}

func publicPEM(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	require.NoError(t, err)
	return s
}

func newVerifier(t *testing.T, cfg Config) *Verifier {
	t.Helper()
	v, err := New(cfg)
	require.NoError(t, err)
	return v
}

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestEveryAlgorithmFamily(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	ec256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ec521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	// The same algorithm family with another key: the signature must fail.
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, otherEd, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	for _, tc := range []struct {
		name     string
		cfg      Config
		method   jwt.SigningMethod
		key, bad any
	}{
		{"HS256", Config{Secret: secret}, jwt.SigningMethodHS256, secret, []byte("another secret of 32 bytes......")},
		{"HS384", Config{Secret: secret}, jwt.SigningMethodHS384, secret, []byte("another secret of 32 bytes......")},
		{"HS512", Config{Secret: secret}, jwt.SigningMethodHS512, secret, []byte("another secret of 32 bytes......")},
		{"RS256", Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, jwt.SigningMethodRS256, rk, otherRSA},
		{"RS384", Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, jwt.SigningMethodRS384, rk, otherRSA},
		{"RS512", Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, jwt.SigningMethodRS512, rk, otherRSA},
		{"PS256", Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, jwt.SigningMethodPS256, rk, otherRSA},
		{"PS512", Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, jwt.SigningMethodPS512, rk, otherRSA},
		{"RS256 PKCS1 PEM", Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rk.PublicKey)})},
			jwt.SigningMethodRS256, rk, otherRSA},
		{"ES256", Config{PublicKeyPEM: publicPEM(t, &ec256.PublicKey)}, jwt.SigningMethodES256, ec256, otherEC},
		{"ES384", Config{PublicKeyPEM: publicPEM(t, &ec384.PublicKey)}, jwt.SigningMethodES384, ec384, nil},
		{"ES512", Config{PublicKeyPEM: publicPEM(t, &ec521.PublicKey)}, jwt.SigningMethodES512, ec521, nil},
		{"EdDSA", Config{PublicKeyPEM: publicPEM(t, edPub)}, jwt.SigningMethodEdDSA, edPriv, otherEd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.cfg)
			g, err := v.Verify(sign(t, tc.method, tc.key, jwt.MapClaims{"sub": "u1"}))
			require.NoError(t, err)
			require.True(t, g.Deadline.IsZero(), "a token without exp does not expire")
			require.True(t, g.Allows("any.subject"))
			if tc.bad != nil {
				_, err = v.Verify(sign(t, tc.method, tc.bad, jwt.MapClaims{"sub": "u1"}))
				require.ErrorIs(t, err, ErrInvalidToken, "signed with the wrong key")
			}
		})
	}

	t.Run("ECDSA curve decides the algorithm", func(t *testing.T) {
		v := newVerifier(t, Config{PublicKeyPEM: publicPEM(t, &ec256.PublicKey)})
		require.Equal(t, []string{"ES256"}, v.Algorithms())
		_, err := v.Verify(sign(t, jwt.SigningMethodES384, ec384, jwt.MapClaims{}))
		require.ErrorIs(t, err, ErrInvalidToken)
	})
	t.Run("RSA key refuses EdDSA and HS", func(t *testing.T) {
		v := newVerifier(t, Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)})
		_, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, edPriv, jwt.MapClaims{}))
		require.ErrorIs(t, err, ErrInvalidToken)
		_, err = v.Verify(sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{}))
		require.ErrorIs(t, err, ErrInvalidToken)
	})
	t.Run("certificate", func(t *testing.T) {
		tmpl := &x509.Certificate{SerialNumber: big1(), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ec256.PublicKey, ec256)
		require.NoError(t, err)
		v := newVerifier(t, Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})})
		_, err = v.Verify(sign(t, jwt.SigningMethodES256, ec256, jwt.MapClaims{}))
		require.NoError(t, err)
	})
}

// The classic algorithm confusion: a verifier with an RSA public key must
// not accept an HS256 token whose HMAC key is that public key's bytes.
func TestAlgorithmConfusionIsRefused(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	pubPEM := publicPEM(t, &rk.PublicKey)
	v := newVerifier(t, Config{PublicKeyPEM: pubPEM})
	for _, key := range [][]byte{pubPEM, x509.MarshalPKCS1PublicKey(&rk.PublicKey)} {
		for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS512} {
			_, err := v.Verify(sign(t, m, key, jwt.MapClaims{"sub": "attacker"}))
			require.ErrorIs(t, err, ErrInvalidToken, "%s keyed with the public key", m.Alg())
		}
	}
}

func TestNoneIsRefused(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	for name, v := range map[string]*Verifier{
		"secret": newVerifier(t, Config{Secret: secret}),
		"rsa":    newVerifier(t, Config{PublicKeyPEM: publicPEM(t, &rk.PublicKey)}),
	} {
		unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		_, err = v.Verify(unsigned)
		require.ErrorIs(t, err, ErrInvalidToken, name)
		// The same with a signature part that is not empty, and "None".
		b64 := base64.RawURLEncoding.EncodeToString
		for _, hdr := range []string{`{"alg":"none","typ":"JWT"}`, `{"alg":"None"}`, `{"alg":"NONE"}`, `{"alg":""}`, `{}`} {
			for _, sig := range []string{"", "c2ln"} {
				_, err = v.Verify(b64([]byte(hdr)) + "." + b64([]byte(`{"sub":"x"}`)) + "." + sig)
				require.ErrorIs(t, err, ErrInvalidToken, "%s: %s.%s", name, hdr, sig)
			}
		}
	}
}

// subhub implements no JWS header extension, so a token that marks one
// critical is refused (RFC 7515 §4.1.11).
func TestCriticalHeaderIsRefused(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Config{Secret: secret})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x"})
	tok.Header["crit"] = []string{"b64"}
	tok.Header["b64"] = false
	s, err := tok.SignedString(secret)
	require.NoError(t, err)
	_, err = v.Verify(s)
	require.ErrorIs(t, err, ErrInvalidToken)
}

func TestTimeAndRegisteredClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	v := newVerifier(t, Config{Secret: secret, Issuer: "https://issuer.example", Audience: "subhub"})
	v.now = func() time.Time { return now }
	good := jwt.MapClaims{"iss": "https://issuer.example", "aud": "subhub"}
	with := func(kv ...any) jwt.MapClaims { return copyWith(good, kv...) }
	for name, tc := range map[string]struct {
		claims jwt.MapClaims
		want   error
	}{
		"good":                           {with(), nil},
		"exp in the future":              {with("exp", now.Add(time.Minute).Unix()), nil},
		"exp passed within the leeway":   {with("exp", now.Add(-20*time.Second).Unix()), nil},
		"exp passed beyond the leeway":   {with("exp", now.Add(-31*time.Second).Unix()), ErrExpired},
		"nbf within the leeway":          {with("nbf", now.Add(20*time.Second).Unix()), nil},
		"nbf in the future":              {with("nbf", now.Add(time.Minute).Unix()), ErrNotYetValid},
		"wrong issuer":                   {with("iss", "https://evil.example"), ErrIssuer},
		"no issuer":                      {with("iss", nil), ErrIssuer},
		"wrong audience":                 {with("aud", "other"), ErrAudience},
		"audience in a list":             {with("aud", []string{"other", "subhub"}), nil},
		"no audience":                    {with("aud", nil), ErrAudience},
		"exp of the wrong type":          {with("exp", "tomorrow"), ErrInvalidToken},
		"subjects not an array":          {with("subjects", "prices.>"), ErrSubjectsClaim},
		"subjects null":                  {with("subjects", "null-marker"), ErrSubjectsClaim},
		"subjects with a number":         {with("subjects", []any{"a", 1}), ErrSubjectsClaim},
		"subjects object":                {with("subjects", map[string]any{"a": 1}), ErrSubjectsClaim},
		"subjects with an empty pattern": {with("subjects", []string{""}), ErrSubjectsClaim},
		"subjects with > inside":         {with("subjects", []string{"a.>.b"}), ErrSubjectsClaim},
		"subjects with an empty token":   {with("subjects", []string{"a..b"}), ErrSubjectsClaim},
		"subjects with whitespace":       {with("subjects", []string{"a b"}), ErrSubjectsClaim},
		"subjects empty array":           {with("subjects", []string{}), nil},
	} {
		tok := sign(t, jwt.SigningMethodHS256, secret, tc.claims)
		if tc.claims["subjects"] == "null-marker" {
			tc.claims["subjects"] = nil
			tok = sign(t, jwt.SigningMethodHS256, secret, tc.claims)
			require.Contains(t, decodePart(t, tok, 1), `"subjects":null`)
		}
		g, err := v.Verify(tok)
		if tc.want == nil {
			require.NoError(t, err, name)
			require.NotNil(t, g)
		} else {
			require.ErrorIs(t, err, tc.want, name)
			require.Nil(t, g)
		}
	}

	g, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, with("exp", now.Add(time.Minute).Unix())))
	require.NoError(t, err)
	require.Equal(t, now.Add(time.Minute+DefaultLeeway), g.Deadline, "the deadline is exp plus the leeway")
	require.False(t, g.Expired(now.Add(time.Minute)))
	require.True(t, g.Expired(now.Add(time.Minute+DefaultLeeway)))

	g, err = v.Verify(sign(t, jwt.SigningMethodHS256, secret, with("subjects", []string{})))
	require.NoError(t, err)
	require.False(t, g.Allows("a"), "an empty subjects claim allows nothing")

	_, err = v.Verify("")
	require.ErrorIs(t, err, ErrNoToken)
	for _, junk := range []string{"x", "a.b", "a.b.c", "Bearer x.y.z", strings.Repeat("A", 100)} {
		_, err = v.Verify(junk)
		require.ErrorIs(t, err, ErrInvalidToken, junk)
	}
}

// decodePart returns the decoded JSON of one dot-separated part of tok.
func decodePart(t *testing.T, tok string, i int) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	require.NoError(t, err)
	return string(b)
}

func TestReasonNeverHoldsTheToken(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Config{Secret: secret})
	for _, tok := range []string{"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ4In0.c2ln", "%%%.%%%.%%%", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."} {
		_, err := v.Verify(tok)
		require.Error(t, err)
		for _, part := range strings.Split(tok, ".") {
			if len(part) > 3 {
				require.NotContains(t, err.Error(), part)
				require.NotContains(t, Reason(err), part)
			}
		}
	}
	require.Equal(t, "token expired", Reason(ErrExpired))
	require.Equal(t, "missing token", Reason(ErrNoToken))
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	privDER, err := x509.MarshalPKCS8PrivateKey(rk)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"nothing":      {Config{}, "no secret, public key or JWKS URL"},
		"both":         {Config{Secret: secret, PublicKeyPEM: publicPEM(t, &rk.PublicKey)}, "exclusive"},
		"short secret": {Config{Secret: []byte("short")}, "the secret is 5 bytes, at least 32 are required"},
		"not PEM":      {Config{PublicKeyPEM: []byte("not a key")}, "no PEM block"},
		"bad DER":      {Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})}, "PUBLIC KEY:"},
		"private key":  {Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})}, "public key only"},
		"small RSA":    {Config{PublicKeyPEM: publicPEM(t, &small.PublicKey)}, "1024 bits"},
		"other block":  {Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "OPENSSH KEY", Bytes: []byte{1}})}, "unsupported PEM block"},
	} {
		_, err := New(tc.cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, name)
		require.Contains(t, err.Error(), tc.want, name)
		require.NotContains(t, err.Error(), string(secret), name)
	}
	require.False(t, Config{Issuer: "x"}.Enabled())
	require.True(t, Config{Secret: []byte("x")}.Enabled())
}

func TestMatchSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, subject string
		want             bool
	}{
		{"prices.eur", "prices.eur", true},
		{"prices.eur", "prices.usd", false},
		{"prices", "prices.eur", false},    // a pattern is not a prefix
		{"prices.eur", "prices", false},    // nor the other way round
		{"price", "prices", false},         // tokens compare whole
		{"prices", "price", false},         //
		{"prices.eu", "prices.eur", false}, //
		{"*", "prices", true},
		{"*", "prices.eur", false}, // * is exactly one token
		{"prices.*", "prices.eur", true},
		{"prices.*", "prices", false},
		{"prices.*", "prices.eur.x", false},
		{"*.eur", "prices.eur", true},
		{"*.eur", "prices.usd", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{"a.*.c", "a.c", false},
		{"*.*", "a.b", true},
		{">", "a", true},
		{">", "a.b.c", true},
		{"prices.>", "prices.eur", true},
		{"prices.>", "prices.eur.x.y", true},
		{"prices.>", "prices", false}, // > is one or more tokens
		{"prices.>", "pricesx.eur", false},
		{"*.>", "a", false},
		{"*.>", "a.b", true},
		{"a*", "a*", true}, // not a wildcard inside a token
		{"a*", "ab", false},
		{"a>", "a>", true},
		{"a>", "ab", false},
		{"books.1.added", "books.1.added", true},
	} {
		require.True(t, validPattern(tc.pattern), tc.pattern)
		require.Equal(t, tc.want, MatchSubject(tc.pattern, tc.subject), "%q ~ %q", tc.pattern, tc.subject)
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", ">.a", "a.>.b", "a b", "a\tb", "a\x00b"} {
		require.False(t, validPattern(p), "%q", p)
	}
	g := &Grant{restricted: true, subjects: []string{"prices.>", "news.*"}}
	require.True(t, g.Allows("prices.eur.x"))
	require.True(t, g.Allows("news.sport"))
	require.False(t, g.Allows("news.sport.x"))
	require.False(t, g.Allows("orders.1"))
	require.True(t, (&Grant{}).Allows("orders.1"))
}

func big1() *big.Int { return big.NewInt(1) }
