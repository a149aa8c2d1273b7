package hub

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedNATS is an in-process NATS server for single-node use and tests.
type EmbeddedNATS struct {
	srv *server.Server
}

// StartEmbeddedNATS starts a NATS server listening on addr ("host:port";
// port 0 or -1 picks a free port) and waits until it accepts clients.
func StartEmbeddedNATS(addr string) (*EmbeddedNATS, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("hub: embedded NATS listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("hub: embedded NATS listen address %q: bad port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	srv, err := server.NewServer(&server.Options{
		Host:           host,
		Port:           port,
		NoLog:          true,
		NoSigs:         true,
		MaxPayload:     8 << 20,
		MaxPending:     256 << 20,
		WriteDeadline:  10 * time.Second,
		MaxControlLine: 4096,
	})
	if err != nil {
		return nil, fmt.Errorf("hub: embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("hub: embedded NATS did not start on %s (port in use?)", addr)
	}
	return &EmbeddedNATS{srv: srv}, nil
}

// ClientURL is the URL clients use to reach the server.
func (e *EmbeddedNATS) ClientURL() string { return e.srv.ClientURL() }

// Server is the underlying nats-server (for monitoring, e.g. NumSubscriptions).
func (e *EmbeddedNATS) Server() *server.Server { return e.srv }

// Shutdown stops the server.
func (e *EmbeddedNATS) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// ClientSubscriptions counts the subscriptions held by client connections
// whose name starts with namePrefix ("subhub-" for hub nodes), as the server
// sees them.
func (e *EmbeddedNATS) ClientSubscriptions(namePrefix string) int {
	cz, err := e.srv.Connz(&server.ConnzOptions{Subscriptions: true, Limit: 1 << 16})
	if err != nil {
		return -1
	}
	n := 0
	for _, ci := range cz.Conns {
		if strings.HasPrefix(ci.Name, namePrefix) {
			n += len(ci.Subs)
		}
	}
	return n
}
