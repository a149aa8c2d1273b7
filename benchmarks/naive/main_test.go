package main

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(5*time.Second))
	t.Cleanup(ns.Shutdown)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	status := make(chan int, 1)
	go func() { status <- run(ctx, []string{"--listen", "127.0.0.1:0", "--nats-url", ns.ClientURL()}, &logs) }()
	require.Eventually(t, func() bool { return bytes.Contains([]byte(logs.String()), []byte("serving")) }, 5*time.Second, 5*time.Millisecond)
	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case code := <-status:
		require.Equal(t, 0, code, "logs: %s", logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	require.Contains(t, logs.String(), "stopped")
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "bad log level", args: []string{"--log-level", "loud"}, want: 2},
		{name: "unknown flag", args: []string{"--no-such-flag"}, want: 2},
		{name: "no NATS", args: []string{"--listen", "127.0.0.1:0", "--nats-url", "nats://127.0.0.1:1"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, run(context.Background(), tt.args, io.Discard))
		})
	}
}
