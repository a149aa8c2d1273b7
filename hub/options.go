package hub

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/subhub/subhub/hub/auth"
	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/wire"
)

// Options configures a Hub. The zero value of every field means its
// documented default; defaults are applied by New (see withDefaults).
type Options struct {
	// Listen is the TCP address for WebSocket, SSE and HTTP endpoints.
	// Zero value means ":8080". Port 0 picks a free port (see Hub.Addr).
	Listen string
	// Path is the GraphQL endpoint path. Zero value means "/graphql".
	Path string

	// NATSURLs are the NATS servers to join (comma-separated URLs are
	// accepted in one element). Empty means the caller runs an embedded
	// server and must set it here before New; Hub itself never starts one.
	NATSURLs []string
	// NATSOptions authenticate and secure every pooled NATS connection
	// (nats.UserCredentials, nats.Nkey, nats.Secure and the like; subhub
	// serve builds them from its --nats-creds, --nats-nkey and --nats-tls-*
	// flags). They are applied before the hub's own settings (name, dialer,
	// reconnect policy, handlers), which win. A server that refuses them when
	// New connects fails New (see connectNATS in nats.go).
	NATSOptions []nats.Option
	// NATSPool is the number of NATS connections; a subject always uses the
	// same one (hash of the subject). Zero value means 1.
	NATSPool int
	// NATSPingInterval is how often each pooled NATS connection pings its
	// server. A connection with two pings unanswered is dropped as stale
	// and reconnects (to another server of the cluster, if there is one),
	// so a server that hangs without closing its connections (process
	// stopped, host frozen, network black hole) is left within two to three
	// intervals, and /healthz answers 503 meanwhile. Zero value means 2 s.
	NATSPingInterval time.Duration
	// Shards is the number of topic registry shards and fan-out loops.
	// Zero value means 4 × GOMAXPROCS.
	Shards int
	// Linger keeps a NATS subscription alive this long after its last local
	// subscriber left, against subscribe/unsubscribe churn. Zero means
	// release immediately; at most one second.
	Linger time.Duration

	// Coalesce paces large fan-out flushes under load: one that would start
	// less than Coalesce after the previous one waits until Coalesce has
	// passed, while frames for its connections keep queueing, so that they
	// leave several to a write. A flush after a quiet spell starts at once:
	// nothing is delayed when idle. Zero disables it; at most 100 ms.
	Coalesce time.Duration

	// PinWriters gives each fan-out writer (one per GOMAXPROCS) an OS
	// thread of its own on a CPU of its own, so that a large fan-out's
	// writes always run on every core. Off in the zero value; subhub serve
	// turns it on (--pin-writers).
	PinWriters bool

	// MaxMessageBytes is the largest client message accepted (a larger one
	// is closed with 1009). Zero value means 64 KiB.
	MaxMessageBytes int
	// RequestTimeout is how long a new connection may take to send its HTTP
	// request (upgrade, SSE, health check) before it gets 408 and is closed.
	// Zero value means 10 s.
	RequestTimeout time.Duration
	// InitTimeout is how long a graphql-transport-ws client may take to send
	// connection_init (close 4408 after). Zero value means 3 s.
	InitTimeout time.Duration
	// MaxOutboundBytes bounds the bytes queued for one connection; a client
	// that falls further behind is closed with 1008 (policy violation) and
	// counted as slow. Zero value means 1 MiB.
	MaxOutboundBytes int
	// WriteTimeout is how long a full socket may stay full before the
	// connection is closed as slow. Zero value means 10 s.
	WriteTimeout time.Duration
	// KeepAlive is the interval of SSE keep-alive comments and of the
	// WebSocket keep-alive: after connection_ack a legacy client gets a `ka`
	// message every interval; a WebSocket ping goes out when nothing was
	// sent for an interval (graphql-transport-ws) or the client was silent
	// for two (both protocols), and a client that sends nothing for an
	// interval after a ping is closed with 1001 as dead (see wsKeepAlive).
	// Zero value means 12 s; at least 100 ms. It cannot be switched off:
	// keep it below the idle timeout of the load balancers in front (often
	// 60 s).
	KeepAlive time.Duration
	// MaxConnections refuses WebSocket and SSE connections beyond this many
	// (HTTP 503); plain HTTP requests do not count.
	// Zero means unlimited.
	MaxConnections int

	// Schema is the GraphQL schema. Nil means graphql.DefaultSchema().
	Schema *graphql.Schema
	// PlanCacheSize bounds the compiled-operation cache. Zero value means 4096.
	PlanCacheSize int
	// MaxFields refuses documents that select more fields than this,
	// counting every fragment spread in full (graphql.Limits.MaxFields).
	// Zero value means graphql.DefaultMaxFields. The result of one event for
	// one subscription is bounded too, by MaxOutboundBytes less 1 KiB for the
	// frame: a larger result could never be queued, so the subscriber gets
	// an error in its place.
	MaxFields int
	// MaxSubscriptions bounds the active subscriptions of one WebSocket
	// connection; a subscribe beyond it gets an error for that operation and
	// the connection stays open. Zero value means 1000.
	MaxSubscriptions int
	// Serializer and Envelope select the NATS message format
	// (defaults: JSON, raw).
	Serializer wire.Serializer
	Envelope   wire.Envelope
	// TopicPrefix is HotChocolate's TopicPrefix (hotchocolate envelope only).
	TopicPrefix string
	// SubjectPrefix is prepended to every subject as SubjectPrefix+".".
	SubjectPrefix string

	// PublishToken enables POST /publish when non-empty; requests must carry
	// "Authorization: Bearer <PublishToken>".
	PublishToken string

	// JWT enables client authentication when JWT.Secret, JWT.PublicKeyPEM
	// or JWT.JWKSURL is set (see package auth); the zero value accepts every
	// client. A JWKS is fetched by New, which fails if it cannot be, and
	// refreshed in the background until Shutdown. Nil JWT.Logger means
	// Logger.
	// WebSocket clients then present a JWT in connection_init (or the
	// upgrade request's Authorization header), SSE clients in the
	// Authorization header or the token query parameter.
	JWT auth.Config
	// verifier is JWT's verifier, built by withDefaults; nil when disabled.
	verifier *auth.Verifier

	// AllowedOrigins lists the origins (scheme://host[:port], as browsers
	// send them in Origin; an element may hold several, comma-separated)
	// and subdomain patterns (scheme://*.domain[:port]) whose pages may use
	// the GraphQL endpoint, or is "*" alone for every origin (see
	// ParseAllowedOrigins). Empty (the zero value) means no CORS
	// headers and WebSocket upgrades from any origin, as for servers that
	// only non-browser and same-origin clients reach. Otherwise the
	// endpoint's answers carry CORS headers for an allowed Origin
	// (credentials allowed, except with "*"), preflights are answered, and
	// WebSocket upgrades and SSE requests with another Origin get 403. A
	// request without Origin is always served. /publish, /healthz and
	// /metrics are server-to-server and never carry CORS headers.
	AllowedOrigins []string
	// origins is AllowedOrigins compiled by withDefaults; nil when empty.
	origins *originPolicy

	// Logger receives the hub's logs. Nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultListen          = ":8080"
	defaultPath            = "/graphql"
	defaultMaxMessageBytes = 64 << 10
	defaultInitTimeout     = 3 * time.Second
	defaultRequestTimeout  = 10 * time.Second
	defaultMaxOutbound     = 1 << 20
	defaultWriteTimeout    = 10 * time.Second
	defaultKeepAlive       = 12 * time.Second
	defaultNATSPing        = 2 * time.Second
	minKeepAlive           = 100 * time.Millisecond
	defaultPlanCacheSize   = 4096
	defaultMaxSubs         = 1000
	maxLinger              = time.Second
)

