package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Servers, in report column order.
const (
	serverSubhub = "subhub"
	serverNaive  = "naive"
	serverFloor  = "floor"
)

var allServers = []string{serverSubhub, serverNaive, serverFloor}

// loadResult is the part of `subhub loadtest --json` the report uses.
type loadResult struct {
	Start  time.Time `json:"start"`
	Phases struct {
		Connect float64 `json:"connect"`
		Warmup  float64 `json:"warmup"`
		Publish float64 `json:"publish"`
		Drain   float64 `json:"drain"`
	} `json:"phases_s"`
	Connections            int64   `json:"connections"`
	ConnectionsEstablished int64   `json:"connections_established"`
	Subscriptions          int64   `json:"subscriptions"`
	Published              int64   `json:"published"`
	Expected               int64   `json:"expected"`
	Delivered              int64   `json:"delivered"`
	Lost                   int64   `json:"lost"`
	LossRatio              float64 `json:"loss_ratio"`
	DeliveriesPerSec       float64 `json:"deliveries_per_s"`
	ChurnOps               int64   `json:"churn_ops"`
	ChurnDelivered         int64   `json:"churn_delivered"`
	Latency                struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
	} `json:"latency_ms"`
	Errors    int64   `json:"errors"`
	ClientCPU float64 `json:"client_cpu_s"`
	// Unstamped deliveries were timed by the clock although the load tool
	// ran with --kernel-timestamps.
	Unstamped int64 `json:"unstamped_deliveries"`
}

// parseLoadResult decodes a loadtest JSON report.
func parseLoadResult(b []byte) (*loadResult, error) {
	var r loadResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("e2e: loadtest JSON: %w", err)
	}
	return &r, nil
}

// note appends what went wrong to m.Note, "; "-separated.
func (m *measurement) note(format string, a ...any) {
	m.Note = strings.TrimPrefix(m.Note+"; "+fmt.Sprintf(format, a...), "; ")
}

// measurement is one server under one scenario step.
type measurement struct {
	Scenario, Server, Step string
	ServerCmd, LoadCmd     []string
	JSONFile               string
	PID                    int         // the server process
	Result                 *loadResult // nil when the loadtest wrote none
	Before, After          sample      // server just before and after the loadtest
	Timeline               timeline
	Note                   string // what went wrong, if anything
	M                      metrics
}

// metrics are the figures of a run; NaN means not measured.
type metrics struct {
	Conns            int64
	DeliveriesPerSec float64
	Deliveries       int64 // stable and churn
	P50, P99, P999   float64
	Loss             float64
	CPUSeconds       float64 // server CPU over the window
	CPUPerMillion    float64 // server CPU seconds per million deliveries
	ClientCPUPerM    float64 // the load tool's CPU seconds per million deliveries
	RSSPerConnKiB    float64
	Errors           int64
	Window           string // what CPUSeconds covers
}

// sustainable reports whether the run passed the fan-out gate: loss and
// p99 within bounds.
func (m metrics) sustainable() bool {
	return m.keepsUp() && !math.IsNaN(m.P99) && m.P99 <= gateMaxP99Ms
}

// keepsUp reports whether the run passed the loss half of the gate: the
// server delivered (nearly) everything within the run, whatever the latency.
func (m metrics) keepsUp() bool {
	return !math.IsNaN(m.Loss) && m.Loss <= gateMaxLoss
}

