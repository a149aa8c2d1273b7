package hub

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

func TestRefusedSubject(t *testing.T) {
	t.Parallel()
	perm := func(msg string) error { return fmt.Errorf("%w %s", nats.ErrPermissionViolation, msg) }
	for _, tc := range []struct {
		err     error
		subject string
	}{
		{perm(`for Subscription to "secret.x"`), "secret.x"},
		{perm(`for Subscription to "A.B" using queue "q"`), "A.B"},
		{perm(`for Publish to "secret.x"`), ""},
		{errors.New(`nats: Permissions Violation for Subscription to "x"`), ""}, // not nats.ErrPermissionViolation
		{nats.ErrMaxSubscriptionsExceeded, ""},
	} {
		subject, ok := refusedSubject(tc.err)
		require.Equal(t, tc.subject != "", ok, "%v", tc.err)
		require.Equal(t, tc.subject, subject, "%v", tc.err)
	}
}
