package auth

import (
	"encoding/json"
	"strings"
	"time"
)

// Grant is what a verified token allows. Read-only after Verify: many
// connections may hold the same one.
type Grant struct {
	// Deadline is when the token stops being accepted: its exp plus the
	// leeway. Zero when the token has no exp.
	Deadline time.Time

	restricted bool     // the token has a subjects claim
	subjects   []string // its patterns, valid (see validPattern)
}

// Expired reports whether the token's deadline has passed at now.
func (g *Grant) Expired(now time.Time) bool {
	return !g.Deadline.IsZero() && !now.Before(g.Deadline)
}

// Allows reports whether topic (the subject as the schema makes it, before
// any subject prefix or hashing) matches one of the token's subject
// patterns; without a subjects claim everything is allowed.
func (g *Grant) Allows(topic string) bool {
	if !g.restricted {
		return true
	}
	for _, p := range g.subjects {
		if MatchSubject(p, topic) {
			return true
		}
	}
	return false
}

// MatchSubject reports whether subject matches the NATS subject pattern:
// tokens are separated by ".", a "*" token matches exactly one token, a
// final ">" token matches one or more. Other tokens match only themselves
// ("a*" is literal). pattern must be valid (see validPattern).
func MatchSubject(pattern, subject string) bool {
	for {
		pt, prest, pmore := strings.Cut(pattern, ".")
		if pt == ">" && !pmore {
			return subject != ""
		}
		st, srest, smore := strings.Cut(subject, ".")
		if pt != "*" && pt != st {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

// validPattern reports whether p is a NATS subject pattern: non-empty
// tokens without whitespace, ">" only as the last token.
func validPattern(p string) bool {
	if p == "" {
		return false
	}
	for rest, more := p, true; more; {
		var t string
		t, rest, more = strings.Cut(rest, ".")
		if t == "" || (t == ">" && more) || strings.ContainsAny(t, " \t\r\n\f\v") {
			return false
		}
		for i := 0; i < len(t); i++ {
			if t[i] < 0x20 || t[i] == 0x7f {
				return false
			}
		}
	}
	return true
}

// parseSubjects reads the subjects claim: an array of valid patterns. An
// empty array allows no subject.
func parseSubjects(raw json.RawMessage) ([]string, error) {
	var ps []string
	if err := json.Unmarshal(raw, &ps); err != nil || ps == nil {
		// null, or anything but an array of strings
		return nil, ErrSubjectsClaim
	}
	for _, p := range ps {
		if !validPattern(p) {
			return nil, ErrSubjectsClaim
		}
	}
	return ps, nil
}
