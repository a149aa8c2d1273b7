package hub

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// One event to 10,000 subscribers spread over 3 plans is projected 3
// times, and each subscriber gets its own id around the shared bytes.
func TestFanoutProjectsOncePerPlan(t *testing.T) {
	f := newFanoutFixture(t, 10000, 3)
	v, err := fastjson.Parse(`{"price":1}`)
	require.NoError(t, err)
	f.deliverOnce(v)
	require.Equal(t, uint64(3), f.l.projections)
	for i, c := range []*conn{f.conns[0], f.conns[1], f.conns[9999]} {
		hdrLen := 2
		if len(c.out) > 127 {
			hdrLen = 4
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(c.out[hdrLen:], &m), "frame %d: %q", i, c.out)
		require.Equal(t, "next", m["type"])
		require.Contains(t, m["id"], "sub-")
	}
	require.Len(t, f.l.dirty, 10000, "every connection is flushed once")
}

// pinnedThreads lists the process's threads allowed on exactly one CPU.
func pinnedThreads(t *testing.T) map[string]bool {
	t.Helper()
	dirs, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	pinned := map[string]bool{}
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/status")
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && !strings.ContainsAny(strings.TrimSpace(v), ",-") {
				pinned[d.Name()] = true
			}
		}
	}
	return pinned
}

// With PinWriters every writer has a thread on a CPU of its own while the
// hub runs, fan-outs large enough for the writer pool are delivered, and
// the pinned threads end with the hub: the runtime ends a thread whose
// locked goroutine exits, except the main thread, which it parks for good.
// No other goroutine ever runs on a thread with the narrowed affinity.
func TestPinnedWriters(t *testing.T) {
	require.GreaterOrEqual(t, len(allowedCPUs()), 2, "this machine kind has two cores")
	before := pinnedThreads(t)
	e := startNATS(t)
	h := startHub(t, e.ClientURL(), func(o *Options) { o.PinWriters = true })
	added := func() []string {
		var ids []string
		for id := range pinnedThreads(t) {
			if !before[id] {
				ids = append(ids, id)
			}
		}
		return ids
	}
	require.Eventually(t, func() bool { return len(added()) == h.writers.n }, 5*time.Second, 10*time.Millisecond,
		"want %d pinned writer threads, have %v", h.writers.n, added())

	const conns = inlineFlush + 8 // more than a loop writes itself: the pool writes
	var clients []*wsClient
	for range conns {
		c := dialWS(t, h)
		c.init()
		c.subscribe("1", topicQuery("pinned"))
		clients = append(clients, c)
	}
	require.Eventually(t, func() bool { return h.Stats().Subscriptions.Load() == conns }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, connectNATS(t, e.ClientURL()).Publish("pinned", []byte(`7`)))
	for _, c := range clients {
		m := c.next()
		require.Equal(t, "next", m["type"], "message %v", m)
	}
	require.Len(t, added(), h.writers.n, "no other thread inherited a writer's affinity")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	main := strconv.Itoa(os.Getpid())
	require.Eventually(t, func() bool {
		left := added()
		return len(left) == 0 || (len(left) == 1 && left[0] == main)
	}, 5*time.Second, 10*time.Millisecond, "the pinned threads end with their writers; left: %v", added())
}
