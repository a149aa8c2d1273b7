package loadtest

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
)

// engine owns the client connections of one process.
type engine struct {
	cfg     *Config
	topics  *topicSet
	targets []*target
	loops   []*loop
	sem     chan struct{}

	planned  atomic.Int64 // conns this engine will open
	settled  atomic.Int64 // conns that finished the handshake or failed
	up       atomic.Int64 // conns open and ready
	everUp   atomic.Int64
	subs     atomic.Int64 // stable subscriptions sent
	stopping atomic.Bool
	wg       sync.WaitGroup
	churnSeq atomic.Uint64
	rssBase  int64 // process RSS before any connection, bytes
	churn    []*conn
	churnLp  []*loop
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

func newEngine(cfg *Config, ts *topicSet, nloops int) (*engine, error) {
	e := &engine{cfg: cfg, topics: ts, sem: make(chan struct{}, maxPendingConns)}
	for _, u := range cfg.URLs {
		t, err := parseTarget(u)
		if err != nil {
			return nil, err
		}
		e.targets = append(e.targets, t)
	}
	if nloops < 1 {
		nloops = 1
	}
	for i := 0; i < nloops; i++ {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			e.close()
			return nil, err
		}
		w, err := nbio.NewWaiter(fd)
		if err != nil {
			unix.Close(fd)
			e.close()
			return nil, err
		}
		l := &loop{
			e: e, epfd: fd, poller: w, conns: map[int32]*conn{},
			rbuf: make([]byte, readBufSize),
			rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i+1)*0x9e37+uint64(cfg.WorkerIndex))),
			hist: newHist(), ivl: newHist(),
		}
		l.cnt.init()
		e.loops = append(e.loops, l)
	}
	for _, l := range e.loops {
		e.wg.Add(1)
		go l.run()
	}
	e.rssBase = readRSS()
	return e, nil
}

// close stops the loops and closes every socket. Safe to call once.
func (e *engine) close() {
	e.stopping.Store(true)
	e.wg.Wait()
	for _, l := range e.loops {
		l.mu.Lock()
		for _, c := range l.conns {
			if c.state == stReady {
				l.sendFrame(c, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
			}
			unix.Close(c.fd)
			c.state = stClosed
		}
		clear(l.conns)
		l.mu.Unlock()
		l.poller.Close()
	}
}

// dialAll opens the stable connections with global indices idx (and nChurn
// churn connections), paced by cfg.Ramp. It returns when all are dialed or
// ctx ends. The caller sets e.planned to len(idx)+nChurn before.
func (e *engine) dialAll(ctx context.Context, idx []int, nChurn int) {
	start := time.Now()
	ramp := e.cfg.Ramp
	total := len(idx) + nChurn
	for k := 0; k < total; k++ {
		if ramp > 0 {
			due := start.Add(time.Duration(float64(k) / ramp * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if e.stopping.Load() {
			return
		}
		if k < len(idx) {
			e.dial(idx[k], false, k)
		} else {
			e.dial(k-len(idx), true, k)
		}
	}
}

func (e *engine) newConn(global int, churn bool) *conn {
	c := &conn{churn: churn, tgt: e.targets[global%len(e.targets)]}
	if churn {
		return c
	}
	S := e.cfg.SubsPerConn
	seen := map[int]int{}
	for k := 0; k < S; k++ {
		t := e.topics.pick(0, uint64(global*S+k))
		id := e.topics.names[t]
		if n := seen[t]; n > 0 {
			id += "#" + strconv.Itoa(n)
		}
		seen[t]++
		c.subs = append(c.subs, &sub{id: []byte(id), topic: int32(t), stable: true})
	}
	if len(c.subs) >= manySubs {
		c.byID = make(map[string]*sub, len(c.subs))
		for _, s := range c.subs {
			c.byID[string(s.id)] = s
		}
	}
	return c
}

func (e *engine) dial(global int, churn bool, k int) {
	c := e.newConn(global, churn)
	l := e.loops[k%len(e.loops)]
	fail := func(kind string) {
		l.mu.Lock()
		c.state = stClosed
		l.all = append(l.all, c)
		l.cnt.connectErrors[kind]++
		l.cnt.errors++
		l.mu.Unlock()
		e.settled.Add(1)
		<-e.sem
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket " + errnoName(err))
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if e.cfg.KernelTimestamps {
		if err := nbio.EnableStamps(fd); err != nil {
			unix.Close(fd)
			fail("setsockopt SO_TIMESTAMPNS " + errnoName(err))
			return
		}
	}
	if ips := e.cfg.SourceIPs; len(ips) > 0 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		sa := &unix.SockaddrInet4{}
		copy(sa.Addr[:], ips[global%len(ips)].To4())
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			fail("bind " + errnoName(err))
			return
		}
	}
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: c.tgt.port, Addr: c.tgt.addr})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		fail("connect " + errnoName(err))
		return
	}
	c.fd = fd
	c.deadline = time.Now().Add(e.cfg.HandshakeTimeout).UnixNano()
	var kb [16]byte
	l.mu.Lock()
	if e.stopping.Load() { // close already ran or is running: do not leak fd
		l.mu.Unlock()
		unix.Close(fd)
		<-e.sem
		return
	}
	for i := range kb {
		kb[i] = byte(l.rng.Uint32())
	}
	c.key = base64.StdEncoding.EncodeToString(kb[:])
	l.conns[int32(fd)] = c
	l.all = append(l.all, c)
	l.waiting++
	err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd),
	})
	if err != nil {
		l.fail(c, "epoll "+errnoName(err))
	}
	if churn {
		e.churn = append(e.churn, c)
		e.churnLp = append(e.churnLp, l)
	}
	l.mu.Unlock()
}

