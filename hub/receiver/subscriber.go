package receiver

import "sync"

// subscriber is one Subscribe call's buffer. The channel is the buffer: its
// capacity is Options.Capacity and the receiver is its only sender.
//
// mu serialises sends, the full-mode drops (which receive from ch) and
// close, so that no send ever hits a closed channel. Lock order: a shard's
// read lock (inside Registry.View) may be held when mu is taken, never the
// other way round.
type subscriber struct {
	mu      sync.Mutex
	ch      chan Event
	closed  bool        // mu
	stop    func() bool // mu; stops the context.AfterFunc of Subscribe
	scratch []Event     // mu; DropNewest's drain buffer, allocated on first use
}

func newSubscriber(capacity int) *subscriber {
	return &subscriber{ch: make(chan Event, capacity)}
}

// deliver puts ev into the buffer without blocking, making room according
// to mode when it is full. It reports whether ev was delivered and whether
// an event (ev or a buffered one) was dropped. A closed subscriber gets
// nothing.
func (s *subscriber) deliver(ev Event, mode FullMode) (delivered, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	select {
	case s.ch <- ev:
		return true, false
	default:
	}
	// Full. The reader may drain concurrently, but only this goroutine (under
	// mu) sends, so room made here stays free until the send below.
	switch mode {
	case DropWrite:
		return false, true
	case DropOldest:
		select {
		case <-s.ch:
			dropped = true
		default: // the reader emptied it meanwhile
		}
	case DropNewest:
		dropped = s.dropNewest()
	}
	select {
	case s.ch <- ev:
		return true, dropped
	default: // unreachable: room was made above and mu excludes other senders
		return false, true
	}
}

// dropNewest removes the last buffered event: it drains the buffer, puts
// back all but the last one in order and reports whether it removed one.
// It costs O(Capacity) channel operations per dropped event. A reader
// running concurrently sees an empty channel meanwhile and then the
// remaining events in their original order. mu held.
func (s *subscriber) dropNewest() bool {
	if s.scratch == nil {
		s.scratch = make([]Event, 0, cap(s.ch))
	}
	buf := s.scratch[:0]
drain:
	for {
		select {
		case ev := <-s.ch:
			buf = append(buf, ev)
		default:
			break drain
		}
	}
	if len(buf) == 0 {
		return false
	}
	for _, ev := range buf[:len(buf)-1] {
		s.ch <- ev // cannot block: the buffer held them a moment ago
	}
	clear(buf) // drop references to the events' data for the GC
	return true
}

// close closes the channel once and releases the context callback. The
// reader still receives the events buffered before close.
func (s *subscriber) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// setStop records the context callback's stop function, or calls it at once
// if the subscriber is already closed.
func (s *subscriber) setStop(stop func() bool) {
	s.mu.Lock()
	if !s.closed {
		s.stop = stop
		stop = nil
	}
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}
