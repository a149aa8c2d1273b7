package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "unknown flag", args: []string{"--nope"}},
		{name: "stray argument", args: []string{"idle"}},
		{name: "unknown scenario", args: []string{"--scenarios", "idle,warp"}},
		{name: "unknown server", args: []string{"--servers", "subhub,nginx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, 2, run(context.Background(), tt.args, io.Discard))
		})
	}
}

func TestParseOptionsDefaults(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, options{Servers: "subhub,naive,floor", Out: "benchmarks/RESULTS.md", RawDir: "benchmarks/out", Repo: "."}, o)
}
