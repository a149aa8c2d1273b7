package hub

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawPair dials a loopback listener with natsDialer and returns both ends.
func rawPair(t *testing.T) (*rawReadConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := newNATSDialer(time.Second).Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	raw, ok := c.(*rawReadConn)
	require.True(t, ok, "natsDialer returned %T", c)
	peer := <-accepted
	require.NotNil(t, peer)
	t.Cleanup(func() { raw.Close(); peer.Close() })
	return raw, peer
}

func TestRawReadConnReadsUntilEOF(t *testing.T) {
	c, peer := rawPair(t)
	go func() {
		for _, s := range []string{"INFO {}\r\n", "PING\r\n", "MSG a 1 2\r\nhi\r\n"} {
			peer.Write([]byte(s))
			time.Sleep(5 * time.Millisecond) // separate segments: Read parks in between
		}
		peer.Close()
	}()
	got, err := io.ReadAll(c) // reads with a growing buffer until io.EOF
	require.NoError(t, err)
	require.Equal(t, "INFO {}\r\nPING\r\nMSG a 1 2\r\nhi\r\n", string(got))

	n, err := c.Read(make([]byte, 8))
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF, "EOF again after the peer closed")
	n, err = c.Read(nil)
	require.Zero(t, n)
	require.NoError(t, err, "an empty buffer reads nothing, like net.Conn")
}

func TestRawReadConnHonoursReadDeadline(t *testing.T) {
	c, peer := rawPair(t)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	start := time.Now()
	_, err := c.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout net.Error, as nats.go expects: %v", err)
	require.Less(t, time.Since(start), 5*time.Second)

	// cleared deadline: reads again
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	_, err = peer.Write([]byte("x"))
	require.NoError(t, err)
	b := make([]byte, 8)
	n, err := c.Read(b)
	require.NoError(t, err)
	require.Equal(t, "x", string(b[:n]))
}

func TestRawReadConnCloseUnblocksRead(t *testing.T) {
	c, _ := rawPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it park
	require.NoError(t, c.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Read still parked after Close")
	}
}

func TestRawReadConnWritesThroughTCPConn(t *testing.T) {
	c, peer := rawPair(t)
	_, err := c.Write([]byte("CONNECT {}\r\n"))
	require.NoError(t, err)
	b := make([]byte, 32)
	n, err := io.ReadAtLeast(peer, b, len("CONNECT {}\r\n"))
	require.NoError(t, err)
	require.Equal(t, "CONNECT {}\r\n", string(b[:n]))
}

func TestNATSDialerReportsDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = newNATSDialer(time.Second).Dial("tcp", addr)
	require.Error(t, err)
}
