package receiver

import "sync"

// subscriber is one Subscribe call's buffer, in one of two layouts.
//
// Channel layout (DropOldest, DropWrite): the channel is the buffer, of
// capacity Options.Capacity, and the receiver is its only sender. A drop is
// one non-blocking send or receive, and the subscriber costs no goroutine.
//
// Ring layout (DropNewest): removing the newest event of a channel would
// mean draining it, which races with a reader draining it too (the reader
// could take a newer event than those drained, and order would break). So
// the buffer is a ring of Options.Capacity events under mu, and a pump
// goroutine offers the ring's oldest event on an unbuffered channel,
// popping it only once the send succeeded. Replacing the newest event is
// then one store.
//
// mu serialises deliveries, drops and close, so that no send ever hits a
// closed channel. Lock order: a shard's read lock (inside Registry.View)
// may be held when mu is taken, never the other way round. The pump never
// sends while holding mu.
type subscriber struct {
	mu     sync.Mutex
	ch     chan Event
	closed bool        // mu; no more deliveries
	stop   func() bool // mu; stops the context.AfterFunc of Subscribe

	// Ring layout only.
	ring   []Event       // mu; len Capacity
	start  int           // mu; index of the oldest event
	n      int           // mu; number of buffered events
	gen    uint64        // mu; changes whenever ring[start] is replaced or popped
	notify chan struct{} // capacity 1; wakes the pump after a change
}

// newSubscriber returns a subscriber with capacity events of buffer laid
// out for mode. A ring-layout subscriber delivers nothing until its pump
// runs.
func newSubscriber(capacity int, mode FullMode) *subscriber {
	if mode == DropNewest {
		return &subscriber{
			ch:     make(chan Event),
			ring:   make([]Event, capacity),
			notify: make(chan struct{}, 1),
		}
	}
	return &subscriber{ch: make(chan Event, capacity)}
}

// deliver puts ev into the buffer without blocking, making room according
// to mode (the mode the subscriber was made for) when it is full. It
// reports whether ev was delivered and whether an event (ev or a buffered
// one) was dropped. A closed subscriber gets nothing.
func (s *subscriber) deliver(ev Event, mode FullMode) (delivered, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	if s.ring != nil {
		return true, s.push(ev)
	}
	select {
	case s.ch <- ev:
		return true, false
	default:
	}
	// Full. The reader may drain concurrently, but only this goroutine (under
	// mu) sends, so room made here stays free until the send below.
	if mode == DropWrite {
		return false, true
	}
	select { // DropOldest
	case <-s.ch:
		dropped = true
	default: // the reader emptied it meanwhile
	}
	select {
	case s.ch <- ev:
		return true, dropped
	default: // unreachable: room was made above and mu excludes other senders
		return false, true
	}
}

// push appends ev to the ring or, when it is full, replaces the newest
// event with ev (DropNewest), reporting the drop, and wakes the pump. mu
// held.
func (s *subscriber) push(ev Event) (dropped bool) {
	c := len(s.ring)
	if s.n < c {
		s.ring[(s.start+s.n)%c] = ev
		s.n++
	} else {
		s.ring[(s.start+s.n-1)%c] = ev
		dropped = true
		if s.n == 1 {
			s.gen++ // the pump may be offering the replaced event
		}
	}
	s.wake()
	return dropped
}

// wake makes the pump look at the ring again. It never blocks.
func (s *subscriber) wake() {
	select {
	case s.notify <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// pump feeds a ring-layout subscriber's channel until the subscriber is
// closed and its ring drained, or done is closed (the Subscribe context:
// the reader is gone, buffered events are discarded, and the pump waits for
// the close that follows). It closes the channel when it returns. It runs on its own goroutine, one per
// ring-layout subscriber.
func (s *subscriber) pump(done <-chan struct{}) {
	defer close(s.ch)
	for {
		s.mu.Lock()
		if s.n == 0 {
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-s.notify:
				continue
			case <-done:
				s.awaitClose()
				return
			}
		}
		ev, gen := s.ring[s.start], s.gen
		s.mu.Unlock()
		select {
		case s.ch <- ev:
			s.mu.Lock()
			if s.gen == gen { // else ev was replaced after the reader got it: keep the replacement
				s.ring[s.start] = Event{} // drop the reference for the GC
				s.start = (s.start + 1) % len(s.ring)
				s.n--
				s.gen++
			}
			s.mu.Unlock()
		case <-s.notify: // ev may have been replaced: offer the oldest again
		case <-done:
			s.awaitClose()
			return
		}
	}
}

// awaitClose waits until the subscriber is closed. After its context is
// done, the pump discards what is buffered and waits here for Subscribe's
// context callback to unsubscribe (and release the NATS subscription),
// so that the channel, as in the channel layout, closes after that.
func (s *subscriber) awaitClose() {
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		<-s.notify // close wakes it
	}
}

// close ends deliveries and releases the context callback. The reader still
// receives the events buffered before close, then sees the channel closed
// (ring layout: once the pump drained the ring).
func (s *subscriber) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.ring == nil {
			close(s.ch)
		} else {
			s.wake()
		}
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

// buffered returns the number of events buffered (tests).
func (s *subscriber) buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ring != nil {
		return s.n
	}
	return len(s.ch)
}
