package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is the outcome of one Run. Latencies are in milliseconds; counts
// cover stable subscriptions unless the name says churn.
type Result struct {
	Start       time.Time     `json:"start"`
	Interrupted bool          `json:"interrupted,omitempty"` // ctx ended during publishing or drain: figures are partial
	Elapsed     float64       `json:"elapsed_s"`
	Config      ResultConfig  `json:"config"`
	Phases      PhaseDuration `json:"phases_s"`

	Connections            int64   `json:"connections"`             // stable connections asked for
	ConnectionsEstablished int64   `json:"connections_established"` // reached connection_ack (stable and churn)
	ConnectionsOpen        int64   `json:"connections_open"`        // still open at the end
	Subscriptions          int64   `json:"subscriptions"`           // stable subscriptions sent
	Published              int64   `json:"published"`
	PublishErrors          int64   `json:"publish_errors"`
	Expected               int64   `json:"expected"`   // Σ over stable subscriptions of messages published on its topic
	Delivered              int64   `json:"delivered"`  // deliveries to stable subscriptions, duplicates included
	Unique                 int64   `json:"unique"`     // distinct seqs delivered to stable subscriptions
	Lost                   int64   `json:"lost"`       // Expected - Unique
	Duplicates             int64   `json:"duplicates"` // seq already delivered to that subscription
	OutOfOrder             int64   `json:"out_of_order"`
	Late                   int64   `json:"late"` // more than 1024 seqs behind the highest: neither unique nor duplicate
	LossRatio              float64 `json:"loss_ratio"`
	DeliveriesPerSec       float64 `json:"deliveries_per_s"` // all deliveries (stable and churn) over the publishing phase
	ChurnOps               int64   `json:"churn_ops"`
	ChurnDelivered         int64   `json:"churn_delivered"`
	// KernelTimestamps says receive times came from the kernel's stamps
	// (--kernel-timestamps); Unstamped counts the deliveries whose read
	// carried none and that were timed by the clock after read(2) instead.
	KernelTimestamps bool  `json:"kernel_timestamps"`
	Unstamped        int64 `json:"unstamped_deliveries"`

	Latency     LatencyStats      `json:"latency_ms"`
	Percentiles []PercentilePoint `json:"percentiles"`
	// Histogram is the whole latency histogram in microseconds, HdrHistogram
	// V2 compressed and base64 encoded (hdrhistogram.Decode reads it), so
	// runs can be merged.
	Histogram string `json:"histogram"`

	ConnectErrors  map[string]int64 `json:"connect_errors"`
	Closes         map[string]int64 `json:"closes"` // by WebSocket close code; 1006 = closed without a close frame
	ProtocolErrors map[string]int64 `json:"protocol_errors"`
	Errors         int64            `json:"errors"` // connect errors + closes + protocol errors + publish errors

	RSSBytes   int64   `json:"rss_bytes"`    // at the end, summed over the processes that hold connections
	RSSPerConn float64 `json:"rss_per_conn"` // RSS growth while connecting / ConnectionsEstablished
	// ClientCPU is the load tool's own CPU time (user+system, all processes)
	// from the start of publishing to the end of the drain: on a machine it
	// shares with the server, what the client's reading costs.
	ClientCPU float64 `json:"client_cpu_s"`

	Series []Point `json:"series"`
	// PerTopic breaks loss down by topic (only with at most maxPerTopic topics).
	PerTopic []TopicResult `json:"per_topic,omitempty"`

	hist *hdrhistogram.Histogram
}

// ResultConfig echoes the parameters that shape the figures.
type ResultConfig struct {
	URLs         []string `json:"urls"`
	Conns        int      `json:"conns"`
	SubsPerConn  int      `json:"subs_per_conn"`
	Topics       int      `json:"topics"`
	TopicDist    string   `json:"topic_dist"`
	Protocol     string   `json:"protocol"`
	Rate         float64  `json:"rate"`
	PayloadBytes int      `json:"payload_bytes"`
	Duration     float64  `json:"duration_s"`
	Churn        float64  `json:"churn"`
	Workers      int      `json:"workers"`
	Publish      string   `json:"publish"`
}

// PhaseDuration is how long each phase took, in seconds.
type PhaseDuration struct {
	Connect float64 `json:"connect"`
	Warmup  float64 `json:"warmup"`
	Publish float64 `json:"publish"`
	Drain   float64 `json:"drain"`
}

// LatencyStats summarises receive time minus scheduled send time.
type LatencyStats struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// PercentilePoint is one point of the latency distribution.
type PercentilePoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// maxPerTopic bounds the per-topic breakdown in Result.
const maxPerTopic = 10000

// TopicResult is the accounting of one topic's stable subscriptions.
type TopicResult struct {
	Topic         string `json:"topic"`
	Subscriptions int64  `json:"subscriptions"`
	Published     int64  `json:"published"`
	Expected      int64  `json:"expected"`
	Unique        int64  `json:"unique"`
	Lost          int64  `json:"lost"`
}

