package hub

import (
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
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

// The build uses the patched netpoll of third_party/netpoll (go.mod
// replace): its pollers keep one read/write barrier, not one per epoll
// event slot (SUBHUB-PATCH.md). Dropping the replace line, or an upgrade
// that loses the patch, fails here.
func TestNetpollPollerHasOneBarrier(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	nc, err := netpoll.DialConnection("tcp", ln.Addr().String(), time.Second)
	require.NoError(t, err)
	defer nc.Close()

	v := reflect.ValueOf(nc)
	for _, step := range []string{"connection", "operator", "poll"} {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			v = v.Elem()
		}
		f := v.FieldByName(step)
		require.True(t, f.IsValid(), "netpoll layout: no %q in %s", step, v.Type())
		v = f
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	args, ok := v.Type().FieldByName("pollArgs")
	require.True(t, ok, "netpoll layout: no pollArgs in %s", v.Type())
	_, perSlot := args.Type.FieldByName("barriers")
	require.False(t, perSlot, "unpatched netpoll: a barrier per event slot (see third_party/netpoll/SUBHUB-PATCH.md)")
	one, ok := args.Type.FieldByName("barrier")
	require.True(t, ok, "patched netpoll has one barrier per poller")
	require.Equal(t, reflect.Struct, one.Type.Kind())
}
