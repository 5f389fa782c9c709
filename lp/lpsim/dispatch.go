package lpsim

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The reasons a notification is dropped, the keys of WebhookStats.DroppedByReason.
const (
	DropLoss      = "loss"       // its last attempt was lost (WebhookConfig.Loss)
	DropFailed    = "failed"     // its last attempt was answered other than 2xx, failed, or timed out
	DropQueueFull = "queue_full" // emitted while WebhookConfig.QueueSize notifications were pending
	DropShutdown  = "shutdown"   // still pending when the Server closed, or emitted after
)

// notification is one webhook delivery in the making, a notification to one endpoint: the bytes
// to send, where, and how far its attempts have got. Its mutable fields are guarded by the
// dispatcher's mutex.
type notification struct {
	// Immutable after newNotification (and the caller's setup before emit).
	url, accountID, clientID, signature string
	body                                []byte
	hook                                string        // the endpoint's Webhook.ID: the key of its statistics
	hookIndex                           int           // the endpoint's position in conv's FirstAutoMessageDeliveries
	conv                                *conversation // for auto messages: the ledger entry to update
	autoIndex                           int           // position among the conversation's auto messages; -1 for other notifications
	// chain is the endpoint and conversation, whose deliveries go out in order (see dispatcher);
	// "" once n has left its chain, or never was in one (reordered, duplicates).
	chain string

	gen      uint64      // dispatcher generation at emission: outcomes from before a Reset are not counted
	extra    bool        // a duplicate: one attempt, counted only in Duplicated, never dropped
	dupe     bool        // post an extra copy once delivered
	attempts int         // attempts started (lost ones included)
	started  time.Time   // when the last attempt started: its POST began, or it was lost
	timer    *time.Timer // set while waiting for the next attempt
	inFlight bool        // a worker is posting it
	held     bool        // due, waiting for the delivery before it in its chain
}

// dispatcher delivers notifications asynchronously: emit never blocks a handler. A notification
// waits for its delay on a timer, then joins a FIFO served by at most Workers goroutines, which
// start when there is work and end when there is none, so an idle Sim holds no goroutine and one
// that is never closed leaks none once its deliveries are over.
//
// Per endpoint and conversation, deliveries go out in the order they were emitted, which is
// sequence order for a consumer that awaits each answer: a delivery whose delay is over waits
// (held) while the one emitted before it, to the same endpoint and about the same conversation,
// has not had its first attempt settled (answered, failed or lost). The wait counts in its
// latency. A failed attempt releases the next one, so a retry (RetryInterval later) arrives out
// of order, as it would from LivePerson. Deliveries drawn for reordering (WebhookConfig.Reorder)
// and duplicates are in no chain: they overtake and are overtaken.
//
// Subtleness ahead: every notification is in pending from emit until its outcome, and whoever
// removes it from pending (its worker, its timer, or stop) accounts for it, exactly once. stop
// takes the waiting and queued ones; one in flight stays pending and is accounted by its worker,
// since its receiver may have answered 2xx just as the Server closed.
type dispatcher struct {
	cfg    WebhookConfig // with defaults
	lat    *sampler
	rng    *lockedRand // loss, duplication and reorder draws
	latRng *lockedRand // delivery latencies
	client *http.Client
	ctx    context.Context // cancelled by stop: attempts in flight end at once
	cancel context.CancelFunc
	cs     *conversations       // ledger entries of auto messages; locked after mu, never before
	clock  func() time.Duration // the ledger clock

	noEndpoint atomic.Int64 // notifications not emitted: the account had no webhook URL
	// unsubscribed counts notifications not emitted: the installation has no webhook for their
	// event type (Account.WebhookEvents).
	unsubscribed atomic.Int64

	mu      sync.Mutex
	closed  bool
	pending map[*notification]struct{}
	ready   []*notification // due, waiting for a worker
	workers int
	gen     uint64
	stats   WebhookStats                     // DroppedByReason allocated by reset
	byHook  map[string]*WebhookEndpointStats // by Webhook.ID, for the current generation; allocated by reset
	chains  map[string][]*notification       // by notification.chain: its deliveries not yet settled, in order of emission
	wg      sync.WaitGroup
}