// Point is one second of the run.
type Point struct {
	T        float64 `json:"t"`     // seconds since start
	Phase    string  `json:"phase"` // connect, warmup, publish, drain
	ConnsUp  int64   `json:"conns_up"`
	Sent     int64   `json:"sent_per_s"`
	Received int64   `json:"received_per_s"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Errors   int64   `json:"errors"` // cumulative
}

func usToMs(v int64) float64 { return float64(v) / 1000 }

func latencyStats(h *hdrhistogram.Histogram) LatencyStats {
	if h.TotalCount() == 0 {
		return LatencyStats{}
	}
	return LatencyStats{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   usToMs(h.ValueAtQuantile(50)),
		P90:   usToMs(h.ValueAtQuantile(90)),
		P99:   usToMs(h.ValueAtQuantile(99)),
		P999:  usToMs(h.ValueAtQuantile(99.9)),
		Max:   usToMs(h.Max()),
	}
}

func percentiles(h *hdrhistogram.Histogram) []PercentilePoint {
	if h.TotalCount() == 0 {
		return nil
	}
	var out []PercentilePoint
	for _, q := range []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.25, 97.5, 98.75, 99, 99.375, 99.5, 99.75, 99.9, 99.95, 99.99, 99.999, 100} {
		out = append(out, PercentilePoint{Percentile: q, Ms: usToMs(h.ValueAtQuantile(q))})
	}
	return out
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func mapString(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, m[k])
	}
	return b.String()
}

// WriteText writes the final report table.
func (r *Result) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	if r.Interrupted {
		row("INTERRUPTED", "publishing or drain was cut short; figures are partial")
	}
	row("connections", "%d established / %d asked, %d open at end", r.ConnectionsEstablished, r.Connections, r.ConnectionsOpen)
	row("subscriptions", "%d", r.Subscriptions)
	row("published", "%d (%d errors) in %.2fs", r.Published, r.PublishErrors, r.Phases.Publish)
	row("expected deliveries", "%d", r.Expected)
	row("delivered", "%d (%d unique)", r.Delivered, r.Unique)
	row("lost", "%d", r.Lost)
	row("duplicates", "%d", r.Duplicates)
	row("out-of-order", "%d", r.OutOfOrder)
	if r.Late > 0 {
		row("late (>1024 behind)", "%d", r.Late)
	}
	row("loss ratio", "%.6f", r.LossRatio)
	row("deliveries/s", "%.0f", r.DeliveriesPerSec)
	if r.ChurnOps > 0 {
		row("churn", "%d ops, %d deliveries", r.ChurnOps, r.ChurnDelivered)
	}
	if r.KernelTimestamps {
		row("receive times", "kernel stamps; %d deliveries had none and were timed by the clock", r.Unstamped)
	}
	l := r.Latency
	row("latency ms", "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%d)", l.P50, l.P90, l.P99, l.P999, l.Max, l.Count)
	row("connect errors", "%s", mapString(r.ConnectErrors))
	row("closes by code", "%s", mapString(r.Closes))
	row("protocol errors", "%s", mapString(r.ProtocolErrors))
	row("errors", "%d", r.Errors)
	if r.RSSBytes > 0 {
		row("client RSS", "%.1f MiB (+%.0f B per connection)", float64(r.RSSBytes)/(1<<20), r.RSSPerConn)
	}
	row("client CPU", "%s", r.clientCPUText())
	tw.Flush()
}

// clientCPUText is the load tool's CPU in the publishing and drain phases,
// in total and per delivery.
func (r *Result) clientCPUText() string {
	n := r.Delivered + r.ChurnDelivered
	if n == 0 {
		return fmt.Sprintf("%.2f s", r.ClientCPU)
	}
	return fmt.Sprintf("%.2f s (%.2f µs per delivery)", r.ClientCPU, r.ClientCPU/float64(n)*1e6)
}

// Check returns one message per violated SLO gate of cfg; nil means pass.
// A loss or latency gate fails a publishing run that expected no delivery
// at all (no connection came up, or no message was accepted): such a run
// measured nothing, so it cannot pass them.
func (r *Result) Check(cfg Config) []string {
	var out []string
	if (cfg.MaxLoss >= 0 || cfg.MaxP99 > 0) && cfg.Rate > 0 && r.Expected == 0 {
		out = append(out, fmt.Sprintf("nothing measured: no delivery expected (%d of %d connections established, %d subscriptions, %d published, %d publish errors)",
			r.ConnectionsEstablished, r.Connections, r.Subscriptions, r.Published, r.PublishErrors))
	}
	if cfg.MaxLoss >= 0 && r.LossRatio > cfg.MaxLoss {
		out = append(out, fmt.Sprintf("--max-loss %g: loss ratio %.6f (%d of %d lost)", cfg.MaxLoss, r.LossRatio, r.Lost, r.Expected))
	}
	if cfg.MaxP99 > 0 && time.Duration(r.Latency.P99*float64(time.Millisecond)) > cfg.MaxP99 {
		out = append(out, fmt.Sprintf("--max-p99 %s: p99 %.3fms", cfg.MaxP99, r.Latency.P99))
	}
	if cfg.MaxErrors >= 0 && r.Errors > cfg.MaxErrors {
		out = append(out, fmt.Sprintf("--max-errors %d: %d errors", cfg.MaxErrors, r.Errors))
	}
	return out
}
