package lpsim

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Sim is the simulated LivePerson service: an http.Handler for every route of the package
// documentation. It is safe for concurrent use. Its state (tokens, conversations, ledger) lives
// in memory for its whole life, or until Reset.
type Sim struct {
	// Immutable after New.
	cfg           Config // with defaults; cfg.Latency is the initial value only, see lat
	accounts      map[string]*account
	appJWTSeconds int64               // lifetime written into exp: cfg.AppJWTLifetime rounded up, at least 1s
	now           func() time.Time    // the simulated service's clock: token times and ledger times
	start         time.Time           // now() at creation; ledger times are durations since it
	mux           *http.ServeMux      // every route: the Sim as one handler, one host for all services
	ports         [numServices]string // each service's port, set by a Server with a host per service; "" = the request's host
	appJWT        *issuer[appJWTClaims]
	appJWTKey     *rsaSigner // appJWT's signer, whose key /sentinel/well-known/jwks publishes
	jwks          []byte     // that key set, encoded
	consumerJWS   *issuer[consumerClaims]
	rng           *lockedRand // latency draws
	faultRng      *lockedRand // fault draws: apart from latency, so changing one leaves the other's sequence alone
	offsets       bool        // some region has a latency offset

	queues [numEndpoints]*queue                    // nil where capacity is unlimited
	limits [numEndpoints]*limiter                  // nil where no rate limit
	faults [numEndpoints]atomic.Pointer[faultPlan] // nil where no faults (SetFaults swaps)
	lat    [numEndpoints]atomic.Pointer[sampler]   // current latency per endpoint (SetLatency swaps)

	requests           [numEndpoints][statusSlots]atomic.Int64 // answered requests by status
	faultCounts        [numEndpoints][numFaultKinds]atomic.Int64
	appJWTsIssued      atomic.Int64
	consumerJWSsIssued atomic.Int64
	conversations      conversations // under its own mutex, held only for map and field updates
	hooks              *dispatcher   // webhook notifications
	// hookMu serializes changes to the accounts' endpoint sets (SetWebhook, AddWebhook,
	// RemoveWebhook). Readers take no lock: each set is an immutable slice behind an atomic
	// pointer, so a notification reads its endpoints once, when it is emitted, and keeps them.
	hookMu sync.Mutex

	stall stall

	// closing is closed by shutdown: every latency, queue, stall and trickle wait ends at once.
	closing   chan struct{}
	closeOnce sync.Once
}

// account is a configured Account with what the Sim derives from it.
type account struct {
	Account
	offset  time.Duration                              // cfg.RegionLatency of its region
	buckets [numEndpoints]atomic.Pointer[rate.Limiter] // rate-limit buckets; nil where none (Reset swaps)
	hooks   atomic.Pointer[[]Webhook]                  // registered endpoints: immutable, replaced whole under Sim.hookMu
	// extraRegs counts, by Webhook.ID, the registrations of an endpoint's URL beyond the first
	// (AddWebhook of a URL the account has); under Sim.hookMu.
	extraRegs map[string]int
}

// New validates cfg and returns a Sim serving it.
func New(cfg Config) (*Sim, error) { return newSim(cfg, time.Now) }

// newSim is New with an injectable clock, so tests can move time (token expiry, the AUTO_MESSAGES
// window) without sleeping. Latency, queue, stall and trickle waits always use real time.
func newSim(cfg Config, now func() time.Time) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:           cfg,
		accounts:      make(map[string]*account, len(cfg.Accounts)),
		appJWTSeconds: max(1, int64((cfg.AppJWTLifetime+time.Second-1)/time.Second)),
		now:           now,
		start:         now(),
		appJWTKey:     newRSASigner(),
		consumerJWS:   newIssuer[consumerClaims](newSigner()),
		rng:           newLockedRand(cfg.Seed),
		faultRng:      newLockedRandStream(cfg.Seed, 1),
		closing:       make(chan struct{}),
	}
	s.appJWT = newIssuer[appJWTClaims](s.appJWTKey)
	s.jwks = s.appJWTKey.jwks()
	for i, e := range endpoints {
		s.lat[i].Store(newSampler(cfg.Latency[e]))
		if q := newQueue(cfg.Capacity[e]); q.limited() {
			s.queues[i] = q
		}
		s.limits[i] = newLimiter(cfg.RateLimits[e])
		s.faults[i].Store(newFaultPlan(cfg.Faults[e]))
	}
	for _, a := range cfg.Accounts {
		acc := &account{Account: a, offset: cfg.RegionLatency[a.Region]}
		if a.WebhookURL != "" {
			acc.setHooks([]Webhook{{ID: newWebhookID(), Account: a.ID, URL: a.WebhookURL}})
		}
		s.offsets = s.offsets || acc.offset > 0
		s.accounts[a.ID] = acc
	}
	s.resetBuckets()
	s.conversations.init()
	s.conversations.keep = max(0, cfg.LedgerConversations) // -1: all
	s.hooks = newDispatcher(cfg.Webhooks, cfg.Seed, &s.conversations, s.elapsed)
	s.stall.init(cfg.Stalls)
	s.mux = s.routes(func(service) bool { return true })
	return s, nil
}

