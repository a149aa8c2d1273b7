package loadtest

// ringBits is the reorder window of a subscription: a delivery whose seq is
// more than ringBits below the highest seq seen cannot be classified as new
// or duplicate and is counted as late instead.
const ringBits = 1024

// sub is the accounting of one subscription. It is owned by the loop of its
// connection; every field is guarded by that loop's mutex.
type sub struct {
	id     []byte
	topic  int32
	stable bool // counted for loss (not a churn subscription)
	active bool // subscribe sent and not completed
	sent   bool // subscribe was sent once: the subscription expects deliveries

	highest   uint64
	delivered uint64
	unique    uint64
	dups      uint64
	ooo       uint64
	late      uint64
	ring      [ringBits / 64]uint64
}

// record classifies one delivery of seq: a duplicate when seq was seen,
// out-of-order when it is new but lower than the highest seen, late when it
// falls out of the window. Unique deliveries (new, in order or not) count
// towards the loss computation.
func (s *sub) record(seq uint64) {
	s.delivered++
	switch {
	case seq > s.highest:
		if seq-s.highest >= ringBits {
			s.ring = [ringBits / 64]uint64{}
		} else {
			for q := s.highest + 1; q < seq; q++ {
				s.ring[(q/64)%(ringBits/64)] &^= 1 << (q % 64)
			}
		}
		s.highest = seq
		s.ring[(seq/64)%(ringBits/64)] |= 1 << (seq % 64)
		s.unique++
	case s.highest-seq >= ringBits:
		s.late++
	default:
		w, b := (seq/64)%(ringBits/64), uint64(1)<<(seq%64)
		if s.ring[w]&b != 0 {
			s.dups++
			return
		}
		s.ring[w] |= b
		s.unique++
		s.ooo++
	}
}
