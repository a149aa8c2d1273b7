// Package benchsrv is the command-line shell shared by the benchmark
// servers (benchmarks/naive, benchmarks/floor): flags, NATS connection,
// listener, logging and exit codes, so each server's package is only its
// serving strategy.
package benchsrv

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"
)

// ServeFunc serves WebSocket clients on ln, fanning out from nc, until ctx
// is done.
type ServeFunc func(ctx context.Context, ln net.Listener, nc *nats.Conn, log *slog.Logger) error

// Run parses args (--listen, --nats-url, --log-level), connects to NATS,
// serves until ctx is done and returns the exit status: 0 after a clean
// stop, 1 when NATS, the listener or serve fail, 2 for bad flags. Logs go to
// stderr.
func Run(ctx context.Context, name, defaultListen string, args []string, stderr io.Writer, serve ServeFunc) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultListen, "TCP address to serve WebSocket on")
	natsURL := fs.String("nats-url", nats.DefaultURL, "NATS server URL")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "%s: --log-level: %v\n", name, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	nc, err := nats.Connect(*natsURL, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		log.Error("connect to NATS", "url", *natsURL, "err", err)
		return 1
	}
	defer nc.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "addr", *listen, "err", err)
		return 1
	}
	log.Info(name+" serving", "addr", ln.Addr().String(), "nats", *natsURL)
	if err := serve(ctx, ln, nc, log); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	log.Info(name + " stopped")
	return 0
}
