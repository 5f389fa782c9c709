package lp

import (
	"context"
	"sync"
	"time"
)

// fetchTimeout bounds a shared fetch, which runs detached from the caller that started it, when
// that caller has no earlier deadline of its own.
const fetchTimeout = 30 * time.Second

// cached holds one value shared by every journey of a target (the CSDS map, the AppJWT) and
// refreshes it when stale. Concurrent callers that find it stale share one fetch: the first starts
// it, the others wait for it.
//
// The fetch runs on a context detached from the cancellation of the caller that started it, so
// one journey being cancelled does not fail the others waiting on the same fetch. It keeps that
// caller's deadline (a request timeout), capped at fetchTimeout: a fetch from a server that never
// answers ends when the request that started it would have, and no goroutine outlives the run
// by more than that. A failed fetch is not cached: the next caller tries again, but never more
// than one fetch is in flight, and after a failure the next one waits a backoff that doubles with
// each failure in a row (250 ms up to 30 s): callers meanwhile get the last error at once, so a
// service refusing every fetch is not hammered by every journey.
type cached[T any] struct {
	mu       sync.Mutex
	val      T
	refresh  time.Time // refresh once the clock passes this; zero: no value yet
	inflight *fetchCall[T]
	fetches  int64 // fetches started, for reports and tests

	failures  int       // failed fetches in a row
	lastErr   error     // the last fetch's error, while failures > 0
	retryAt   time.Time // no fetch before this after a failure
	succeeded bool      // a fetch has ever succeeded
}

// Backoff after failed fetches.
const (
	backoffFirst = 250 * time.Millisecond
	backoffMax   = 30 * time.Second
)

type fetchCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// get returns the value, fetching it first when there is none or it is stale. fetch returns the
// value and the time after which it must be refreshed. started reports whether this caller started
// the fetch it waited for (callers that join another's fetch make no request of their own).
func (c *cached[T]) get(ctx context.Context, fetch func(context.Context) (T, time.Time, error)) (val T, started bool, err error) {
	c.mu.Lock()
	if !c.refresh.IsZero() && time.Now().Before(c.refresh) {
		v := c.val
		c.mu.Unlock()
		return v, false, nil
	}
	call := c.inflight
	if call == nil && c.failures > 0 && time.Now().Before(c.retryAt) {
		err := c.lastErr
		c.mu.Unlock()
		var zero T
		return zero, false, err
	}
	if call == nil {
		call = &fetchCall[T]{done: make(chan struct{})}
		c.inflight = call
		c.fetches++
		started = true
		deadline := time.Now().Add(fetchTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		go c.run(context.WithoutCancel(ctx), deadline, call, fetch)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		return call.val, started, call.err
	case <-ctx.Done():
		var zero T
		return zero, started, ctx.Err()
	}
}

// fresh returns the value when there is one that needs no refresh yet, without waiting.
func (c *cached[T]) fresh() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.refresh.IsZero() && time.Now().Before(c.refresh) {
		return c.val, true
	}
	var zero T
	return zero, false
}

func (c *cached[T]) run(ctx context.Context, deadline time.Time, call *fetchCall[T], fetch func(context.Context) (T, time.Time, error)) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	v, refresh, err := fetch(ctx)
	c.mu.Lock()
	call.val, call.err = v, err
	if err == nil {
		c.val, c.refresh = v, refresh
		c.failures, c.lastErr, c.succeeded = 0, nil, true
	} else {
		c.failures++
		c.lastErr = err
		c.retryAt = time.Now().Add(min(backoffFirst<<min(c.failures-1, 10), backoffMax))
	}
	c.inflight = nil
	c.mu.Unlock()
	close(call.done)
}

// invalidate drops the value if it still is stale, so the next get fetches a fresh one. Callers
// pass the value they found rejected, so that a value refreshed meanwhile is kept.
func (c *cached[T]) invalidate(stale func(T) bool) {
	c.mu.Lock()
	if !c.refresh.IsZero() && stale(c.val) {
		c.refresh = time.Time{}
	}
	c.mu.Unlock()
}

// count returns how many fetches were started.
func (c *cached[T]) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

// failing returns the failed fetches in a row and the last error, and whether a fetch ever
// succeeded.
func (c *cached[T]) failing() (failures int, err error, succeeded bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failures, c.lastErr, c.succeeded
}
