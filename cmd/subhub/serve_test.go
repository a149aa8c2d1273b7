package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/wire"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServeDefaultsEnvAndFlags(t *testing.T) {
	cfg, err := parseServe(nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, ":8080", cfg.opts.Listen)
	require.Equal(t, "/graphql", cfg.opts.Path)
	require.Equal(t, "127.0.0.1:4222", cfg.embeddedNATS)
	require.Equal(t, 3*time.Second, cfg.opts.InitTimeout)
	require.Equal(t, 1, cfg.opts.NATSPool)
	require.Equal(t, 20*time.Millisecond, cfg.opts.Coalesce)
	require.Equal(t, 1000, cfg.opts.MaxFields)

	cfg, err = parseServe([]string{"--nats-pool", "4"}, env(map[string]string{
		"SUBHUB_NATS_URL":   "nats://a:4222,nats://b:4222",
		"SUBHUB_NATS_POOL":  "2",
		"SUBHUB_SHARDS":     "16",
		"SUBHUB_ENVELOPE":   "hotchocolate",
		"SUBHUB_SERIALIZER": "msgpack",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "nats://a:4222,nats://b:4222", cfg.natsURL)
	require.Equal(t, 4, cfg.opts.NATSPool, "the flag wins over the environment")
	require.Equal(t, 16, cfg.opts.Shards)
	require.Equal(t, wire.EnvelopeHotChocolate, cfg.opts.Envelope)
	require.Equal(t, wire.SerializerMsgpack, cfg.opts.Serializer)
}

func TestParseServeRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--nats-pool", "0"}, nil, "--nats-pool must be positive"},
		{[]string{"--max-fields", "0"}, nil, "--max-fields must be positive"},
		{[]string{"--init-timeout", "-1s"}, nil, "--init-timeout must be positive"},
		{[]string{"--serializer", "xml"}, nil, "--serializer"},
		{[]string{"--envelope", "soap"}, nil, "--envelope"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--shards", "-2"}, nil, "--shards"},
		{[]string{"--coalesce", "-1ms"}, nil, "--coalesce must be between 0 and 100ms"},
		{nil, map[string]string{"SUBHUB_COALESCE": "1s"}, "--coalesce must be between 0 and 100ms, got 1s"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{nil, map[string]string{"SUBHUB_NATS_POOL": "many"}, "SUBHUB_NATS_POOL"},
		{[]string{"--nope"}, nil, "flag provided but not defined"},
	} {
		_, err := parseServe(tc.args, env(tc.env), io.Discard)
		require.Error(t, err, "%v %v", tc.args, tc.env)
		require.Contains(t, err.Error(), tc.want)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	require.Equal(t, 2, run(t.Context(), []string{"frobnicate"}))
	require.Equal(t, 2, run(t.Context(), []string{"serve", "--shards", "-1"}))
	require.Equal(t, 0, run(t.Context(), []string{"serve", "--help"}))
}
