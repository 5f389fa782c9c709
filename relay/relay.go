package relay

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config bounds a relay. Zero fields select the defaults.
type Config struct {
	// QueueFrames bounds each subscriber's queue in deliveries; default 8192.
	QueueFrames int
	// QueueBytes bounds each subscriber's queue in encoded bytes; default 32 MiB. The relay's
	// memory is at most about subscribers × QueueBytes, plus the deliveries being received.
	QueueBytes int64
	// Ping is the interval of keep-alive frames; default 5s. A subscriber that hears nothing
	// for three of them takes the stream for dead and subscribes again.
	Ping time.Duration
	// WriteTimeout bounds one write to a subscriber; default 30s. A subscriber whose connection
	// takes no bytes for that long is dropped.
	WriteTimeout time.Duration
	// MaxTargets bounds the targets the relay keeps (each has a topic, counters and metrics
	// series for as long as the process runs); default 64. POST /webhook/ is unauthenticated:
	// a delivery or a subscription for a new target beyond the bound is refused with 404 and
	// counted (Stats.TargetsRefused).
	MaxTargets int
	// Log receives one line per subscriber that comes or goes; nil: none.
	Log io.Writer
}

// Defaults of Config.
const (
	DefaultQueueFrames  = 8192
	DefaultQueueBytes   = 32 << 20
	DefaultPing         = 5 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultMaxTargets   = 64
	// MaxBody bounds a delivery's body, as lpbench's own receiver does.
	MaxBody = 1 << 20
	// maxLeft is how many gone subscribers the stats remember, the latest ones.
	maxLeft = 64
)

