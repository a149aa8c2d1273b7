package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Gate limits of a sustainable rate: a fan-out step within both is
// sustainable; a step losing more ends the search for the ceiling.
const (
	gateMaxLoss  = 0.001 // loss ratio
	gateMaxP99Ms = 100.0 // p99 latency in milliseconds
)

// sourceIPs spreads client sockets over loopback addresses, multiplying the
// ~28k ephemeral ports of one address.
const sourceIPs = "127.0.0.2-127.0.0.20"

// load is the shape of one `subhub loadtest` run. Zero fields are left to
// the load tool's defaults.
type load struct {
	Conns        int
	Ramp         float64 // connections per second
	SubsPerConn  int
	Topics       int
	Rate         float64 // messages per second over all topics
	PayloadBytes int
	Churn        float64 // subscribe+unsubscribe operations per second
	Duration     time.Duration
	Warmup       time.Duration
	Drain        time.Duration
	Workers      int
	SourceIPs    string
	// Remote makes the load tool a stand-in for clients on other machines:
	// kernel receive stamps and SCHED_IDLE (--kernel-timestamps
	// --sched-idle), so it neither counts its own lag as latency nor takes
	// cores from the server while it writes.
	Remote bool
}

// args returns the loadtest flags for l, without --url, --nats-url and
// --json.
func (l load) args() []string {
	var a []string
	add := func(name, v string) { a = append(a, "--"+name, v) }
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	add("conns", strconv.Itoa(l.Conns))
	if l.Ramp > 0 {
		add("ramp", num(l.Ramp))
	}
	if l.SubsPerConn > 0 {
		add("subs-per-conn", strconv.Itoa(l.SubsPerConn))
	}
	if l.Topics > 0 {
		add("topics", strconv.Itoa(l.Topics))
	}
	add("rate", num(l.Rate))
	if l.PayloadBytes > 0 {
		add("payload-bytes", strconv.Itoa(l.PayloadBytes))
	}
	if l.Churn > 0 {
		add("churn", num(l.Churn))
	}
	if l.Duration > 0 {
		add("duration", l.Duration.String())
	}
	if l.Warmup > 0 {
		add("warmup", l.Warmup.String())
	}
	if l.Drain > 0 {
		add("drain", l.Drain.String())
	}
	if l.Workers > 0 {
		add("workers", strconv.Itoa(l.Workers))
	}
	if l.SourceIPs != "" {
		add("source-ips", l.SourceIPs)
	}
	if l.Remote {
		a = append(a, "--kernel-timestamps", "--sched-idle")
	}
	return a
}

// budget is how long a run of l may take before the harness gives up on
// it: its phases plus slack for connecting and reporting.
func (l load) budget(slack time.Duration) time.Duration {
	return l.Warmup + l.Duration + l.Drain + slack
}

// scenario is one row group of RESULTS.md.
type scenario struct {
	Name  string
	About string // one line for the report
	Load  load
	// Rates, when set, replace Load.Rate with increasing steps that stop
	// after the first step failing the loss gate (the fan-out ceiling
	// search; the p99 gate is applied in the report).
	Rates []float64
	// Repeat, when above 1, runs the scenario that many times with the
	// servers interleaved (subhub, naive, floor, subhub, ...), so that a
	// noisy minute on the shared machine hits every server alike; the
	// headline takes each server's median.
	Repeat int
}

// job is one loadtest run of a scenario.
type job struct {
	Server string
	Load   load
	Step   string
}

// jobs returns s's runs in order: server by server through the steps, or,
// with Repeat, round after round through the servers.
func (s scenario) jobs(servers []string) []job {
	loads, labels := s.steps()
	var out []job
	if s.Repeat > 1 {
		for r := 1; r <= s.Repeat; r++ {
			for _, srv := range servers {
				for i, l := range loads {
					out = append(out, job{Server: srv, Load: l, Step: strings.TrimPrefix(labels[i]+" run="+strconv.Itoa(r), " ")})
				}
			}
		}
		return out
	}
	for _, srv := range servers {
		for i, l := range loads {
			out = append(out, job{Server: srv, Load: l, Step: labels[i]})
		}
	}
	return out
}

// steps returns the loads to run in order with their step labels.
func (s scenario) steps() ([]load, []string) {
	if len(s.Rates) == 0 {
		return []load{s.Load}, []string{""}
	}
	loads := make([]load, len(s.Rates))
	labels := make([]string, len(s.Rates))
	for i, r := range s.Rates {
		loads[i] = s.Load
		loads[i].Rate = r
		labels[i] = "rate=" + strconv.FormatFloat(r, 'f', -1, 64)
	}
	return loads, labels
}

