package publish

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/wire"
)

const usage = `usage: subhub publish [flags] TOPIC [JSON]

Publishes JSON as an event on TOPIC (--count times), then, with --complete,
completes TOPIC. JSON may be omitted with --complete. JSON "-" reads the event
from standard input and "@FILE" from FILE (up to 64 MiB; the NATS server's
max_payload, 1 MiB by default, is the real bound). Every flag can also be
set by the environment variable SUBHUB_<FLAG> (e.g. SUBHUB_NATS_URL); flags win.

NATS authentication: user:password@ or token@ in --nats-url, a credentials
file (--nats-creds, operator mode) or an nkey seed file (--nats-nkey). TLS:
a tls:// URL, --nats-tls-ca for a server certificate from a private CA, and
--nats-tls-cert with --nats-tls-key for mutual TLS.

flags:
`

// flushTimeout bounds the final flush when ctx has no deadline.
const flushTimeout = 10 * time.Second

// Main runs the publish CLI with command-line args and returns the exit
// status: 0 on success, 2 for bad arguments (a one-line reason on stderr), 1
// when connecting or publishing fails. It reads SUBHUB_<FLAG> environment
// variables for flags not given.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, os.LookupEnv, os.Stdin, stdout, stderr)
}

// maxEventInput bounds an event read from standard input or a file: NATS
// refuses payloads above max_payload, which is at most 64 MiB.
const maxEventInput = 64 << 20

type cliConfig struct {
	natsURL  string
	natsAuth natsopt.Flags
	natsOpts []nats.Option // natsAuth's, checked by parseArgs
	opts     Options
	complete bool
	count    int
	topic    string
	event    []byte // nil with --complete only
}

func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, lookupEnv, stdin, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "subhub publish: %v (see subhub publish --help)\n", err)
		return 2
	}
	if err := publishCLI(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "subhub publish: %v\n", err)
		return 1
	}
	return 0
}

// parseArgs parses and validates the command line, reading the event from
// stdin or a file when the JSON argument says so; --help prints the usage to
// stdout and returns flag.ErrHelp.
func parseArgs(args []string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout io.Writer) (*cliConfig, error) {
	fs := flag.NewFlagSet("subhub publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := &cliConfig{}
	var serializer, envelope string
	fs.StringVar(&cfg.natsURL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma separated")
	cfg.natsAuth.Register(fs)
	fs.StringVar(&serializer, "serializer", "json", "message format: json or msgpack")
	fs.StringVar(&envelope, "envelope", "raw", "event framing: raw or hotchocolate")
	fs.StringVar(&cfg.opts.TopicPrefix, "topic-prefix", "", "HotChocolate SubscriptionOptions.TopicPrefix (hotchocolate envelope)")
	fs.StringVar(&cfg.opts.SubjectPrefix, "subject-prefix", "", "prefix every subject with `P.`")
	fs.BoolVar(&cfg.complete, "complete", false, "complete TOPIC after publishing")
	fs.IntVar(&cfg.count, "count", 1, "publish the event `N` times")

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SUBHUB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookupEnv(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("environment %s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return nil, err
	}

	var err error
	if cfg.natsOpts, err = cfg.natsAuth.Options(); err != nil {
		return nil, err
	}
	if cfg.opts.Serializer, err = wire.ParseSerializer(serializer); err != nil {
		return nil, fmt.Errorf("--serializer: %w", err)
	}
	if cfg.opts.Envelope, err = wire.ParseEnvelope(envelope); err != nil {
		return nil, fmt.Errorf("--envelope: %w", err)
	}
	if cfg.count < 1 {
		return nil, fmt.Errorf("--count must be at least 1, have %d", cfg.count)
	}
	switch pos := fs.Args(); {
	case len(pos) == 0:
		return nil, errors.New("missing TOPIC")
	case len(pos) == 1 && !cfg.complete:
		return nil, errors.New("missing JSON event (or --complete)")
	case len(pos) > 2:
		return nil, fmt.Errorf("too many arguments: want TOPIC [JSON], have %d arguments", len(pos))
	default:
		cfg.topic = pos[0]
		if len(pos) == 2 {
			if cfg.event, err = eventArg(pos[1], stdin, maxEventInput); err != nil {
				return nil, err
			}
		}
	}
	if _, err := cfg.opts.subject(cfg.topic); err != nil {
		return nil, err
	}
	if cfg.event != nil {
		if _, err := cfg.opts.appendEvent(nil, cfg.event); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// publishCLI connects, publishes and flushes.
func publishCLI(ctx context.Context, cfg *cliConfig, stdout io.Writer) error {
	nc, err := nats.Connect(cfg.natsURL, append(cfg.natsOpts, nats.Name("subhub publish"), nats.Timeout(5*time.Second))...)
	if err != nil {
		return fmt.Errorf("connect %s: %w", RedactURLs(cfg.natsURL), err)
	}
	defer nc.Close()
	p := New(nc, cfg.opts)
	subject, _ := cfg.opts.subject(cfg.topic) // validated by parseArgs
	published := 0
	if cfg.event != nil {
		for ; published < cfg.count; published++ {
			if err := p.PublishRaw(ctx, cfg.topic, cfg.event); err != nil {
				return err
			}
		}
	}
	if cfg.complete {
		if err := p.Complete(ctx, cfg.topic); err != nil {
			return err
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := nc.LastError(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %d event(s) on %s", published, subject)
	if cfg.complete {
		fmt.Fprint(stdout, ", then completed it")
	}
	fmt.Fprintln(stdout)
	return nil
}

// RedactURLs joins NATS server URLs (each may be a comma-separated list) for
// a message, with every password replaced by "xxxxx" as nats.go's
// ConnectedUrlRedacted does.
func RedactURLs(urls ...string) string {
	var out []string
	for _, list := range urls {
		for _, s := range strings.Split(list, ",") {
			if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.User != nil {
				if _, ok := u.User.Password(); ok {
					u.User = url.UserPassword(u.User.Username(), "xxxxx")
					s = u.String()
				}
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

// eventArg returns the event the JSON argument gives: arg itself, standard
// input for "-", or the contents of FILE for "@FILE", at most limit bytes.
// Neither "-" nor a text starting with "@" is JSON, so no event is mistaken
// for either.
func eventArg(arg string, stdin io.Reader, limit int) ([]byte, error) {
	var (
		r    io.Reader
		name string
	)
	switch {
	case arg == "-":
		r, name = stdin, "standard input"
	case strings.HasPrefix(arg, "@"):
		f, err := os.Open(arg[1:])
		if err != nil {
			return nil, fmt.Errorf("event file: %w", err)
		}
		defer f.Close()
		r, name = f, arg[1:]
	default:
		return []byte(arg), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read event from %s: %w", name, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("event from %s is larger than %d bytes", name, limit)
	}
	return b, nil
}
