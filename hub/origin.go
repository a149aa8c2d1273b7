package hub

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Cross-origin access to the GraphQL endpoint (Options.AllowedOrigins).
//
// Browsers guard the two transports differently. fetch and EventSource
// requests to another origin are CORS requests: the browser sends them
// (after a preflight OPTIONS for anything beyond a simple request, such as
// a JSON POST) and gives the answer to the page only if it carries
// Access-Control-Allow-Origin. WebSocket has no CORS: a page on any site
// may open one, with the user's cookies, and the server alone can refuse
// it by the upgrade request's Origin. So one allow-list serves both: it
// sets the CORS headers of the endpoint's answers, and it refuses upgrades
// and SSE requests whose Origin is not on it.

// maxAllowedOrigins bounds the exact origins of Options.AllowedOrigins,
// maxOriginPatterns its wildcard patterns: every request whose Origin is
// not one of the exact ones is tried against each pattern.
const (
	maxAllowedOrigins = 4096
	maxOriginPatterns = 64
)

// preflightMaxAge is how long browsers may cache a preflight's answer
// (Access-Control-Max-Age; Chromium caps it at 2 hours).
const preflightMaxAge = "600"

// originPolicy is Options.AllowedOrigins compiled; nil when it is empty.
// Read-only after New.
//
// A conn.cors value, which match returns, says what the answers to a
// request carry: nil no CORS headers; &varyOnly only "Vary: Origin" (no
// Origin, or one not allowed); &anyOrigin the lines of "*"; any other
// pointer the allowed origin it points to, named in
// Access-Control-Allow-Origin with credentials allowed ("*" allows none:
// browsers refuse "*" with credentials).
type originPolicy struct {
	any       bool            // "*": every origin
	index     map[string]int  // exact allowed origin (normalized) → its place in origins
	origins   []string        // the exact allowed origins; conn.cors points at one
	patterns  []originPattern // wildcard entries, tried after index
	varyOnly  string          // header lines for no or a refused Origin
	anyOrigin string          // header lines for "*"
}

// originPattern is a wildcard entry, scheme://*.domain[:port]: it allows
// every subdomain of domain, at any depth, with that scheme and port, and
// not domain itself.
type originPattern struct {
	prefix string // "scheme://"
	suffix string // ".domain[:port]"
}

// match reports whether o, an Origin in lower case, is one the pattern
// allows: prefix, then one or more dot-separated host name labels, then
// suffix. Nothing else may stand for "*": no port, user info or path that
// would make the suffix match inside something else.
func (w *originPattern) match(o string) bool {
	if len(o) <= len(w.prefix)+len(w.suffix) || !strings.HasPrefix(o, w.prefix) || !strings.HasSuffix(o, w.suffix) {
		return false
	}
	return isSubdomain(o[len(w.prefix) : len(o)-len(w.suffix)])
}

// isSubdomain reports whether s is one or more dot-separated labels of
// letters, digits, "-" and "_" (the labels browsers put in an Origin's
// host, in lower case and xn-- form).
func isSubdomain(s string) bool {
	label := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_':
			label++
		case ch == '.' && label > 0:
			label = 0
		default:
			return false
		}
	}
	return label > 0
}

// newOriginPolicy compiles the allowed origins (an element may hold several,
// comma-separated); nil when there are none. The error says which entry is
// invalid and why, without the option's name.
func newOriginPolicy(entries []string) (*originPolicy, error) {
	list, err := parseOrigins(entries)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	p := &originPolicy{
		varyOnly:  "Vary: Origin\r\n",
		anyOrigin: "Access-Control-Allow-Origin: *\r\nVary: Origin\r\n",
	}
	if list[0] == "*" {
		p.any = true
		return p, nil
	}
	p.index = make(map[string]int, len(list))
	for _, o := range list {
		if strings.Contains(o, "*") {
			w, _, err := parseOriginPattern(o)
			if err != nil {
				return nil, err // not from parseOrigins
			}
			p.patterns = append(p.patterns, w)
			continue
		}
		p.index[o] = len(p.origins)
		p.origins = append(p.origins, o)
	}
	return p, nil
}

// ParseAllowedOrigins splits a comma-separated list of origins
// (scheme://host[:port], as browsers send them in Origin), wildcard
// patterns (scheme://*.domain[:port], every subdomain of domain at any
// depth) or "*", checks every entry and returns them normalized: scheme
// and host in lower case, a default port (80 for http, 443 for https)
// dropped, duplicates removed. Empty entries are skipped; "*" must stand
// alone.
func ParseAllowedOrigins(s string) ([]string, error) {
	return parseOrigins([]string{s})
}

