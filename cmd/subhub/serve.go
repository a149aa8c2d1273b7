package main

import (
	"context"
	"fmt"
	"os"
)

func serve(ctx context.Context, args []string) int {
	fmt.Fprintln(os.Stderr, "subhub: serve not implemented yet")
	return 1
}
