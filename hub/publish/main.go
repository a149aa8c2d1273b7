package publish

import (
	"context"
	"fmt"
	"io"
)

// Main runs the publish CLI with command-line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "subhub publish: not implemented yet")
	return 2
}
