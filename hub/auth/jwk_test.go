package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var b64url = base64.RawURLEncoding.EncodeToString

// rsaJWKOf returns the JWK members of an RSA public key.
func rsaJWKOf(pub *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "n": b64url(pub.N.Bytes()), "e": b64url(big.NewInt(int64(pub.E)).Bytes())}
}

// ecJWKOf returns the JWK members of an ECDSA public key.
func ecJWKOf(t testing.TB, pub *ecdsa.PublicKey) map[string]any {
	t.Helper()
	point, err := pub.Bytes()
	require.NoError(t, err)
	size := (len(point) - 1) / 2
	return map[string]any{"kty": "EC", "crv": pub.Curve.Params().Name, "x": b64url(point[1 : 1+size]), "y": b64url(point[1+size:])}
}

func edJWKOf(pub ed25519.PublicKey) map[string]any {
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64url(pub)}
}

// copyWith returns a copy of m with kv set (a nil value deletes the member).
func copyWith(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

type ecKeys struct{ p256, p384, p521 *ecdsa.PrivateKey }

func testECKeys(t testing.TB) ecKeys {
	t.Helper()
	var k ecKeys
	var err error
	for _, c := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p384, elliptic.P384()}, {&k.p521, elliptic.P521()}} {
		*c.dst, err = ecdsa.GenerateKey(c.curve, rand.Reader)
		require.NoError(t, err)
	}
	return k
}

