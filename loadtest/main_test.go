package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for `subhub` when LOADTEST_AS_SUBHUB
// is set (used only if building ./cmd/subhub fails).
func TestMain(m *testing.M) {
	if os.Getenv("LOADTEST_AS_SUBHUB") == "1" && len(os.Args) > 1 && os.Args[1] == "loadtest" {
		os.Exit(Main(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestMainArgumentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--conns", "0"}, "subhub loadtest: --conns must be > 0\n"},
		{[]string{"--conns", "-3"}, "subhub loadtest: --conns must be > 0\n"},
		{[]string{"--subs-per-conn", "0"}, "subhub loadtest: --subs-per-conn must be > 0\n"},
		{[]string{"--topics", "0"}, "subhub loadtest: --topics must be > 0\n"},
		{[]string{"--topic-dist", "pareto"}, "subhub loadtest: --topic-dist must be uniform or zipf\n"},
		{[]string{"--protocol", "sse"}, "subhub loadtest: --protocol must be graphql-transport-ws or graphql-ws\n"},
		{[]string{"--query", "subscription { x }"}, "subhub loadtest: --query must contain {{topic}}\n"},
		{[]string{"--rate", "-1"}, "subhub loadtest: --rate must be >= 0\n"},
		{[]string{"--duration", "0s"}, "subhub loadtest: --duration must be > 0\n"},
		{[]string{"--publish", "kafka"}, "subhub loadtest: --publish must be nats or http\n"},
		{[]string{"--url", "http://127.0.0.1:1/graphql"}, "subhub loadtest: --url \"http://127.0.0.1:1/graphql\" must be a ws:// URL (wss is not supported)\n"},
		{[]string{"--source-ips", "127.0.0.9-127.0.0.2"}, "subhub loadtest: --source-ips: bad range \"127.0.0.9-127.0.0.2\"\n"},
		{[]string{"--source-ips", "nope"}, "subhub loadtest: --source-ips: bad IPv4 address or range \"nope\"\n"},
		{[]string{"--conns", "30000"}, "subhub loadtest: --conns 30000 needs more than 19500 sockets in one process (hard fd limit 20000); use --workers 2\n"},
		{[]string{"--workers", "65"}, "subhub loadtest: --workers must be between 0 and 64\n"},
		{[]string{"--max-loss", "2"}, "subhub loadtest: --max-loss must be <= 1\n"},
		{[]string{"--sched-idle"}, "subhub loadtest: --sched-idle needs --kernel-timestamps: an idle-priority load tool reads late, and read times would count its wait as latency\n"},
		{[]string{"--bogus"}, "subhub loadtest: unknown flag -bogus\n"},
		{[]string{"--conns", "x"}, "subhub loadtest: invalid value \"x\" for flag -conns: parse error\n"},
		{[]string{"extra"}, "subhub loadtest: unexpected argument \"extra\"\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runMain(t, tc.args...)
			require.Equal(t, 2, code)
			require.Empty(t, out)
			require.Equal(t, tc.msg, errOut)
		})
	}
}

func TestMainHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runMain(t, "--help")
	require.Equal(t, 0, code)
	for _, f := range []string{"-url", "-conns", "-ramp", "-subs-per-conn", "-topics", "-topic-dist", "-protocol", "-query",
		"-rate", "-payload-bytes", "-duration", "-warmup", "-drain", "-publish", "-nats-url", "-publish-url", "-publish-token",
		"-churn", "-workers", "-source-ips", "-json", "-html", "-max-loss", "-max-p99", "-max-errors"} {
		require.Contains(t, out, "  "+f+" ", f)
	}
	require.Contains(t, out, `(default "nats://127.0.0.1:4222")`)
}

func baseArgs(url, natsURL string) []string {
	return []string{"--url", url, "--nats-url", natsURL, "--conns", "3", "--subs-per-conn", "2", "--topics", "2",
		"--rate", "200", "--duration", "1s", "--warmup", "300ms", "--drain", "500ms", "--quiet"}
}

