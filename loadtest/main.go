package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Main runs the load tool with command-line args and returns the exit
// status: 0 on success, 1 when the run failed (no connection came up, say)
// or an SLO gate was violated, 2 for bad arguments.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(args)
	if errors.Is(err, ErrHelp) {
		Usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "subhub loadtest: %s\n", strings.TrimPrefix(err.Error(), ErrUsage.Error()+": "))
		return 2
	}
	if cfg.WorkerCount > 0 {
		if err := runWorker(ctx, cfg, os.Stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "subhub loadtest worker %d: %v\n", cfg.WorkerIndex, err)
			return 1
		}
		return 0
	}
	res, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "subhub loadtest: %s\n", strings.TrimPrefix(err.Error(), "loadtest: "))
		if errors.Is(err, ErrUsage) {
			return 2
		}
		return 1
	}
	res.WriteText(stdout)
	if cfg.JSONFile != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.JSONFile, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "subhub loadtest: --json: %v\n", err)
			return 1
		}
	}
	if cfg.HTMLFile != "" {
		var buf bytes.Buffer
		err := res.WriteHTML(&buf)
		if err == nil {
			err = os.WriteFile(cfg.HTMLFile, buf.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "subhub loadtest: --html: %v\n", err)
			return 1
		}
	}
	if res.Interrupted {
		fmt.Fprintln(stderr, "subhub loadtest: interrupted, the report is partial")
		return 1
	}
	if res.ConnectionsEstablished == 0 {
		fmt.Fprintf(stderr, "subhub loadtest: no connection was established (%d asked, see connect errors)\n", res.Connections)
		return 1
	}
	if failed := res.Check(cfg); len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintf(stderr, "subhub loadtest: SLO failed: %s\n", f)
		}
		return 1
	}
	return 0
}
