package hub

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/valyala/fastjson"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/wire"
)

const (
	// loopQueue is the capacity of a fan-out loop's NATS channel; nats.go
	// drops (and reports as slow consumer) past it.
	loopQueue = 16384
	// maxBurst bounds the messages a loop handles before flushing.
	maxBurst = 256
	// maxBurstBytes bounds the bytes a loop queues before flushing, so that a
	// burst of large messages never piles up past MaxOutboundBytes unwritten.
	maxBurstBytes = 256 << 10
	// inlineFlush is the number of dirty connections a loop flushes itself;
	// larger sets are split over the writer pool so both cores write.
	inlineFlush = 32
	// writerChunk is the number of connections in one writer pool task.
	writerChunk = 128
	// paceMin is the smallest flush that Options.Coalesce paces: pacing
	// pays where one message costs many writes; frequent small fan-outs
	// (many modest topics) are written at once.
	paceMin = 256
)

// loop is one shard's fan-out goroutine. Every NATS subscription of the
// shard's subjects delivers into ch. For each message the loop decodes and
// parses once, projects and encodes once per group (plan, protocol), appends
// a frame per subscriber to that connection's queue and, after the burst,
// flushes every connection it touched once.
type loop struct {
	h       *Hub
	idx     int
	ch      chan *nats.Msg
	dec     wire.Decoder
	parser  fastjson.Parser
	payload []byte
	marked  []byte // an event with lone surrogates marked (graphql.MarkLoneSurrogates)
	dirty   []*conn
	queued  int // bytes queued since the last flush
	// pace fires when a paced flush (Options.Coalesce) is due; armed says
	// it is set and l.dirty is waiting for it.
	pace  *time.Timer
	armed bool

	projections uint64 // plans executed, for tests: one per group per message

	// the message being visited; set before reg.View, read by visit
	cur      *nats.Msg
	curValue *fastjson.Value
	visitFn  func(t *topic)
}

func newLoop(h *Hub, idx int) *loop {
	l := &loop{
		h:   h,
		idx: idx,
		ch:  make(chan *nats.Msg, loopQueue),
		dec: wire.Decoder{Serializer: h.opts.Serializer, Envelope: h.opts.Envelope},
	}
	l.visitFn = l.visit
	return l
}

func (l *loop) run() {
	defer l.h.wg.Done()
	l.pace = time.NewTimer(time.Hour)
	l.pace.Stop()
	defer l.pace.Stop()
	for {
		select {
		case <-l.h.stop:
			return
		case <-l.pace.C:
			l.armed = false
			l.submit()
		case m := <-l.ch:
			l.handle(m)
			for i := 1; i < maxBurst && l.queued < maxBurstBytes; i++ {
				select {
				case m = <-l.ch:
					l.handle(m)
					continue
				default:
				}
				break
			}
			l.flush()
		}
	}
}

// handle fans one NATS message out to the local subscribers of its subject.
func (l *loop) handle(m *nats.Msg) {
	h := l.h
	h.stats.Messages.Add(1)
	complete := false
	if m.Header != nil && m.Header.Get(wire.CompleteHeader) == "true" {
		complete = true
	}
	kind, event, err := l.dec.Decode(m.Data, complete)
	if err != nil {
		h.stats.InvalidMessages.Add(1)
		h.log.Debug("dropped undecodable message", "subject", m.Subject, "err", err)
		return
	}
	switch kind {
	case wire.EventComplete:
		// Flush what is queued first so that complete follows the last next.
		l.flush()
		h.completeTopic(m.Subject, m.Sub)
		return
	case wire.EventData:
	default:
		return
	}
	if marked, ok := graphql.MarkLoneSurrogates(l.marked[:0], event); ok {
		l.marked, event = marked, marked
	}
	v, err := l.parser.ParseBytes(event)
	if err != nil {
		h.stats.InvalidMessages.Add(1)
		h.log.Debug("dropped invalid JSON message", "subject", m.Subject, "err", err)
		return
	}
	l.cur, l.curValue = m, v
	h.reg.View(m.Subject, l.visitFn)
	l.cur, l.curValue = nil, nil
}

// visit runs under the shard's read lock: it queues frames, never writes.
func (l *loop) visit(t *topic) {
	t.UpMu.Lock()
	up, _ := t.Upstream.(*nats.Subscription)
	t.UpMu.Unlock()
	if up != l.cur.Sub {
		// A message of an older, already released subscription of this
		// subject: its subscribers are not ours to serve twice.
		return
	}
	l.deliver(t, l.curValue)
}

// deliver projects v once per group of t and queues a frame for each
// subscriber. It allocates nothing once buffers are warm.
func (l *loop) deliver(t *topic, v *fastjson.Value) {
	n := 0
	for i := 0; i < t.NumGroups(); i++ {
		key, subs := t.Group(i)
		var fits bool
		if l.payload, fits = key.plan.AppendResult(l.payload[:0], v); !fits {
			l.h.stats.OversizedResults.Add(1)
			l.h.log.Warn("event result too large: sent an error instead", "subject", t.Subject, "subscribers", len(subs))
		}
		l.projections++
		for _, s := range subs {
			if s.c.enqueueDelivery(s, l.payload) {
				l.dirty = append(l.dirty, s.c)
			}
		}
		n += len(subs)
		l.queued += len(subs) * (len(l.payload) + 64)
	}
	l.h.stats.Deliveries.Add(int64(n))
}

