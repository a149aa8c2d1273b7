//go:build !race

package main

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// countConn is a net.Conn that counts writes and discards them.
type countConn struct {
	net.Conn
	writes int
	bytes  int
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes++
	c.bytes += len(p)
	return len(p), nil
}

func (c *countConn) SetWriteDeadline(time.Time) error { return nil }

func TestDeliverIsOneAllocationFreeWritePerSubscriber(t *testing.T) {
	const subs = 50
	tp := &topic{name: "lt.0", prefix: nextPrefix("lt.0")}
	cc := make([]*countConn, subs)
	list := make([]subscriber, subs)
	for i := range cc {
		cc[i] = &countConn{}
		list[i] = subscriber{c: &conn{nc: cc[i]}, id: "lt.0"}
	}
	list[7].id, list[7].prefix = "lt.0#c12", nextPrefix("lt.0#c12")
	tp.subs.Store(&list)
	msg := &nats.Msg{Subject: "lt.0", Data: []byte(`{"seq":1,"ts":1764770000000000000,"pad":"abcdefgh"}`)}
	tp.deliver(msg) // grows the scratch frames once

	allocs := testing.AllocsPerRun(100, func() { tp.deliver(msg) })
	require.Zero(t, allocs)
	for i, c := range cc {
		frameLen := 2 + len(nextPrefix(list[i].id)) + len(msg.Data) + len(nextSuffix)
		require.Equal(t, 102, c.writes, "one write per delivery")
		require.Equal(t, 102*frameLen, c.bytes)
	}
}
