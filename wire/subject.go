package wire

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
)

// Subjects maps GraphQL topics to NATS subjects. The zero value maps a topic
// to the subject of the same name. Subject is safe for concurrent use.
type Subjects struct {
	// Envelope selects the mapping: EnvelopeRaw uses the topic as the subject,
	// EnvelopeHotChocolate hashes it like HotChocolate's TopicFormatter.
	Envelope Envelope
	// TopicPrefix is HotChocolate's SubscriptionOptions.TopicPrefix; used by
	// the HotChocolate envelope only. Empty means no prefix.
	TopicPrefix string
	// SubjectPrefix, when not empty, is prepended to every subject as
	// SubjectPrefix + "." + subject (multi-tenant accounts).
	SubjectPrefix string
}

// Subject returns the NATS subject of topic. It allocates; callers on hot
// paths compute it once per topic.
func (s Subjects) Subject(topic string) string {
	subject := topic
	if s.Envelope == EnvelopeHotChocolate {
		subject = HotChocolateSubject(s.TopicPrefix, topic)
	}
	if s.SubjectPrefix != "" {
		subject = s.SubjectPrefix + "." + subject
	}
	return subject
}

// HotChocolateSubject returns the NATS subject HotChocolate (v13 and later)
// uses for topic: the uppercase hex MD5 of the UTF-8 bytes of
// prefix + ":" + topic, or of topic alone when prefix is empty.
func HotChocolateSubject(prefix, topic string) string {
	h := md5.New()
	if prefix != "" {
		h.Write([]byte(prefix))
		h.Write([]byte{':'})
	}
	h.Write([]byte(topic))
	var sum [md5.Size]byte
	var out [2 * md5.Size]byte
	hex.Encode(out[:], h.Sum(sum[:0]))
	for i, c := range out {
		if c >= 'a' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out[:])
}

// MaxSubjectBytes is the longest subject CheckSubject accepts. A NATS server
// closes the connection that sends a protocol line (PUB or SUB with its
// subject) longer than its max_control_line, 4 KiB by default, which takes
// the connection away from every other subscription and publisher on it.
const MaxSubjectBytes = 2048

// CheckSubject reports whether subject is a literal NATS subject one can
// publish on: non-empty dot-separated tokens without wildcards ('*', '>'),
// white space or control characters, at most MaxSubjectBytes long. The error
// wraps ErrInvalidSubject and says why.
func CheckSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	}
	if len(subject) > MaxSubjectBytes {
		return fmt.Errorf("%w: %d bytes long, more than %d", ErrInvalidSubject, len(subject), MaxSubjectBytes)
	}
	if strings.HasPrefix(subject, ".") || strings.HasSuffix(subject, ".") || strings.Contains(subject, "..") {
		return fmt.Errorf("%w: %q has an empty token", ErrInvalidSubject, subject)
	}
	for i := 0; i < len(subject); i++ {
		switch c := subject[i]; {
		case c == '*' || c == '>':
			return fmt.Errorf("%w: %q contains the wildcard %q", ErrInvalidSubject, subject, c)
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("%w: %q contains white space or a control character", ErrInvalidSubject, subject)
		}
	}
	return nil
}
