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

// maxAllowedOrigins bounds Options.AllowedOrigins: conn.cors indexes them.
const maxAllowedOrigins = 4096

// preflightMaxAge is how long browsers may cache a preflight's answer
// (Access-Control-Max-Age; Chromium caps it at 2 hours).
const preflightMaxAge = "600"

// The conn.cors values below the first origin's index.
const (
	corsNone  uint16 = iota // no CORS headers: AllowedOrigins empty, or not the endpoint
	corsVary                // only "Vary: Origin": no Origin, or one not allowed
	corsFirst               // the first allowed origin's headers, or those of "*"
)

// originPolicy is Options.AllowedOrigins compiled; nil when it is empty.
// Read-only after New.
type originPolicy struct {
	any   bool              // "*": every origin, "Access-Control-Allow-Origin: *"
	index map[string]uint16 // allowed origin (normalized) → its heads index
	// heads are the response header lines for each conn.cors value, every
	// line ending in CRLF. An allowed origin's answers name it and allow
	// credentials; "*" allows none (browsers refuse "*" with credentials).
	heads []string
}

// newOriginPolicy compiles the allowed origins (an element may hold several,
// comma-separated); nil when there are none. The error says which entry is
// invalid and why, without the option's name.
func newOriginPolicy(entries []string) (*originPolicy, error) {
	list, err := parseOrigins(entries)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	p := &originPolicy{heads: []string{corsNone: "", corsVary: "Vary: Origin\r\n"}}
	if list[0] == "*" {
		p.any = true
		p.heads = append(p.heads, "Access-Control-Allow-Origin: *\r\nVary: Origin\r\n")
		return p, nil
	}
	p.index = make(map[string]uint16, len(list))
	for _, o := range list {
		p.index[o] = uint16(len(p.heads))
		p.heads = append(p.heads, "Access-Control-Allow-Origin: "+o+"\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n")
	}
	return p, nil
}

// ParseAllowedOrigins splits a comma-separated list of origins
// (scheme://host[:port], as browsers send them in Origin) or "*", checks
// every entry and returns them normalized: scheme and host in lower case,
// a default port (80 for http, 443 for https) dropped, duplicates removed.
// Empty entries are skipped; "*" must stand alone.
func ParseAllowedOrigins(s string) ([]string, error) {
	return parseOrigins([]string{s})
}

func parseOrigins(entries []string) ([]string, error) {
	var list []string
	seen := make(map[string]bool)
	star := false
	for _, e := range entries {
		for _, o := range strings.Split(e, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			if o == "*" {
				star = true
				continue
			}
			n, err := normalizeOrigin(o)
			if err != nil {
				return nil, err
			}
			if !seen[n] {
				seen[n] = true
				list = append(list, n)
			}
		}
	}
	switch {
	case star && len(list) > 0:
		return nil, fmt.Errorf(`"*" allows every origin and cannot be combined with a list`)
	case star:
		return []string{"*"}, nil
	case len(list) > maxAllowedOrigins:
		return nil, fmt.Errorf("%d origins; at most %d are supported", len(list), maxAllowedOrigins)
	}
	return list, nil
}

// normalizeOrigin checks that o is an origin as browsers serialize it,
// scheme://host[:port], and returns it in that serialization.
func normalizeOrigin(o string) (string, error) {
	const want = "want scheme://host[:port] as browsers send it in Origin"
	switch {
	case strings.EqualFold(o, "null"):
		// Sandboxed frames and file: pages of any site send "null".
		return "", fmt.Errorf(`"null" cannot be allowed: pages of any site can send it`)
	case strings.Contains(o, "*"):
		return "", fmt.Errorf("%q: wildcards are not supported except a lone \"*\"; list each origin", o)
	}
	for i := 0; i < len(o); i++ {
		if o[i] >= 0x80 {
			return "", fmt.Errorf("%q: write an internationalized host name in its ASCII (xn--) form, as browsers send it", o)
		}
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%q is not an origin: %s", o, want)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(o, "#") {
		return "", fmt.Errorf("%q has more than an origin (user info, path, query or fragment): %s", o, want)
	}
	if u.Hostname() == "" || strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q is not an origin: %s", o, want)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: port %s is not between 1 and 65535", o, port)
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			host = strings.TrimSuffix(host, ":"+port)
		}
	}
	return scheme + "://" + host, nil
}

// match classifies a request to the endpoint by its Origin header: cors is
// the conn.cors value for its answers, and allowed is false when the
// request must be refused (an Origin, not on the list). Without a policy
// every request is allowed and answered without CORS headers. A request
// without Origin does not come from a page of another site (browsers send
// Origin with every cross-origin request and every WebSocket upgrade).
func (p *originPolicy) match(hdr http.Header) (cors uint16, allowed bool) {
	if p == nil {
		return corsNone, true
	}
	vs := hdr.Values("Origin")
	switch {
	case len(vs) == 0:
		return corsVary, true
	case p.any:
		return corsFirst, true
	case len(vs) == 1:
		// Browsers send the lower-case serialization; ToLower copies
		// nothing then.
		if i, ok := p.index[strings.ToLower(strings.TrimSpace(vs[0]))]; ok {
			return i, true
		}
	}
	return corsVary, false
}

// headers returns the response header lines for a conn.cors value.
func (p *originPolicy) headers(cors uint16) string {
	if p == nil {
		return ""
	}
	return p.heads[cors]
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
