package loadtest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/internal/natsopt"
)

// Protocol names, as sent in Sec-WebSocket-Protocol.
const (
	ProtocolTransportWS = "graphql-transport-ws"
	ProtocolLegacyWS    = "graphql-ws"
)

// Topic distributions.
const (
	DistUniform = "uniform"
	DistZipf    = "zipf"
)

// Publishers.
const (
	PublishNATS = "nats"
	PublishHTTP = "http"
)

// DefaultQuery is the subscription template; {{topic}} is replaced by the topic name.
const DefaultQuery = `subscription { topic(name: "{{topic}}") }`

// Config is one load test. The zero value is not usable: start from
// DefaultConfig (or ParseFlags) and override fields. Run validates it.
type Config struct {
	// URLs are the WebSocket endpoints; connection i uses URLs[i%len(URLs)].
	URLs []string
	// Conns is the number of stable connections (> 0).
	Conns int
	// Ramp is the connection rate per second; zero means as fast as possible.
	Ramp float64
	// SubsPerConn is the number of subscriptions per stable connection. Default 1.
	SubsPerConn int
	// Topics is the number of topics <TopicPrefix>.0 .. <TopicPrefix>.<Topics-1>. Default 1.
	Topics int
	// TopicDist assigns subscriptions and messages to topics: DistUniform
	// (round robin) or DistZipf (s=1.1, deterministic with Seed).
	TopicDist string
	// TopicPrefix prefixes topic names. Default "lt".
	TopicPrefix string
	// Protocol is ProtocolTransportWS (default) or ProtocolLegacyWS.
	Protocol string
	// Query is the subscription template; {{topic}} is substituted. Default DefaultQuery.
	Query string
	// Seed makes the zipf assignment and the mask keys deterministic. Default 1.
	Seed int64

	// Rate is the total publish rate in messages per second (0 = publish nothing).
	Rate float64
	// PayloadBytes pads each message to about this many bytes. Zero means no padding.
	PayloadBytes int
	// Duration is the length of the publishing phase. Default 10s.
	Duration time.Duration
	// Warmup is the pause between "all subscribed" and the first publish. Default 1s.
	Warmup time.Duration
	// Drain is the wait for in-flight messages after publishing. Default 2s.
	Drain time.Duration
	// Publish is PublishNATS (default) or PublishHTTP.
	Publish string
	// NATSURL is the NATS server for PublishNATS. Default nats://127.0.0.1:4222.
	NATSURL string
	// NATSOptions authenticate and secure the PublishNATS connection
	// (nats.UserCredentials, nats.Secure and the like); ParseFlags builds
	// them from --nats-creds, --nats-nkey and --nats-tls-*.
	NATSOptions []nats.Option
	// PublishURL is the HTTP publish endpoint for PublishHTTP.
	PublishURL string
	// PublishToken is sent as "Authorization: Bearer <token>" when not empty.
	PublishToken string

	// Churn is the rate of subscribe and unsubscribe operations per second
	// on extra churn connections during publishing. Zero disables churn.
	Churn float64
	// ChurnConns is the number of extra connections used for churn. Zero means min(max(Churn/10,1),100).
	ChurnConns int

	// HandshakeTimeout bounds connect + upgrade + connection_ack. Default 10s.
	HandshakeTimeout time.Duration

	// Workers spawns this many child processes that hold the connections;
	// zero keeps all connections in this process.
	Workers int
	// Executable is the binary started for workers with "loadtest ..."
	// arguments. Empty means os.Executable().
	Executable string
	// WorkerIndex and WorkerCount are set in a worker child: it opens the
	// stable connections i with i%WorkerCount == WorkerIndex and never publishes.
	WorkerIndex, WorkerCount int

	// SourceIPs are local addresses bound round robin by client sockets.
	SourceIPs []net.IP
	// KernelTimestamps takes each message's receive time from the kernel
	// (SO_TIMESTAMPNS: when its segment reached the client socket) instead
	// of the clock after read(2) returns, so that latency leaves out how
	// long the load tool itself took to get to the socket.
	KernelTimestamps bool
	// SchedIdle runs every thread of the load tool (and of its workers)
	// under SCHED_IDLE for the rest of the process's life, so that it gets
	// only CPU time the server leaves unused: on a machine shared with the
	// server, a stand-in for clients on other machines. It requires
	// KernelTimestamps, since a starved load tool reads late.
	SchedIdle bool

	// JSONFile and HTMLFile, when set, receive the JSON and HTML reports (Main only).
	JSONFile, HTMLFile string

	// MaxLoss fails the run when the loss ratio exceeds it; negative disables.
	MaxLoss float64
	// MaxP99 fails the run when the p99 latency exceeds it; zero disables.
	MaxP99 time.Duration
	// MaxErrors fails the run when the error count exceeds it; negative disables.
	MaxErrors int64

	// Quiet suppresses the per-second progress line.
	Quiet bool
}