func TestMainGates(t *testing.T) {
	natsURL := startNATS(t)
	lossy := startFake(t, natsURL, faults{dropEvery: 10})
	clean := startFake(t, natsURL, faults{})
	slow := startFake(t, natsURL, faults{delay: 50_000_000})
	rejecting := startFake(t, natsURL, faults{rejectEvery: 3})
	tests := []struct {
		name   string
		url    string
		gates  []string
		code   int
		failed string
	}{
		{"loss over gate", lossy.url, []string{"--max-loss", "0.05"}, 1, "SLO failed: --max-loss 0.05: loss ratio 0.100000 (60 of 600 lost)"},
		{"loss under gate", lossy.url, []string{"--max-loss", "0.2"}, 0, ""},
		// A generous p99 gate: this checks that a passing gate exits 0, not the
		// machine's latency (CI machines are shared and noisy).
		{"clean with all gates", clean.url, []string{"--max-loss", "0", "--max-p99", "30s", "--max-errors", "0"}, 0, ""},
		{"p99 over gate", slow.url, []string{"--max-p99", "20ms"}, 1, "SLO failed: --max-p99 20ms: p99 "},
		{"errors over gate", rejecting.url, []string{"--max-errors", "0"}, 1, "SLO failed: --max-errors 0: 1 errors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runMain(t, append(baseArgs(tc.url, natsURL), tc.gates...)...)
			require.Equal(t, tc.code, code, errOut)
			require.Contains(t, out, "loss ratio")
			if tc.failed != "" {
				require.Contains(t, errOut, tc.failed)
			} else {
				require.NotContains(t, errOut, "SLO failed")
			}
		})
	}
}

func TestMainReports(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{dropEvery: 10, dupEvery: 7})
	dir := t.TempDir()
	jsonFile, htmlFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	code, out, errOut := runMain(t, append(baseArgs(fs.url, natsURL), "--json", jsonFile, "--html", htmlFile)...)
	require.Equal(t, 0, code, errOut)
	for _, row := range []string{"connections", "subscriptions", "published", "expected deliveries", "delivered", "lost",
		"duplicates", "out-of-order", "loss ratio", "deliveries/s", "latency ms", "connect errors", "closes by code"} {
		require.Regexp(t, "(?m)^"+regexp.QuoteMeta(row)+"  ", out)
	}

	b, err := os.ReadFile(jsonFile)
	require.NoError(t, err)
	var r Result
	require.NoError(t, json.Unmarshal(b, &r))
	require.EqualValues(t, 600, r.Expected)
	require.EqualValues(t, 60, r.Lost)
	require.EqualValues(t, 6*13, r.Duplicates)
	require.Equal(t, []TopicResult{
		{Topic: "lt.0", Subscriptions: 3, Published: 100, Expected: 300, Unique: 270, Lost: 30},
		{Topic: "lt.1", Subscriptions: 3, Published: 100, Expected: 300, Unique: 270, Lost: 30},
	}, r.PerTopic)
	require.NotEmpty(t, r.Series)
	require.NotEmpty(t, r.Percentiles)
	phases := map[string]bool{}
	for _, p := range r.Series {
		phases[p.Phase] = true
	}
	require.True(t, phases["publish"], "series %+v", r.Series)
	h0, err := hdrhistogram.Decode([]byte(r.Histogram))
	require.NoError(t, err)
	require.Equal(t, r.Latency.Count, h0.TotalCount())
	require.EqualValues(t, 6*(90+13), h0.TotalCount())
	var generic map[string]any
	require.NoError(t, json.Unmarshal(b, &generic))
	for _, k := range []string{"latency_ms", "connect_errors", "closes", "series", "loss_ratio", "deliveries_per_s"} {
		require.Contains(t, generic, k)
	}

	h, err := os.ReadFile(htmlFile)
	require.NoError(t, err)
	html := string(h)
	require.True(t, strings.HasPrefix(html, "<!doctype html>"))
	require.NotRegexp(t, `(?i)(https?:)?//[a-z0-9]`, html, "the report must not reference the network")
	require.NotRegexp(t, `(?i)<(script|link|img|iframe)[^>]+src=`, html)
	require.Equal(t, 5, strings.Count(html, "<svg "))
	require.Contains(t, html, "Latency by percentile")
	require.Contains(t, html, "<polyline")
}

