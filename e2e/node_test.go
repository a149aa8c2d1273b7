// Package e2e runs subhub against real third-party clients (npm graphql-ws,
// subscriptions-transport-ws, graphql-sse under Node) and real NATS.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subhub/subhub/hub"
)

// nodeDir is the folder with package.json and the client scripts.
func nodeDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "node")
}

var npmOnce sync.Once

// ensureNodeModules installs the committed package-lock (npm ci) if needed,
// under a file lock shared with other test packages.
func ensureNodeModules(t testing.TB) string {
	t.Helper()
	_, err := exec.LookPath("node")
	require.NoError(t, err, "node is required for the end-to-end tests")
	dir := nodeDir(t)
	npmOnce.Do(func() {
		lock, err := os.OpenFile(filepath.Join(dir, ".npm.lock"), os.O_CREATE|os.O_RDWR, 0o644)
		require.NoError(t, err)
		defer lock.Close()
		require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))
		defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws", "package.json")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	})
	return dir
}

// nodeProc is a running client script that prints one JSON object a line.
type nodeProc struct {
	cmd   *exec.Cmd
	lines chan map[string]any
	errw  *syncBuffer
}

func startNode(t testing.TB, script string, args ...string) *nodeProc {
	t.Helper()
	return startNodeEnv(t, nil, script, args...)
}

// startNodeEnv is startNode with extra environment variables ("K=V").
func startNodeEnv(t testing.TB, env []string, script string, args ...string) *nodeProc {
	t.Helper()
	dir := ensureNodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &nodeProc{cmd: cmd, lines: make(chan map[string]any, 1024), errw: &syncBuffer{}}
	cmd.Stderr = p.errw
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

// line returns the next output line or fails after the timeout.
func (p *nodeProc) line(t testing.TB) map[string]any {
	t.Helper()
	select {
	case m, ok := <-p.lines:
		require.True(t, ok, "client exited early; stderr: %s", p.errw.String())
		return m
	case <-time.After(15 * time.Second):
		require.FailNow(t, "no output from client", "stderr: %s", p.errw.String())
		return nil
	}
}

// wait waits for the script to exit and returns its exit code.
func (p *nodeProc) wait(t testing.TB) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(15 * time.Second):
		require.FailNow(t, "client did not exit", "stderr: %s", p.errw.String())
		return -1
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// node is one subhub node with its own embedded NATS (or a shared one).
type node struct {
	nats *hub.EmbeddedNATS
	hub  *hub.Hub
}

func startSubhub(t testing.TB, natsSrv *hub.EmbeddedNATS, mod func(*hub.Options)) *node {
	t.Helper()
	if natsSrv == nil {
		var err error
		natsSrv, err = hub.StartEmbeddedNATS("127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(natsSrv.Shutdown)
	}
	o := hub.Options{
		Listen:   "127.0.0.1:0",
		NATSURLs: []string{natsSrv.ClientURL()},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	h, err := hub.New(o)
	require.NoError(t, err)
	require.NoError(t, h.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	require.Eventually(t, h.Healthy, 5*time.Second, 10*time.Millisecond)
	return &node{nats: natsSrv, hub: h}
}

func (n *node) wsURL() string   { return "ws://" + n.hub.Addr().String() + "/graphql" }
func (n *node) httpURL() string { return "http://" + n.hub.Addr().String() + "/graphql" }

func (n *node) waitSubscriptions(t testing.TB, want int64) {
	t.Helper()
	require.Eventually(t, func() bool { return n.hub.Stats().Subscriptions.Load() == want },
		15*time.Second, 10*time.Millisecond, "want %d subscriptions, have %d", want, n.hub.Stats().Subscriptions.Load())
}

// waitNATSSubs waits until subhub nodes hold want NATS subscriptions.
func (n *node) waitNATSSubs(t testing.TB, want int) {
	t.Helper()
	require.Eventually(t, func() bool { return n.nats.ClientSubscriptions("subhub-") == want },
		15*time.Second, 10*time.Millisecond, "want %d NATS subscriptions, have %d", want, n.nats.ClientSubscriptions("subhub-"))
}
