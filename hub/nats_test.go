package hub

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

func TestRefusedSubject(t *testing.T) {
	t.Parallel()
	perm := func(msg string) error { return fmt.Errorf("%w %s", nats.ErrPermissionViolation, msg) }
	for _, tc := range []struct {
		err     error
		subject string
	}{
		{perm(`for Subscription to "secret.x"`), "secret.x"},
		{perm(`for Subscription to "A.B" using queue "q"`), "A.B"},
		{perm(`for Publish to "secret.x"`), ""},
		{errors.New(`nats: Permissions Violation for Subscription to "x"`), ""}, // not nats.ErrPermissionViolation
		{nats.ErrMaxSubscriptionsExceeded, ""},
	} {
		subject, ok := refusedSubject(tc.err)
		require.Equal(t, tc.subject != "", ok, "%v", tc.err)
		require.Equal(t, tc.subject, subject, "%v", tc.err)
	}
}

// freezableProxy forwards TCP connections to a NATS server until freeze,
// after which it forwards nothing either way while keeping every connection
// open, and accepts new ones without answering: a server whose process was
// stopped, whose host froze, or that a network partition cut off.
type freezableProxy struct {
	ln     net.Listener
	frozen chan struct{}
}

func startFreezableProxy(t *testing.T, target string) *freezableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &freezableProxy{ln: ln, frozen: make(chan struct{})}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if p.isFrozen() {
				continue // accepted by the kernel, never answered
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, up)
			mu.Unlock()
			go p.forward(up, c)
			go p.forward(c, up)
		}
	}()
	return p
}

// forward copies src to dst until either closes or the proxy freezes.
func (p *freezableProxy) forward(dst, src net.Conn) {
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if p.isFrozen() {
			<-make(chan struct{}) // hold both connections open, forward nothing
		}
		if err != nil {
			dst.Close()
			return
		}
		if _, err := dst.Write(b[:n]); err != nil {
			src.Close()
			return
		}
	}
}

func (p *freezableProxy) freeze() { close(p.frozen) }

func (p *freezableProxy) isFrozen() bool {
	select {
	case <-p.frozen:
		return true
	default:
		return false
	}
}

// A NATS server that hangs with its connections open was not noticed for
// 4–6 minutes (nats.go's default pings: every 2 minutes, two outstanding):
// meanwhile nothing was delivered, /healthz said 200 and the hub never
// failed over to the cluster's other server.
func TestHungNATSServerIsLeft(t *testing.T) {
	t.Parallel()
	e1 := startNATS(t)
	proxy := startFreezableProxy(t, strings.TrimPrefix(e1.ClientURL(), "nats://"))
	// The second server is down at first, so that the hub connects through
	// the proxy whatever order nats.go tries the URLs in.
	e2, err := StartEmbeddedNATS("127.0.0.1:0")
	require.NoError(t, err)
	url2 := e2.ClientURL()
	e2.Shutdown()

	h := startHub(t, "nats://"+proxy.ln.Addr().String()+","+url2, func(o *Options) {
		o.NATSPingInterval = 100 * time.Millisecond
	})
	c := dialWS(t, h)
	c.init()
	c.subscribe("1", topicQuery("hung"))
	waitNATSSubs(t, e1, 1)

	proxy.freeze()
	require.Eventually(t, func() bool { return !h.Healthy() }, 5*time.Second, 10*time.Millisecond,
		"the hub still reports healthy on a hung NATS server")
	resp, _ := httpGet(t, h, "/healthz", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	e2, err = StartEmbeddedNATS(strings.TrimPrefix(url2, "nats://"))
	require.NoError(t, err)
	t.Cleanup(e2.Shutdown)
	require.Eventually(t, h.Healthy, 10*time.Second, 20*time.Millisecond, "no failover to the other server")
	waitNATSSubs(t, e2, 1)
	nc := connectNATS(t, url2)
	require.NoError(t, nc.Publish("hung", []byte(`"again"`)))
	m := c.next()
	require.Equal(t, "again", m["payload"].(map[string]any)["data"].(map[string]any)["topic"], "%v", m)
}

// While nats.go reconnected to a server that accepts TCP but never answers,
// it held its connection lock for the whole connect timeout (2 s) of each
// attempt, and /healthz, which asked nc.IsConnected, waited for it: a load
// balancer's health check timed out instead of getting 503.
func TestHealthzAnswersWhileReconnectingToHungServer(t *testing.T) {
	t.Parallel()
	e := startNATS(t)
	proxy := startFreezableProxy(t, strings.TrimPrefix(e.ClientURL(), "nats://"))
	h := startHub(t, "nats://"+proxy.ln.Addr().String(), func(o *Options) {
		o.NATSPingInterval = 100 * time.Millisecond
	})
	proxy.freeze()
	require.Eventually(t, func() bool { return !h.Healthy() }, 5*time.Second, 10*time.Millisecond)
	// Each reconnect attempt now waits 2 s for the frozen server's INFO.
	client := &http.Client{Timeout: 5 * time.Second}
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		start := time.Now()
		resp, err := client.Get("http://" + h.Addr().String() + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Less(t, time.Since(start), 500*time.Millisecond, "/healthz waited for nats.go's reconnect")
		time.Sleep(50 * time.Millisecond) // spacing between health checks, not synchronisation
	}
}