func (c Config) withDefaults() Config {
	if c.QueueFrames <= 0 {
		c.QueueFrames = DefaultQueueFrames
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.Ping <= 0 {
		c.Ping = DefaultPing
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxTargets <= 0 {
		c.MaxTargets = DefaultMaxTargets
	}
	return c
}

// Relay fans webhook deliveries out to subscribers. Its Handler serves:
//
//	POST /webhook/{target}    a delivery: 200 at once (413 beyond MaxBody, 404 for a target beyond MaxTargets)
//	GET  /subscribe/{target}  ?name=NAME: a subscription stream (application/x-ndjson of Frame; 404 as above)
//	GET  /healthz             200 while the process serves
//	GET  /readyz              200 while it accepts subscriptions, 503 once it shuts down
//	GET  /stats               Stats as JSON
//	GET  /metrics             the counters for Prometheus (client_golang, read from Stats at each scrape)
type Relay struct {
	cfg      Config
	instance string
	now      func() time.Time

	mu      sync.RWMutex
	topics  map[string]*topic
	left    []SubscriberStats
	closed  bool
	closing chan struct{}
	// refusing is set by Close before closing is closed: a delivery that finds it unset under its
	// topic's lock is queued before any stream drains (see Close).
	refusing atomic.Bool
	streams  sync.WaitGroup

	nextID                                           atomic.Int64
	received, tooLarge, targetsRefused, shuttingDown atomic.Int64
}

// topic is one target's subscribers and sequence.
type topic struct {
	name string
	mu   sync.Mutex // orders the deliveries: every subscriber gets them in Seq order
	seq  int64
	subs []*subscriber

	received, noSubscriber, leftCount atomic.Int64
}

// New returns a relay.
func New(cfg Config) *Relay {
	var b [6]byte
	rand.Read(b[:])
	return &Relay{cfg: cfg.withDefaults(), instance: "relay-" + hex.EncodeToString(b[:]), now: time.Now,
		topics: map[string]*topic{}, closing: make(chan struct{})}
}

// Handler returns the relay's HTTP routes.
func (r *Relay) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook/{target}", r.handleWebhook)
	mux.HandleFunc("GET /subscribe/{target}", r.handleSubscribe)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", r.handleReady)
	mux.HandleFunc("GET /stats", r.handleStats)
	reg := prometheus.NewRegistry()
	reg.MustRegister(promCollector{r})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// topic returns the target's topic, made on first use; nil (counted) for a new target beyond
// MaxTargets.
func (r *Relay) topic(name string) *topic {
	r.mu.RLock()
	t := r.topics[name]
	r.mu.RUnlock()
	if t != nil {
		return t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t = r.topics[name]; t != nil {
		return t
	}
	if len(r.topics) >= r.cfg.MaxTargets {
		r.targetsRefused.Add(1)
		return nil
	}
	t = &topic{name: name}
	r.topics[name] = t
	return t
}

// refuseTarget answers a request for a target beyond MaxTargets.
func (r *Relay) refuseTarget(w http.ResponseWriter) {
	http.Error(w, fmt.Sprintf("the relay keeps at most %d targets (lpbench relay -max-targets)", r.cfg.MaxTargets), http.StatusNotFound)
}

// handleWebhook answers a delivery at once and queues it for the target's subscribers. A
// delivery no one is subscribed for is answered 200 too, and counted: the sender could do
// nothing better with it.
func (r *Relay) handleWebhook(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if len(body) > MaxBody {
		r.tooLarge.Add(1)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	t := r.topic(req.PathValue("target"))
	if t == nil {
		r.refuseTarget(w)
		return
	}
	at := r.now()
	t.mu.Lock()
	if r.refusing.Load() {
		t.mu.Unlock()
		// Answered 200, the delivery would be lost with the streams that are ending: 503 makes
		// LivePerson retry it, to the relay that replaces this one.
		r.shuttingDown.Add(1)
		http.Error(w, "the relay is shutting down: retry", http.StatusServiceUnavailable)
		return
	}
	r.received.Add(1)
	t.received.Add(1)
	t.seq++
	if len(t.subs) == 0 {
		t.noSubscriber.Add(1)
	} else {
		frame := deliveryFrame(t.seq, at, req.Header, body)
		for _, s := range t.subs {
			s.push(frame)
		}
	}
	t.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// subscriberName is what a subscriber may call itself: it shows in logs, stats and metrics.
var subscriberName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// add registers a subscriber of target's topic t and returns it with the target's sequence
// number then; false once the relay is closing.
func (r *Relay) add(t *topic, target, name string) (*subscriber, int64, bool) {
	r.mu.RLock()
	closed := r.closed
	if !closed {
		r.streams.Add(1)
	}
	r.mu.RUnlock()
	if closed {
		return nil, 0, false
	}
	s := newSubscriber(fmt.Sprintf("s%d", r.nextID.Add(1)), name, target, r.cfg.QueueFrames, r.cfg.QueueBytes, r.now())
	t.mu.Lock()
	t.subs = append(t.subs, s)
	seq := t.seq
	t.mu.Unlock()
	r.logf("subscriber %s (%s) joined target %s at seq %d", s.name, s.id, target, seq)
	return s, seq, true
}

// remove unregisters a subscriber of t and remembers why it went.
func (r *Relay) remove(t *topic, s *subscriber, reason string) {
	t.mu.Lock()
	for i, o := range t.subs {
		if o == s {
			t.subs = append(t.subs[:i:i], t.subs[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	t.leftCount.Add(1)
	st := s.stats(r.now(), reason)
	r.mu.Lock()
	r.left = append(r.left, st)
	if len(r.left) > maxLeft {
		r.left = append([]SubscriberStats(nil), r.left[len(r.left)-maxLeft:]...)
	}
	r.mu.Unlock()
	r.streams.Done()
	r.logf("subscriber %s (%s) left target %s: %s; fanned out %d, dropped %d", s.name, s.id, s.target, reason, st.FannedOut, st.Dropped)
}

func (r *Relay) logf(format string, a ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "lpbench relay: "+format+"\n", a...)
	}
}

// Close ends every subscription stream, each after writing what it had queued and a bye frame,
// and waits until they have ended; new subscriptions and deliveries are refused with 503 (the
// sender retries a delivery), and /readyz fails.
func (r *Relay) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		// Refuse deliveries from now on, then take each topic's lock once: a delivery that
		// found the relay open under it has queued its frame by then, so the streams, told to
		// end only after, write it before their bye.
		r.refusing.Store(true)
		for _, t := range r.topics {
			t.mu.Lock()
			t.mu.Unlock() //lint:ignore SA2001 an empty critical section: a barrier
		}
		close(r.closing)
	}
	r.mu.Unlock()
	r.streams.Wait()
}

func (r *Relay) handleReady(w http.ResponseWriter, _ *http.Request) {
	r.mu.RLock()
	closed := r.closed
	r.mu.RUnlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}
