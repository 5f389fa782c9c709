package lpsim

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// ServiceLimit is what one endpoint serves before requests queue: at most Concurrency requests in
// service at once, and at most Rate requests per second entering service. Zero means unlimited.
// Beyond either, requests wait in an unbounded FIFO queue (they are not refused), so latency
// grows with load: a ramp shows a knee where the offered rate passes Concurrency / mean service
// time, or Rate. Only the endpoint's own service time occupies a slot: the region offset and
// stalls do not.
type ServiceLimit struct {
	Concurrency int     `yaml:"concurrency"` // requests in service at once; 0 = unlimited
	Rate        float64 `yaml:"rate"`        // requests per second entering service; 0 = unlimited
}

// Validate reports whether c has sensible values.
func (c ServiceLimit) Validate() error {
	if c.Concurrency < 0 {
		return fmt.Errorf("negative concurrency %d", c.Concurrency)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return fmt.Errorf("rate %v is not a finite non-negative number", c.Rate)
	}
	return nil
}

// QueueStats is the Ledger's account of one endpoint's queue: requests that had to wait for
// capacity, how long, and how many waited at once.
type QueueStats struct {
	Queued   int64         `json:"queued"`      // requests that waited for capacity
	MaxDepth int64         `json:"max_depth"`   // most requests waiting at once
	Wait     time.Duration `json:"wait_ns"`     // total time spent waiting, in JSON nanoseconds
	MaxWait  time.Duration `json:"max_wait_ns"` // longest single wait
}

// queue enforces one endpoint's ServiceLimit and keeps its statistics. A queue with neither limit
// costs one nil check per request.
type queue struct {
	slots chan struct{} // a semaphore of Concurrency slots; nil = unlimited
	pace  *rate.Limiter // entry rate; nil = unlimited

	depth                             atomic.Int64 // requests waiting now
	queued, maxDepth, waitNs, maxWait atomic.Int64
}

func newQueue(c ServiceLimit) *queue {
	q := &queue{}
	if c.Concurrency > 0 {
		q.slots = make(chan struct{}, c.Concurrency)
	}
	if c.Rate > 0 {
		// A burst of 10 ms worth: pacing stays smooth at any rate, and a request arriving at an
		// idle endpoint does not wait.
		q.pace = rate.NewLimiter(rate.Limit(c.Rate), max(1, int(math.Ceil(c.Rate/100))))
	}
	return q
}

func (q *queue) limited() bool { return q.slots != nil || q.pace != nil }

// enter waits for the endpoint's capacity: first the entry rate, then a free slot. It returns
// whether it took a slot (to be given back with leave). The wait ends early, without a slot, when
// ctx ends or closing is closed: the request is then answered without further delay.
func (q *queue) enter(ctx context.Context, closing <-chan struct{}) (slot bool) {
	var start time.Time
	waiting := false
	wait := func() {
		if !waiting {
			waiting, start = true, time.Now()
			updateMax(&q.maxDepth, q.depth.Add(1))
		}
	}
	aborted := false
	if q.pace != nil {
		res := q.pace.Reserve()
		if d := res.Delay(); d > 0 {
			wait()
			if !sleepCtx(ctx, closing, d) {
				res.Cancel() // the request gave up: its turn goes back to the others
				aborted = true
			}
		}
	}
	if q.slots != nil && !aborted {
		select {
		case q.slots <- struct{}{}:
			slot = true
		default:
			wait()
			select {
			case q.slots <- struct{}{}:
				slot = true
			case <-ctx.Done():
			case <-closing:
			}
		}
	}
	if waiting {
		q.depth.Add(-1)
		d := int64(time.Since(start))
		q.queued.Add(1)
		q.waitNs.Add(d)
		updateMax(&q.maxWait, d)
	}
	return slot
}

// leave gives back a slot taken by enter.
func (q *queue) leave() { <-q.slots }

func (q *queue) stats() QueueStats {
	return QueueStats{
		Queued:   q.queued.Load(),
		MaxDepth: q.maxDepth.Load(),
		Wait:     time.Duration(q.waitNs.Load()),
		MaxWait:  time.Duration(q.maxWait.Load()),
	}
}

// resetStats zeroes the statistics; requests waiting now stay counted in depth.
func (q *queue) resetStats() {
	q.queued.Store(0)
	q.maxDepth.Store(q.depth.Load())
	q.waitNs.Store(0)
	q.maxWait.Store(0)
}

// updateMax raises m to v if v is larger.
func updateMax(m *atomic.Int64, v int64) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

// sleepCtx waits d and reports true, or reports false as soon as ctx ends or closing is closed.
func sleepCtx(ctx context.Context, closing <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-closing:
	}
	return false
}
