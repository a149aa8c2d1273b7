package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeLoadtestEnv makes the test binary act as the load tool: "ok" writes a
// report after checking the server accepts a connection, anything else
// exits 3 without one.
const fakeLoadtestEnv = "E2E_FAKE_LOADTEST"

// fakeServerEnv makes the test binary act as a server that exits after its
// second connection (the harness's readiness probe, then the load tool's).
const fakeServerEnv = "E2E_FAKE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServerEnv) != "" && slices.Contains(os.Args, "--listen") {
		os.Exit(fakeServer(os.Args[1:]))
	}
	if mode := os.Getenv(fakeLoadtestEnv); mode != "" {
		os.Exit(fakeLoadtest(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeServer(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "", "")
	fs.String("nats-url", "", "")
	fs.String("log-level", "", "")
	if fs.Parse(args) != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return 3
	}
	for range 2 {
		c, err := ln.Accept()
		if err != nil {
			return 4
		}
		c.Close()
	}
	return 7
}

func fakeLoadtest(mode string, args []string) int {
	switch mode {
	case "ok", "outlive":
	case "hang":
		time.Sleep(time.Hour) // a load tool that never finishes; the harness must kill it
		return 6
	default:
		return 3
	}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "")
	jsonFile := fs.String("json", "", "")
	fs.String("nats-url", "", "")
	fs.Int("conns", 0, "")
	fs.Float64("rate", 0, "")
	fs.Duration("duration", 0, "")
	fs.Bool("quiet", false, "")
	if fs.Parse(args) != nil {
		return 2
	}
	start := time.Now()
	host := (*url)[len("ws://"):]
	host = host[:len(host)-len("/graphql")]
	c, err := net.Dial("tcp", host)
	if err != nil {
		return 4
	}
	c.Close()
	if mode == "outlive" {
		// Finish only once the server has gone away.
		for {
			c, err := net.Dial("tcp", host)
			if err != nil {
				break
			}
			c.Close()
			time.Sleep(10 * time.Millisecond)
		}
	}
	r := map[string]any{
		"start":                   start,
		"phases_s":                map[string]float64{"connect": 0, "warmup": 0, "publish": time.Since(start).Seconds(), "drain": 0},
		"connections":             3,
		"connections_established": 3,
		"delivered":               300,
		"deliveries_per_s":        1000,
		"latency_ms":              map[string]float64{"p50": 1, "p99": 2, "p999": 3},
	}
	b, _ := json.Marshal(r)
	if os.WriteFile(*jsonFile, b, 0o644) != nil {
		return 5
	}
	return 0
}

// newTestHarness builds the floor server and starts NATS.
func newTestHarness(t *testing.T) *harness {
	t.Helper()
	bin := t.TempDir()
	out := filepath.Join(bin, serverFloor)
	build := exec.Command("go", "build", "-o", out, packages[serverFloor])
	build.Dir = "../.."
	b, err := build.CombinedOutput()
	require.NoError(t, err, "%s", b)
	ns, err := startNATS()
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	exe, err := os.Executable()
	require.NoError(t, err)
	return &harness{
		repo:     ".",
		binDir:   bin,
		rawDir:   t.TempDir(),
		bins:     map[string]string{serverFloor: out},
		natsURL:  ns.ClientURL(),
		progress: io.Discard,
		ready:    10 * time.Second,
		slack:    time.Minute,
		loadArgv: []string{exe},
	}
}

func TestRunOne(t *testing.T) {
	h := newTestHarness(t)
	sc := scenario{Name: "tail", Load: load{Conns: 3, Rate: 1, Duration: time.Second}}

	t.Run("measures a run", func(t *testing.T) {
		t.Setenv(fakeLoadtestEnv, "ok")
		r := h.runOne(context.Background(), sc, sc.Load, "rate=1", serverFloor)
		require.Empty(t, r.Note)
		require.NotNil(t, r.Result)
		require.FileExists(t, filepath.Join(h.rawDir, "tail_floor_rate-1.json"))
		require.FileExists(t, filepath.Join(h.rawDir, "tail_floor_rate-1.server.log"))
		require.Equal(t, int64(3), r.M.Conns)
		require.Equal(t, int64(300), r.M.Deliveries)
		require.Equal(t, 2.0, r.M.P99)
		require.GreaterOrEqual(t, len(r.Timeline), 2)
		require.Equal(t, "publish+drain", r.M.Window)
		require.GreaterOrEqual(t, r.M.CPUSeconds, 0.0)
		require.Positive(t, r.Before.RSS)
		require.Equal(t, []string{"$BIN/floor", "--listen", "127.0.0.1:$PORT", "--nats-url", "$NATS", "--log-level", "warn"}, r.ServerCmd)
		require.Contains(t, r.LoadCmd, "ws://127.0.0.1:$PORT/graphql")
		require.Eventually(t, func() bool {
			return errors.Is(syscall.Kill(r.PID, 0), syscall.ESRCH)
		}, 5*time.Second, 10*time.Millisecond, "the server is stopped after the run")
	})

	t.Run("records a load tool failure", func(t *testing.T) {
		t.Setenv(fakeLoadtestEnv, "fail")
		r := h.runOne(context.Background(), sc, sc.Load, "", serverFloor)
		require.Nil(t, r.Result)
		require.Contains(t, r.Note, "loadtest exit 3")
		require.Contains(t, r.Note, errNoResult.Error())
		require.False(t, r.M.sustainable())
	})

	t.Run("kills a load tool past its budget", func(t *testing.T) {
		t.Setenv(fakeLoadtestEnv, "hang")
		h.slack = 500 * time.Millisecond
		defer func() { h.slack = time.Minute }()
		quick := sc.Load
		quick.Duration = 0
		start := time.Now()
		r := h.runOne(context.Background(), sc, quick, "", serverFloor)
		require.Less(t, time.Since(start), 20*time.Second)
		require.Nil(t, r.Result)
		require.Contains(t, r.Note, "(timed out)")
	})

	t.Run("records a server that dies during the run", func(t *testing.T) {
		t.Setenv(fakeLoadtestEnv, "outlive")
		t.Setenv(fakeServerEnv, "1")
		exe, err := os.Executable()
		require.NoError(t, err)
		h.bins["naive"] = exe
		r := h.runOne(context.Background(), sc, sc.Load, "", "naive")
		require.NotNil(t, r.Result, "the load tool still reported")
		require.Contains(t, r.Note, "server exited during the run: exit status 7")
		for i := 1; i < len(r.Timeline); i++ {
			require.False(t, r.Timeline[i].At.Before(r.Timeline[i-1].At), "samples in time order")
		}
	})

	t.Run("records a server that never listens", func(t *testing.T) {
		t.Setenv(fakeLoadtestEnv, "ok")
		h.bins["naive"] = "/bin/false"
		r := h.runOne(context.Background(), sc, sc.Load, "", "naive")
		require.Nil(t, r.Result)
		require.Contains(t, r.Note, errNotReady.Error())
	})
}

func TestFileBase(t *testing.T) {
	require.Equal(t, "idle_subhub", fileBase("idle", "subhub", ""))
	require.Equal(t, "fanout_floor_rate-5", fileBase("fanout", "floor", "rate=5"))
	require.Equal(t, "tail-remote_naive_rate-1_run-2", fileBase("tail-remote", "naive", "rate=1 run=2"))
}
