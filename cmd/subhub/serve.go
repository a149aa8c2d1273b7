package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/subhub/subhub/hub"
	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/internal/natsopt"
	"github.com/subhub/subhub/wire"
)

// defaultGCPercent is the GC target of `subhub serve` unless GOGC is set.
const defaultGCPercent = 25

// serveConfig holds the serve command's flags.
type serveConfig struct {
	opts          hub.Options
	natsURL       string
	embeddedNATS  string
	logLevel      string
	schemaPath    string
	serializer    string
	envelope      string
	shutdownGrace time.Duration
	pprofListen   string
	jwtSecret     string
	jwtPublicKey  string
	jwtLeeway     time.Duration
	origins       string
	natsAuth      natsopt.Flags
}

// minJWKSRefresh is the shortest --jwt-jwks-refresh: every node fetches
// the identity provider's JWKS that often.
const minJWKSRefresh = 10 * time.Second

// newServeFlags declares every serve flag; each can also be set through
// the environment as SUBHUB_<FLAG> (dashes become underscores), and a flag
// on the command line wins over the environment.
func newServeFlags(cfg *serveConfig, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("subhub serve", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &cfg.opts
	fs.StringVar(&o.Listen, "listen", ":8080", "address for WebSocket, SSE and HTTP endpoints")
	fs.StringVar(&o.Path, "path", "/graphql", "GraphQL endpoint path")
	fs.StringVar(&cfg.natsURL, "nats-url", "", "NATS server(s) to join, comma-separated; empty starts an embedded NATS server")
	cfg.natsAuth.Register(fs)
	fs.StringVar(&cfg.embeddedNATS, "embedded-nats-listen", "127.0.0.1:4222", "listen address of the embedded NATS server (used when --nats-url is empty)")
	fs.IntVar(&o.NATSPool, "nats-pool", 1, "number of NATS connections; a subject always uses the same one")
	fs.DurationVar(&o.NATSPingInterval, "nats-ping-interval", 2*time.Second, "ping NATS this often; a server that leaves two pings unanswered is dropped as hung and another one used")
	fs.IntVar(&o.Shards, "shards", 0, "topic registry shards and fan-out loops (0 = 4 x GOMAXPROCS)")
	fs.DurationVar(&o.Linger, "linger", 0, "keep a NATS subscription this long after its last subscriber left (max 1s)")
	fs.BoolVar(&o.PinWriters, "pin-writers", true, "give each fan-out writer a thread on a CPU of its own, so large fan-outs always write on every core")
	fs.DurationVar(&o.Coalesce, "coalesce", 20*time.Millisecond, "under load, space large fan-out flushes this far apart so frames share writes (0 = off, max 100ms)")
	fs.IntVar(&o.MaxMessageBytes, "max-message-bytes", 64<<10, "largest client message; larger ones are closed with 1009")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", 10*time.Second, "time a new connection has to send its HTTP request (then 408)")
	fs.DurationVar(&o.InitTimeout, "init-timeout", 3*time.Second, "time a graphql-transport-ws client has to send connection_init (then 4408)")
	fs.IntVar(&o.MaxOutboundBytes, "max-outbound-bytes", 1<<20, "bytes queued per connection before a slow client is closed (1008)")
	fs.DurationVar(&o.WriteTimeout, "write-timeout", 10*time.Second, "time a full socket may stay full before the client is closed")
	fs.DurationVar(&o.KeepAlive, "keepalive", 12*time.Second, "interval of legacy ka messages, SSE keep-alive comments and graphql-transport-ws pings; "+
		"a graphql-transport-ws client that leaves a ping unanswered for one interval is closed (1001) as dead")
	fs.IntVar(&o.MaxConnections, "max-connections", 0, "refuse WebSocket and SSE connections beyond this many with 503 (0 = unlimited)")
	fs.IntVar(&o.PlanCacheSize, "plan-cache-size", 4096, "compiled operations kept in the cache")
	fs.IntVar(&o.MaxSubscriptions, "max-subscriptions", 1000, "most active subscriptions on one WebSocket connection; more get an error")
	fs.IntVar(&o.MaxFields, "max-fields", graphql.DefaultMaxFields, "refuse documents that select more fields than this, counting every fragment spread in full")
	fs.StringVar(&cfg.schemaPath, "schema", "", "GraphQL SDL schema file with @topic directives (empty = built-in pass-through schema)")
	fs.StringVar(&o.SubjectPrefix, "subject-prefix", "", "prefix prepended to every NATS subject as PREFIX.subject")
	fs.StringVar(&cfg.serializer, "serializer", "json", "NATS message body format: json or msgpack")
	fs.StringVar(&cfg.envelope, "envelope", "raw", "NATS message envelope: raw or hotchocolate")
	fs.StringVar(&o.TopicPrefix, "topic-prefix", "", "HotChocolate TopicPrefix (hotchocolate envelope)")
	fs.StringVar(&o.PublishToken, "publish-token", "", "enables POST /publish, requiring Authorization: Bearer <token>")
	fs.StringVar(&cfg.jwtSecret, "jwt-secret", "", "enables client authentication: HS256/HS384/HS512 JWTs signed with this secret (at least 32 bytes)")
	fs.StringVar(&cfg.jwtPublicKey, "jwt-public-key", "", "enables client authentication: PEM file with the RSA, ECDSA or Ed25519 public key that verifies client JWTs")
	fs.StringVar(&o.JWT.JWKSURL, "jwt-jwks-url", "", "enables client authentication: http(s) URL of the identity provider's JWKS, fetched at startup; "+
		"the token's kid picks the RSA, EC or Ed25519 key")
	fs.DurationVar(&o.JWT.JWKSRefresh, "jwt-jwks-refresh", auth.DefaultJWKSRefresh, "with --jwt-jwks-url: interval of background JWKS refreshes (at least 10s); "+
		"an unknown kid also refreshes, at most every 30s")
	fs.StringVar(&o.JWT.Issuer, "jwt-issuer", "", "with a JWT key (--jwt-secret, --jwt-public-key or --jwt-jwks-url): the iss that client tokens must have")
	fs.StringVar(&o.JWT.Audience, "jwt-audience", "", "with a JWT key: the aud that client tokens must include")
	fs.DurationVar(&cfg.jwtLeeway, "jwt-leeway", auth.DefaultLeeway, "with a JWT key: clock skew allowed on token exp and nbf (0 to 5m)")
	fs.StringVar(&cfg.origins, "allowed-origins", "", "comma-separated origins (scheme://host[:port]) or subdomain patterns (scheme://*.domain[:port]) whose pages may use the GraphQL endpoint across origins, or *; "+
		"others get 403 for WebSocket and SSE. Empty: no CORS, WebSocket upgrades from any origin (set it in production)")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&cfg.pprofListen, "pprof-listen", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty disables")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", 10*time.Second, "time clients get to disconnect on SIGINT/SIGTERM")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: subhub [serve] [flags]\n\nEvery flag can also be set as SUBHUB_<FLAG> in the environment (e.g. SUBHUB_NATS_URL); flags win.\n\n")
		fs.PrintDefaults()
	}
	return fs
}

