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
	tp := &topic{prefix: []byte(`{"id":"lt.0","type":"next","payload":{"data":{"topic":`)}
	cc := make([]*countConn, subs)
	list := make([]*conn, subs)
	for i := range cc {
		cc[i] = &countConn{}
		list[i] = &conn{nc: cc[i]}
	}
	tp.subs.Store(&list)
	msg := &nats.Msg{Subject: "lt.0", Data: []byte(`{"seq":1,"ts":1764770000000000000,"pad":"abcdefgh"}`)}
	tp.deliver(msg) // grows the scratch frame once

	allocs := testing.AllocsPerRun(100, func() { tp.deliver(msg) })
	require.Zero(t, allocs)
	frameLen := 2 + len(tp.prefix) + len(msg.Data) + len(nextSuffix)
	for _, c := range cc {
		require.Equal(t, 102, c.writes)
		require.Equal(t, 102*frameLen, c.bytes)
	}
}
