package lp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// Webhook headers LivePerson sets on every Connector API delivery.
const (
	HeaderSignature = "X-Liveperson-Signature" // "sha1=" + Base64(HMAC-SHA1(client secret, raw body))
	HeaderAccountID = "X-Liveperson-Account-Id"
	HeaderClientID  = "X-Liveperson-Client-Id"
)

// maxNotification bounds a webhook body.
const maxNotification = 1 << 20

// Sign returns the x-liveperson-signature value of body for an app's client secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// validSignature checks a signature header in constant time.
func validSignature(secret string, body []byte, header string) bool {
	if secret == "" || !strings.HasPrefix(header, "sha1=") {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Notification is one change of a messaging notification, as much of it as lpbench needs.
type Notification struct {
	ConversationID string
	Role           string // originator role: CONSUMER for the consumer's own echo
	EventType      string // ContentEvent, RichContentEvent, ChatStateEvent, AcceptStatusEvent
	Sequence       int64
	ServerTime     time.Time
}

type notificationBody struct {
	Kind string `json:"kind"`
	Type string `json:"type"`
	Body struct {
		Changes []struct {
			Sequence           int64 `json:"sequence"`
			OriginatorMetadata struct {
				Role string `json:"role"`
			} `json:"originatorMetadata"`
			ServerTimestamp int64 `json:"serverTimestamp"`
			Event           struct {
				Type string `json:"type"`
			} `json:"event"`
			ConversationID string `json:"conversationId"`
			DialogID       string `json:"dialogId"`
		} `json:"changes"`
	} `json:"body"`
}

// DecodeNotifications reads the messaging changes of a webhook body. Other notification types
// (conversation state changes) yield none; a body that is not a notification is an error.
func DecodeNotifications(body []byte) ([]Notification, error) {
	var nb notificationBody
	if err := json.Unmarshal(body, &nb); err != nil {
		return nil, protocolError("webhook", 0, "undecodable notification: %s", jsonErrorText(err))
	}
	if nb.Type != "ms.MessagingEventNotification" {
		return nil, nil
	}
	out := make([]Notification, 0, len(nb.Body.Changes))
	for _, c := range nb.Body.Changes {
		id := c.ConversationID
		if id == "" {
			id = c.DialogID
		}
		if id == "" {
			continue
		}
		out = append(out, Notification{
			ConversationID: id, Role: c.OriginatorMetadata.Role, EventType: c.Event.Type,
			Sequence: c.Sequence, ServerTime: time.UnixMilli(c.ServerTimestamp),
		})
	}
	return out, nil
}

// Receiver is the webhook endpoint of a run: it verifies each delivery's signature, answers at
// once, and hands the work to its own goroutine, which matches auto messages to the journeys
// waiting for them. The HTTP handler never blocks on that work: when the queue is full, the
// delivery is counted as overflow (and still answered 200, since the signature was good).
//
// Its memory does not grow with the run: a conversation is registered while its journey runs,
// then remembered in a recent set for one to two periods of rememberFor (so that duplicates and
// late deliveries are told apart from other runs' traffic), then forgotten. A delivery for a
// conversation forgotten by then counts as unmatched.
type Receiver struct {
	secret string
	now    func() time.Time
	queue  chan delivery
	done   chan struct{}
	// OnHop, if set before the first delivery, is called from the receiver's one worker with
	// the time each relayed delivery took from the relay to this receiver's worker (see
	// Deliver); it need not be safe for concurrent use.
	OnHop func(time.Duration)

	mu       sync.Mutex
	active   map[string]*awaited // conversations of running journeys
	recent   map[string]bool     // finished conversations → whether their first auto message came
	older    map[string]bool     // the generation before recent
	genStart time.Time

	received, badSig, undecodable, autoMsgs, dups, unmatched, late, echoes, overflow, relayed atomic.Int64
}

// delivery is a signed body waiting for the worker; relayedAt is when a webhook relay received
// it (zero: it came to ServeHTTP).
type delivery struct {
	body      []byte
	relayedAt time.Time
}

// rememberFor is how long a finished conversation stays in each generation of the recent set.
const rememberFor = 15 * time.Second

// awaited is a journey's conversation while the journey runs.
type awaited struct {
	ch     chan time.Time // receives the arrival time, once
	got    bool           // its first auto message came
	gaveUp bool           // the journey stopped waiting
}

// NewReceiver returns a receiver checking signatures with the app's client secret.
func NewReceiver(clientSecret string, queue int) *Receiver {
	if queue <= 0 {
		queue = 8192
	}
	r := newReceiver(clientSecret, queue)
	go r.work()
	return r
}

// newReceiver returns a receiver whose worker is not started.
func newReceiver(clientSecret string, queue int) *Receiver {
	return &Receiver{secret: clientSecret, now: time.Now, queue: make(chan delivery, queue), done: make(chan struct{}),
		active: map[string]*awaited{}, recent: map[string]bool{}, older: map[string]bool{}, genStart: time.Now()}
}

// ServeHTTP answers a webhook delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxNotification+1))
	if err != nil || len(body) > maxNotification {
		http.Error(w, "body too large or unreadable", http.StatusBadRequest)
		return
	}
	if !r.accept(delivery{body: body}, req.Header.Get(HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Deliver takes a delivery that came through a webhook relay: its raw body and signature header
// as the relay received them at relayedAt (the relay's clock). It is judged as ServeHTTP judges
// one — the signature checked, duplicates, late and unmatched ones counted — and counted as
// relayed; false means a bad signature. Deliver must not be called after Close.
func (r *Receiver) Deliver(body []byte, signature string, relayedAt time.Time) bool {
	if len(body) > maxNotification {
		r.undecodable.Add(1)
		return false
	}
	if !r.accept(delivery{body: body, relayedAt: relayedAt}, signature) {
		return false
	}
	r.relayed.Add(1)
	return true
}

// accept checks the signature and queues a delivery for the worker without waiting (a full
// queue counts as overflow); false: a bad signature.
func (r *Receiver) accept(d delivery, signature string) bool {
	if !validSignature(r.secret, d.body, signature) {
		r.badSig.Add(1)
		return false
	}
	r.received.Add(1)
	select {
	case r.queue <- d:
	default:
		r.overflow.Add(1)
	}
	return true
}

// work matches queued deliveries to waiting journeys.
func (r *Receiver) work() {
	defer close(r.done)
	for d := range r.queue {
		at := r.now()
		if !d.relayedAt.IsZero() && r.OnHop != nil {
			r.OnHop(at.Sub(d.relayedAt))
		}
		ns, err := DecodeNotifications(d.body)
		if err != nil {
			r.undecodable.Add(1)
			continue
		}
		for _, n := range ns {
			r.handle(n, at)
		}
	}
}

func (r *Receiver) handle(n Notification, at time.Time) {
	if n.Role == "CONSUMER" {
		r.echoes.Add(1)
		return
	}
	if n.EventType != "ContentEvent" && n.EventType != "RichContentEvent" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.active[n.ConversationID]; ok {
		switch {
		case a.got:
			r.dups.Add(1)
		case a.gaveUp:
			a.got = true
			r.late.Add(1)
		default:
			a.got = true
			r.autoMsgs.Add(1)
			a.ch <- at
		}
		return
	}
	got, ok := r.recent[n.ConversationID]
	if !ok {
		got, ok = r.older[n.ConversationID]
	}
	switch {
	case !ok:
		r.unmatched.Add(1)
	case got:
		r.dups.Add(1)
	default:
		r.late.Add(1)
		r.recent[n.ConversationID] = true
	}
}

// Expect registers a conversation whose first auto message a journey will wait for; it must be
// called before the first SEND, so an early notification is not taken for another run's, and
// Forget must follow when the journey ends.
func (r *Receiver) Expect(conversationID string) {
	r.mu.Lock()
	if _, ok := r.active[conversationID]; !ok {
		r.active[conversationID] = &awaited{ch: make(chan time.Time, 1)}
	}
	r.mu.Unlock()
}

// Forget ends a journey's registration: its conversation moves to the recent set, where later
// deliveries still count as duplicates or late, for a while.
func (r *Receiver) Forget(conversationID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.active[conversationID]
	if !ok {
		return
	}
	delete(r.active, conversationID)
	if now := r.now(); now.Sub(r.genStart) >= rememberFor {
		r.older, r.recent, r.genStart = r.recent, make(map[string]bool, len(r.recent)), now
	}
	r.recent[conversationID] = a.got
}

// Wait returns when the conversation's first auto message arrived (its local arrival time), or
// false when timeout passes or done closes first; a later arrival then counts as late.
func (r *Receiver) Wait(conversationID string, timeout time.Duration, done <-chan struct{}) (time.Time, bool) {
	r.mu.Lock()
	a, ok := r.active[conversationID]
	r.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case at := <-a.ch:
		return at, true
	case <-t.C:
	case <-done:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case at := <-a.ch: // it came just as the wait ended
		return at, true
	default:
		a.gaveUp = true
		return time.Time{}, false
	}
}

// Stats returns the counters so far.
func (r *Receiver) Stats() sample.WebhookStats {
	return sample.WebhookStats{
		Received: r.received.Load(), BadSignature: r.badSig.Load(), Undecodable: r.undecodable.Load(),
		AutoMessages: r.autoMsgs.Load(), Duplicates: r.dups.Load(), Unmatched: r.unmatched.Load(), Late: r.late.Load(),
		Echoes: r.echoes.Load(), Overflow: r.overflow.Load(), Relayed: r.relayed.Load(),
	}
}

// Close stops the receiver's worker once the queue is drained; ServeHTTP must not be called after.
func (r *Receiver) Close() {
	close(r.queue)
	<-r.done
}
