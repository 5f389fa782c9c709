package relay

import (
	"sync"
	"sync/atomic"
	"time"
)

// subscriber is one open subscription: the frames queued for it, bounded in count and bytes.
// The webhook handlers push; the subscription's own handler pops and writes. When a push finds
// the queue full, the oldest frames go: the subscriber reads too slowly, and it is its own
// deliveries that are lost, never another subscriber's.
type subscriber struct {
	id, name, target string
	since            time.Time

	mu      sync.Mutex
	ring    [][]byte // capacity maxFrames
	head, n int
	bytes   int64
	pending int64 // dropped since the last notice
	wake    chan struct{}

	maxBytes  int64
	queued    atomic.Int64 // frames pushed (kept or dropped later)
	fannedOut atomic.Int64 // deliveries written to the stream
	dropped   atomic.Int64 // deliveries dropped: the queue was full
	peak      atomic.Int64 // largest queue length seen, in bytes
}

func newSubscriber(id, name, target string, frames int, maxBytes int64, now time.Time) *subscriber {
	return &subscriber{id: id, name: name, target: target, since: now, ring: make([][]byte, frames),
		maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// push queues a frame, dropping the oldest ones while the queue is over its bounds, and wakes
// the writer.
func (s *subscriber) push(frame []byte) {
	s.mu.Lock()
	var dropped int64
	for s.n > 0 && (s.n == len(s.ring) || s.bytes+int64(len(frame)) > s.maxBytes) {
		old := s.ring[s.head]
		s.ring[s.head] = nil
		s.head = (s.head + 1) % len(s.ring)
		s.n--
		s.bytes -= int64(len(old))
		dropped++
	}
	s.ring[(s.head+s.n)%len(s.ring)] = frame
	s.n++
	s.bytes += int64(len(frame))
	s.pending += dropped
	if s.bytes > s.peak.Load() {
		s.peak.Store(s.bytes)
	}
	s.mu.Unlock()
	s.queued.Add(1)
	if dropped > 0 {
		s.dropped.Add(dropped)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take moves the queued frames into buf (reused) and returns them with the number dropped since
// the last take.
func (s *subscriber) take(buf [][]byte) ([][]byte, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf = buf[:0]
	for s.n > 0 {
		buf = append(buf, s.ring[s.head])
		s.ring[s.head] = nil
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
	s.bytes = 0
	d := s.pending
	s.pending = 0
	return buf, d
}

// length returns the frames queued now.
func (s *subscriber) length() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// stats returns the subscriber's counters; left and reason are for one that has gone.
func (s *subscriber) stats(left time.Time, reason string) SubscriberStats {
	return SubscriberStats{
		ID: s.id, Name: s.name, Target: s.target, Since: s.since, Left: left, Reason: reason,
		Queued: s.length(), FannedOut: s.fannedOut.Load(), Dropped: s.dropped.Load(), PeakQueueBytes: s.peak.Load(),
	}
}