var (
	buildOnce sync.Once
	subhubBin string
	buildErr  string
)

// subhubBinary builds ./cmd/subhub once. If that fails (a package of the
// binary is mid-edit), the test binary itself stands in via TestMain.
func subhubBinary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "loadtest-bin")
		if err != nil {
			buildErr = err.Error()
			return
		}
		bin := filepath.Join(dir, "subhub")
		out, err := exec.Command("go", "build", "-o", bin, "../cmd/subhub").CombinedOutput()
		if err != nil {
			buildErr = string(out)
			return
		}
		subhubBin = bin
	})
	if subhubBin != "" {
		return subhubBin
	}
	t.Logf("go build ./cmd/subhub failed, using the test binary as subhub: %s", buildErr)
	t.Setenv("LOADTEST_AS_SUBHUB", "1")
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

func TestWorkersMerge(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{dropEvery: 10, dupEvery: 7, reorderEvery: 13})
	bin := subhubBinary(t)
	jsonFile := filepath.Join(t.TempDir(), "r.json")
	args := []string{"loadtest", "--workers", "2", "--url", fs.url, "--nats-url", natsURL, "--conns", "5", "--subs-per-conn", "2",
		"--topics", "2", "--rate", "200", "--duration", "1s", "--warmup", "300ms", "--drain", "500ms", "--json", jsonFile, "--max-errors", "0"}
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
	require.Contains(t, stderr.String(), "publish", "progress lines on stderr")

	b, err := os.ReadFile(jsonFile)
	require.NoError(t, err)
	var r Result
	require.NoError(t, json.Unmarshal(b, &r))
	const subs = 10
	require.EqualValues(t, 5, r.ConnectionsEstablished)
	require.EqualValues(t, subs, r.Subscriptions)
	require.EqualValues(t, 5, fs.upgrade.Load())
	require.EqualValues(t, subs*100, r.Expected)
	require.EqualValues(t, subs*10, r.Lost)
	require.EqualValues(t, subs*13, r.Duplicates)
	require.EqualValues(t, subs*7, r.OutOfOrder)
	require.EqualValues(t, subs*103, r.Delivered)
	require.EqualValues(t, subs*103, r.Latency.Count)
	require.Positive(t, r.RSSBytes)
	require.Positive(t, r.ClientCPU)
	var recv int64
	for _, p := range r.Series {
		recv += p.Received
	}
	require.Positive(t, recv, "per-second series merges the workers' progress")
}

// A run that measured nothing is not a success: with every connection
// refused it exits 1, and a loss or latency gate fails when no message was
// accepted for delivery (every publish rejected) instead of passing on a
// loss ratio of 0 of 0.
func TestMainFailsWhenNothingMeasured(t *testing.T) {
	natsURL := startNATS(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "ws://" + closed.Addr().String() + "/graphql"
	require.NoError(t, closed.Close())

	code, out, errOut := runMain(t, baseArgs(closedURL, natsURL)...)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, out, "connect ECONNREFUSED: 3")
	require.Contains(t, errOut, "subhub loadtest: no connection was established (3 asked, see connect errors)\n")

	fs := startFake(t, natsURL, faults{})
	endpoint := publishEndpoint(t, natsURL, "secret")
	args := append(baseArgs(fs.url, natsURL), "--publish", "http", "--publish-url", endpoint, "--publish-token", "wrong")
	for _, gate := range [][]string{{"--max-loss", "0"}, {"--max-p99", "30s"}} {
		code, out, errOut = runMain(t, append(args, gate...)...)
		require.Equal(t, 1, code, errOut)
		require.Contains(t, out, "published            0 (200 errors)")
		require.Contains(t, errOut, "subhub loadtest: SLO failed: nothing measured: no delivery expected (3 of 3 connections established, 6 subscriptions, 0 published, 200 publish errors)\n")
	}
	code, _, errOut = runMain(t, args...)
	require.Equal(t, 0, code, "without gates, rejected publishes are only counted: %s", errOut)
}
