package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run parses args, connects to NATS, serves until ctx is done and returns the
// exit status. Logs go to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9002", "TCP address to serve WebSocket on")
	natsURL := fs.String("nats-url", nats.DefaultURL, "NATS server URL")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "floor: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	nc, err := nats.Connect(*natsURL, nats.Name("floor"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
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
	log.Info("floor serving", "addr", ln.Addr().String(), "nats", *natsURL)
	if err := serve(ctx, ln, nc, log); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	log.Info("floor stopped")
	return 0
}
