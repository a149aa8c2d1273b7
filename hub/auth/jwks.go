package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultJWKSRefresh is the default interval of background JWKS
	// refreshes (Config.JWKSRefresh).
	DefaultJWKSRefresh = 5 * time.Minute
	// JWKSUnknownKidInterval is the least time between two refreshes that
	// tokens with a kid the key set lacks cause, so that a flood of tokens
	// with made-up kids costs the identity provider one request per
	// interval at most.
	JWKSUnknownKidInterval = 30 * time.Second
	// JWKSTimeout bounds one fetch of the JWKS, connection and body.
	JWKSTimeout = 10 * time.Second
	// MaxJWKSBytes bounds the JWKS document; a larger one is refused.
	MaxJWKSBytes = 1 << 20
)

// CheckJWKSURL reports whether s can be a Config.JWKSURL: an absolute
// http or https URL with a host. It fetches nothing.
func CheckJWKSURL(s string) error {
	_, err := parseJWKSURL(s)
	return err
}

func parseJWKSURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("JWKS URL %q: want an http:// or https:// URL", u.Redacted())
	}
	return u, nil
}

// remoteKeys is the key set of a JWKS URL, kept fresh: a goroutine (run)
// fetches it every interval, lookup fetches it when a token names a kid it
// lacks (at most once per JWKSUnknownKidInterval), and a failed fetch keeps
// the keys there were. Safe for concurrent use.
type remoteKeys struct {
	url    string // with any password, for requests
	shown  string // redacted, for messages
	client *http.Client
	log    *slog.Logger
	every  time.Duration
	now    func() time.Time // JWKSUnknownKidInterval's clock; tests replace it

	set atomic.Pointer[keySet] // never nil after newRemoteKeys

	mu sync.Mutex
	// fetching is closed when the fetch under way ends; nil when none is.
	fetching chan struct{}
	// lastUnknownKid is when lookup last fetched for an unknown kid.
	lastUnknownKid time.Time
	// lastSum is the SHA-256 of the last document fetched, so that
	// changes are logged once.
	lastSum [sha256.Size]byte

	ctx    context.Context // cancelled by close: ends run and any fetch
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	closed sync.Once
}

// newRemoteKeys fetches the JWKS of cfg.JWKSURL and starts the refresher;
// an error says why the JWKS cannot be used. close must be called.
func newRemoteKeys(cfg Config) (*remoteKeys, error) {
	u, err := parseJWKSURL(cfg.JWKSURL)
	if err != nil {
		return nil, err
	}
	r := &remoteKeys{
		url:    u.String(),
		shown:  u.Redacted(),
		client: cfg.HTTPClient,
		log:    cfg.Logger,
		every:  cfg.JWKSRefresh,
		now:    time.Now,
		done:   make(chan struct{}),
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: JWKSTimeout}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.every == 0 {
		r.every = DefaultJWKSRefresh
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	set, skipped, sum, err := r.fetch()
	if err != nil {
		r.cancel()
		return nil, err
	}
	r.set.Store(set)
	r.lastSum = sum
	r.log.Info("JWKS loaded", "url", r.shown, "kids", set.kids())
	r.logSkipped(skipped)
	go r.run()
	return r, nil
}

// run refreshes the key set every r.every until close.
func (r *remoteKeys) run() {
	defer close(r.done)
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			r.refresh(false)
		}
	}
}

// close stops the refresher and cancels a fetch under way, and returns
// when the refresher has ended. Lookups keep working with the last keys.
func (r *remoteKeys) close() {
	r.closed.Do(func() {
		r.cancel()
		<-r.done
	})
}

// lookup returns the key for a token's kid (see keySet.find). An unknown
// kid refreshes the set first, unless one was fetched for an unknown kid
// less than JWKSUnknownKidInterval ago; a caller may thus wait for one
// fetch, at most JWKSTimeout.
func (r *remoteKeys) lookup(kid string, hasKid bool) *jwk {
	if k := r.set.Load().find(kid, hasKid); k != nil || !hasKid {
		return k
	}
	r.refresh(true)
	return r.set.Load().find(kid, hasKid)
}

// refresh fetches the key set and keeps it, or logs why not and keeps the
// old one. If a fetch is under way already, it waits for that one instead.
// For an unknown kid (unknownKid) it fetches nothing if it did so less than
// JWKSUnknownKidInterval ago.
func (r *remoteKeys) refresh(unknownKid bool) {
	r.mu.Lock()
	if ch := r.fetching; ch != nil {
		r.mu.Unlock()
		select {
		case <-ch:
		case <-r.ctx.Done():
		}
		return
	}
	if r.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	if unknownKid {
		now := r.now()
		if !r.lastUnknownKid.IsZero() && now.Sub(r.lastUnknownKid) < JWKSUnknownKidInterval {
			r.mu.Unlock()
			return
		}
		r.lastUnknownKid = now
	}
	ch := make(chan struct{})
	r.fetching = ch
	r.mu.Unlock()

	set, skipped, sum, err := r.fetch()

	r.mu.Lock()
	r.fetching = nil
	changed := err == nil && sum != r.lastSum
	if changed {
		r.lastSum = sum
	}
	r.mu.Unlock()
	if err == nil {
		r.set.Store(set)
	}
	close(ch)
	switch {
	case err != nil && r.ctx.Err() == nil:
		r.log.Warn("JWKS refresh failed; keeping the previous keys", "url", r.shown, "err", err)
	case changed:
		r.log.Info("JWKS changed", "url", r.shown, "kids", set.kids())
		r.logSkipped(skipped)
	}
}

func (r *remoteKeys) logSkipped(skipped []error) {
	for _, e := range skipped {
		r.log.Warn("JWKS key skipped", "url", r.shown, "reason", e.Error())
	}
}

// errTooLarge: the JWKS document is larger than MaxJWKSBytes.
var errTooLarge = fmt.Errorf("larger than %d bytes", MaxJWKSBytes)

// fetch gets and parses the JWKS once, within JWKSTimeout. Errors name
// the URL (redacted) and never hold the document.
func (r *remoteKeys) fetch() (set *keySet, skipped []error, sum [sha256.Size]byte, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("JWKS %s: %w", r.shown, err)
		}
	}()
	ctx, cancel := context.WithTimeout(r.ctx, JWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, nil, sum, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named once, redacted
		}
		return nil, nil, sum, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, sum, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > MaxJWKSBytes {
		return nil, nil, sum, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, nil, sum, fmt.Errorf("reading the body: %v", err)
	}
	if len(b) > MaxJWKSBytes {
		return nil, nil, sum, errTooLarge
	}
	set, skipped, err = parseJWKS(bytes.TrimSpace(b))
	if err != nil {
		return nil, skipped, sum, err
	}
	return set, skipped, sha256.Sum256(b), nil
}