// churnOp performs churn operation n: on churn connection n%len, complete
// the active subscription if there is one, otherwise subscribe to a topic.
// It reports whether an operation was sent.
func (e *engine) churnOp(n uint64) bool {
	if len(e.churn) == 0 {
		return false
	}
	i := int(n % uint64(len(e.churn)))
	c, l := e.churn[i], e.churnLp[i]
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.state != stReady {
		return false
	}
	if len(c.subs) > 0 {
		s := c.subs[0]
		l.unsubscribe(c, s)
		c.subs = c.subs[:0]
		return true
	}
	t := e.topics.pick(2, n)
	id := e.topics.names[t] + "#c" + strconv.FormatUint(e.churnSeq.Add(1), 10)
	s := &sub{id: []byte(id), topic: int32(t)}
	c.subs = append(c.subs, s)
	l.subscribe(c, s)
	return true
}

// snapshot is a point-in-time view of an engine (or a worker's engine).
type snapshot struct {
	Planned   int64  `json:"planned"`
	Settled   int64  `json:"settled"`
	Up        int64  `json:"up"`
	Delivered int64  `json:"delivered"`
	Churn     int64  `json:"churn_delivered"`
	Errors    int64  `json:"errors"`
	Interval  string `json:"interval,omitempty"` // encoded histogram since the previous snapshot
	ivl       *hdrhistogram.Histogram
}

// snapshot returns the totals and the latency histogram since the previous snapshot.
func (e *engine) snapshot() snapshot {
	s := snapshot{Planned: e.planned.Load(), Settled: e.settled.Load(), Up: e.up.Load(), ivl: newHist()}
	for _, l := range e.loops {
		l.mu.Lock()
		s.Delivered += l.cnt.delivered
		s.Churn += l.cnt.churnDelivered
		s.Errors += l.cnt.errors
		s.ivl.Merge(l.ivl)
		l.ivl.Reset()
		l.mu.Unlock()
	}
	return s
}

// tally is the final accounting of one process's connections, mergeable
// across workers.
type tally struct {
	Planned        int64            `json:"planned"`
	EverUp         int64            `json:"ever_up"`
	Up             int64            `json:"up"`
	Subs           int64            `json:"subs"`
	Delivered      int64            `json:"delivered"`
	ChurnDelivered int64            `json:"churn_delivered"`
	Unstamped      int64            `json:"unstamped"`
	Unique         int64            `json:"unique"`
	Duplicates     int64            `json:"duplicates"`
	OutOfOrder     int64            `json:"out_of_order"`
	Late           int64            `json:"late"`
	TopicSubs      []int64          `json:"topic_subs"`
	TopicUnique    []int64          `json:"topic_unique"`
	ConnectErrors  map[string]int64 `json:"connect_errors"`
	Closes         map[string]int64 `json:"closes"`
	ProtoErrors    map[string]int64 `json:"protocol_errors"`
	Hist           string           `json:"hist"`
	RSS            int64            `json:"rss_bytes"`       // process RSS at the end
	RSSConns       int64            `json:"rss_conns_bytes"` // RSS growth from before dialing to all connections settled
	CPU            time.Duration    `json:"cpu_ns"`          // process CPU from the start of publishing to the result
	hist           *hdrhistogram.Histogram
}

func newTally(topics int) *tally {
	return &tally{
		TopicSubs: make([]int64, topics), TopicUnique: make([]int64, topics),
		ConnectErrors: map[string]int64{}, Closes: map[string]int64{}, ProtoErrors: map[string]int64{},
		hist: newHist(),
	}
}

// collect returns the engine's final accounting.
func (e *engine) collect() *tally {
	t := newTally(len(e.topics.names))
	t.Planned, t.EverUp, t.Up = e.planned.Load(), e.everUp.Load(), e.up.Load()
	for _, l := range e.loops {
		l.mu.Lock()
		t.Delivered += l.cnt.delivered
		t.ChurnDelivered += l.cnt.churnDelivered
		t.Unstamped += l.cnt.unstamped
		addMap(t.ConnectErrors, l.cnt.connectErrors)
		addMap(t.Closes, l.cnt.closes)
		addMap(t.ProtoErrors, l.cnt.protoErrors)
		t.hist.Merge(l.hist)
		for _, c := range l.all {
			for _, s := range c.subs {
				if !s.stable || !s.sent {
					continue
				}
				t.Subs++
				t.TopicSubs[s.topic]++
				t.TopicUnique[s.topic] += int64(s.unique)
				t.Unique += int64(s.unique)
				t.Duplicates += int64(s.dups)
				t.OutOfOrder += int64(s.ooo)
				t.Late += int64(s.late)
			}
		}
		l.mu.Unlock()
	}
	return t
}

func addMap(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}
