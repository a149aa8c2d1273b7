package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixtureJSON is a loadtest report trimmed to what the harness reads, plus
// a field it ignores.
const fixtureJSON = `{
  "start": "2026-12-03T13:00:00Z",
  "elapsed_s": 14,
  "phases_s": {"connect": 2, "warmup": 1, "publish": 10, "drain": 1},
  "connections": 1000, "connections_established": 1000, "subscriptions": 1000,
  "published": 200, "expected": 200000, "delivered": 199990, "lost": 10,
  "loss_ratio": 0.00005, "deliveries_per_s": 20000, "churn_ops": 0, "churn_delivered": 10,
  "latency_ms": {"count": 199990, "mean": 2, "p50": 1.5, "p90": 3, "p99": 7.25, "p999": 12.5, "max": 40},
  "errors": 0, "kernel_timestamps": true, "unstamped_deliveries": 3,
  "series": [{"t": 1}]
}`

func TestParseLoadResult(t *testing.T) {
	r, err := parseLoadResult([]byte(fixtureJSON))
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC), r.Start)
	require.Equal(t, 10.0, r.Phases.Publish)
	require.Equal(t, int64(1000), r.ConnectionsEstablished)
	require.Equal(t, int64(199990), r.Delivered)
	require.Equal(t, 7.25, r.Latency.P99)
	require.Equal(t, 12.5, r.Latency.P999)
	require.Equal(t, int64(3), r.Unstamped)

	_, err = parseLoadResult([]byte(`{"start":`))
	require.Error(t, err)
}

func TestComputeMetrics(t *testing.T) {
	r, err := parseLoadResult([]byte(fixtureJSON))
	require.NoError(t, err)
	t0 := r.Start
	before := sample{At: t0.Add(-time.Second), CPU: 10, RSS: 20000}
	after := sample{At: t0.Add(15 * time.Second), CPU: 25, RSS: 40000}
	// Publishing runs from t0+3s to t0+13s plus 1s drain: t0+14s.
	tl := timeline{
		before,
		{At: t0.Add(3 * time.Second), CPU: 12, RSS: 30000},
		{At: t0.Add(14 * time.Second), CPU: 22, RSS: 35000},
		after,
	}
	tests := []struct {
		name        string
		tl          timeline
		cpu         float64
		window      string
		rssPerConn  float64
		cpuPerMDeli float64
	}{
		{
			name:        "window on the timeline",
			tl:          tl,
			cpu:         10,
			window:      "publish+drain",
			rssPerConn:  10, // (30000-20000) KiB / 1000 conns
			cpuPerMDeli: 10 / 200000.0 * 1e6,
		},
		{
			name:        "timeline misses the window",
			tl:          timeline{before},
			cpu:         15,
			window:      "whole loadtest",
			rssPerConn:  0, // the only sample before the window is "before"
			cpuPerMDeli: 15 / 200000.0 * 1e6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := computeMetrics(r, tt.tl, before, after)
			require.Equal(t, int64(1000), m.Conns)
			require.Equal(t, int64(200000), m.Deliveries, "stable and churn deliveries")
			require.Equal(t, 20000.0, m.DeliveriesPerSec)
			require.Equal(t, 1.5, m.P50)
			require.Equal(t, 7.25, m.P99)
			require.Equal(t, 12.5, m.P999)
			require.Equal(t, 0.00005, m.Loss)
			require.InDelta(t, tt.cpu, m.CPUSeconds, 1e-9)
			require.Equal(t, tt.window, m.Window)
			require.InDelta(t, tt.cpuPerMDeli, m.CPUPerMillion, 1e-9)
			require.InDelta(t, tt.rssPerConn, m.RSSPerConnKiB, 1e-9)
			require.True(t, m.sustainable())
		})
	}

	m := computeMetrics(nil, nil, sample{}, sample{})
	for _, v := range []float64{m.DeliveriesPerSec, m.P99, m.Loss, m.CPUPerMillion, m.RSSPerConnKiB} {
		require.True(t, math.IsNaN(v), "no result means not measured")
	}
	require.False(t, m.sustainable())
}

