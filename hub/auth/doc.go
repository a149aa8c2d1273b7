// Package auth verifies the JWTs that clients present to subhub and answers
// which subjects a verified token may subscribe to.
//
// A Verifier is built once from a Config (an HMAC secret, a PEM public
// key or the URL of a JWKS; optional issuer and audience) and is safe for
// concurrent use. It accepts only the algorithms of its key: HS256/384/512
// for a secret, RS256/384/512 and PS256/384/512 for an RSA key, the ES algorithm of an
// ECDSA key's curve, EdDSA for an Ed25519 key; never "none", so a token
// signed with another algorithm (an HS256 token keyed with the bytes of
// the RSA public key, say) is refused. With a JWKS, the key is the one the
// token's kid names and the algorithms are those of that key; HMAC keys
// are never taken from a JWKS. exp and nbf are checked with
// Config.Leeway; a token without exp does not expire.
//
// Verify returns a Grant: read-only, so many connections may share one.
// Its subjects come from the token's optional "subjects" claim, an array
// of NATS subject patterns ("*" matches one token, ">" one or more at the
// end); without the claim every subject is allowed.
//
// Concurrency: a Verifier with a JWKS owns one goroutine, which refreshes
// the key set on an interval until Close and swaps it in atomically, so
// tokens with known kids never wait for a fetch. A token whose kid the set
// lacks makes Verify fetch it in the caller's goroutine, at most once per
// JWKSUnknownKidInterval, or wait for the fetch under way: concurrent
// callers share one, bounded by JWKSTimeout.
package auth
