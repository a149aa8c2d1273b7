package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// sampleInterval is how often the running server's /proc files are read.
const sampleInterval = 100 * time.Millisecond

// natsWriteDeadline is the embedded NATS server's write deadline: generous,
// so that a server that falls behind shows up as latency and loss in its
// own figures rather than as a NATS slow-consumer disconnect.
const natsWriteDeadline = 30 * time.Second

// packages maps each binary to the package it is built from.
var packages = map[string]string{
	serverSubhub: "./cmd/subhub",
	serverNaive:  "./benchmarks/naive",
	serverFloor:  "./benchmarks/floor",
}

// harness runs servers and the load tool. Its methods run on one goroutine.
type harness struct {
	repo     string            // module root, where go build runs
	binDir   string            // built binaries
	rawDir   string            // loadtest JSON and logs
	bins     map[string]string // server name → binary path; subhub is also the load tool
	natsURL  string
	progress io.Writer
	// shownRepo is the absolute module root, left out of paths in the report.
	shownRepo string
	ready     time.Duration // how long a server may take to listen
	slack     time.Duration // a load tool run's budget beyond its phases
	// loadArgv, when set, replaces the load tool command (tests).
	loadArgv []string
}

// build compiles every binary into binDir and returns the commands it ran,
// with binDir shown as $BIN.
func (h *harness) build(ctx context.Context) ([]string, error) {
	h.bins = map[string]string{}
	shown := []string{"BIN=$(mktemp -d)"}
	for _, name := range allServers {
		out := filepath.Join(h.binDir, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, packages[name])
		cmd.Dir = h.repo
		fmt.Fprintf(h.progress, "e2e: go build -o %s %s\n", out, packages[name])
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("e2e: go build %s: %w\n%s", packages[name], err, b)
		}
		h.bins[name] = out
		shown = append(shown, "go build -o $BIN/"+name+" "+packages[name])
	}
	return shown, nil
}