func TestSustainableGate(t *testing.T) {
	tests := []struct {
		name string
		loss float64
		p99  float64
		want bool
	}{
		{name: "clean", loss: 0, p99: 5, want: true},
		{name: "at the limits", loss: gateMaxLoss, p99: gateMaxP99Ms, want: true},
		{name: "too lossy", loss: 0.0011, p99: 5, want: false},
		{name: "too slow", loss: 0, p99: 100.5, want: false},
		{name: "unmeasured", loss: math.NaN(), p99: 1, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics{Loss: tt.loss, P99: tt.p99}
			require.Equal(t, tt.want, m.sustainable())
			require.Equal(t, tt.want || tt.name == "too slow", m.keepsUp())
		})
	}
}

// fakeRun is a measurement with the given figures and a non-nil result.
func fakeRun(scenario, server, step string, m metrics) *measurement {
	return &measurement{Scenario: scenario, Server: server, Step: step, Result: &loadResult{}, M: m,
		ServerCmd: []string{"$BIN/" + server, "--listen", "127.0.0.1:$PORT"}, LoadCmd: []string{"$BIN/subhub", "loadtest", "--rate", "1"}}
}

func testRuns() []*measurement {
	nan := math.NaN()
	return []*measurement{
		// subhub passes every step; its ceiling is the 50 msg/s step.
		fakeRun("fanout", "subhub", "rate=1", metrics{DeliveriesPerSec: 10000, P99: 2}),
		fakeRun("fanout", "subhub", "rate=50", metrics{DeliveriesPerSec: 500000, P99: 40}),
		// naive fails at 10 msg/s: its ceiling is the 5 msg/s step.
		fakeRun("fanout", "naive", "rate=5", metrics{DeliveriesPerSec: 50000, P99: 50}),
		fakeRun("fanout", "naive", "rate=10", metrics{DeliveriesPerSec: 90000, P99: 300}),
		// floor never passes.
		fakeRun("fanout", "floor", "rate=1", metrics{DeliveriesPerSec: 9000, Loss: 0.01, P99: 1}),
		// ceiling: subhub's p99 fails at 200 msg/s but it keeps going; naive
		// passes its first step only.
		fakeRun("ceiling", "subhub", "rate=100", metrics{DeliveriesPerSec: 200000, P99: 60}),
		fakeRun("ceiling", "subhub", "rate=200", metrics{DeliveriesPerSec: 400000, P99: 120}),
		fakeRun("ceiling", "naive", "rate=10", metrics{DeliveriesPerSec: 20000, P99: 30}),
		fakeRun("ceiling", "naive", "rate=25", metrics{DeliveriesPerSec: 45000, Loss: 0.1, P99: 900}),
		fakeRun("one-per-conn", "subhub", "", metrics{CPUPerMillion: 2, P99: 4, RSSPerConnKiB: nan}),
		fakeRun("one-per-conn", "naive", "", metrics{CPUPerMillion: 20, P99: 8}),
		fakeRun("one-per-conn", "floor", "", metrics{CPUPerMillion: 4, P99: 2}),
		fakeRun("idle", "subhub", "", metrics{RSSPerConnKiB: 6}),
		fakeRun("idle", "naive", "", metrics{RSSPerConnKiB: 30}),
		fakeRun("many-topics", "subhub", "rate=5000", metrics{CPUPerMillion: 30}),
		fakeRun("many-topics", "subhub", "rate=50000", metrics{CPUPerMillion: 9}),
		fakeRun("many-topics", "floor", "rate=5000", metrics{CPUPerMillion: 27}),
		// three rounds: the headline is each server's median
		fakeRun("tail", "subhub", "run=1", metrics{P99: 30, P999: 40}),
		fakeRun("tail", "floor", "run=1", metrics{P99: 31, P999: 50}),
		fakeRun("tail", "subhub", "run=2", metrics{P99: 12, P999: 14}),
		fakeRun("tail", "floor", "run=2", metrics{P99: 16, P999: 20}),
		fakeRun("tail", "subhub", "run=3", metrics{P99: 14, P999: 90}),
		// steps with rounds: medians per step
		fakeRun("tail-remote", "subhub", "rate=1 run=1", metrics{P99: 70}),
		fakeRun("tail-remote", "subhub", "rate=5 run=1", metrics{P99: 90}),
		fakeRun("tail-remote", "floor", "rate=1 run=1", metrics{P99: 150}),
		fakeRun("tail-remote", "subhub", "rate=1 run=2", metrics{P99: 98}),
		fakeRun("tail-remote", "subhub", "rate=1 run=3", metrics{P99: 72}),
	}
}

