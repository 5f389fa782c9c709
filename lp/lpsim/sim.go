package lpsim

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Sim is the simulated LivePerson service: an http.Handler for every route of the package
// documentation. It is safe for concurrent use. Its state (tokens, conversations, ledger) lives
// in memory for its whole life.
type Sim struct {
	// Immutable after New.
	cfg           Config // with defaults; cfg.Latency is the initial value only, see lat
	accounts      map[string]*Account
	appJWTSeconds int64            // lifetime written into exp: cfg.AppJWTLifetime rounded up, at least 1s
	now           func() time.Time // the simulated service's clock: token times and ledger times
	start         time.Time        // now() at creation; ledger times are durations since it
	mux           *http.ServeMux
	appJWT        *signer
	consumerJWS   *signer
	rng           *lockedRand

	lat [numEndpoints]atomic.Pointer[sampler] // current latency per endpoint (SetLatency swaps)

	requests           [numEndpoints][statusSlots]atomic.Int64 // answered requests by status
	appJWTsIssued      atomic.Int64
	consumerJWSsIssued atomic.Int64
	conversations      conversations // under its own mutex, held only for map and field updates

	stall stall

	// closing is closed by shutdown: every latency and stall wait ends at once.
	closing   chan struct{}
	closeOnce sync.Once
}

// New validates cfg and returns a Sim serving it.
func New(cfg Config) (*Sim, error) { return newSim(cfg, time.Now) }

// newSim is New with an injectable clock, so tests can move time (token expiry, the AUTO_MESSAGES
// window) without sleeping. Latency and stall waits always use real time.
func newSim(cfg Config, now func() time.Time) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:           cfg,
		accounts:      make(map[string]*Account, len(cfg.Accounts)),
		appJWTSeconds: max(1, int64((cfg.AppJWTLifetime+time.Second-1)/time.Second)),
		now:           now,
		start:         now(),
		appJWT:        newSigner(),
		consumerJWS:   newSigner(),
		rng:           newLockedRand(cfg.Seed),
		closing:       make(chan struct{}),
	}
	for i := range cfg.Accounts {
		s.accounts[cfg.Accounts[i].ID] = &cfg.Accounts[i]
	}
	for i, e := range endpoints {
		s.lat[i].Store(newSampler(cfg.Latency[e]))
	}
	s.conversations.init()
	s.stall.init()
	s.mux = s.routes()
	return s, nil
}

// ServeHTTP answers one request of the simulated API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Config returns the effective configuration: defaults applied and the current latencies (as
// changed by SetLatency). The result shares nothing with the Sim.
func (s *Sim) Config() Config {
	c := s.cfg
	c.Accounts = append([]Account(nil), s.cfg.Accounts...)
	c.Latency = make(map[Endpoint]Latency, numEndpoints)
	for i, e := range endpoints {
		if l := s.lat[i].Load().l; l != (Latency{}) {
			c.Latency[e] = l
		}
	}
	return c
}

// SetLatency changes the service time of endpoint e from now on; requests already waiting keep
// the time they sampled. It panics when e is not a known Endpoint or l does not validate (a
// programming error: check user input with Latency.Validate first).
func (s *Sim) SetLatency(e Endpoint, l Latency) {
	i := e.index()
	if i < 0 {
		panic("lpsim: SetLatency: unknown endpoint " + string(e))
	}
	if err := l.Validate(); err != nil {
		panic("lpsim: SetLatency: " + err.Error())
	}
	s.lat[i].Store(newSampler(l))
}

// Stall holds every response from now for d: responses in progress and those of requests arriving
// during the stall are written when it ends. Arrival times are still taken on arrival. A later
// call replaces the end of the stall (it may shorten it); d <= 0 lifts the stall.
func (s *Sim) Stall(d time.Duration) { s.stall.set(d) }

// elapsed is the ledger clock: the simulated service's time since the Sim was created.
func (s *Sim) elapsed() time.Duration { return s.now().Sub(s.start) }

// jsonContentType is shared by every response; net/http only reads header slices.
var jsonContentType = []string{"application/json"}

// respond counts the answer under ep, applies ep's simulated latency and any stall, then writes
// it. Counting comes first: the status is decided, whether or not the client waits for it.
func (s *Sim) respond(w http.ResponseWriter, r *http.Request, ep Endpoint, status int, body []byte) {
	if i := ep.index(); i >= 0 {
		s.count(i, status)
		s.sleep(r.Context(), s.lat[i].Load().sample(s.rng))
	}
	s.hold(r.Context())
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// fail responds with e in the documented error shape.
func (s *Sim) fail(w http.ResponseWriter, r *http.Request, ep Endpoint, e apiErr) {
	s.respond(w, r, ep, e.status, e.body())
}

// sleep waits d, or less when the request ends or the Sim shuts down.
func (s *Sim) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.closing:
	}
}

// hold waits while a stall is in force, or less when the request ends or the Sim shuts down.
func (s *Sim) hold(ctx context.Context) {
	for {
		// Take the change signal before reading the end: a Stall call after this point closes
		// ch, so a shortened or lifted stall is never slept through.
		ch := s.stall.changed()
		wait := s.stall.remaining()
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ch:
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		}
		t.Stop()
	}
}

// shutdown ends every wait, now and later. It is for Server.Close; the Sim keeps answering, only
// without simulated latency or stalls.
func (s *Sim) shutdown() { s.closeOnce.Do(func() { close(s.closing) }) }

// stall is the end of the current stall, on a real monotonic clock (a Sim's injected clock may not
// move at all, and waits must end). Readers take no lock: every response checks it.
type stall struct {
	epoch time.Time
	end   atomic.Int64 // nanoseconds since epoch; 0 = no stall

	mu sync.Mutex                    // serializes set
	ch atomic.Pointer[chan struct{}] // closed and replaced after every change of end
}

func (st *stall) init() {
	st.epoch = time.Now()
	ch := make(chan struct{})
	st.ch.Store(&ch)
}

func (st *stall) set(d time.Duration) {
	end := int64(0)
	if d > 0 {
		end = int64(time.Since(st.epoch) + d)
	}
	next := make(chan struct{})
	st.mu.Lock()
	defer st.mu.Unlock()
	// Store the end before publishing the new channel: a reader holding the new channel is then
	// sure to read the new end, and one holding the old channel is woken by its close.
	st.end.Store(end)
	close(*st.ch.Swap(&next))
}

// changed returns a channel closed at the next change of the stall's end.
func (st *stall) changed() <-chan struct{} { return *st.ch.Load() }

// remaining is how long the current stall still lasts (<= 0: none).
func (st *stall) remaining() time.Duration {
	end := st.end.Load()
	if end == 0 {
		return 0
	}
	return time.Duration(end) - time.Since(st.epoch)
}