// scenarios returns every scenario in run order; quick shrinks each about
// tenfold for a smoke run.
func scenarios(quick bool) []scenario {
	base := load{Warmup: time.Second, Drain: 2 * time.Second, Ramp: 5000}
	with := func(f func(*load)) load {
		l := base
		f(&l)
		return l
	}
	all := []scenario{
		{
			Name:  "idle",
			About: "15,000 connections, one subscription each over 100 topics, a 10 msg/s trickle: memory per connection",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Rate, l.Duration = 15000, 100, 10, 10*time.Second
				l.Workers, l.SourceIPs = 2, sourceIPs
			}),
		},
		{
			Name:  "fanout",
			About: "10,000 connections on 1 topic at increasing rates until loss > 0.1%: the deliveries/s ceiling, sustainable where p99 ≤ 100 ms too",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Duration, l.SourceIPs = 10000, 1, 10*time.Second, sourceIPs
			}),
			Rates: []float64{1, 5, 10, 20, 50, 100},
		},
		{
			Name:  "ceiling",
			About: "2,000 connections on 1 topic at increasing rates until loss > 0.1%: the same ceiling where one message's fan-out (~20 ms of write() calls) leaves room under the 100 ms p99 gate, which 10,000 connections do not on a slow day",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Duration = 2000, 1, 10*time.Second
			}),
			Rates: []float64{10, 25, 50, 100, 200, 400},
		},
		{
			Name:  "many-topics",
			About: "10,000 connections over 5,000 topics (2 subscribers each); rate=50000 gives every connection 10 msg/s, the same 100,000 deliveries/s as one-per-conn, for the CPU comparison with the one-topic case; rate=5000 is a tenth of that",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Duration, l.SourceIPs = 10000, 5000, 15*time.Second, sourceIPs
			}),
			Rates: []float64{5000, 50000},
		},
		{
			Name:  "churn",
			About: "10,000 connections over 100 topics at 200 msg/s while 1,000 subscribe/unsubscribe operations per second come and go",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Rate, l.Churn, l.Duration, l.SourceIPs = 10000, 100, 200, 1000, 15*time.Second, sourceIPs
			}),
		},
		{
			Name:  "one-per-conn",
			About: "10,000 connections on 1 topic at 10 msg/s: one frame per connection per message, CPU per delivery against the floor, three rounds with the servers interleaved",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Rate, l.Duration, l.SourceIPs = 10000, 1, 10, 20*time.Second, sourceIPs
			}),
			Repeat: 3,
		},
		{
			Name:  "batched",
			About: "1,000 connections each subscribed to the same 10 topics, 200 msg/s in total: frames for one connection can share a write, three rounds with the servers interleaved",
			Load: with(func(l *load) {
				l.Conns, l.SubsPerConn, l.Topics, l.Rate, l.Duration = 1000, 10, 10, 200, 20*time.Second
			}),
			Repeat: 3,
		},
		{
			Name:  "tail",
			About: "1,000 connections on 1 topic at 20 msg/s: latency tail at moderate load, three rounds with the servers interleaved",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Rate, l.Duration = 1000, 1, 20, 20*time.Second
			}),
			Repeat: 3,
		},
		{
			Name:  "tail-remote",
			About: "10,000 connections on 1 topic at 1 and 5 msg/s with the load tool standing in for remote clients (kernel receive stamps, SCHED_IDLE): one message's fan-out when the server's writers have the cores, three rounds with the servers interleaved",
			Load: with(func(l *load) {
				l.Conns, l.Topics, l.Duration, l.SourceIPs, l.Remote = 10000, 1, 10*time.Second, sourceIPs, true
			}),
			Rates:  []float64{1, 5},
			Repeat: 3,
		},
	}
	if quick {
		for i := range all {
			all[i] = all[i].shrink()
		}
	}
	return all
}

// shrink scales s down about tenfold: connections, topics (with their
// message rates, when there are many) so that each message still reaches as
// many subscribers, churn, the publishing phase and the rounds.
func (s scenario) shrink() scenario {
	if s.Load.Topics > 100 {
		rates := make([]float64, len(s.Rates))
		for i, r := range s.Rates {
			rates[i] = r / 10
		}
		s.Rates = rates
	}
	s.Load = s.Load.shrink()
	s.Repeat = min(s.Repeat, 2)
	return s
}

// shrink scales l down about tenfold; see scenario.shrink.
func (l load) shrink() load {
	l.Conns = max(l.Conns/10, 10)
	if l.Topics > 100 {
		// Keep subscribers per topic, and so the fan-out per message.
		l.Topics /= 10
		l.Rate /= 10
	}
	l.Topics = min(l.Topics, l.Conns*max(l.SubsPerConn, 1))
	l.Churn /= 10
	l.Duration = min(l.Duration, 3*time.Second)
	l.Drain = min(l.Drain, time.Second)
	return l
}

// selectScenarios returns the scenarios of all named in list (comma
// separated, in the order of all); an empty list selects all.
func selectScenarios(all []scenario, list string) ([]scenario, error) {
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []scenario
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("%w %q", errUnknownScenario, n)
	}
	return out, nil
}