// flush writes every connection touched since the last flush: small sets
// inline, large ones split over the writer pool, paced under load.
func (l *loop) flush() {
	l.queued = 0
	if len(l.dirty) == 0 || l.armed {
		return // a paced flush is due and will take the new ones too
	}
	if len(l.dirty) <= inlineFlush {
		start := time.Now()
		for i, c := range l.dirty {
			c.flush()
			l.dirty[i] = nil
		}
		l.dirty = l.dirty[:0]
		l.h.stats.Fanout.Observe(time.Since(start))
		return
	}
	// A small fan-out costs little to write at once; a large one is paced.
	if len(l.dirty) >= paceMin {
		if wait := l.h.writers.paceWait(l.h.opts.Coalesce); wait > 0 {
			l.h.stats.PacedFlushes.Add(1)
			l.armed = true
			l.pace.Reset(wait)
			return
		}
	}
	l.submit()
}

// submit hands l.dirty to the writer pool.
func (l *loop) submit() {
	if len(l.dirty) == 0 {
		return
	}
	l.h.writers.submit(l.dirty)
	for i := range l.dirty {
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
}

// writerPool flushes connections on all cores. A connection is in at most
// one dirty list at a time (conn.dirty), so two writers never race for it;
// conn.flush serialises anyway.
type writerPool struct {
	// lastSubmit is when the last large flush was handed over, in
	// nanoseconds since start: the pacing clock shared by every loop.
	lastSubmit atomic.Int64
	epoch      time.Time
	tasks      chan *writerTask
	free       sync.Pool
	flushes    sync.Pool // *poolFlush
	fanout     *DurationHistogram
	wg         sync.WaitGroup
	n          int
	closed     chan struct{}
}

// writerTask is one chunk of a flush, for one writer.
type writerTask struct {
	conns []*conn
	f     *poolFlush
}

// poolFlush is one flush handed to the pool: the writer that finishes its
// last chunk records how long the whole flush took.
type poolFlush struct {
	start time.Time
	left  atomic.Int32 // chunks not yet written
}

// newWriterPool makes a pool that records the duration of every flush in
// fanout.
func newWriterPool(fanout *DurationHistogram) *writerPool {
	p := &writerPool{
		epoch:  time.Now(),
		tasks:  make(chan *writerTask, 4096),
		fanout: fanout,
		n:      runtime.GOMAXPROCS(0),
		closed: make(chan struct{}),
	}
	p.free.New = func() any { return &writerTask{conns: make([]*conn, 0, writerChunk)} }
	p.flushes.New = func() any { return new(poolFlush) }
	return p
}

// start starts the writers. With pin, writer i keeps one OS thread of its
// own, allowed on one CPU only: the i-th of the CPUs the process may use
// (round robin when there are fewer than writers; no pinning with one).
// Left to the kernel, both writer threads sometimes shared one CPU for a
// whole 10,000-connection fan-out while a lower-priority process held the
// other, doubling it (benchmarks/RESULTS.md). A pinned thread ends with its
// writer (it is never unlocked), so no other goroutine runs on it, and the
// runtime starts new threads from its template thread, so none inherits the
// restricted affinity.
func (p *writerPool) start(pin bool) {
	var cpus []int
	if pin {
		cpus = allowedCPUs()
	}
	for i := 0; i < p.n; i++ {
		cpu := -1
		if len(cpus) > 1 {
			cpu = cpus[i%len(cpus)]
		}
		p.wg.Add(1)
		go p.run(cpu)
	}
}

// allowedCPUs lists the CPUs this process may run on (its affinity mask,
// which a container's cpuset narrows), or nil if it cannot tell.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for c := 0; c < len(set)*64 && len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// run is one writer. cpu >= 0 pins it to that CPU (see start).
func (p *writerPool) run(cpu int) {
	defer p.wg.Done()
	if cpu >= 0 {
		runtime.LockOSThread() // never unlocked: the thread ends with the writer
		var set unix.CPUSet
		set.Set(cpu)
		_ = unix.SchedSetaffinity(0, &set) // unpinned if refused
	}
	for {
		select {
		case <-p.closed:
			return
		case t := <-p.tasks:
			for i, c := range t.conns {
				c.flush()
				t.conns[i] = nil
			}
			t.conns = t.conns[:0]
			if f := t.f; f.left.Add(-1) == 0 {
				p.fanout.Observe(time.Since(f.start))
				p.flushes.Put(f)
			}
			t.f = nil
			p.free.Put(t)
		}
	}
}

// paceWait returns how long a large flush must wait so that it starts at
// least gap after the previous one (0: now). Flushes further apart than gap
// (an idle or lightly loaded hub) never wait.
func (p *writerPool) paceWait(gap time.Duration) time.Duration {
	if gap <= 0 {
		return 0
	}
	last := p.lastSubmit.Load()
	if last == 0 {
		return 0
	}
	return time.Duration(last) + gap - time.Since(p.epoch)
}

// markLarge sets the pacing clock: a flush of paceMin connections or more
// is handed over now.
func (p *writerPool) markLarge() { p.lastSubmit.Store(int64(max(time.Since(p.epoch), 1))) }

// submit hands conns to the writers in chunks; conns may be reused by the
// caller afterwards. Only a flush large enough to be paced sets the pacing
// clock, so smaller ones never hold back the next large one.
func (p *writerPool) submit(conns []*conn) {
	if len(conns) == 0 {
		return
	}
	if len(conns) >= paceMin {
		p.markLarge()
	}
	f := p.flushes.Get().(*poolFlush)
	f.start = time.Now()
	f.left.Store(int32((len(conns) + writerChunk - 1) / writerChunk))
	for len(conns) > 0 {
		n := min(len(conns), writerChunk)
		t := p.free.Get().(*writerTask)
		t.f = f
		t.conns = append(t.conns, conns[:n]...)
		conns = conns[n:]
		select {
		case p.tasks <- t:
		case <-p.closed:
			return
		}
	}
}

func (p *writerPool) stopAndWait() {
	close(p.closed)
	p.wg.Wait()
}