// DefaultConfig returns a Config with every default applied.
func DefaultConfig() Config {
	return Config{
		URLs:             []string{"ws://127.0.0.1:8080/graphql"},
		Conns:            100,
		SubsPerConn:      1,
		Topics:           1,
		TopicDist:        DistUniform,
		TopicPrefix:      "lt",
		Protocol:         ProtocolTransportWS,
		Query:            DefaultQuery,
		Seed:             1,
		Rate:             1000,
		Duration:         10 * time.Second,
		Warmup:           time.Second,
		Drain:            2 * time.Second,
		Publish:          PublishNATS,
		NATSURL:          "nats://127.0.0.1:4222",
		PublishURL:       "http://127.0.0.1:8080/publish",
		HandshakeTimeout: 10 * time.Second,
		MaxLoss:          -1,
		MaxErrors:        -1,
	}
}

type listFlag struct{ dst *[]string }

func (l listFlag) String() string {
	if l.dst == nil {
		return ""
	}
	return strings.Join(*l.dst, ",")
}

func (l listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.dst = append(*l.dst, p)
		}
	}
	return nil
}

func newFlagSet(cfg *Config, urls *[]string, srcIPs *string, natsAuth *natsopt.Flags) *flag.FlagSet {
	fs := flag.NewFlagSet("subhub loadtest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(listFlag{urls}, "url", "WebSocket URL, repeatable or comma-separated (default ws://127.0.0.1:8080/graphql)")
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "stable connections")
	fs.Float64Var(&cfg.Ramp, "ramp", cfg.Ramp, "connections per second (0 = as fast as possible)")
	fs.IntVar(&cfg.SubsPerConn, "subs-per-conn", cfg.SubsPerConn, "subscriptions per connection")
	fs.IntVar(&cfg.Topics, "topics", cfg.Topics, "number of topics")
	fs.StringVar(&cfg.TopicDist, "topic-dist", cfg.TopicDist, "topic distribution: uniform|zipf")
	fs.StringVar(&cfg.TopicPrefix, "topic-prefix", cfg.TopicPrefix, "topic prefix; topics are <prefix>.<i>")
	fs.StringVar(&cfg.Protocol, "protocol", cfg.Protocol, "graphql-transport-ws|graphql-ws")
	fs.StringVar(&cfg.Query, "query", cfg.Query, "subscription template, {{topic}} is substituted")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed for zipf and mask keys")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "messages per second over all topics")
	fs.IntVar(&cfg.PayloadBytes, "payload-bytes", cfg.PayloadBytes, "pad messages to about this many bytes")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "publishing phase")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "wait after all subscribed before publishing")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "wait for in-flight messages after publishing")
	fs.StringVar(&cfg.Publish, "publish", cfg.Publish, "publisher: nats|http")
	fs.StringVar(&cfg.NATSURL, "nats-url", cfg.NATSURL, "NATS server for --publish nats")
	natsAuth.Register(fs)
	fs.StringVar(&cfg.PublishURL, "publish-url", cfg.PublishURL, "endpoint for --publish http")
	fs.StringVar(&cfg.PublishToken, "publish-token", cfg.PublishToken, "bearer token for --publish http")
	fs.Float64Var(&cfg.Churn, "churn", cfg.Churn, "subscribe+unsubscribe operations per second on extra connections")
	fs.IntVar(&cfg.ChurnConns, "churn-conns", cfg.ChurnConns, "extra connections for churn (0 = min(max(churn/10,1),100))")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", cfg.HandshakeTimeout, "connect+upgrade+ack timeout")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "child processes holding the connections (0 = in process)")
	fs.IntVar(&cfg.WorkerIndex, "worker-index", cfg.WorkerIndex, "internal: index of this worker")
	fs.IntVar(&cfg.WorkerCount, "worker-count", cfg.WorkerCount, "internal: number of workers")
	fs.StringVar(srcIPs, "source-ips", *srcIPs, "bind client sockets to these addresses round robin, e.g. 127.0.0.2-127.0.0.40,127.1.0.1")
	fs.BoolVar(&cfg.KernelTimestamps, "kernel-timestamps", cfg.KernelTimestamps, "take receive times from the kernel (when a segment reached the socket), not from after read(2)")
	fs.BoolVar(&cfg.SchedIdle, "sched-idle", cfg.SchedIdle, "run the load tool under SCHED_IDLE, on CPU time the server leaves unused (needs --kernel-timestamps)")
	fs.StringVar(&cfg.JSONFile, "json", cfg.JSONFile, "write the full JSON report to this file")
	fs.StringVar(&cfg.HTMLFile, "html", cfg.HTMLFile, "write a self-contained HTML report to this file")
	fs.Float64Var(&cfg.MaxLoss, "max-loss", cfg.MaxLoss, "SLO: maximum loss ratio (negative = off)")
	fs.DurationVar(&cfg.MaxP99, "max-p99", cfg.MaxP99, "SLO: maximum p99 latency (0 = off)")
	fs.Int64Var(&cfg.MaxErrors, "max-errors", cfg.MaxErrors, "SLO: maximum errors (negative = off)")
	fs.BoolVar(&cfg.Quiet, "quiet", cfg.Quiet, "no per-second progress line")
	return fs
}

