package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/subhub/subhub/benchmarks/internal/benchsrv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run serves until ctx is done and returns the exit status (see benchsrv.Run).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	return benchsrv.Run(ctx, "naive", "127.0.0.1:9001", args, stderr, serve)
}
