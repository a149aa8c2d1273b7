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
	// The server reports a port it cannot bind only through its logger's
	// Fatalf (ReadyForConnections would wait out its whole timeout), so the
	// logger hands that one message over and drops the rest.
	fatal := make(chan string, 1)
	srv.SetLogger(startLogger{fatal}, false, false)
	go srv.Start()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if srv.ReadyForConnections(50 * time.Millisecond) {
			return &EmbeddedNATS{srv: srv}, nil
		}
		select {
		case msg := <-fatal:
			srv.Shutdown()
			return nil, fmt.Errorf("hub: embedded NATS on %s: %s", addr, msg)
		default:
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			return nil, fmt.Errorf("hub: embedded NATS did not start on %s", addr)
		}
	}
}

// startLogger is the embedded server's logger: it keeps the first fatal
// message (a listener that failed) and discards everything else, as NoLog.
type startLogger struct{ fatal chan<- string }

func (l startLogger) Fatalf(format string, v ...any) {
	select {
	case l.fatal <- fmt.Sprintf(format, v...):
	default:
	}
}

func (startLogger) Noticef(string, ...any) {}
func (startLogger) Warnf(string, ...any)   {}
func (startLogger) Errorf(string, ...any)  {}
func (startLogger) Debugf(string, ...any)  {}
func (startLogger) Tracef(string, ...any)  {}

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
