// Command subhub is the GraphQL subscription edge server, its load tool and
// a publishing CLI in one binary.
//
//	subhub [serve] [flags]    serve GraphQL subscriptions (default)
//	subhub loadtest [flags]   run the bundled load tool
//	subhub publish [flags] TOPIC JSON
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/subhub/subhub/hub/publish"
	"github.com/subhub/subhub/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "loadtest":
		return loadtest.Main(ctx, args, os.Stdout, os.Stderr)
	case "publish":
		return publish.Main(ctx, args, os.Stdout, os.Stderr)
	case "help":
		fmt.Fprintln(os.Stdout, "usage: subhub [serve|loadtest|publish] [flags]; subhub <command> --help for flags")
		return 0
	default:
		fmt.Fprintf(os.Stderr, "subhub: unknown command %q (want serve, loadtest or publish)\n", cmd)
		return 2
	}
}
