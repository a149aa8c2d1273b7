package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// jwk is one usable verification key of a JSON Web Key Set (RFC 7517).
type jwk struct {
	kid  string
	key  any      // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	algs []string // the JWS algorithms it verifies: its alg, or all of its type's
}

// algorithmAllowed reports whether k verifies alg.
func (k *jwk) algorithmAllowed(alg string) bool { return slices.Contains(k.algs, alg) }

// keySet is a parsed JWKS: its usable keys by kid. Read-only once made.
type keySet struct {
	keys  []jwk
	byKid map[string]*jwk // keys that have a kid
}

// find returns the key for a token's kid; a token without kid (hasKid
// false) gets the only key of a set that has exactly one. Nil when none.
func (s *keySet) find(kid string, hasKid bool) *jwk {
	if !hasKid {
		if len(s.keys) == 1 {
			return &s.keys[0]
		}
		return nil
	}
	return s.byKid[kid]
}

// kids returns the key ids of s in order, for logs.
func (s *keySet) kids() []string {
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = k.kid
	}
	return ids
}

// maxSkipReasons bounds the reasons for skipped keys that an error names.
const maxSkipReasons = 3

// parseJWKS reads a JWKS document ({"keys":[...]}). Keys that subhub cannot
// use to verify signatures (use "enc", unsupported types, malformed
// members, a kid seen before) are skipped, each with its reason in skipped;
// err is set only when the document is malformed or no key is usable.
func parseJWKS(b []byte) (set *keySet, skipped []error, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JWKS: %v", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`not a JWKS: no "keys" array`)
	}
	set = &keySet{byKid: make(map[string]*jwk)}
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		switch {
		case err != nil:
		case k.kid != "" && slices.ContainsFunc(set.keys, func(o jwk) bool { return o.kid == k.kid }):
			err = errors.New("a key with this kid came before")
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d%s: %w", i, kidNote(raw), err))
			continue
		}
		set.keys = append(set.keys, k)
	}
	if len(set.keys) == 0 {
		msg := fmt.Sprintf("no usable key among %d", len(doc.Keys))
		for i, e := range skipped {
			if i == maxSkipReasons {
				msg += fmt.Sprintf("; and %d more", len(skipped)-i)
				break
			}
			msg += "; " + e.Error()
		}
		return nil, skipped, errors.New(msg)
	}
	for i := range set.keys {
		if k := &set.keys[i]; k.kid != "" {
			set.byKid[k.kid] = k
		}
	}
	return set, skipped, nil
}

// kidNote returns ` (kid "x")` for a key that has a string kid, for
// messages about it; "" otherwise.
func kidNote(raw json.RawMessage) string {
	var k struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &k) != nil || k.Kid == "" {
		return ""
	}
	return fmt.Sprintf(" (kid %q)", k.Kid)
}

// rawJWK holds the JWK members subhub reads (RFC 7517 §4, RFC 7518 §6,
// RFC 8037 §2).
type rawJWK struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	D      string   `json:"d"`
}

