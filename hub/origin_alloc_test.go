//go:build !race

package hub

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Matching an Origin allocates nothing, except the one box that holds an
// origin a wildcard pattern allows, whose answers name it.
func TestOriginMatchAllocations(t *testing.T) {
	p, err := newOriginPolicy([]string{"https://app.example.com", "https://*.example.net", "http://*.dev.example:8080"})
	require.NoError(t, err)
	anyP, err := newOriginPolicy([]string{"*"})
	require.NoError(t, err)
	buf := make([]byte, 0, 256)
	for _, tc := range []struct {
		p      *originPolicy
		origin string
		allocs float64
	}{
		{p, "https://app.example.com", 0},
		{p, "https://evil.example", 0},
		{p, "https://a.evilexample.net", 0},
		{p, "http://a.dev.example", 0},
		{anyP, "https://anywhere.example", 0},
		{p, "https://a.b.example.net", 1},
		{p, "http://x.dev.example:8080", 1},
	} {
		hdr := http.Header{"Origin": {tc.origin}}
		allocs := testing.AllocsPerRun(100, func() {
			cors, _ := tc.p.match(hdr)
			buf = tc.p.appendHeaders(buf[:0], cors)
		})
		require.Equal(t, tc.allocs, allocs, tc.origin)
	}
}
