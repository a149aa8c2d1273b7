package hub

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

func TestLegacyProtocol(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.KeepAlive = 100 * time.Millisecond })
	nc := connectNATS(t, e.ClientURL())

	c := dialWS(t, h, "graphql-ws")
	require.Equal(t, wire.SubprotocolLegacy, c.Protocol)

	t.Run("start before init is an error", func(t *testing.T) {
		c.send(`{"id":"0","type":"start","payload":{"query":"subscription { topic(name: \"l\") }"}}`)
		m := c.next()
		require.Equal(t, "error", m["type"])
		require.Equal(t, "0", m["id"])
	})
	t.Run("init gets ack then ka", func(t *testing.T) {
		c.send(`{"type":"connection_init","payload":{}}`)
		require.Equal(t, "connection_ack", c.next()["type"])
		require.Equal(t, "ka", c.next()["type"])
	})
	nextNonKA := func() map[string]any {
		for {
			m := c.next()
			if m["type"] != "ka" {
				return m
			}
		}
	}
	t.Run("start delivers data", func(t *testing.T) {
		c.send(`{"id":"1","type":"start","payload":{"query":"subscription { topic(name: \"l\") }"}}`)
		waitNATSSubs(t, e, 1)
		require.NoError(t, nc.Publish("l", []byte(`{"v":1}`)))
		m := nextNonKA()
		require.Equal(t, "data", m["type"])
		require.Equal(t, "1", m["id"])
		require.Equal(t, map[string]any{"data": map[string]any{"topic": map[string]any{"v": float64(1)}}}, m["payload"])
	})
	t.Run("start with an active id replaces the operation", func(t *testing.T) {
		c.send(`{"id":"1","type":"start","payload":{"query":"subscription { topic(name: \"l2\") }"}}`)
		require.Eventually(t, func() bool {
			s := h.reg.Subjects()
			return len(s) == 1 && s[0] == "l2"
		}, 5*time.Second, 5*time.Millisecond)
		require.NoError(t, h.pool[0].Flush()) // the server has processed SUB l2 and UNSUB l
		waitNATSSubs(t, e, 1)
		require.Equal(t, int64(1), h.Stats().Subscriptions.Load())
		require.NoError(t, nc.Publish("l", []byte(`"old"`)))
		require.NoError(t, nc.Publish("l2", []byte(`"new"`)))
		m := nextNonKA()
		require.Equal(t, map[string]any{"data": map[string]any{"topic": "new"}}, m["payload"])
	})
	t.Run("validation error is an error message", func(t *testing.T) {
		c.send(`{"id":"2","type":"start","payload":{"query":"subscription { nope }"}}`)
		m := nextNonKA()
		require.Equal(t, "error", m["type"])
		require.Equal(t, "2", m["id"])
		require.NotEmpty(t, m["payload"].(map[string]any)["message"])
	})
	t.Run("unknown type is an error", func(t *testing.T) {
		c.send(`{"id":"3","type":"subscribe"}`)
		m := nextNonKA()
		require.Equal(t, "error", m["type"])
	})
	t.Run("unparseable message is a connection_error", func(t *testing.T) {
		c.send(`{nope`)
		m := nextNonKA()
		require.Equal(t, "connection_error", m["type"])
		require.NotEmpty(t, m["payload"].(map[string]any)["message"])
	})
	t.Run("stop ends the operation", func(t *testing.T) {
		c.send(`{"id":"1","type":"stop"}`)
		waitNATSSubs(t, e, 0)
	})
	t.Run("connection_terminate closes", func(t *testing.T) {
		c.send(`{"type":"connection_terminate"}`)
		code, _ := c.expectClose()
		require.Equal(t, uint16(1000), code)
	})
}
