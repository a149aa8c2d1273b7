package loadtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

// Run executes one load test: connect and subscribe (in this process or in
// cfg.Workers children), wait cfg.Warmup, publish for cfg.Duration (with
// churn when configured), wait cfg.Drain, and account. A progress line is
// written to progress every second unless cfg.Quiet or progress is nil.
// Run must not be called with WorkerCount set; workers run through Main.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.WorkerCount > 0 {
		return nil, usageErr("--worker-index/--worker-count are for worker processes started by --workers")
	}
	if cfg.SchedIdle {
		if err := setSchedIdle(); err != nil {
			return nil, err
		}
	}
	if cfg.Quiet {
		progress = nil
	}
	ts := newTopicSet(&cfg)
	pub, err := newPublisher(&cfg, ts)
	if err != nil {
		return nil, err
	}
	defer pub.close()

	e, err := newEngine(&cfg, ts, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	defer e.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var workers []*worker
	var stable []int
	if cfg.Workers > 0 {
		// Children outlive ctx so that an interrupted run still collects
		// their results; the deferred kill ends them on every return path.
		workers, err = startWorkers(context.WithoutCancel(ctx), &cfg)
		if err != nil {
			return nil, err
		}
		defer func() {
			for _, w := range workers {
				w.kill()
			}
		}()
	} else {
		stable = make([]int, cfg.Conns)
		for i := range stable {
			stable[i] = i
		}
	}
	nChurn := 0
	if cfg.Churn > 0 {
		nChurn = cfg.ChurnConns
		if nChurn == 0 {
			nChurn = min(max(int(cfg.Churn/10), 1), 100)
		}
	}
	e.planned.Store(int64(len(stable) + nChurn))
	go e.dialAll(ctx, stable, nChurn)

	r := &Result{
		Start: time.Now(), Connections: int64(cfg.Conns),
		Config: ResultConfig{
			URLs: cfg.URLs, Conns: cfg.Conns, SubsPerConn: cfg.SubsPerConn, Topics: cfg.Topics,
			TopicDist: cfg.TopicDist, Protocol: cfg.Protocol, Rate: cfg.Rate, PayloadBytes: cfg.PayloadBytes,
			Duration: cfg.Duration.Seconds(), Churn: cfg.Churn, Workers: cfg.Workers, Publish: cfg.Publish,
		},
	}
	mon := &monitor{r: r, e: e, pub: pub, workers: workers, out: progress, target: int64(cfg.Conns + nChurn), phase: "connect", total: newHist()}
	monDone := make(chan struct{})
	monStop := make(chan struct{})
	go func() { defer close(monDone); mon.run(monStop) }()
	stopMon := sync.OnceFunc(func() { close(monStop); <-monDone })
	defer stopMon()

	// Phase 1: every connection subscribed (or failed).
	t0 := time.Now()
	poll := time.NewTicker(10 * time.Millisecond)
	for !allSettled(e, workers) {
		select {
		case <-ctx.Done():
			poll.Stop()
			return nil, ctx.Err()
		case <-poll.C:
		}
		for _, w := range workers {
			if err := w.failed(); err != nil {
				poll.Stop()
				return nil, err
			}
		}
	}
	poll.Stop()
	r.Phases.Connect = time.Since(t0).Seconds()
	rssConns := readRSS() - e.rssBase

	// Phase 2: warmup.
	mon.setPhase("warmup")
	if !sleepCtx(ctx, cfg.Warmup) {
		return nil, ctx.Err()
	}
	r.Phases.Warmup = cfg.Warmup.Seconds()

	// Phase 3: publish (and churn).
	mon.setPhase("publish")
	pubStart := time.Now()
	cpuStart := processCPU()
	for _, w := range workers {
		w.publishing()
	}
	churnStop := make(chan struct{})
	churnDone := make(chan int64, 1)
	go func() { churnDone <- runChurn(e, cfg.Churn, pubStart, cfg.Duration, churnStop) }()
	pub.run(ctx, pubStart, cfg.Duration)
	r.Phases.Publish = time.Since(pubStart).Seconds()
	close(churnStop)
	r.ChurnOps = <-churnDone

	// Phase 4: drain. An interrupt from here on still yields a report.
	mon.setPhase("drain")
	tDrain := time.Now()
	r.Interrupted = ctx.Err() != nil || !sleepCtx(ctx, cfg.Drain)
	r.Phases.Drain = time.Since(tDrain).Seconds()
	stopMon()

	// Accounting.
	total := e.collect()
	total.CPU = processCPU() - cpuStart
	if len(workers) == 0 {
		total.RSS, total.RSSConns = readRSS(), rssConns
	}
	for _, w := range workers {
		w.stop()
	}
	for _, w := range workers {
		t, err := w.finish(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		if err := total.merge(t); err != nil {
			return nil, err
		}
	}
	r.finish(total, pub)
	r.KernelTimestamps = cfg.KernelTimestamps
	r.Elapsed = time.Since(r.Start).Seconds()
	return r, nil
}

func allSettled(e *engine, workers []*worker) bool {
	if e.settled.Load() < e.planned.Load() {
		return false
	}
	for _, w := range workers {
		if !w.isSubscribed() {
			return false
		}
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runChurn performs rate churn operations per second, on the schedule from
// start to start+d (or until stop closes), and returns how many were sent.
func runChurn(e *engine, rate float64, start time.Time, d time.Duration, stop <-chan struct{}) int64 {
	if rate <= 0 {
		return 0
	}
	var ops int64
	interval := float64(time.Second) / rate
	for n := uint64(0); ; n++ {
		off := time.Duration(float64(n) * interval)
		if off >= d {
			return ops
		}
		if wait := time.Until(start.Add(off)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-stop:
				t.Stop()
				return ops
			case <-t.C:
			}
		} else {
			select {
			case <-stop:
				return ops
			default:
			}
		}
		if e.churnOp(n) {
			ops++
		}
	}
}

func (t *tally) merge(o *tally) error {
	t.Planned += o.Planned
	t.EverUp += o.EverUp
	t.Up += o.Up
	t.Subs += o.Subs
	t.Delivered += o.Delivered
	t.ChurnDelivered += o.ChurnDelivered
	t.Unstamped += o.Unstamped
	t.Unique += o.Unique
	t.Duplicates += o.Duplicates
	t.OutOfOrder += o.OutOfOrder
	t.Late += o.Late
	t.RSS += o.RSS
	t.RSSConns += o.RSSConns
	t.CPU += o.CPU
	if len(o.TopicSubs) != len(t.TopicSubs) || len(o.TopicUnique) != len(t.TopicUnique) {
		return fmt.Errorf("%w: result has %d topics, want %d", ErrWorker, len(o.TopicSubs), len(t.TopicSubs))
	}
	for i := range o.TopicSubs {
		t.TopicSubs[i] += o.TopicSubs[i]
		t.TopicUnique[i] += o.TopicUnique[i]
	}
	addMap(t.ConnectErrors, o.ConnectErrors)
	addMap(t.Closes, o.Closes)
	addMap(t.ProtoErrors, o.ProtoErrors)
	h, err := decodeHist(o.Hist)
	if err != nil {
		return err
	}
	t.hist.Merge(h)
	return nil
}

func decodeHist(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return newHist(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: histogram: %w", ErrWorker, err)
	}
	return h, nil
}

func encodeHist(h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return ""
	}
	return string(b)
}

func (r *Result) finish(t *tally, pub *publisher) {
	r.ConnectionsEstablished = t.EverUp
	r.ConnectionsOpen = t.Up
	r.Subscriptions = t.Subs
	r.Published = pub.sent.Load()
	r.PublishErrors = pub.errs.Load()
	for i := range t.TopicSubs {
		n := pub.counts[i].Load()
		r.Expected += t.TopicSubs[i] * n
		if len(t.TopicSubs) <= maxPerTopic {
			exp := t.TopicSubs[i] * n
			r.PerTopic = append(r.PerTopic, TopicResult{
				Topic: pub.topics.names[i], Subscriptions: t.TopicSubs[i], Published: n,
				Expected: exp, Unique: t.TopicUnique[i], Lost: max(exp-t.TopicUnique[i], 0),
			})
		}
	}
	r.Delivered, r.Unique = t.Delivered, t.Unique
	r.Duplicates, r.OutOfOrder, r.Late = t.Duplicates, t.OutOfOrder, t.Late
	r.ChurnDelivered = t.ChurnDelivered
	r.Unstamped = t.Unstamped
	r.Lost = max(r.Expected-r.Unique, 0)
	if r.Expected > 0 {
		r.LossRatio = float64(r.Lost) / float64(r.Expected)
	}
	if r.Phases.Publish > 0 {
		r.DeliveriesPerSec = float64(r.Delivered+r.ChurnDelivered) / r.Phases.Publish
	}
	r.hist = t.hist
	r.Histogram = encodeHist(t.hist)
	r.Latency = latencyStats(t.hist)
	r.Percentiles = percentiles(t.hist)
	r.ConnectErrors, r.Closes, r.ProtocolErrors = t.ConnectErrors, t.Closes, t.ProtoErrors
	r.Errors = r.PublishErrors
	for _, m := range []map[string]int64{r.ConnectErrors, r.Closes, r.ProtocolErrors} {
		for _, v := range m {
			r.Errors += v
		}
	}
	r.RSSBytes = t.RSS
	r.ClientCPU = t.CPU.Seconds()
	if t.EverUp > 0 {
		r.RSSPerConn = float64(t.RSSConns) / float64(t.EverUp)
	}
}

// processCPU returns the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readRSS returns this process's resident set size in bytes (0 if unknown).
func readRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(ln, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// monitor samples the run every second, appends to r.Series and prints the progress line.
type monitor struct {
	mu       sync.Mutex
	r        *Result
	e        *engine
	pub      *publisher
	workers  []*worker
	out      io.Writer
	target   int64
	phase    string
	total    *hdrhistogram.Histogram // every latency so far, for the progress line
	lastSent int64
	lastRecv int64
}

func (m *monitor) setPhase(p string) {
	m.mu.Lock()
	m.phase = p
	m.mu.Unlock()
}

func (m *monitor) run(stop <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			m.sample(time.Since(start))
			return
		case <-tick.C:
			m.sample(time.Since(start))
		}
	}
}

