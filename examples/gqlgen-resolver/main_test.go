package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	require.Equal(t, `2 subscribers on node A, 1 NATS subscription
alice: bookAdded(shelf: "fiction") = b1 "Dune"
alice: bookAdded(shelf: "fiction") = b3 "Emma"
alice: shelf fiction closed
bob: bookAdded(shelf: "fiction") = b1 "Dune"
bob: bookAdded(shelf: "fiction") = b3 "Emma"
bob: shelf fiction closed
NATS subscriptions left on node A: 0
`, out.String())
}