func newDispatcher(cfg WebhookConfig, seed int64, cs *conversations, clock func() time.Duration) *dispatcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = cfg.Workers
	tr.MaxIdleConnsPerHost = cfg.Workers
	tr.IdleConnTimeout = 30 * time.Second
	d := &dispatcher{
		cfg:     cfg,
		lat:     newSampler(cfg.Latency),
		rng:     newLockedRandStream(seed, 2),
		latRng:  newLockedRandStream(seed, 3),
		client:  &http.Client{Transport: tr, Timeout: cfg.Timeout},
		cs:      cs,
		clock:   clock,
		pending: make(map[*notification]struct{}),
		chains:  make(map[string][]*notification),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.reset()
	return d
}

// reset zeroes the statistics and starts a new generation: notifications emitted before still
// go out, but their outcomes are no longer counted.
func (d *dispatcher) reset() {
	d.noEndpoint.Store(0)
	d.unsubscribed.Store(0)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.stats = WebhookStats{DroppedByReason: make(map[string]int64)}
	d.byHook = make(map[string]*WebhookEndpointStats)
}

// snapshot returns the statistics, in total and by endpoint; the results share nothing with d.
func (d *dispatcher) snapshot() (WebhookStats, map[string]WebhookEndpointStats) {
	d.mu.Lock()
	st := d.stats
	st.DroppedByReason = maps.Clone(d.stats.DroppedByReason)
	by := make(map[string]WebhookEndpointStats, len(d.byHook))
	for id, e := range d.byHook {
		e := *e
		e.Pending = e.Deliveries - e.Delivered - e.Dropped
		by[id] = e
	}
	d.mu.Unlock()
	st.Pending = st.Deliveries - st.Delivered - st.Dropped
	st.NoEndpoint = d.noEndpoint.Load()
	st.Unsubscribed = d.unsubscribed.Load()
	return st, by
}