func TestHeadlines(t *testing.T) {
	hs := headlines(testRuns())
	byKey := map[string]headline{}
	for _, h := range hs {
		byKey[h.Metric+"/"+h.Scenario] = h
	}
	ceil := byKey["Sustainable fan-out ceiling, deliveries/s/fanout"]
	require.Equal(t, 500000.0, ceil.value("subhub"))
	require.Equal(t, 50000.0, ceil.value("naive"))
	require.True(t, math.IsNaN(ceil.value("floor")), "no sustainable step")
	require.InDelta(t, 10, ratio(ceil.value("subhub"), ceil.value("naive")), 1e-9)
	require.Equal(t, map[string]bool{"subhub": true, "naive": false, "floor": false}, ceil.AtLeast, "subhub passed every step")
	require.Equal(t, "≥ 10.00×", ceil.formatRatio("subhub", "naive"))
	require.Equal(t, "≤ 0.10×", ceil.formatRatio("naive", "subhub"))
	require.Equal(t, "n/a", ceil.formatRatio("subhub", "floor"))

	small := byKey["Sustainable fan-out ceiling, deliveries/s/ceiling"]
	require.Equal(t, map[string]float64{"subhub": 200000, "naive": 20000}, small.Values, "the best step within the gate, per scenario")
	require.Equal(t, "10.00×", small.formatRatio("subhub", "naive"), "neither passed every step: no bound mark")

	byLoss := byKey["Fan-out ceiling at loss ≤ 0.1% (any p99), deliveries/s/fanout"]
	require.Equal(t, 500000.0, byLoss.value("subhub"))
	require.Equal(t, 90000.0, byLoss.value("naive"), "its p99 failed, its loss did not")
	require.True(t, math.IsNaN(byLoss.value("floor")), "lossy at the first step")

	cpu := byKey["Server CPU-s per million deliveries (median of rounds)/one-per-conn"]
	require.InDelta(t, 0.1, ratio(cpu.value("subhub"), cpu.value("naive")), 1e-9)
	require.InDelta(t, 0.5, ratio(cpu.value("subhub"), cpu.value("floor")), 1e-9)

	rss := byKey["Server RSS per connection, KiB/idle"]
	require.InDelta(t, 0.2, ratio(rss.value("subhub"), rss.value("naive")), 1e-9)
	require.True(t, math.IsNaN(rss.value("floor")), "floor did not run idle")

	many := byKey["Server CPU-s per million deliveries/many-topics / rate=50000"]
	require.Equal(t, map[string]float64{"subhub": 9}, many.Values, "by step: floor lost its second step")
	require.Equal(t, map[string]float64{"subhub": 30, "floor": 27}, byKey["Server CPU-s per million deliveries/many-topics / rate=5000"].Values)

	tail := byKey["p99 latency, ms (median of rounds)/tail"]
	require.Equal(t, map[string]float64{"subhub": 14, "floor": 23.5}, tail.Values, "median of rounds; of two, their mean")
	require.Equal(t, 40.0, byKey["p99.9 latency, ms (median of rounds)/tail"].value("subhub"))
	require.Equal(t, 2.0, byKey["p99 latency, ms/fanout / rate=1"].value("subhub"))
	require.Empty(t, byKey["p99 latency, ms/fanout / rate=1"].AtLeast)
	require.Empty(t, byKey["Server CPU-s per million deliveries (median of rounds)/batched"].Values, "batched did not run")
	require.Equal(t, map[string]float64{"subhub": 72, "floor": 150}, byKey["p99 latency, ms (median of rounds)/tail-remote / rate=1"].Values, "the median of rate=1's rounds")
	require.Equal(t, map[string]float64{"subhub": 90}, byKey["p99 latency, ms (median of rounds)/tail-remote / rate=5"].Values)
}

func TestMedian(t *testing.T) {
	require.True(t, math.IsNaN(median(nil)))
	require.Equal(t, 3.0, median([]float64{3}))
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	median(xs)
	require.Equal(t, []float64{3, 1, 2}, xs, "input left unsorted")
}