// startNATS starts the run's NATS server on a free loopback port.
func startNATS() (*natsserver.Server, error) {
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host:          "127.0.0.1",
		Port:          -1,
		NoLog:         true,
		NoSigs:        true,
		WriteDeadline: natsWriteDeadline,
	})
	if err != nil {
		return nil, fmt.Errorf("e2e: nats server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("e2e: nats server not ready")
	}
	return ns, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverArgv is the command line of server listening on addr.
func (h *harness) serverArgv(server, addr string) []string {
	argv := []string{h.bins[server]}
	if server == serverSubhub {
		argv = append(argv, "serve")
	}
	return append(argv, "--listen", addr, "--nats-url", h.natsURL, "--log-level", "warn")
}

// loadtestArgv is the load tool's command line for l against addr.
func (h *harness) loadtestArgv(l load, addr, jsonFile string) []string {
	argv := h.loadArgv
	if argv == nil {
		argv = []string{h.bins[serverSubhub], "loadtest"}
	}
	argv = append(append([]string(nil), argv...), "--url", "ws://"+addr+"/graphql", "--nats-url", h.natsURL)
	argv = append(argv, l.args()...)
	return append(argv, "--quiet", "--json", jsonFile)
}

// shown rewrites argv for the report: paths relative to the module root,
// the binary directory as $BIN, the NATS URL as $NATS and the server port as
// $PORT.
func (h *harness) shown(argv []string, port int) []string {
	p := ":" + strconv.Itoa(port)
	out := make([]string, len(argv))
	for i, a := range argv {
		if h.shownRepo != "" {
			a = strings.ReplaceAll(a, h.shownRepo+string(filepath.Separator), "")
		}
		a = strings.ReplaceAll(a, h.binDir, "$BIN")
		a = strings.ReplaceAll(a, h.natsURL, "$NATS")
		out[i] = strings.ReplaceAll(a, p, ":$PORT")
	}
	return out
}

// fileBase names a run's files in rawDir, without spaces ("rate=1 run=2"
// becomes "rate-1_run-2").
func fileBase(scenario, server, step string) string {
	b := scenario + "_" + server
	if step != "" {
		b += "_" + strings.NewReplacer("=", "-", " ", "_").Replace(step)
	}
	return b
}

// runOne starts server, runs the load tool l against it, stops the server
// and returns the run with its metrics. Failures are recorded in the run's
// Note, never returned: a broken server is a result too.
func (h *harness) runOne(ctx context.Context, sc scenario, l load, step, server string) *measurement {
	r := &measurement{Scenario: sc.Name, Server: server, Step: step}
	base := fileBase(sc.Name, server, step)
	r.JSONFile = filepath.Join(h.rawDir, base+".json")
	_ = os.Remove(r.JSONFile)
	fail := func(format string, a ...any) *measurement {
		r.note(format, a...)
		r.M = computeMetrics(r.Result, r.Timeline, r.Before, r.After)
		return r
	}

	port, err := freePort()
	if err != nil {
		return fail("free port: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	argv := h.serverArgv(server, addr)
	largv := h.loadtestArgv(l, addr, r.JSONFile)
	r.ServerCmd, r.LoadCmd = h.shown(argv, port), h.shown(largv, port)

	srvLog, err := os.Create(filepath.Join(h.rawDir, base+".server.log"))
	if err != nil {
		return fail("%v", err)
	}
	defer srvLog.Close()
	srv := exec.Command(argv[0], argv[1:]...)
	srv.Stdout, srv.Stderr = srvLog, srvLog
	if err := srv.Start(); err != nil {
		return fail("start server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer stopProcess(srv, exited)

	if err := waitReady(ctx, addr, exited, h.ready); err != nil {
		return fail("%v", err)
	}
	pid := srv.Process.Pid
	r.PID = pid
	// Before first, then the sampler: its samples must all come after Before
	// for the timeline to be in time order.
	r.Before, err = readSample(pid)
	if err != nil {
		return fail("sample server: %v", err)
	}
	smp := startSampler(pid, sampleInterval)

	llog, err := os.Create(filepath.Join(h.rawDir, base+".loadtest.log"))
	if err != nil {
		r.Timeline = smp.Stop()
		return fail("%v", err)
	}
	defer llog.Close()
	lctx, cancel := context.WithTimeout(ctx, l.budget(h.slack))
	defer cancel()
	lt := exec.CommandContext(lctx, largv[0], largv[1:]...)
	lt.Dir = h.repo
	lt.Stdout, lt.Stderr = llog, llog
	// The load tool's --workers children must die with it: run it in its
	// own process group and kill the group on timeout or interrupt.
	lt.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	lt.Cancel = func() error { return syscall.Kill(-lt.Process.Pid, syscall.SIGKILL) }
	lt.WaitDelay = 5 * time.Second
	lerr := lt.Run()
	r.Timeline = append(timeline{r.Before}, smp.Stop()...)
	if r.After, err = readSample(pid); err == nil {
		r.Timeline = append(r.Timeline, r.After)
	}

	// A server that cannot be sampled any more has exited or is exiting.
	wait := time.Duration(0)
	if r.After.At.IsZero() {
		wait = 5 * time.Second
	}
	if err, ok := exitedWithin(exited, wait); ok {
		r.Note = fmt.Sprintf("server exited during the run: %v", err)
	} else if wait > 0 {
		r.Note = "server could not be sampled after the run"
	}
	if lerr != nil {
		var ee *exec.ExitError
		if errors.As(lerr, &ee) {
			r.note("loadtest exit %d", ee.ExitCode())
		} else {
			r.note("loadtest: %v", lerr)
		}
		switch {
		case ctx.Err() != nil:
			r.Note += " (interrupted)"
		case lctx.Err() != nil:
			r.Note += " (timed out)"
		}
	}
	b, err := os.ReadFile(r.JSONFile)
	if err != nil {
		return fail("%v (see %s.loadtest.log)", errNoResult, base)
	}
	if r.Result, err = parseLoadResult(b); err != nil {
		return fail("%v", err)
	}
	if n := r.Result.Unstamped; n > 0 {
		r.note("%d deliveries without a kernel stamp, timed by the clock", n)
	}
	r.M = computeMetrics(r.Result, r.Timeline, r.Before, r.After)
	return r
}

// exitedWithin reports whether the process behind exited has ended, waiting
// up to d for it, and with what error. The result stays in exited.
func exitedWithin(exited chan error, d time.Duration) (error, bool) {
	if d <= 0 {
		select {
		case err := <-exited:
			exited <- err
			return err, true
		default:
			return nil, false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-exited:
		exited <- err
		return err, true
	case <-t.C:
		return nil, false
	}
}

// waitReady polls addr until it accepts a TCP connection, the process
// exits or within passes.
func waitReady(ctx context.Context, addr string, exited chan error, within time.Duration) error {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s after %s: %v", errNotReady, addr, within, err)
		}
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("%w: server exited: %v", errNotReady, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stopProcess sends SIGTERM, waits up to 10 s for exited, then kills.
func stopProcess(cmd *exec.Cmd, exited chan error) {
	select {
	case err := <-exited:
		exited <- err
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		exited <- <-exited
	}
}