// emit hands over for delivery the deliveries of one notification, one per endpoint (see
// newNotifications): it counts one notification emitted and len(ns) deliveries, each with its
// own draws.
func (d *dispatcher) emit(ns ...*notification) {
	// Draws first, outside mu: the generators have their own locks. A few endpoints fit on the
	// stack.
	var delayBuf [4]time.Duration
	var reorderBuf [4]bool
	var delays []time.Duration
	var reorders []bool
	if len(ns) <= len(delayBuf) {
		delays, reorders = delayBuf[:len(ns)], reorderBuf[:len(ns)]
	} else {
		delays, reorders = make([]time.Duration, len(ns)), make([]bool, len(ns))
	}
	for i, n := range ns {
		delays[i] = d.lat.sample(d.latRng)
		reorders[i] = d.cfg.Reorder > 0 && d.rng.float64() < d.cfg.Reorder
		if reorders[i] {
			delays[i] += 1 + time.Duration(d.rng.int64N(int64(d.cfg.ReorderDelay)))
		}
		n.dupe = d.cfg.Duplicate > 0 && d.rng.float64() < d.cfg.Duplicate
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Emitted++
	for i, n := range ns {
		n.gen = d.gen
		d.stats.Deliveries++
		d.hookStats(n).Deliveries++
		switch {
		case d.closed:
			d.drop(n, DropShutdown)
			continue
		case len(d.pending) >= d.cfg.QueueSize:
			d.drop(n, DropQueueFull)
			continue
		}
		if reorders[i] {
			d.stats.Reordered++
			n.chain = ""
		}
		if n.chain != "" {
			d.chains[n.chain] = append(d.chains[n.chain], n)
		}
		d.pending[n] = struct{}{}
		d.schedule(n, delays[i])
	}
}

// hookStats returns the statistics of n's endpoint, creating them at n's first delivery. n must
// be of the current generation; d.mu must be held.
func (d *dispatcher) hookStats(n *notification) *WebhookEndpointStats {
	e := d.byHook[n.hook]
	if e == nil {
		e = &WebhookEndpointStats{Account: n.accountID, URL: n.url}
		d.byHook[n.hook] = e
	}
	return e
}

// schedule makes n's next attempt due after delay. d.mu must be held and d open.
func (d *dispatcher) schedule(n *notification, delay time.Duration) {
	d.wg.Add(1)
	n.timer = time.AfterFunc(delay, func() {
		defer d.wg.Done()
		d.due(n)
	})
}

// due starts an attempt of n once its delay is over, or holds it while the delivery before it
// in its chain is not settled.
func (d *dispatcher) due(n *notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[n]; !ok { // stop took it
		return
	}
	n.timer = nil
	if q := d.chains[n.chain]; n.chain != "" && len(q) > 0 && q[0] != n {
		n.held = true
		return
	}
	d.start(n)
}

// unchain takes n, whose attempt has settled, out of its chain, and starts the next delivery of
// the chain if it is held. d.mu must be held.
func (d *dispatcher) unchain(n *notification) {
	if n.chain == "" {
		return
	}
	key := n.chain
	n.chain = ""
	q := d.chains[key]
	if len(q) == 0 || q[0] != n { // not its head: cannot happen, but never lose the order of the rest
		return
	}
	q[0] = nil
	q = q[1:]
	if len(q) == 0 {
		delete(d.chains, key)
		return
	}
	d.chains[key] = q
	if next := q[0]; next.held {
		next.held = false
		d.start(next)
	}
}

// start starts an attempt of n: lost at once with probability Loss, otherwise queued for a
// worker. d.mu must be held.
func (d *dispatcher) start(n *notification) {
	n.attempts++
	n.started = time.Now()
	if n.attempts > 1 && n.gen == d.gen {
		d.stats.Retried++
		d.hookStats(n).Retried++
	}
	if d.cfg.Loss > 0 && d.rng.float64() < d.cfg.Loss {
		if n.gen == d.gen {
			d.stats.Lost++
			d.hookStats(n).Lost++
		}
		d.failed(n, DropLoss)
		return
	}
	d.ready = append(d.ready, n)
	if d.workers < d.cfg.Workers {
		d.workers++
		d.wg.Add(1)
		go d.work()
	}
}

// work posts due notifications until there are none.
func (d *dispatcher) work() {
	defer d.wg.Done()
	d.mu.Lock()
	for len(d.ready) > 0 && !d.closed {
		n := d.ready[0]
		d.ready[0] = nil
		d.ready = d.ready[1:]
		n.inFlight = true
		n.started = time.Now()
		d.mu.Unlock()

		ok := d.post(n)

		d.mu.Lock()
		n.inFlight = false
		switch {
		case n.extra:
			if n.gen == d.gen {
				d.stats.Duplicated++
				d.hookStats(n).Duplicated++
			}
			delete(d.pending, n)
		case ok:
			d.delivered(n)
		default:
			d.failed(n, DropFailed)
		}
	}
	d.workers--
	d.mu.Unlock()
}

// post makes one attempt and reports whether it was answered 2xx within the timeout.
func (d *dispatcher) post(n *notification) bool {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, n.url, bytes.NewReader(n.body))
	if err != nil { // the URL was checked when registered
		return false
	}
	h := req.Header
	h["Content-Type"] = jsonContentType
	h["User-Agent"] = userAgent
	// LivePerson's names, in lower case as it sends them (HTTP/1.1 headers are case-insensitive).
	h["x-liveperson-account-id"] = []string{n.accountID}
	h["x-liveperson-client-id"] = []string{n.clientID}
	h["x-liveperson-signature"] = []string{n.signature}
	resp, err := d.client.Do(req)
	if err != nil {
		return false
	}
	// Drain a little, so the connection can be reused; the answer's content does not matter.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

var userAgent = []string{"lpsim-webhooks"}

// delivered settles n as delivered, and sends its duplicate when one was drawn. d.mu must be held.
func (d *dispatcher) delivered(n *notification) {
	delete(d.pending, n)
	d.unchain(n)
	if n.gen == d.gen {
		d.stats.Delivered++
		e := d.hookStats(n)
		e.Delivered++
		if n.autoIndex == 0 {
			e.FirstAutoMessagesDelivered++
		}
	}
	everywhere := false // the first auto message has now reached every endpoint
	d.updateConv(n, func(c *Conversation) {
		c.AutoMessagesDelivered++
		if n.autoIndex != 0 || n.hookIndex >= len(c.FirstAutoMessageDeliveries) {
			return
		}
		now := d.clock()
		r := &c.FirstAutoMessageDeliveries[n.hookIndex]
		r.Delivered, r.Attempts, r.DeliveredAt = true, n.attempts, now
		c.FirstAutoMessageAttempts = max(c.FirstAutoMessageAttempts, n.attempts)
		for _, r := range c.FirstAutoMessageDeliveries {
			if !r.Delivered {
				return
			}
		}
		c.FirstAutoMessageDelivered, c.FirstAutoMessageDeliveredAt = true, now
		everywhere = true
	})
	if everywhere {
		d.stats.FirstAutoMessagesDelivered++
	}
	if n.conv != nil {
		d.cs.settle(n.conv)
	}
	if n.dupe && !d.closed && len(d.pending) < d.cfg.QueueSize {
		cp := &notification{
			url: n.url, accountID: n.accountID, clientID: n.clientID, signature: n.signature, body: n.body,
			hook: n.hook, autoIndex: -1, gen: n.gen, extra: true,
		}
		d.pending[cp] = struct{}{}
		d.schedule(cp, d.lat.sample(d.latRng))
	}
}

// failed settles a failed attempt of n: another attempt RetryInterval after this one started
// while retries remain, otherwise n is dropped for reason (DropShutdown once stopped). d.mu must
// be held.
func (d *dispatcher) failed(n *notification, reason string) {
	if n.extra {
		delete(d.pending, n)
		return
	}
	d.unchain(n)
	if d.closed {
		reason = DropShutdown
	} else if n.attempts <= d.cfg.MaxRetries {
		d.schedule(n, max(0, d.cfg.RetryInterval-time.Since(n.started)))
		return
	}
	delete(d.pending, n)
	d.drop(n, reason)
}

// drop counts n as dropped; n is no longer pending. d.mu must be held.
func (d *dispatcher) drop(n *notification, reason string) {
	if n.conv != nil && !n.extra {
		defer d.cs.settle(n.conv) // after its ledger entry is updated
	}
	if n.extra || n.gen != d.gen {
		return
	}
	d.stats.Dropped++
	d.stats.DroppedByReason[reason]++
	e := d.hookStats(n)
	e.Dropped++
	if n.autoIndex != 0 {
		return
	}
	e.FirstAutoMessagesDropped++
	first := n.conv == nil // the conversation's first drop (always counted without a ledger entry)
	d.updateConv(n, func(c *Conversation) {
		if n.hookIndex < len(c.FirstAutoMessageDeliveries) {
			r := &c.FirstAutoMessageDeliveries[n.hookIndex]
			r.Dropped, r.Attempts = true, n.attempts
		}
		c.FirstAutoMessageAttempts = max(c.FirstAutoMessageAttempts, n.attempts)
		first = !c.FirstAutoMessageDropped
		c.FirstAutoMessageDropped = true
	})
	if first {
		d.stats.FirstAutoMessagesDropped++
	}
}

// updateConv applies f to the ledger entry of n's conversation, when n is an auto message of the
// current generation. d.mu must be held.
func (d *dispatcher) updateConv(n *notification, f func(*Conversation)) {
	if n.conv == nil || n.gen != d.gen {
		return
	}
	d.cs.mu.Lock()
	f(&n.conv.Conversation)
	d.cs.mu.Unlock()
}

// idle reports whether no notification, extra copies included, is waiting or in flight.
func (d *dispatcher) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending) == 0
}

// stop abandons every pending notification (dropped, reason DropShutdown), ends the attempts in
// flight, and waits for every timer and worker; notifications emitted later are dropped at once.
// It is idempotent.
func (d *dispatcher) stop() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	for n := range d.pending {
		if n.inFlight {
			continue // its worker settles it when the cancelled attempt returns
		}
		if n.timer != nil && n.timer.Stop() {
			d.wg.Done() // its callback will never run
		}
		delete(d.pending, n)
		d.drop(n, DropShutdown)
	}
	clear(d.ready)
	d.ready = nil
	clear(d.chains)
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.client.CloseIdleConnections()
}