// computeMetrics derives a run's figures. CPU is taken over the publishing
// phase plus drain when the timeline covers it, else over the whole
// loadtest (before → after); RSS growth runs from before to the end of the
// warmup, when every connection is subscribed and nothing was published.
func computeMetrics(r *loadResult, tl timeline, before, after sample) metrics {
	nan := math.NaN()
	m := metrics{DeliveriesPerSec: nan, P50: nan, P99: nan, P999: nan, Loss: nan, CPUSeconds: nan, CPUPerMillion: nan, ClientCPUPerM: nan, RSSPerConnKiB: nan}
	if r == nil {
		return m
	}
	m.Conns = r.ConnectionsEstablished
	m.DeliveriesPerSec = r.DeliveriesPerSec
	m.Deliveries = r.Delivered + r.ChurnDelivered
	m.P50, m.P99, m.P999 = r.Latency.P50, r.Latency.P99, r.Latency.P999
	m.Loss = r.LossRatio
	m.Errors = r.Errors

	pubStart := r.Start.Add(secs(r.Phases.Connect + r.Phases.Warmup))
	end := pubStart.Add(secs(r.Phases.Publish + r.Phases.Drain))
	c0, ok0 := tl.cpuAt(pubStart)
	c1, ok1 := tl.cpuAt(end)
	switch {
	case !r.Start.IsZero() && ok0 && ok1:
		m.CPUSeconds, m.Window = c1-c0, "publish+drain"
	case !before.At.IsZero() && !after.At.IsZero():
		m.CPUSeconds, m.Window = after.CPU-before.CPU, "whole loadtest"
	}
	if m.Deliveries > 0 && !math.IsNaN(m.CPUSeconds) {
		m.CPUPerMillion = m.CPUSeconds / float64(m.Deliveries) * 1e6
	}
	if m.Deliveries > 0 && r.ClientCPU > 0 {
		m.ClientCPUPerM = r.ClientCPU / float64(m.Deliveries) * 1e6
	}
	if rss, ok := tl.rssAt(pubStart); ok && m.Conns > 0 && !before.At.IsZero() && !r.Start.IsZero() {
		m.RSSPerConnKiB = float64(rss-before.RSS) / float64(m.Conns)
	}
	return m
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// headline is one row of the leading ratio table.
type headline struct {
	Metric   string
	Scenario string
	Better   string             // "higher" or "lower"
	Values   map[string]float64 // by server; missing or NaN = not measured
	// AtLeast marks servers whose value is a lower bound: every step they
	// ran passed, so the step list, not the server, set the ceiling.
	AtLeast map[string]bool
}

// ratio returns a/b, NaN when either is unknown or b is zero.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// headlines computes the leading table from runs: the fan-out ceilings
// (the best deliveries/s among fanout steps passing the whole gate, and
// among those passing its loss half), CPU per delivery, memory per
// connection and p99 from their scenarios.
func headlines(runs []*measurement) []headline {
	// pick returns each server's f over the runs of scenario whose step is
	// step or, for "", any step; several runs (rounds) give the median.
	pick := func(scenario, step string, f func(metrics) float64) map[string]float64 {
		all := map[string][]float64{}
		for _, r := range runs {
			if r.Scenario == scenario && r.Result != nil && (step == "" || r.Step == step || strings.HasPrefix(r.Step, step+" ")) {
				all[r.Server] = append(all[r.Server], f(r.M))
			}
		}
		v := map[string]float64{}
		for server, xs := range all {
			v[server] = median(xs)
		}
		return v
	}
	ceiling := func(scenario, metric string, pass func(metrics) bool) headline {
		h := headline{Metric: metric, Scenario: scenario, Better: "higher", Values: map[string]float64{}, AtLeast: map[string]bool{}}
		failed := map[string]bool{}
		for _, r := range runs {
			if r.Scenario != scenario {
				continue
			}
			if _, seen := h.Values[r.Server]; !seen {
				h.Values[r.Server] = math.NaN()
			}
			if r.Result == nil || !pass(r.M) {
				failed[r.Server] = true
				continue
			}
			if best := h.Values[r.Server]; math.IsNaN(best) || r.M.DeliveriesPerSec > best {
				h.Values[r.Server] = r.M.DeliveriesPerSec
			}
		}
		for server, v := range h.Values {
			h.AtLeast[server] = !failed[server] && !math.IsNaN(v)
		}
		return h
	}
	cpu := func(m metrics) float64 { return m.CPUPerMillion }
	// many-topics: one row per step, labelled as the step ran (--quick
	// divides its rates), the equal-load step first.
	var manyTopics []headline
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		label := "many-topics / " + r.Step
		if r.Scenario != "many-topics" || slices.ContainsFunc(manyTopics, func(h headline) bool { return h.Scenario == label }) {
			continue
		}
		manyTopics = append(manyTopics, headline{Metric: "Server CPU-s per million deliveries", Scenario: label, Better: "lower", Values: pick("many-topics", r.Step, cpu)})
	}
	slices.SortStableFunc(manyTopics, func(a, b headline) int { return cmp.Compare(stepRate(b.Scenario), stepRate(a.Scenario)) })
	hs := []headline{
		ceiling("ceiling", "Sustainable fan-out ceiling, deliveries/s", metrics.sustainable),
		ceiling("fanout", "Sustainable fan-out ceiling, deliveries/s", metrics.sustainable),
		ceiling("fanout", "Fan-out ceiling at loss ≤ 0.1% (any p99), deliveries/s", metrics.keepsUp),
		{Metric: "Server CPU-s per million deliveries (median of rounds)", Scenario: "one-per-conn", Better: "lower", Values: pick("one-per-conn", "", cpu)},
		{Metric: "Server CPU-s per million deliveries (median of rounds)", Scenario: "batched", Better: "lower", Values: pick("batched", "", cpu)},
	}
	hs = append(hs, manyTopics...)
	return append(hs, []headline{
		{Metric: "Server RSS per connection, KiB", Scenario: "idle", Better: "lower", Values: pick("idle", "", func(m metrics) float64 { return m.RSSPerConnKiB })},
		{Metric: "p99 latency, ms (median of rounds)", Scenario: "tail", Better: "lower", Values: pick("tail", "", func(m metrics) float64 { return m.P99 })},
		{Metric: "p99.9 latency, ms (median of rounds)", Scenario: "tail", Better: "lower", Values: pick("tail", "", func(m metrics) float64 { return m.P999 })},
		{Metric: "p99 latency, ms", Scenario: "fanout / rate=1", Better: "lower", Values: pick("fanout", "rate=1", func(m metrics) float64 { return m.P99 })},
		{Metric: "p99 latency, ms (median of rounds)", Scenario: "one-per-conn", Better: "lower", Values: pick("one-per-conn", "", func(m metrics) float64 { return m.P99 })},
		{Metric: "p99 latency, ms (median of rounds)", Scenario: "tail-remote / rate=1", Better: "lower", Values: pick("tail-remote", "rate=1", func(m metrics) float64 { return m.P99 })},
		{Metric: "p99 latency, ms (median of rounds)", Scenario: "tail-remote / rate=5", Better: "lower", Values: pick("tail-remote", "rate=5", func(m metrics) float64 { return m.P99 })},
	}...)
}

