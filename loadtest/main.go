package loadtest

import (
	"context"
	"fmt"
	"io"
)

// Main runs the load tool with command-line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "subhub loadtest: not implemented yet")
	return 2
}