func TestRatio(t *testing.T) {
	require.Equal(t, 2.0, ratio(4, 2))
	require.True(t, math.IsNaN(ratio(4, 0)))
	require.True(t, math.IsNaN(ratio(math.NaN(), 2)))
	require.True(t, math.IsNaN(ratio(1, math.NaN())))
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "big", got: fmtBig(1234567.4), want: "1,234,567"},
		{name: "small big", got: fmtBig(999), want: "999"},
		{name: "negative big", got: fmtBig(-1234), want: "-1,234"},
		{name: "nan big", got: fmtBig(math.NaN()), want: "n/a"},
		{name: "num", got: fmtNum(3.14159, 2), want: "3.14"},
		{name: "nan num", got: fmtNum(math.NaN(), 2), want: "n/a"},
		{name: "ratio", got: fmtRatio(0.5), want: "0.50×"},
		{name: "inf ratio", got: fmtRatio(math.Inf(1)), want: "n/a"},
		{name: "plain shell", got: shellJoin([]string{"$BIN/subhub", "loadtest", "--url", "ws://127.0.0.1:$PORT/graphql"}), want: "$BIN/subhub loadtest --url ws://127.0.0.1:$PORT/graphql"},
		{name: "quoted shell", got: shellJoin([]string{"echo", "it's", ""}), want: `echo 'it'\''s' ''`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}

func TestWriteMarkdown(t *testing.T) {
	runs := testRuns()
	runs[4].Note = "loadtest exit 1 | odd"
	rep := report{
		Date:     time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC),
		Commit:   "abc1234",
		Dirty:    true,
		Command:  "go run ./benchmarks/e2e --quick",
		Quick:    true,
		Machine:  machine{CPUs: 2, Model: "AMD EPYC", MemKiB: 24 << 20, Kernel: "Linux 6.1", GoVer: "go1.26.8"},
		NATS:     "embedded",
		Build:    []string{"BIN=$(mktemp -d)", "go build -o $BIN/subhub ./cmd/subhub"},
		Runs:     runs,
		Selected: scenarios(true)[:2],
		Elapsed:  90 * time.Second,
		LoadAvg:  [2]string{"0.10 0.20 0.30", "1.00 0.50 0.40"},
	}
	var b strings.Builder
	require.NoError(t, writeMarkdown(&b, rep))
	md := b.String()
	for _, want := range []string{
		"Generated by `go run ./benchmarks/e2e --quick`",
		"- Date: 2026-12-03 14:00 UTC",
		"- Commit: abc1234 (working tree had uncommitted changes)",
		"- Machine: 2 × AMD EPYC, 24.0 GiB RAM, Linux 6.1, go1.26.8",
		"- Mode: quick",
		"- Load average (1/5/15 min) at start: 0.10 0.20 0.30; at end: 1.00 0.50 0.40",
		"| Sustainable fan-out ceiling, deliveries/s | fanout | higher | ≥ 500,000 | 50,000 | n/a | ≥ 10.00× | n/a |",
		"| Fan-out ceiling at loss ≤ 0.1% (any p99), deliveries/s | fanout | higher | ≥ 500,000 | ≥ 90,000 | n/a | n/a | n/a |",
		"| Server CPU-s per million deliveries (median of rounds) | one-per-conn | lower | 2.00 | 20.00 | 4.00 | 0.10× | 0.50× |",
		"| Server RSS per connection, KiB | idle | lower | 6.00 | 30.00 | n/a | 0.20× | n/a |",
		"| fanout | floor | rate=1 | 0 | 9,000 | 0.00 | 1.00 | 0.00 | 1.0000% |",
		"loadtest exit 1 / odd |",
		"- **idle**: 15,000 connections",
		"fanout / naive / rate=10:\n\n```sh\n$BIN/naive --listen 127.0.0.1:$PORT &\n$BIN/subhub loadtest --rate 1\n```",
		"go build -o $BIN/subhub ./cmd/subhub\n",
	} {
		require.Contains(t, md, want)
	}
	// The ratio table leads: it comes before the raw table.
	require.Less(t, strings.Index(md, "### Ratios"), strings.Index(md, "### Raw results"))
	require.Equal(t, len(runs), strings.Count(md, "```sh\n$BIN/"), "one reproduce block per run")
}