func (m *monitor) sample(elapsed time.Duration) {
	s := m.e.snapshot()
	for _, w := range m.workers {
		ws := w.take()
		s.Up += ws.Up
		s.Delivered += ws.Delivered
		s.Churn += ws.Churn
		s.Errors += ws.Errors
		if ws.ivl != nil {
			s.ivl.Merge(ws.ivl)
		}
	}
	sent := m.pub.sent.Load()
	recv := s.Delivered + s.Churn
	m.mu.Lock()
	defer m.mu.Unlock()
	secs := elapsed.Seconds()
	dt := secs
	if n := len(m.r.Series); n > 0 {
		dt = secs - m.r.Series[n-1].T
	}
	if dt <= 0 {
		dt = 1
	}
	p := Point{
		T: secs, Phase: m.phase, ConnsUp: s.Up,
		Sent:     int64(float64(sent-m.lastSent)/dt + 0.5),
		Received: int64(float64(recv-m.lastRecv)/dt + 0.5),
		P50:      usToMs(s.ivl.ValueAtQuantile(50)),
		P99:      usToMs(s.ivl.ValueAtQuantile(99)),
		Errors:   s.Errors + m.pub.errs.Load(),
	}
	m.lastSent, m.lastRecv = sent, recv
	m.r.Series = append(m.r.Series, p)
	m.total.Merge(s.ivl)
	if m.out != nil {
		fmt.Fprintf(m.out, "subhub loadtest %5.0fs %-7s conns %d/%d  sent %d/s  recv %d/s  p50 %.2fms  p99 %.2fms (last 1s p99 %.2fms)  errors %d\n",
			secs, m.phase, p.ConnsUp, m.target, p.Sent, p.Received,
			usToMs(m.total.ValueAtQuantile(50)), usToMs(m.total.ValueAtQuantile(99)), p.P99, p.Errors)
	}
}
