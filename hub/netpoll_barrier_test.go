package hub

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The netpoll layout the barrier swap relies on is still there: a netpoll
// upgrade that moves it fails here instead of silently costing 1.2 KB per
// connection (the swap itself turns off, it never guesses).
func TestNetpollBarrierLayoutResolved(t *testing.T) {
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), nil)
	c := dialWS(t, h)
	c.init()
	ok, problem := barrierSwapActive()
	require.True(t, ok, problem)
}
