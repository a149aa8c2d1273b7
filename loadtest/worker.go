package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// workerMsg is one JSON line a worker child writes on its stdout.
type workerMsg struct {
	Type   string    `json:"type"` // "subscribed", "progress" or "result"
	Snap   *snapshot `json:"snap,omitempty"`
	Result *tally    `json:"result,omitempty"`
}

// worker is the parent's handle on one child process. mu guards the fields
// below it; the reader goroutine updates them from the child's stdout.
type worker struct {
	index int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the reader goroutine ends
	errb  bytes.Buffer  // child's stderr (bounded by the child's behaviour)

	mu         sync.Mutex
	subscribed bool
	last       snapshot
	pending    *snapshot // interval histograms since the last take
	result     *tally
	err        error
}

func startWorkers(ctx context.Context, cfg *Config) ([]*worker, error) {
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWorker, err)
		}
	}
	var ws []*worker
	for i := 0; i < cfg.Workers; i++ {
		w := &worker{index: i, done: make(chan struct{})}
		w.cmd = exec.CommandContext(ctx, exe, append([]string{"loadtest"}, cfg.workerArgs(i)...)...)
		w.cmd.Stderr = &lockedWriter{w: &w.errb}
		// Own process group: a terminal's Ctrl-C reaches only the parent,
		// which then collects the children's results. Pdeathsig ends them
		// if the parent dies.
		w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		stdin, err := w.cmd.StdinPipe()
		if err == nil {
			w.stdin = stdin
			var stdout io.ReadCloser
			if stdout, err = w.cmd.StdoutPipe(); err == nil {
				if err = w.cmd.Start(); err == nil {
					go w.read(stdout)
					ws = append(ws, w)
					continue
				}
			}
		}
		for _, w := range ws {
			w.kill()
		}
		return nil, fmt.Errorf("%w: start %s: %w", ErrWorker, exe, err)
	}
	return ws, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() < 64<<10 {
		l.w.Write(p)
	}
	return len(p), nil
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (w *worker) read(r io.Reader) {
	defer close(w.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			w.setErr(fmt.Errorf("%w: worker %d: bad line: %w", ErrWorker, w.index, err))
			continue
		}
		w.mu.Lock()
		switch m.Type {
		case "subscribed":
			w.subscribed = true
		case "progress":
			if m.Snap != nil {
				if h, err := decodeHist(m.Snap.Interval); err == nil {
					if w.pending == nil {
						w.pending = &snapshot{ivl: newHist()}
					}
					w.pending.ivl.Merge(h)
				}
				w.last = *m.Snap
			}
		case "result":
			w.result = m.Result
		}
		w.mu.Unlock()
	}
	if err := sc.Err(); err != nil {
		w.setErr(fmt.Errorf("%w: worker %d: %w", ErrWorker, w.index, err))
	}
}

func (w *worker) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *worker) isSubscribed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.subscribed
}

// failed reports an error once the child has exited or broken the protocol
// before reporting a result.
func (w *worker) failed() error {
	select {
	case <-w.done:
	default:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.result == nil {
		return fmt.Errorf("%w: worker %d exited: %s", ErrWorker, w.index, lastLine(w.cmd.Stderr.(*lockedWriter).String()))
	}
	return nil
}

func lastLine(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "no output"
	}
	return s
}

// take returns the latest progress totals and the latency histogram
// accumulated since the previous take.
func (w *worker) take() snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.last
	s.ivl = nil
	if w.pending != nil {
		s.ivl = w.pending.ivl
		w.pending = nil
	}
	return s
}

// stop asks the child for its result.
// publishing tells the child that publishing starts now: its CPU time is
// counted from here.
func (w *worker) publishing() {
	_, _ = io.WriteString(w.stdin, "publish\n")
}

func (w *worker) stop() {
	_, _ = io.WriteString(w.stdin, "stop\n")
	_ = w.stdin.Close()
}

// finish waits for the result asked for by stop.
func (w *worker) finish(ctx context.Context) (*tally, error) {
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-w.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, fmt.Errorf("%w: worker %d sent no result within 30s", ErrWorker, w.index)
	}
	err := w.cmd.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, w.err
	}
	if w.result == nil {
		return nil, fmt.Errorf("%w: worker %d: no result (%v): %s", ErrWorker, w.index, err, lastLine(w.cmd.Stderr.(*lockedWriter).String()))
	}
	return w.result, nil
}

func (w *worker) kill() {
	if w.cmd.Process != nil && w.cmd.ProcessState == nil {
		_ = w.stdin.Close()
		_ = w.cmd.Process.Kill()
		<-w.done
		_ = w.cmd.Wait()
	}
}

// runWorker is the child side: open this worker's share of the stable
// connections, report "subscribed" once all settled, a progress line every
// second, and the final tally when stdin says stop (or closes).
func runWorker(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.SchedIdle {
		if err := setSchedIdle(); err != nil {
			return err
		}
	}
	ts := newTopicSet(&cfg)
	e, err := newEngine(&cfg, ts, runtime.GOMAXPROCS(0))
	if err != nil {
		return err
	}
	defer e.close()
	var idx []int
	for i := cfg.WorkerIndex; i < cfg.Conns; i += cfg.WorkerCount {
		idx = append(idx, i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.planned.Store(int64(len(idx)))
	go e.dialAll(ctx, idx, 0)

	stop := make(chan struct{})
	var cpuStart atomic.Int64 // processCPU when the parent said "publish"; -1 before
	cpuStart.Store(-1)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() && sc.Text() != "stop" {
			if sc.Text() == "publish" {
				cpuStart.Store(int64(processCPU()))
			}
		}
		close(stop)
	}()
	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	emit := func(m workerMsg) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(m)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	subscribed := false
	var rssConns int64
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			t := e.collect()
			t.Hist = encodeHist(t.hist)
			t.RSS, t.RSSConns = readRSS(), rssConns
			if s := cpuStart.Load(); s >= 0 {
				t.CPU = processCPU() - time.Duration(s)
			}
			return emit(workerMsg{Type: "result", Result: t})
		case <-poll.C:
			if !subscribed && e.settled.Load() >= e.planned.Load() {
				subscribed = true
				poll.Stop()
				rssConns = readRSS() - e.rssBase
				s := e.snapshot()
				s.Interval = encodeHist(s.ivl)
				if err := emit(workerMsg{Type: "progress", Snap: &s}); err != nil {
					return err
				}
				if err := emit(workerMsg{Type: "subscribed"}); err != nil {
					return err
				}
			}
		case <-tick.C:
			s := e.snapshot()
			s.Interval = encodeHist(s.ivl)
			if err := emit(workerMsg{Type: "progress", Snap: &s}); err != nil {
				return err
			}
		}
	}
}