// stepRate returns the rate in a "… rate=R" label, 0 when there is none.
func stepRate(label string) float64 {
	_, r, ok := strings.Cut(label, "rate=")
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(r, 64)
	if err != nil {
		return 0
	}
	return v
}

// median returns the middle value of xs (the mean of the middle two for an
// even count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// formatRatio formats the ratio of a's value to b's, marked as a bound
// when either value is one: "≥" when only a's is, "≤" when only b's is, and
// n/a when both are.
func (h headline) formatRatio(a, b string) string {
	r := fmtRatio(ratio(h.value(a), h.value(b)))
	if r == "n/a" {
		return r
	}
	switch la, lb := h.AtLeast[a], h.AtLeast[b]; {
	case la && lb:
		return "n/a"
	case la:
		return "≥ " + r
	case lb:
		return "≤ " + r
	}
	return r
}

// value returns h's value for server, NaN when not measured.
func (h headline) value(server string) float64 {
	if v, ok := h.Values[server]; ok {
		return v
	}
	return math.NaN()
}

// machine describes the host of a run.
type machine struct {
	CPUs   int
	Model  string
	MemKiB int64
	Kernel string
	GoVer  string
}

// report is everything RESULTS.md shows.
type report struct {
	Date     time.Time
	Commit   string
	Dirty    bool
	Quick    bool
	Command  string // how the harness was invoked
	Machine  machine
	NATS     string // how NATS ran
	Build    []string
	Runs     []*measurement
	Selected []scenario
	Elapsed  time.Duration
	LoadAvg  [2]string // /proc/loadavg at start and end: other work on the machine
}

// fmtNum formats v with prec decimals, "n/a" when NaN.
func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// fmtRatio formats a ratio as "1.23×", "n/a" when unknown.
func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v)
}