func TestSpliceReport(t *testing.T) {
	block := func(body string) string { return beginMarker + "\n" + body + "\n" + endMarker + "\n" }
	tests := []struct {
		name     string
		existing string
		want     string
	}{
		{
			name:     "new file",
			existing: "",
			want:     "# subhub benchmark results\n\n" + block("NEW"),
		},
		{
			name:     "others' content is kept and the section appended",
			existing: "# Results\n\n## Knobs\n\nshards=4: +10%\n",
			want:     "# Results\n\n## Knobs\n\nshards=4: +10%\n\n" + block("NEW"),
		},
		{
			name:     "the previous section is replaced in place",
			existing: "# Results\n\n" + block("OLD\nOLDER") + "\n## Knobs\n\nshards=4\n",
			want:     "# Results\n\n" + block("NEW") + "\n## Knobs\n\nshards=4\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(spliceReport([]byte(tt.existing), "NEW\n\n")))
		})
	}
}

func TestCPUBound(t *testing.T) {
	all, one := cpuBoundMs(metrics{Conns: 10000, CPUPerMillion: 9, ClientCPUPerM: 5}, 2)
	require.InDelta(t, 70.0, all, 1e-9, "10,000 × (9 + 5) µs over 2 cores")
	require.InDelta(t, 90.0, one, 1e-9, "10,000 × 9 µs on one goroutine")
	all, _ = cpuBoundMs(metrics{Conns: 10000, CPUPerMillion: 9, ClientCPUPerM: math.NaN()}, 2)
	require.True(t, math.IsNaN(all), "no client CPU, no bound")

	rep := report{Machine: machine{CPUs: 2}, Runs: []*measurement{
		fakeRun("fanout", "subhub", "rate=1", metrics{Conns: 10000, CPUPerMillion: 9, ClientCPUPerM: 5, P99: 85}),
		fakeRun("fanout", "floor", "rate=1", metrics{Conns: 10000, CPUPerMillion: 9.7, ClientCPUPerM: 7.3, P99: 110}),
		fakeRun("fanout", "subhub", "rate=5", metrics{Conns: 10000, CPUPerMillion: 9, ClientCPUPerM: 5, P99: 85}),
		fakeRun("fanout", "floor", "rate=5", metrics{Conns: 10000, CPUPerMillion: 9.7, ClientCPUPerM: 7.3, P99: 200}),
		fakeRun("fanout", "subhub", "rate=50", metrics{Conns: 10000, CPUPerMillion: 2, ClientCPUPerM: 2, P99: 150}),
	}}
	var b strings.Builder
	writeCPUBound(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, rep)
	md := b.String()
	// 0.6 × 110 = 66 < 70: out of reach; 0.6 × 200 = 120 ≥ 70: reachable.
	require.Contains(t, md, "| rate=1 | subhub | 85.0 | 70.0 | 90.0 | 66.0 | no: out of reach here |")
	require.Contains(t, md, "| rate=1 | floor | 110.0 | 85.0 | 97.0 | 66.0 |  |")
	require.Contains(t, md, "| rate=5 | subhub | 85.0 | 70.0 | 90.0 | 120.0 | yes: reachable |")
	require.NotContains(t, md, "rate=50", "steps whose fan-outs overlap are left out")

	b.Reset()
	writeCPUBound(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, report{Machine: machine{CPUs: 2}})
	require.Empty(t, b.String(), "no fanout steps, no section")
}

func TestManyTopicsHeadlinesFollowTheSteps(t *testing.T) {
	// --quick divides the rates by ten: the rows are labelled as the steps
	// ran, the higher (equal-load) rate first, wherever a server stopped.
	runs := []*measurement{
		fakeRun("many-topics", "subhub", "rate=500", metrics{CPUPerMillion: 30}),
		fakeRun("many-topics", "subhub", "rate=5000", metrics{CPUPerMillion: 9}),
		fakeRun("many-topics", "floor", "rate=500", metrics{CPUPerMillion: 27}),
	}
	var rows []headline
	for _, h := range headlines(runs) {
		if strings.HasPrefix(h.Scenario, "many-topics") {
			rows = append(rows, h)
		}
	}
	require.Len(t, rows, 2)
	require.Equal(t, "many-topics / rate=5000", rows[0].Scenario)
	require.Equal(t, map[string]float64{"subhub": 9}, rows[0].Values)
	require.Equal(t, "many-topics / rate=500", rows[1].Scenario)
	require.Equal(t, map[string]float64{"subhub": 30, "floor": 27}, rows[1].Values)
	require.Equal(t, 5000.0, stepRate("many-topics / rate=5000"))
	require.Zero(t, stepRate("one-per-conn"))
}