// The JWS algorithms of each key type.
var (
	rsaAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	// jwksAlgs are all the algorithms a JWKS key may have: never HMAC,
	// whose key would be public in a JWKS, never none.
	jwksAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// ecCurves are the JWK curves of ECDSA keys with the one algorithm each
// verifies and their coordinates' length in bytes.
var ecCurves = map[string]struct {
	curve elliptic.Curve
	alg   string
	size  int
}{
	"P-256": {elliptic.P256(), "ES256", 32},
	"P-384": {elliptic.P384(), "ES384", 48},
	"P-521": {elliptic.P521(), "ES512", 66},
}

// parseJWK reads one JWK as a verification key. The error says why it
// cannot be used.
func parseJWK(raw json.RawMessage) (jwk, error) {
	var r rawJWK
	if err := json.Unmarshal(raw, &r); err != nil {
		return jwk{}, fmt.Errorf("not a JWK: %v", err)
	}
	switch r.Use {
	case "", "sig":
	case "enc":
		return jwk{}, errors.New(`use "enc": an encryption key, not a signing key`)
	default:
		return jwk{}, fmt.Errorf("unknown use %q", r.Use)
	}
	if r.KeyOps != nil && !slices.Contains(r.KeyOps, "verify") {
		return jwk{}, fmt.Errorf("key_ops %q does not include verify", r.KeyOps)
	}
	if r.D != "" {
		return jwk{}, errors.New("a private key: a JWKS must publish public keys only")
	}
	k := jwk{kid: r.Kid}
	var algs []string
	var err error
	switch r.Kty {
	case "RSA":
		k.key, err = rsaJWK(r)
		algs = rsaAlgs
	case "EC":
		var c string
		k.key, c, err = ecJWK(r)
		algs = []string{c}
	case "OKP":
		k.key, err = okpJWK(r)
		algs = []string{"EdDSA"}
	case "oct":
		return jwk{}, errors.New("kty oct: a symmetric key cannot be taken from a public JWKS")
	case "":
		return jwk{}, errors.New("no kty")
	default:
		return jwk{}, fmt.Errorf("unsupported kty %q: want RSA, EC or OKP", r.Kty)
	}
	if err != nil {
		return jwk{}, err
	}
	k.algs = algs
	if r.Alg != "" {
		if !slices.Contains(algs, r.Alg) {
			return jwk{}, fmt.Errorf("alg %q does not fit a %s key (want %s)", r.Alg, describeKty(r), strings.Join(algs, ", "))
		}
		k.algs = []string{r.Alg}
	}
	return k, nil
}

func describeKty(r rawJWK) string {
	if r.Crv != "" {
		return r.Kty + " " + r.Crv
	}
	return r.Kty
}

// b64 decodes a base64url member (RFC 7515 §2: without padding; padding
// is tolerated). An absent member is an error.
func b64(name, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("no %q", name)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("%q is not base64url: %v", name, err)
	}
	return b, nil
}

func rsaJWK(r rawJWK) (*rsa.PublicKey, error) {
	n, err := b64("n", r.N)
	if err != nil {
		return nil, err
	}
	e, err := b64("e", r.E)
	if err != nil {
		return nil, err
	}
	if len(e) > 4 {
		return nil, fmt.Errorf(`"e" is %d bytes: too large an exponent`, len(e))
	}
	var exp int64
	for _, x := range e {
		exp = exp<<8 | int64(x)
	}
	if exp < 3 || exp > 1<<31-1 || exp%2 == 0 {
		return nil, fmt.Errorf(`"e" %d is not an odd exponent between 3 and 2^31-1`, exp)
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("the RSA key has %d bits, at least %d are required", key.N.BitLen(), minRSABits)
	}
	return key, nil
}

// ecJWK returns the key and its algorithm.
func ecJWK(r rawJWK) (*ecdsa.PublicKey, string, error) {
	c, ok := ecCurves[r.Crv]
	if !ok {
		return nil, "", fmt.Errorf("unsupported EC crv %q: want P-256, P-384 or P-521", r.Crv)
	}
	x, err := b64("x", r.X)
	if err != nil {
		return nil, "", err
	}
	y, err := b64("y", r.Y)
	if err != nil {
		return nil, "", err
	}
	if len(x) != c.size || len(y) != c.size {
		// RFC 7518 §6.2.1.2: full length, leading zeros included.
		return nil, "", fmt.Errorf(`"x" and "y" of a %s key must be %d bytes each, not %d and %d`, r.Crv, c.size, len(x), len(y))
	}
	point := append(append([]byte{4}, x...), y...)
	key, err := ecdsa.ParseUncompressedPublicKey(c.curve, point)
	if err != nil {
		return nil, "", fmt.Errorf("not a %s public key: %v", r.Crv, err)
	}
	return key, c.alg, nil
}

func okpJWK(r rawJWK) (ed25519.PublicKey, error) {
	if r.Crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported OKP crv %q: want Ed25519", r.Crv)
	}
	x, err := b64("x", r.X)
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf(`"x" of an Ed25519 key must be %d bytes, not %d`, ed25519.PublicKeySize, len(x))
	}
	return ed25519.PublicKey(x), nil
}