// MaxCoalesce is the largest Options.Coalesce.
const MaxCoalesce = 100 * time.Millisecond

// withDefaults returns a copy of o with defaults applied, or an error naming
// the invalid option.
func (o Options) withDefaults() (Options, error) {
	if o.Listen == "" {
		o.Listen = defaultListen
	}
	if o.Path == "" {
		o.Path = defaultPath
	}
	if !strings.HasPrefix(o.Path, "/") {
		return o, fmt.Errorf("%w: path %q must start with /", ErrInvalidOption, o.Path)
	}
	if strings.ContainsAny(o.Path, "?# \t\r\n") {
		// Requests are routed by their path alone: this one never matches.
		return o, fmt.Errorf("%w: path %q must be a plain path, without query, fragment or white space", ErrInvalidOption, o.Path)
	}
	switch o.Path {
	case "/healthz", "/metrics", "/publish":
		return o, fmt.Errorf("%w: path %q is one of subhub's own endpoints", ErrInvalidOption, o.Path)
	}
	var urls []string
	for _, u := range o.NATSURLs {
		for _, p := range strings.Split(u, ",") {
			if p = strings.TrimSpace(p); p != "" {
				urls = append(urls, p)
			}
		}
	}
	if len(urls) == 0 {
		return o, fmt.Errorf("%w: no NATS URL", ErrInvalidOption)
	}
	o.NATSURLs = urls
	if o.SubjectPrefix != "" {
		// Every subject is SubjectPrefix + "." + subject: a prefix that is not
		// a literal subject itself would have every NATS subscription refused
		// (empty token, white space) or be a wildcard that no message's
		// subject matches, leaving every client subscribed but silent.
		if err := wire.CheckSubject(o.SubjectPrefix); err != nil {
			return o, fmt.Errorf("%w: subject-prefix: %w", ErrInvalidOption, err)
		}
	}
	if o.NATSPool == 0 {
		o.NATSPool = 1
	}
	if o.NATSPool < 1 || o.NATSPool > 64 {
		return o, fmt.Errorf("%w: nats-pool %d must be between 1 and 64", ErrInvalidOption, o.NATSPool)
	}
	if o.Shards == 0 {
		o.Shards = 4 * runtime.GOMAXPROCS(0)
	}
	if o.Shards < 1 || o.Shards > 4096 {
		return o, fmt.Errorf("%w: shards %d must be between 1 and 4096", ErrInvalidOption, o.Shards)
	}
	if o.Linger < 0 || o.Linger > maxLinger {
		return o, fmt.Errorf("%w: linger %s must be between 0 and %s", ErrInvalidOption, o.Linger, maxLinger)
	}
	if o.Coalesce < 0 || o.Coalesce > MaxCoalesce {
		return o, fmt.Errorf("%w: coalesce %s must be between 0 and %s", ErrInvalidOption, o.Coalesce, MaxCoalesce)
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = defaultMaxMessageBytes
	}
	if o.MaxMessageBytes < 256 {
		return o, fmt.Errorf("%w: max-message-bytes %d must be at least 256", ErrInvalidOption, o.MaxMessageBytes)
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&o.RequestTimeout, defaultRequestTimeout, "request-timeout"},
		{&o.InitTimeout, defaultInitTimeout, "init-timeout"},
		{&o.WriteTimeout, defaultWriteTimeout, "write-timeout"},
		{&o.KeepAlive, defaultKeepAlive, "keepalive"},
		{&o.NATSPingInterval, defaultNATSPing, "nats-ping-interval"},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < 0 {
			return o, fmt.Errorf("%w: %s %s must be positive", ErrInvalidOption, d.name, *d.v)
		}
	}
	if o.KeepAlive < minKeepAlive {
		// Every acknowledged WebSocket and every SSE connection gets a timer
		// of this period.
		return o, fmt.Errorf("%w: keepalive %s must be at least %s", ErrInvalidOption, o.KeepAlive, minKeepAlive)
	}
	if o.MaxOutboundBytes == 0 {
		o.MaxOutboundBytes = defaultMaxOutbound
	}
	if o.MaxOutboundBytes < 4096 {
		return o, fmt.Errorf("%w: max-outbound-bytes %d must be at least 4096", ErrInvalidOption, o.MaxOutboundBytes)
	}
	if o.MaxConnections < 0 {
		return o, fmt.Errorf("%w: max-connections %d must not be negative", ErrInvalidOption, o.MaxConnections)
	}
	if o.Schema == nil {
		o.Schema = graphql.DefaultSchema()
	}
	if o.MaxSubscriptions == 0 {
		o.MaxSubscriptions = defaultMaxSubs
	}
	if o.MaxSubscriptions < 0 {
		return o, fmt.Errorf("%w: max-subscriptions %d must be positive", ErrInvalidOption, o.MaxSubscriptions)
	}
	if o.MaxFields == 0 {
		o.MaxFields = graphql.DefaultMaxFields
	}
	if o.MaxFields < 0 {
		return o, fmt.Errorf("%w: max-fields %d must be positive", ErrInvalidOption, o.MaxFields)
	}
	if o.PlanCacheSize == 0 {
		o.PlanCacheSize = defaultPlanCacheSize
	}
	if o.PlanCacheSize < 1 {
		return o, fmt.Errorf("%w: plan-cache-size %d must be positive", ErrInvalidOption, o.PlanCacheSize)
	}
	origins, err := newOriginPolicy(o.AllowedOrigins)
	if err != nil {
		return o, fmt.Errorf("%w: allowed-origins: %w", ErrInvalidOption, err)
	}
	o.origins = origins
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// Last: with a JWKS URL the verifier fetches it and starts a goroutine,
	// which no later error may leave behind.
	switch {
	case o.JWT.Enabled():
		name := "jwt-public-key"
		switch {
		case len(o.JWT.Secret) > 0:
			name = "jwt-secret"
		case o.JWT.JWKSURL != "":
			name = "jwt-jwks-url"
		}
		if o.JWT.Logger == nil {
			o.JWT.Logger = o.Logger
		}
		v, err := auth.New(o.JWT)
		if err != nil {
			return o, fmt.Errorf("%w: %s: %v", ErrInvalidOption, name, err)
		}
		o.verifier = v
	case o.JWT.Issuer != "" || o.JWT.Audience != "":
		return o, fmt.Errorf("%w: jwt-issuer and jwt-audience need jwt-secret, jwt-public-key or jwt-jwks-url", ErrInvalidOption)
	}
	return o, nil
}