// ServeHTTP answers one request of the simulated API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Config returns the effective configuration: defaults applied (generated secrets included) and
// the current latencies and faults (as changed by SetLatency and SetFaults). An account's
// WebhookURL is the URL of its oldest registered endpoint, "" when it has none (Webhooks lists
// them all). The result shares nothing with the Sim.
func (s *Sim) Config() Config {
	c := s.cfg
	c.Accounts = append([]Account(nil), s.cfg.Accounts...)
	for i := range c.Accounts {
		c.Accounts[i].WebhookURL = ""
		if hs := s.accounts[c.Accounts[i].ID].webhooks(); len(hs) > 0 {
			c.Accounts[i].WebhookURL = hs[0].URL
		}
	}
	c.Webhooks.AutoMessages = append([]string(nil), s.cfg.Webhooks.AutoMessages...)
	c.Latency = make(map[Endpoint]Latency, numEndpoints)
	for i, e := range endpoints {
		if l := s.lat[i].Load().l; l != (Latency{}) {
			c.Latency[e] = l
		}
	}
	c.RegionLatency = cloneOrEmpty(s.cfg.RegionLatency)
	c.Capacity = cloneOrEmpty(s.cfg.Capacity)
	c.RateLimits = cloneOrEmpty(s.cfg.RateLimits)
	c.Faults = make(map[Endpoint]Faults, numEndpoints)
	for i, e := range endpoints {
		if p := s.faults[i].Load(); p != nil {
			c.Faults[e] = p.f
		}
	}
	c.Stalls = append([]StallWindow(nil), s.cfg.Stalls...)
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

// SetFaults changes the faults injected into endpoint e from now on (Faults{} injects none). It
// panics when e is not a known Endpoint or f does not validate (a programming error: check user
// input with Faults.Validate first).
func (s *Sim) SetFaults(e Endpoint, f Faults) {
	i := e.index()
	if i < 0 {
		panic("lpsim: SetFaults: unknown endpoint " + string(e))
	}
	if err := f.Validate(); err != nil {
		panic("lpsim: SetFaults: " + err.Error())
	}
	s.faults[i].Store(newFaultPlan(f))
}

// Stall holds every response from now for d: responses in progress and those of requests arriving
// during the stall are written when it ends. Arrival times are still taken on arrival. A later
// call replaces the end of the stall (it may shorten it); d <= 0 lifts the stall. Config.Stalls
// windows apply as well: a response waits for the later end.
func (s *Sim) Stall(d time.Duration) { s.stall.set(d) }

// Reset forgets every conversation and zeroes the Ledger (request, fault and queue counts,
// tokens issued) and refills every rate-limit bucket, so one Sim can serve run after run. It
// keeps the configuration, the latencies set by SetLatency, a Stall in force, and the clock:
// Config.Stalls windows and Ledger times stay relative to the Sim's creation. Tokens issued before
// stay valid (the signing keys are kept), so clients need not log in again. Requests in flight
// during a Reset may be counted on either side of it. Registered webhook endpoints (SetWebhook,
// AddWebhook, POST /_lpsim/webhooks) are kept; notifications already emitted are still delivered, but their outcomes are no longer
// counted in the Ledger's Webhooks.
func (s *Sim) Reset() {
	for i := range s.requests {
		for j := range s.requests[i] {
			s.requests[i][j].Store(0)
		}
		for k := range s.faultCounts[i] {
			s.faultCounts[i][k].Store(0)
		}
		if q := s.queues[i]; q != nil {
			q.resetStats()
		}
	}
	s.appJWTsIssued.Store(0)
	s.consumerJWSsIssued.Store(0)
	s.conversations.reset()
	s.hooks.reset()
	s.resetBuckets()
}

// resetBuckets gives every account a full rate-limit bucket per limited endpoint.
func (s *Sim) resetBuckets() {
	for _, a := range s.accounts {
		for i, l := range s.limits {
			if l != nil {
				a.buckets[i].Store(l.bucket())
			}
		}
	}
}

// elapsed is the ledger clock: the simulated service's time since the Sim was created.
func (s *Sim) elapsed() time.Duration { return s.now().Sub(s.start) }

// jsonContentType is shared by every response; net/http only reads header slices.
var jsonContentType = []string{"application/json"}

// admit applies the path account's rate limit, then the endpoint's fault injection, to a request
// that reached ep's handler; body is its body as read (nil when it has none). When admit answered
// the request itself (429, or a fault that replaces the answer), it returns ok false and the
// handler must stop. Otherwise the handler goes on and answers through the returned writer: w, or
// a wrapper that trickles the body.
func (s *Sim) admit(w http.ResponseWriter, r *http.Request, ep Endpoint, body []byte) (_ http.ResponseWriter, ok bool) {
	i := ep.index()
	if l := s.limits[i]; l != nil {
		if a := s.accounts[r.PathValue("acc")]; a != nil && !a.buckets[i].Load().Allow() {
			w.Header()["Retry-After"] = l.retryAfter
			s.fail(w, r, ep, l.err)
			return nil, false
		}
	}
	p := s.faults[i].Load()
	if p == nil {
		return w, true
	}
	k := p.pick(s.faultRng.float64())
	if k == faultNone {
		return w, true
	}
	s.faultCounts[i][k].Add(1)
	switch k {
	case faultError500:
		s.fail(w, r, ep, errInjected500)
	case faultError503:
		s.fail(w, r, ep, errInjected503)
	case faultExpired401:
		s.fail(w, r, ep, errAppJWTExpired)
	case faultReset:
		s.respond(&resetWriter{ResponseWriter: w}, r, ep, http.StatusOK, resetBody)
	case faultMalformed:
		s.respond(w, r, ep, http.StatusOK, malformedBody)
	case faultErrorBody200:
		s.respond(w, r, ep, http.StatusOK, errorBody200(ep, body))
	case faultTrickle:
		return &trickleWriter{ResponseWriter: w, ctx: r.Context(), closing: s.closing, delay: p.trickleDelay}, true
	}
	return nil, false
}

// respond counts the answer under ep, spends the request's time (queue, service time, region
// offset), holds it through any stall, then writes it. Counting comes first: the status is
// decided, whether or not the client waits for it.
func (s *Sim) respond(w http.ResponseWriter, r *http.Request, ep Endpoint, status int, body []byte) {
	ctx := r.Context()
	i := ep.index()
	if i >= 0 {
		s.count(i, status)
		s.spend(ctx, r, i)
	}
	if s.hold(ctx) && i >= 0 {
		s.faultCounts[i][faultStall].Add(1)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// spend makes the request take its time in endpoint i: wait for capacity, hold a slot for the
// sampled service time, then add the region's offset, which is network distance and holds no slot.
func (s *Sim) spend(ctx context.Context, r *http.Request, i int) {
	q := s.queues[i]
	slot := q != nil && q.enter(ctx, s.closing)
	sleepCtx(ctx, s.closing, s.lat[i].Load().sample(s.rng))
	if slot {
		q.leave()
	}
	if s.offsets {
		if a := s.accounts[r.PathValue("acc")]; a != nil {
			sleepCtx(ctx, s.closing, a.offset)
		}
	}
}

// fail responds with e in the documented error shape.
func (s *Sim) fail(w http.ResponseWriter, r *http.Request, ep Endpoint, e apiErr) {
	s.respond(w, r, ep, e.status, e.body())
}

// hold waits while a stall is in force, or less when the request ends or the Sim shuts down. It
// reports whether it waited.
func (s *Sim) hold(ctx context.Context) (held bool) {
	for {
		// Take the change signal before reading the end: a Stall call after this point closes
		// ch, so a shortened or lifted stall is never slept through.
		ch := s.stall.changed()
		wait := s.stall.remaining()
		if wait <= 0 {
			return held
		}
		held = true
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ch:
		case <-ctx.Done():
			t.Stop()
			return held
		case <-s.closing:
			t.Stop()
			return held
		}
		t.Stop()
	}
}

// shutdown ends every wait, now and later, and stops webhook deliveries: pending notifications
// are dropped, attempts in flight cancelled, and shutdown returns once the dispatcher's timers and
// workers are gone. It is for Server.Close; the Sim keeps answering, only without simulated
// latency, queues, stalls, trickles or webhooks.
func (s *Sim) shutdown() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.hooks.stop()
	})
}

// stall is the end of the current stall (Sim.Stall) and the scheduled windows (Config.Stalls), on
// a real monotonic clock (a Sim's injected clock may not move at all, and waits must end).
// Readers take no lock: every response checks it.
type stall struct {
	epoch   time.Time
	windows []StallWindow // immutable
	end     atomic.Int64  // nanoseconds since epoch; 0 = no stall

	mu sync.Mutex                    // serializes set
	ch atomic.Pointer[chan struct{}] // closed and replaced after every change of end
}

func (st *stall) init(windows []StallWindow) {
	st.epoch = time.Now()
	st.windows = windows
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

// remaining is how long the current stall still lasts (<= 0: none): the later end of Sim.Stall's
// and of the windows in force now. Adjacent windows are found one after the other by hold's loop.
func (st *stall) remaining() time.Duration {
	end := st.end.Load()
	if end == 0 && len(st.windows) == 0 {
		return 0
	}
	now := time.Since(st.epoch)
	wait := time.Duration(end) - now
	if end == 0 {
		wait = 0
	}
	for _, w := range st.windows {
		if now >= w.At && now < w.At+w.For {
			wait = max(wait, w.At+w.For-now)
		}
	}
	return wait
}