// Usage writes every flag with its default to w.
func Usage(w io.Writer) {
	cfg := DefaultConfig()
	var urls []string
	var src string
	fs := newFlagSet(&cfg, &urls, &src, &natsopt.Flags{})
	fs.SetOutput(w)
	fmt.Fprintln(w, "usage: subhub loadtest [flags]")
	fs.PrintDefaults()
}

// ParseFlags parses command-line arguments into a validated Config.
// It returns ErrHelp for -h/--help and an error wrapping ErrUsage otherwise.
func ParseFlags(args []string) (Config, error) {
	cfg := DefaultConfig()
	var urls []string
	var src string
	var natsAuth natsopt.Flags
	fs := newFlagSet(&cfg, &urls, &src, &natsAuth)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, ErrHelp
		}
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag " + rest
		}
		return cfg, fmt.Errorf("%w: %s", ErrUsage, msg)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if len(urls) > 0 {
		cfg.URLs = urls
	}
	natsOpts, err := natsAuth.Options()
	if err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	cfg.NATSOptions = natsOpts
	if src != "" {
		ips, err := ParseSourceIPs(src)
		if err != nil {
			return cfg, err
		}
		cfg.SourceIPs = ips
	}
	return cfg, cfg.Validate()
}

// ParseSourceIPs parses a comma-separated list of IPv4 addresses and
// inclusive ranges ("127.0.0.2-127.0.0.40").
func ParseSourceIPs(s string) ([]net.IP, error) {
	var out []net.IP
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a := net.ParseIP(strings.TrimSpace(lo)).To4()
		b := a
		if isRange {
			b = net.ParseIP(strings.TrimSpace(hi)).To4()
		}
		if a == nil || b == nil {
			return nil, fmt.Errorf("%w: --source-ips: bad IPv4 address or range %q", ErrUsage, part)
		}
		x, y := ip4ToU32(a), ip4ToU32(b)
		if y < x || y-x > 1<<16 {
			return nil, fmt.Errorf("%w: --source-ips: bad range %q", ErrUsage, part)
		}
		for v := x; ; v++ {
			out = append(out, net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4())
			if v == y {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: --source-ips: empty", ErrUsage)
	}
	return out, nil
}

func ip4ToU32(ip net.IP) uint32 {
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, a...)...)
}