func parseOrigins(entries []string) ([]string, error) {
	var list []string
	seen := make(map[string]bool)
	star := false
	exact, patterns := 0, 0
	for _, e := range entries {
		for _, o := range strings.Split(e, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			if o == "*" {
				star = true
				continue
			}
			var n string
			var err error
			if strings.Contains(o, "*") {
				_, n, err = parseOriginPattern(o)
			} else {
				n, err = normalizeOrigin(o)
			}
			if err != nil {
				return nil, err
			}
			if !seen[n] {
				seen[n] = true
				list = append(list, n)
				if strings.Contains(n, "*") {
					patterns++
				} else {
					exact++
				}
			}
		}
	}
	switch {
	case star && len(list) > 0:
		return nil, fmt.Errorf(`"*" allows every origin and cannot be combined with a list`)
	case star:
		return []string{"*"}, nil
	case exact > maxAllowedOrigins:
		return nil, fmt.Errorf("%d origins; at most %d are supported", exact, maxAllowedOrigins)
	case patterns > maxOriginPatterns:
		return nil, fmt.Errorf("%d wildcard patterns; at most %d are supported", patterns, maxOriginPatterns)
	}
	return list, nil
}

// normalizeOrigin checks that o is an origin as browsers serialize it,
// scheme://host[:port], and returns it in that serialization.
func normalizeOrigin(o string) (string, error) {
	if strings.EqualFold(o, "null") {
		// Sandboxed frames and file: pages of any site send "null".
		return "", fmt.Errorf(`"null" cannot be allowed: pages of any site can send it`)
	}
	return checkOrigin(o, o)
}

// checkOrigin normalizes o as normalizeOrigin does; errors name entry, the
// allowed-origins entry that o comes from.
func checkOrigin(o, entry string) (string, error) {
	const want = "want scheme://host[:port] as browsers send it in Origin"
	for i := 0; i < len(o); i++ {
		if o[i] >= 0x80 {
			return "", fmt.Errorf("%q: write an internationalized host name in its ASCII (xn--) form, as browsers send it", entry)
		}
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%q is not an origin: %s", entry, want)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(o, "#") {
		return "", fmt.Errorf("%q has more than an origin (user info, path, query or fragment): %s", entry, want)
	}
	if u.Hostname() == "" || strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q is not an origin: %s", entry, want)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: port %s is not between 1 and 65535", entry, port)
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			host = strings.TrimSuffix(host, ":"+port)
		}
	}
	return scheme + "://" + host, nil
}

// parseOriginPattern checks a wildcard entry, scheme://*.domain[:port],
// and returns it compiled and normalized as checkOrigin normalizes an
// origin.
func parseOriginPattern(o string) (originPattern, string, error) {
	const want = "want scheme://*.domain[:port], such as https://*.example.com"
	scheme, rest, ok := strings.Cut(o, "://")
	switch {
	case !ok && strings.HasPrefix(o, "*."):
		return originPattern{}, "", fmt.Errorf("%q has no scheme: %s", o, want)
	case !ok:
		return originPattern{}, "", fmt.Errorf("%q is not an origin or a wildcard pattern: %s", o, want)
	case strings.Contains(scheme, "*"):
		return originPattern{}, "", fmt.Errorf("%q: the scheme cannot be a wildcard: %s", o, want)
	case rest == "*" || strings.HasPrefix(rest, "*:") || rest == "*.":
		return originPattern{}, "", fmt.Errorf("%q: a wildcard needs a domain after it: %s", o, want)
	case !strings.HasPrefix(rest, "*.") || strings.Contains(rest[2:], "*"):
		return originPattern{}, "", fmt.Errorf(`%q: "*" may only stand for whole labels at the left of the host: %s`, o, want)
	}
	n, err := checkOrigin(scheme+"://"+rest[2:], o)
	if err != nil {
		return originPattern{}, "", err
	}
	scheme, host, _ := strings.Cut(n, "://")
	domain := host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		domain = host[:i]
	}
	last := domain[strings.LastIndexByte(domain, '.')+1:]
	switch {
	case strings.HasPrefix(domain, "["), isSubdomain(domain) && strings.Trim(last, "0123456789") == "":
		return originPattern{}, "", fmt.Errorf("%q: a wildcard needs a domain name, not an IP address", o)
	case !isSubdomain(domain):
		return originPattern{}, "", fmt.Errorf("%q: %q is not a domain name", o, domain)
	case !strings.Contains(domain, ".") && domain != "localhost":
		return originPattern{}, "", fmt.Errorf("%q would allow every site under the top-level domain %q; list the origins", o, domain)
	}
	return originPattern{prefix: scheme + "://", suffix: "." + host}, scheme + "://*." + host, nil
}