// parseServe reads the environment, then args, and validates.
func parseServe(args []string, getenv func(string) string, out io.Writer) (*serveConfig, error) {
	cfg := &serveConfig{}
	fs := newServeFlags(cfg, out)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SUBHUB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid %s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	// A bad flag is reported in one line by serve, not followed by the usage:
	// only --help prints it.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.opts.Serializer, err = wire.ParseSerializer(cfg.serializer); err != nil {
		return nil, fmt.Errorf("--serializer: %v", err)
	}
	if cfg.opts.Envelope, err = wire.ParseEnvelope(cfg.envelope); err != nil {
		return nil, fmt.Errorf("--envelope: %v", err)
	}
	switch cfg.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", cfg.logLevel)
	}
	for name, v := range map[string]int{"nats-pool": cfg.opts.NATSPool, "max-message-bytes": cfg.opts.MaxMessageBytes,
		"max-outbound-bytes": cfg.opts.MaxOutboundBytes, "plan-cache-size": cfg.opts.PlanCacheSize, "max-fields": cfg.opts.MaxFields,
		"max-subscriptions": cfg.opts.MaxSubscriptions} {
		if v <= 0 {
			return nil, fmt.Errorf("--%s must be positive, got %d", name, v)
		}
	}
	for name, v := range map[string]time.Duration{"init-timeout": cfg.opts.InitTimeout, "request-timeout": cfg.opts.RequestTimeout, "write-timeout": cfg.opts.WriteTimeout,
		"keepalive": cfg.opts.KeepAlive, "nats-ping-interval": cfg.opts.NATSPingInterval} {
		if v <= 0 {
			return nil, fmt.Errorf("--%s must be positive, got %s", name, v)
		}
	}
	if cfg.shutdownGrace < 0 {
		return nil, fmt.Errorf("--shutdown-grace must not be negative, got %s", cfg.shutdownGrace)
	}
	if cfg.opts.Shards < 0 {
		return nil, fmt.Errorf("--shards must not be negative, got %d", cfg.opts.Shards)
	}
	if c := cfg.opts.Coalesce; c < 0 || c > hub.MaxCoalesce {
		return nil, fmt.Errorf("--coalesce must be between 0 and %s, got %s", hub.MaxCoalesce, c)
	}
	if cfg.opts.AllowedOrigins, err = hub.ParseAllowedOrigins(cfg.origins); err != nil {
		return nil, fmt.Errorf("--allowed-origins: %v", err)
	}
	if err := cfg.loadJWT(); err != nil {
		return nil, err
	}
	if !cfg.natsAuth.IsZero() && cfg.natsURL == "" {
		return nil, errors.New("--nats-creds, --nats-nkey and --nats-tls-* need --nats-url: the embedded NATS server has no authentication or TLS")
	}
	if cfg.opts.NATSOptions, err = cfg.natsAuth.Options(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadJWT reads the --jwt-* flags into opts.JWT and checks them, so that a
// bad key stops startup with a reason naming the flag (never the secret).
func (cfg *serveConfig) loadJWT() error {
	j := &cfg.opts.JWT
	if cfg.jwtLeeway < 0 || cfg.jwtLeeway > auth.MaxLeeway {
		return fmt.Errorf("--jwt-leeway must be between 0 and %s, got %s", auth.MaxLeeway, cfg.jwtLeeway)
	}
	j.Leeway = cfg.jwtLeeway
	if j.Leeway == 0 {
		j.Leeway = auth.NoLeeway // Config's zero value is the default
	}
	keys := 0
	for _, k := range []string{cfg.jwtSecret, cfg.jwtPublicKey, j.JWKSURL} {
		if k != "" {
			keys++
		}
	}
	switch {
	case keys > 1:
		return errors.New("--jwt-secret, --jwt-public-key and --jwt-jwks-url are exclusive: set one")
	case j.JWKSURL != "":
		// Fetched by hub.New, which fails if the JWKS cannot be used.
		if err := auth.CheckJWKSURL(j.JWKSURL); err != nil {
			return fmt.Errorf("--jwt-jwks-url: %v", err)
		}
		if j.JWKSRefresh < minJWKSRefresh {
			return fmt.Errorf("--jwt-jwks-refresh must be at least %s, got %s", minJWKSRefresh, j.JWKSRefresh)
		}
	case cfg.jwtSecret != "":
		j.Secret = []byte(cfg.jwtSecret)
		if _, err := auth.New(*j); err != nil {
			return fmt.Errorf("--jwt-secret: %v", strings.TrimPrefix(err.Error(), auth.ErrInvalidConfig.Error()+": "))
		}
	case cfg.jwtPublicKey != "":
		b, err := os.ReadFile(cfg.jwtPublicKey)
		if err != nil {
			return fmt.Errorf("--jwt-public-key: %v", err)
		}
		j.PublicKeyPEM = b
		if _, err := auth.New(*j); err != nil {
			return fmt.Errorf("--jwt-public-key %s: %v", cfg.jwtPublicKey, strings.TrimPrefix(err.Error(), auth.ErrInvalidConfig.Error()+": "))
		}
	case j.Issuer != "" || j.Audience != "":
		return errors.New("--jwt-issuer and --jwt-audience need --jwt-secret, --jwt-public-key or --jwt-jwks-url")
	}
	return nil
}

func serve(ctx context.Context, args []string) int {
	cfg, err := parseServe(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "subhub: %v\n", err)
		return 2
	}
	if os.Getenv("GOGC") == "" {
		// The fan-out path allocates nothing per delivery, so the heap is
		// mostly connection state and GC work is rare; a lower target keeps
		// RSS per idle connection down at little CPU cost. GOGC overrides.
		debug.SetGCPercent(defaultGCPercent)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.logLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.opts.Logger = log

	if cfg.schemaPath != "" {
		s, err := graphql.LoadSchemaFile(cfg.schemaPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "subhub: %v\n", err)
			return 2
		}
		cfg.opts.Schema = s
	}

	if cfg.pprofListen != "" {
		ln, err := net.Listen("tcp", cfg.pprofListen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "subhub: --pprof-listen: %v\n", err)
			return 2
		}
		go func() { _ = http.Serve(ln, nil) }() // net/http/pprof registers on DefaultServeMux
		log.Info("pprof serving", "addr", ln.Addr().String())
	}

	var embedded *hub.EmbeddedNATS
	if cfg.natsURL == "" {
		embedded, err = hub.StartEmbeddedNATS(cfg.embeddedNATS)
		if err != nil {
			fmt.Fprintf(os.Stderr, "subhub: %v\n", err)
			return 1
		}
		defer embedded.Shutdown()
		cfg.natsURL = embedded.ClientURL()
		log.Info("embedded NATS started", "url", cfg.natsURL)
	}
	cfg.opts.NATSURLs = []string{cfg.natsURL}

	h, err := hub.New(cfg.opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "subhub: %v\n", err)
		if errors.Is(err, hub.ErrInvalidOption) {
			return 2
		}
		return 1 // NATS refused the credentials or TLS settings
	}
	if err := h.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "subhub: %v\n", err)
		return 1
	}
	<-ctx.Done()
	log.Info("shutting down", "grace", cfg.shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
	defer cancel()
	if err := h.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return 0
}