func TestParseJWK(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	ec := testECKeys(t)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	rsaJ := rsaJWKOf(&rk.PublicKey)
	p256 := ecJWKOf(t, &ec.p256.PublicKey)
	p384 := ecJWKOf(t, &ec.p384.PublicKey)
	p521 := ecJWKOf(t, &ec.p521.PublicKey)
	ed := edJWKOf(edPub)

	for name, tc := range map[string]struct {
		jwk  map[string]any
		algs []string
	}{
		"RSA":               {rsaJ, rsaAlgs},
		"RSA use sig":       {copyWith(rsaJ, "use", "sig", "kid", "r1"), rsaAlgs},
		"RSA RS256":         {copyWith(rsaJ, "alg", "RS256"), []string{"RS256"}},
		"RSA RS384":         {copyWith(rsaJ, "alg", "RS384"), []string{"RS384"}},
		"RSA RS512":         {copyWith(rsaJ, "alg", "RS512"), []string{"RS512"}},
		"RSA PS256":         {copyWith(rsaJ, "alg", "PS256"), []string{"PS256"}},
		"RSA PS512":         {copyWith(rsaJ, "alg", "PS512"), []string{"PS512"}},
		"RSA key_ops":       {copyWith(rsaJ, "key_ops", []string{"verify"}), rsaAlgs},
		"RSA padded base64": {copyWith(rsaJ, "e", "AQAB=="), rsaAlgs},
		"RSA x5c ignored":   {copyWith(rsaJ, "x5c", []string{"MIIB"}, "x5t", "abc"), rsaAlgs},
		"EC P-256":          {p256, []string{"ES256"}},
		"EC P-256 ES256":    {copyWith(p256, "alg", "ES256"), []string{"ES256"}},
		"EC P-384":          {p384, []string{"ES384"}},
		"EC P-384 ES384":    {copyWith(p384, "alg", "ES384"), []string{"ES384"}},
		"EC P-521":          {p521, []string{"ES512"}},
		"EC P-521 ES512":    {copyWith(p521, "alg", "ES512"), []string{"ES512"}},
		"OKP Ed25519":       {ed, []string{"EdDSA"}},
		"OKP Ed25519 EdDSA": {copyWith(ed, "alg", "EdDSA", "use", "sig"), []string{"EdDSA"}},
	} {
		k, err := parseJWK(mustJSON(t, tc.jwk))
		require.NoError(t, err, name)
		require.Equal(t, tc.algs, k.algs, name)
		require.Equal(t, tc.jwk["kid"] != nil, k.kid != "", name)
		switch tc.jwk["kty"] {
		case "RSA":
			require.True(t, rk.PublicKey.Equal(k.key), name)
		case "OKP":
			require.True(t, edPub.Equal(k.key), name)
		default:
			pub := k.key.(*ecdsa.PublicKey)
			require.True(t, map[string]*ecdsa.PrivateKey{"P-256": ec.p256, "P-384": ec.p384, "P-521": ec.p521}[tc.jwk["crv"].(string)].PublicKey.Equal(pub), name)
		}
	}

	// A point off the curve: y+1.
	y, err := base64.RawURLEncoding.DecodeString(p256["y"].(string))
	require.NoError(t, err)
	y[len(y)-1]++
	offCurve := copyWith(p256, "y", b64url(y))

	for name, tc := range map[string]struct {
		jwk  any
		want string
	}{
		"use enc":              {copyWith(rsaJ, "use", "enc"), `use "enc"`},
		"use other":            {copyWith(rsaJ, "use", "tls"), `unknown use "tls"`},
		"key_ops without it":   {copyWith(rsaJ, "key_ops", []string{"encrypt"}), "does not include verify"},
		"private key":          {copyWith(p256, "d", "AAAA"), "a private key"},
		"oct":                  {map[string]any{"kty": "oct", "k": "c2VjcmV0"}, "kty oct"},
		"no kty":               {copyWith(rsaJ, "kty", nil), "no kty"},
		"unknown kty":          {copyWith(rsaJ, "kty", "DSA"), `unsupported kty "DSA"`},
		"not an object":        {"RSA", "not a JWK"},
		"kid a number":         {copyWith(rsaJ, "kid", 7), "not a JWK"},
		"RSA no n":             {copyWith(rsaJ, "n", nil), `no "n"`},
		"RSA no e":             {copyWith(rsaJ, "e", nil), `no "e"`},
		"RSA bad base64 n":     {copyWith(rsaJ, "n", "ab+/cd"), `"n" is not base64url`},
		"RSA bad base64 e":     {copyWith(rsaJ, "e", "A!AB"), `"e" is not base64url`},
		"RSA even e":           {copyWith(rsaJ, "e", b64url([]byte{1, 0, 0})), "not an odd exponent"},
		"RSA e of 1":           {copyWith(rsaJ, "e", b64url([]byte{1})), "not an odd exponent"},
		"RSA huge e":           {copyWith(rsaJ, "e", b64url([]byte{1, 0, 0, 0, 1})), "too large an exponent"},
		"RSA small":            {rsaJWKOf(&small.PublicKey), "1024 bits, at least 2048"},
		"RSA with ES256":       {copyWith(rsaJ, "alg", "ES256"), `alg "ES256" does not fit a RSA key`},
		"RSA with HS256":       {copyWith(rsaJ, "alg", "HS256"), `alg "HS256" does not fit`},
		"RSA with RSA-OAEP":    {copyWith(rsaJ, "alg", "RSA-OAEP"), `alg "RSA-OAEP" does not fit`},
		"RSA with none":        {copyWith(rsaJ, "alg", "none"), `alg "none" does not fit`},
		"EC wrong alg":         {copyWith(p256, "alg", "ES384"), `alg "ES384" does not fit a EC P-256 key (want ES256)`},
		"EC wrong curve name":  {copyWith(p384, "crv", "P-256"), "must be 32 bytes each, not 48 and 48"},
		"EC unknown curve":     {copyWith(p256, "crv", "secp256k1"), `unsupported EC crv "secp256k1"`},
		"EC no crv":            {copyWith(p256, "crv", nil), `unsupported EC crv ""`},
		"EC point off curve":   {offCurve, "not a P-256 public key"},
		"EC short x":           {copyWith(p256, "x", b64url(make([]byte, 31))), "must be 32 bytes each, not 31 and 32"},
		"EC no y":              {copyWith(p256, "y", nil), `no "y"`},
		"EC bad base64 x":      {copyWith(p256, "x", "%%%"), `"x" is not base64url`},
		"OKP X25519":           {copyWith(ed, "crv", "X25519"), `unsupported OKP crv "X25519"`},
		"OKP Ed448":            {copyWith(ed, "crv", "Ed448"), `unsupported OKP crv "Ed448"`},
		"OKP short":            {copyWith(ed, "x", b64url(make([]byte, 31))), "must be 32 bytes, not 31"},
		"OKP bad base64":       {copyWith(ed, "x", "a b"), `"x" is not base64url`},
		"OKP with ES256":       {copyWith(ed, "alg", "ES256"), `alg "ES256" does not fit a OKP Ed25519 key`},
		"OKP Ed25519 alg name": {copyWith(ed, "alg", "Ed25519"), `alg "Ed25519" does not fit`},
	} {
		_, err := parseJWK(mustJSON(t, tc.jwk))
		require.Error(t, err, name)
		require.Contains(t, err.Error(), tc.want, name)
		require.NotContains(t, err.Error(), "\n", name)
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	rk := testRSAKey(t)
	ec := testECKeys(t)
	rsaJ := copyWith(rsaJWKOf(&rk.PublicKey), "kid", "r")
	p256 := copyWith(ecJWKOf(t, &ec.p256.PublicKey), "kid", "e")
	enc := copyWith(rsaJ, "kid", "enc", "use", "enc")
	dup := copyWith(p256, "kid", "r")

	set, skipped, err := parseJWKS(mustJSON(t, map[string]any{"keys": []any{rsaJ, enc, p256, dup, "junk"}}))
	require.NoError(t, err)
	require.Equal(t, []string{"r", "e"}, set.kids())
	require.Len(t, skipped, 3)
	require.Contains(t, skipped[0].Error(), `key 1 (kid "enc"): use "enc"`)
	require.Contains(t, skipped[1].Error(), `key 3 (kid "r"): a key with this kid came before`)
	require.Contains(t, skipped[2].Error(), `key 4: not a JWK`)
	require.True(t, rk.PublicKey.Equal(set.find("r", true).key), "the first key with a kid wins")
	require.Nil(t, set.find("enc", true))
	require.Nil(t, set.find("x", true))
	require.Nil(t, set.find("", false), "no kid: only a set of one key")
	require.Nil(t, set.find("", true), "an empty kid names no key")

	set, _, err = parseJWKS(mustJSON(t, map[string]any{"keys": []any{copyWith(rsaJ, "kid", nil), enc}}))
	require.NoError(t, err)
	require.NotNil(t, set.find("", false), "no kid: the only usable key")
	require.Nil(t, set.find("r", true))

	for name, tc := range map[string]struct {
		doc  string
		want string
	}{
		"not JSON":      {`{"keys":`, "not a JWKS"},
		"an array":      {`[]`, "not a JWKS"},
		"no keys":       {`{"kty":"RSA"}`, `no "keys" array`},
		"keys null":     {`{"keys":null}`, `no "keys" array`},
		"keys a string": {`{"keys":"x"}`, "not a JWKS"},
		"empty":         {`{"keys":[]}`, "no usable key among 0"},
		"only enc":      {string(mustJSON(t, map[string]any{"keys": []any{enc}})), `no usable key among 1; key 0 (kid "enc"): use "enc"`},
		"many bad":      {`{"keys":[1,2,3,4,5]}`, "no usable key among 5; key 0: not a JWK"},
	} {
		_, _, err := parseJWKS([]byte(tc.doc))
		require.Error(t, err, name)
		require.Contains(t, err.Error(), tc.want, name)
		require.NotContains(t, err.Error(), "\n", name)
	}
	_, _, err = parseJWKS([]byte(`{"keys":[1,2,3,4,5]}`))
	require.True(t, strings.HasSuffix(err.Error(), "; and 2 more"), err.Error())
}