// match classifies a request to the endpoint by its Origin header: cors is
// the conn.cors value for its answers, and allowed is false when the
// request must be refused (an Origin, not on the list). Without a policy
// every request is allowed and answered without CORS headers. A request
// without Origin does not come from a page of another site (browsers send
// Origin with every cross-origin request and every WebSocket upgrade).
// Allocation-free, except one 16-byte box for an origin that a wildcard
// pattern allows.
func (p *originPolicy) match(hdr http.Header) (cors *string, allowed bool) {
	if p == nil {
		return nil, true
	}
	vs := hdr.Values("Origin")
	switch {
	case len(vs) == 0:
		return &p.varyOnly, true
	case p.any:
		return &p.anyOrigin, true
	case len(vs) == 1:
		// Browsers send the lower-case serialization; ToLower copies
		// nothing then.
		o := strings.ToLower(strings.TrimSpace(vs[0]))
		if i, ok := p.index[o]; ok {
			return &p.origins[i], true
		}
		for i := range p.patterns {
			if p.patterns[i].match(o) {
				echo := new(string)
				*echo = o
				return echo, true
			}
		}
	}
	return &p.varyOnly, false
}

// appendHeaders appends the response header lines for a conn.cors value.
func (p *originPolicy) appendHeaders(b []byte, cors *string) []byte {
	switch {
	case p == nil || cors == nil:
		return b
	case cors == &p.varyOnly || cors == &p.anyOrigin:
		return append(b, *cors...)
	}
	b = append(b, "Access-Control-Allow-Origin: "...)
	b = append(b, *cors...)
	return append(b, "\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n"...)
}

// refuseOrigin answers a request to the endpoint from an origin that
// Options.AllowedOrigins does not allow, before any handshake or stream.
func (c *conn) refuseOrigin(req *http.Request) {
	c.h.stats.OriginRefused.Add(1)
	c.h.log.Debug("origin refused", "origin", req.Header.Get("Origin"), "remote", c.nc.RemoteAddr())
	c.httpError(http.StatusForbidden, "Forbidden: this origin may not use the endpoint (see --allowed-origins)")
}

// serveOptions answers OPTIONS on the endpoint. A CORS preflight (Origin
// and Access-Control-Request-Method) from an allowed origin gets 204 with
// the methods, the requested headers and how long to cache that; the
// route refused a preflight from another origin already, and without
// AllowedOrigins every preflight is refused. A plain OPTIONS gets 204 with
// Allow (RFC 9110 §9.3.7).
//
// The requested headers are allowed whatever they are (if they are field
// names): the endpoint reads only Accept, Content-Type, Authorization and
// Last-Event-ID and ignores every other header, so allowing more exposes
// nothing, while a fixed list would fail clients whose libraries add
// their own (tracing's traceparent, graphql-sse's headers option).
func (c *conn) serveOptions(req *http.Request) {
	_, origin := req.Header["Origin"]
	if !origin || req.Header.Get("Access-Control-Request-Method") == "" {
		c.httpResponse(http.StatusNoContent, "", nil, "Allow: GET, POST, OPTIONS\r\n")
		return
	}
	if c.h.opts.origins == nil {
		c.h.stats.OriginRefused.Add(1)
		c.httpError(http.StatusForbidden, "Forbidden: cross-origin requests are not enabled (see --allowed-origins)")
		return
	}
	extra := "Access-Control-Allow-Methods: GET, POST\r\n"
	if names := requestedHeaders(req.Header); names != "" {
		extra += "Access-Control-Allow-Headers: " + names + "\r\n"
	}
	extra += "Access-Control-Max-Age: " + preflightMaxAge + "\r\n" +
		"Vary: Access-Control-Request-Method, Access-Control-Request-Headers\r\n"
	c.httpResponse(http.StatusNoContent, "", nil, extra)
}

// requestedHeaders returns the field names of a preflight's
// Access-Control-Request-Headers, comma-separated in lower case; a name
// that is not a token (RFC 9110 §5.1) is left out, so nothing but field
// names is echoed.
func requestedHeaders(hdr http.Header) string {
	var b strings.Builder
	for _, v := range hdr.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !isToken(name) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strings.ToLower(name))
		}
	}
	return b.String()
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}