// Validate checks every field; the error wraps ErrUsage and names the flag.
func (c *Config) Validate() error {
	switch {
	case len(c.URLs) == 0:
		return usageErr("--url is required")
	case c.Conns <= 0:
		return usageErr("--conns must be > 0")
	case c.Ramp < 0:
		return usageErr("--ramp must be >= 0")
	case c.SubsPerConn <= 0:
		return usageErr("--subs-per-conn must be > 0")
	case c.Topics <= 0:
		return usageErr("--topics must be > 0")
	case c.TopicDist != DistUniform && c.TopicDist != DistZipf:
		return usageErr("--topic-dist must be uniform or zipf")
	case c.TopicPrefix == "":
		return usageErr("--topic-prefix must not be empty")
	case c.Protocol != ProtocolTransportWS && c.Protocol != ProtocolLegacyWS:
		return usageErr("--protocol must be graphql-transport-ws or graphql-ws")
	case !strings.Contains(c.Query, "{{topic}}"):
		return usageErr("--query must contain {{topic}}")
	case c.Rate < 0:
		return usageErr("--rate must be >= 0")
	case c.PayloadBytes < 0 || c.PayloadBytes > 16<<20:
		return usageErr("--payload-bytes must be between 0 and 16777216")
	case c.Duration <= 0:
		return usageErr("--duration must be > 0")
	case c.Warmup < 0:
		return usageErr("--warmup must be >= 0")
	case c.Drain < 0:
		return usageErr("--drain must be >= 0")
	case c.Publish != PublishNATS && c.Publish != PublishHTTP:
		return usageErr("--publish must be nats or http")
	case c.Publish == PublishNATS && c.NATSURL == "":
		return usageErr("--nats-url is required with --publish nats")
	case c.Publish == PublishHTTP && c.PublishURL == "":
		return usageErr("--publish-url is required with --publish http")
	case c.Churn < 0:
		return usageErr("--churn must be >= 0")
	case c.ChurnConns < 0:
		return usageErr("--churn-conns must be >= 0")
	case c.HandshakeTimeout <= 0:
		return usageErr("--handshake-timeout must be > 0")
	case c.Workers < 0 || c.Workers > 64:
		return usageErr("--workers must be between 0 and 64")
	case c.WorkerCount < 0 || c.WorkerIndex < 0 || (c.WorkerCount > 0 && c.WorkerIndex >= c.WorkerCount):
		return usageErr("--worker-index must be in [0, --worker-count)")
	case c.Workers > 0 && c.WorkerCount > 0:
		return usageErr("--workers cannot be used inside a worker")
	case c.SchedIdle && !c.KernelTimestamps:
		return usageErr("--sched-idle needs --kernel-timestamps: an idle-priority load tool reads late, and read times would count its wait as latency")
	case c.MaxLoss > 1:
		return usageErr("--max-loss must be <= 1")
	case c.MaxP99 < 0:
		return usageErr("--max-p99 must be >= 0")
	}
	if c.Rate > 0 && float64(time.Second)/c.Rate < 1 {
		return usageErr("--rate must be <= 1e9")
	}
	perProc := c.Conns
	if c.Workers > 0 {
		perProc = (c.Conns + c.Workers - 1) / c.Workers
	}
	if perProc > 19500 {
		return usageErr("--conns %d needs more than 19500 sockets in one process (hard fd limit 20000); use --workers %d", c.Conns, (c.Conns+18999)/19000)
	}
	for _, u := range c.URLs {
		if _, err := parseTarget(u); err != nil {
			return err
		}
	}
	if c.Publish == PublishHTTP {
		if u, err := url.Parse(c.PublishURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return usageErr("--publish-url must be an http(s) URL")
		}
	}
	return nil
}

// target is a resolved WebSocket endpoint.
type target struct {
	addr    [4]byte
	port    int
	host    string // Host header
	path    string // request URI
	display string
}

func parseTarget(raw string) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		return nil, usageErr("--url %q must be a ws:// URL (wss is not supported)", raw)
	}
	host, portStr := u.Hostname(), u.Port()
	if portStr == "" {
		portStr = "80"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, usageErr("--url %q: bad port", raw)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, lerr := net.LookupIP(host)
		if lerr == nil {
			for _, a := range addrs {
				if a.To4() != nil {
					ip = a
					break
				}
			}
		}
	}
	if ip == nil || ip.To4() == nil {
		return nil, usageErr("--url %q: host must resolve to an IPv4 address", raw)
	}
	t := &target{port: port, host: u.Host, path: u.RequestURI(), display: raw}
	copy(t.addr[:], ip.To4())
	return t, nil
}

// workerArgs renders the flags a worker child needs to open its share.
func (c *Config) workerArgs(index int) []string {
	f := func(d time.Duration) string { return d.String() }
	args := []string{
		"--url", strings.Join(c.URLs, ","),
		"--conns", strconv.Itoa(c.Conns),
		"--ramp", strconv.FormatFloat(c.Ramp/float64(c.Workers), 'g', -1, 64),
		"--subs-per-conn", strconv.Itoa(c.SubsPerConn),
		"--topics", strconv.Itoa(c.Topics),
		"--topic-dist", c.TopicDist,
		"--topic-prefix", c.TopicPrefix,
		"--protocol", c.Protocol,
		"--query", c.Query,
		"--seed", strconv.FormatInt(c.Seed, 10),
		"--duration", f(c.Duration),
		"--handshake-timeout", f(c.HandshakeTimeout),
		"--worker-index", strconv.Itoa(index),
		"--worker-count", strconv.Itoa(c.Workers),
		"--quiet",
	}
	if len(c.SourceIPs) > 0 {
		ips := make([]string, len(c.SourceIPs))
		for i, ip := range c.SourceIPs {
			ips[i] = ip.String()
		}
		args = append(args, "--source-ips", strings.Join(ips, ","))
	}
	if c.KernelTimestamps {
		args = append(args, "--kernel-timestamps")
	}
	if c.SchedIdle {
		args = append(args, "--sched-idle")
	}
	return args
}