// fmtBig formats a large figure with thousands separators.
func fmtBig(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// shellJoin renders argv as a copy-pasteable shell command.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,$") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// writeMarkdown renders rep as RESULTS.md.
func writeMarkdown(w io.Writer, rep report) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mode := "full"
	if rep.Quick {
		mode = "quick (every scenario shrunk ~10×: a smoke run, not a measurement)"
	}
	dirty := ""
	if rep.Dirty {
		dirty = " (working tree had uncommitted changes)"
	}
	p("## End-to-end results\n\n")
	p("Generated by `%s`; edits between the e2e markers are overwritten by the next run. Scenarios are explained in [scenarios.md](scenarios.md).\n\n", rep.Command)
	p("- Date: %s\n", rep.Date.UTC().Format("2006-01-02 15:04 UTC"))
	p("- Commit: %s%s\n", rep.Commit, dirty)
	p("- Machine: %d × %s, %.1f GiB RAM, %s, %s\n", rep.Machine.CPUs, rep.Machine.Model, float64(rep.Machine.MemKiB)/(1<<20), rep.Machine.Kernel, rep.Machine.GoVer)
	p("- Mode: %s; run took %s\n", mode, rep.Elapsed.Round(time.Second))
	p("- Load average (1/5/15 min) at start: %s; at end: %s\n", rep.LoadAvg[0], rep.LoadAvg[1])
	p("- NATS: %s\n", rep.NATS)
	p("- Load: `subhub loadtest` on the same %d cores as the server, at normal priority with read-time stamps except in tail-remote (`--kernel-timestamps --sched-idle`); the servers ran one at a time.\n\n", rep.Machine.CPUs)

	p("### Ratios measured in this run\n\n")
	p("subhub's figure divided by the other server's for the same scenario; whether a ratio above 1 is good depends on the Better column.\n\n")
	p("| Metric | Scenario | Better | subhub | naive | floor | subhub/naive | subhub/floor |\n")
	p("|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, h := range headlines(rep.Runs) {
		format := func(server string) string {
			v := h.value(server)
			if h.AtLeast == nil { // not a ceiling
				return fmtNum(v, 2)
			}
			if h.AtLeast[server] {
				return "≥ " + fmtBig(v)
			}
			return fmtBig(v)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", h.Metric, h.Scenario, h.Better,
			format(serverSubhub), format(serverNaive), format(serverFloor),
			h.formatRatio(serverSubhub, serverNaive), h.formatRatio(serverSubhub, serverFloor))
	}
	p("\nThe sustainable fan-out ceiling is the highest deliveries/s of a step of that scenario with loss ≤ %.1f%% and p99 ≤ %.0f ms (n/a: no step passed or the scenario did not run). ", gateMaxLoss*100, gateMaxP99Ms)
	p("≥ marks a server that passed every step it ran: the step list, not the server, set that figure. ")
	p("Steps go on past a p99 failure and stop at the first lossy step, because with 10,000 connections on one topic (fanout) a single message's fan-out can take more than %.0f ms of write() calls on two cores at any rate; the fanout ceiling by loss alone is its own row, and the ceiling scenario (2,000 connections) is where the p99 gate can pass.\n", gateMaxP99Ms)
	p("CPU is the server process's utime+stime from the first publish to the end of the drain (Client CPU: the load tool's own, same window, all its processes); RSS per connection is the growth of VmRSS from before the load tool started to the end of its warmup, over the established connections.\n\n")

	p("### Raw results\n\n")
	p("| Scenario | Server | Step | Conns | Deliveries/s | p50 ms | p99 ms | p99.9 ms | Loss | CPU-s | CPU-s/M deliveries | Client CPU-s/M | RSS KiB/conn | Errors | Note |\n")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rep.Runs {
		m := r.M
		loss := "n/a"
		if !math.IsNaN(m.Loss) {
			loss = fmt.Sprintf("%.4f%%", m.Loss*100)
		}
		note := r.Note
		if m.Window != "" && m.Window != "publish+drain" {
			note = strings.TrimPrefix(note+"; CPU over "+m.Window, "; ")
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			r.Scenario, r.Server, r.Step, fmtBig(float64(m.Conns)), fmtBig(m.DeliveriesPerSec),
			fmtNum(m.P50, 2), fmtNum(m.P99, 2), fmtNum(m.P999, 2), loss, fmtNum(m.CPUSeconds, 2),
			fmtNum(m.CPUPerMillion, 2), fmtNum(m.ClientCPUPerM, 2), fmtNum(m.RSSPerConnKiB, 1), m.Errors, strings.ReplaceAll(note, "|", "/"))
	}

	writeCPUBound(p, rep)

	p("\n### Scenarios\n\n")
	for _, s := range rep.Selected {
		p("- **%s**: %s.\n", s.Name, s.About)
	}

	p("\n### Reproduce\n\n")
	p("Build the binaries and start NATS once:\n\n```sh\n")
	for _, c := range rep.Build {
		p("%s\n", c)
	}
	p("```\n\nThen for each row start the server, run the load tool, stop the server (SIGTERM). `$PORT` is any free port.\n\n")
	for _, r := range rep.Runs {
		label := r.Scenario + " / " + r.Server
		if r.Step != "" {
			label += " / " + r.Step
		}
		p("%s:\n\n```sh\n%s &\n%s\n```\n\n", label, shellJoin(r.ServerCmd), shellJoin(r.LoadCmd))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// boundSteps are the fanout steps whose messages are far enough apart (one
// message's fan-out takes less than the gap to the next) that one message's
// fan-out can be timed on its own.
var boundSteps = []string{"rate=1", "rate=5", "rate=10"}

// tailTarget is the "10,000 connections on one topic" target: subhub's p99
// at most this times floor's.
const tailTarget = 0.6

// cpuBoundMs estimates the shortest time in which one message can reach all
// of m's connections when the load tool shares the machine: every delivery
// costs the server's and the client's CPU per delivery, and writers
// cannot finish before that work is done on all cores (allCores), nor a
// single writer before its own writes are (oneWriter). Both use
// whole-window averages, so they slightly overstate the busy-time cost.
func cpuBoundMs(m metrics, cores int) (allCores, oneWriter float64) {
	if cores < 1 || math.IsNaN(m.CPUPerMillion) || math.IsNaN(m.ClientCPUPerM) {
		return math.NaN(), math.NaN()
	}
	n := float64(m.Conns)
	// CPU-s per million deliveries = µs per delivery
	return n * (m.CPUPerMillion + m.ClientCPUPerM) / 1000 / float64(cores), n * m.CPUPerMillion / 1000
}

// writeCPUBound writes, for the fanout steps in boundSteps, each server's
// p99 beside the least its CPU figures allow, and whether "subhub's p99 ≤
// 0.6× floor's" is possible at all in this run.
func writeCPUBound(p func(string, ...any), rep report) {
	byStep := map[string]map[string]metrics{}
	for _, r := range rep.Runs {
		if r.Scenario == "fanout" && r.Result != nil && slices.Contains(boundSteps, r.Step) {
			if byStep[r.Step] == nil {
				byStep[r.Step] = map[string]metrics{}
			}
			byStep[r.Step][r.Server] = r.M
		}
	}
	if len(byStep) == 0 {
		return
	}
	cores := rep.Machine.CPUs
	p("\n### Fan-out latency the shared cores allow\n\n")
	p("With the load tool on the same %d cores, one message's fan-out is done no sooner than conns × (server + client CPU per delivery) ÷ %d (\"all cores\"), ", cores, cores)
	p("and a server that writes from one goroutine no sooner than conns × server CPU per delivery (\"one writer\"). Whole-window CPU averages, so both slightly overstate. ")
	p("The %.1f× floor target is out of reach in a step where subhub's all-cores figure is above %.1f× floor's measured p99.\n\n", tailTarget, tailTarget)
	p("| Step | Server | p99 ms | all cores, ms | one writer, ms | %.1f× floor p99, ms | subhub all cores ≤ that? |\n", tailTarget)
	p("|---|---|---:|---:|---:|---:|---|\n")
	for _, step := range boundSteps {
		servers := byStep[step]
		target := math.NaN()
		if f, ok := servers[serverFloor]; ok {
			target = tailTarget * f.P99
		}
		for _, server := range []string{serverSubhub, serverNaive, serverFloor} {
			m, ok := servers[server]
			if !ok {
				continue
			}
			all, one := cpuBoundMs(m, cores)
			verdict := ""
			if server == serverSubhub {
				switch {
				case math.IsNaN(all) || math.IsNaN(target):
					verdict = "n/a"
				case all <= target:
					verdict = "yes: reachable"
				default:
					verdict = "no: out of reach here"
				}
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", step, server, fmtNum(m.P99, 1), fmtNum(all, 1), fmtNum(one, 1), fmtNum(target, 1), verdict)
		}
	}
}

// Markers around the harness's part of RESULTS.md; the rest of the file
// belongs to whoever wrote it.
const (
	beginMarker = "<!-- e2e:begin: generated by go run ./benchmarks/e2e -->"
	endMarker   = "<!-- e2e:end -->"
)

// spliceReport returns existing with its marked e2e section replaced by
// section, or with section appended when there is none; an empty existing
// file gets a title first.
func spliceReport(existing []byte, section string) []byte {
	block := beginMarker + "\n" + strings.TrimRight(section, "\n") + "\n" + endMarker + "\n"
	s := string(existing)
	i := strings.Index(s, beginMarker)
	j := strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		return []byte(s[:i] + block + strings.TrimPrefix(s[j+len(endMarker):], "\n"))
	case strings.TrimSpace(s) == "":
		return []byte("# subhub benchmark results\n\n" + block)
	default:
		return []byte(strings.TrimRight(s, "\n") + "\n\n" + block)
	}
}
