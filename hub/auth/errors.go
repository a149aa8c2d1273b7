package auth

import (
	"errors"
	"strings"
)

var (
	// ErrInvalidConfig reports an unusable Config; the message says why.
	ErrInvalidConfig = errors.New("auth: invalid configuration")

	// ErrNoToken: the client presented no token.
	ErrNoToken = errors.New("auth: missing token")
	// ErrInvalidToken: the token is malformed, its signature does not
	// verify with the configured key, or it names another algorithm.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrUnknownKey: the token's kid names no key of the JWKS, or it has
	// no kid and the JWKS has more than one key.
	ErrUnknownKey = errors.New("auth: unknown signing key")
	// ErrExpired: exp (plus the leeway) has passed.
	ErrExpired = errors.New("auth: token expired")
	// ErrNotYetValid: nbf (less the leeway) is still to come.
	ErrNotYetValid = errors.New("auth: token not valid yet")
	// ErrIssuer: iss is not Config.Issuer.
	ErrIssuer = errors.New("auth: wrong token issuer")
	// ErrAudience: aud does not name Config.Audience.
	ErrAudience = errors.New("auth: wrong token audience")
	// ErrSubjectsClaim: the subjects claim is not an array of valid NATS
	// subject patterns.
	ErrSubjectsClaim = errors.New("auth: invalid subjects claim")
)

// Reason is a short text for a client or a log line saying why a token was
// refused: the message of one of the errors above without the package
// prefix. It never contains any part of the token.
func Reason(err error) string {
	for _, e := range [...]error{ErrNoToken, ErrInvalidToken, ErrUnknownKey, ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrSubjectsClaim} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "auth: ")
		}
	}
	return "invalid token"
}
