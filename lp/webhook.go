package lp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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

// signer checks signatures of one secret without allocating: its HMAC is reset between bodies,
// and the expected signature is written into its own buffer.
type signer struct {
	mac hash.Hash
	sum [sha1.Size]byte
	enc [28]byte // base64.StdEncoding.EncodedLen(sha1.Size)
}

func newSigner(secret string) *signer { return &signer{mac: hmac.New(sha1.New, []byte(secret))} }

// valid reports whether header is "sha1=" + Base64(HMAC-SHA1(secret, body)), as Sign writes it,
// comparing in constant time (the length and prefix are not secret).
func (s *signer) valid(body []byte, header string) bool {
	sig, ok := strings.CutPrefix(header, "sha1=")
	if !ok || len(sig) != len(s.enc) {
		return false
	}
	s.mac.Reset()
	s.mac.Write(body)
	s.mac.Sum(s.sum[:0])
	base64.StdEncoding.Encode(s.enc[:], s.sum[:])
	var diff byte
	for i := range s.enc {
		diff |= s.enc[i] ^ sig[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// Notification is one change of a messaging notification, as much of it as lpbench needs.
type Notification struct {
	ConversationID string
	Role           string // originator role: CONSUMER for the consumer's own echo
	EventType      string // ContentEvent, RichContentEvent, ChatStateEvent, AcceptStatusEvent
	Sequence       int64
	ServerTime     time.Time
}

// ConversationChange is one change of a conversation-change notification
// (cqm.ExConversationChangeNotification), as much of it as lpbench needs.
type ConversationChange struct {
	ConversationID string
	State          string    // OPEN or CLOSE
	Stage          string    // OPEN or CLOSE: a close is state and stage CLOSE
	Updated        time.Time // metaDataLastUpdateTs: orders a conversation's changes (zero when absent)
	// Skill is conversationDetails.skillId: the skill the conversation was routed to ("" when
	// absent), the only evidence a client has of where it went.
	Skill string
}

// skillID is a notification's skillId: a JSON string or number, kept as text; anything else,
// or an id longer than maxSkillID or not a plain token, reads as absent.
type skillID string

// maxSkillID bounds a skill id kept from a notification.
const maxSkillID = 64

func (s *skillID) UnmarshalJSON(b []byte) error {
	v := string(bytes.Trim(b, `"`))
	if len(v) > maxSkillID || !validToken(v) || (len(b) > 0 && b[0] != '"' && strings.Trim(v, "-0123456789") != "") {
		v = ""
	}
	*s = skillID(v)
	return nil
}

// jsonText is a JSON string read without a copy: the bytes between its quotes, which alias the
// decoded body, when they need no unquoting (no escape, valid UTF-8); the unquoted string
// otherwise. null leaves it as it was; any other JSON value is an error, as for a Go string.
type jsonText []byte

func (t *jsonText) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		if in := b[1 : len(b)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			*t = in
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = []byte(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	return errNotString
}

// errNotString is the error of a notification field that should be a JSON string and is not.
var errNotString = errors.New("a string field holds another JSON value")

// deliveryBody is a webhook body as far as lpbench reads it. Its strings alias the body (see
// jsonText): the receiver's worker reads them while it holds the body, and copies only what it
// keeps.
type deliveryBody struct {
	Kind jsonText `json:"kind"`
	Type jsonText `json:"type"`
	Body struct {
		Changes []deliveryChange `json:"changes"`
	} `json:"body"`
}

// deliveryChange is one change of a delivery: a messaging event or a conversation change.
type deliveryChange struct {
	Sequence           int64 `json:"sequence"`
	OriginatorMetadata struct {
		Role jsonText `json:"role"`
	} `json:"originatorMetadata"`
	ServerTimestamp int64 `json:"serverTimestamp"`
	Event           struct {
		Type jsonText `json:"type"`
	} `json:"event"`
	ConversationID jsonText `json:"conversationId"`
	DialogID       jsonText `json:"dialogId"`
	// cqm.ExConversationChangeNotification
	Result struct {
		ConvID  jsonText `json:"convId"`
		Details struct {
			State                jsonText `json:"state"`
			Stage                jsonText `json:"stage"`
			MetaDataLastUpdateTs int64    `json:"metaDataLastUpdateTs"`
			SkillID              skillID  `json:"skillId"`
		} `json:"conversationDetails"`
	} `json:"result"`
}

// conversation returns the change's conversation id: conversationId, else dialogId.
func (c *deliveryChange) conversation() []byte {
	if len(c.ConversationID) > 0 {
		return c.ConversationID
	}
	return c.DialogID
}

// The notification types lpbench reads.
const (
	typeMessaging          = "ms.MessagingEventNotification"
	typeConversationChange = "cqm.ExConversationChangeNotification"
)

// DecodeNotifications reads the messaging changes of a webhook body. Other notification types
// (conversation state changes: DecodeConversationChanges) yield none; a body that is not a
// notification is an error.
func DecodeNotifications(body []byte) ([]Notification, error) {
	ns, _, err := decodeDelivery(body)
	return ns, err
}

// DecodeConversationChanges reads the changes of a conversation-change notification. Other
// notification types yield none; a body that is not a notification is an error.
func DecodeConversationChanges(body []byte) ([]ConversationChange, error) {
	_, cs, err := decodeDelivery(body)
	return cs, err
}

// decodeInto decodes a webhook body into d, reusing its changes' storage (cleared first: the
// decoder does not zero the elements it reuses).
func decodeInto(body []byte, d *deliveryBody) error {
	changes := d.Body.Changes[:cap(d.Body.Changes)]
	clear(changes)
	*d = deliveryBody{}
	d.Body.Changes = changes[:0]
	if err := json.Unmarshal(body, d); err != nil {
		return protocolError("webhook", 0, "undecodable notification: %s", jsonErrorText(err))
	}
	return nil
}

// decodeDelivery reads a webhook body: its messaging changes or its conversation changes,
// whichever its type says; changes without a conversation id are left out.
func decodeDelivery(body []byte) ([]Notification, []ConversationChange, error) {
	var d deliveryBody
	if err := decodeInto(body, &d); err != nil {
		return nil, nil, err
	}
	switch string(d.Type) {
	case typeMessaging:
		out := make([]Notification, 0, len(d.Body.Changes))
		for i := range d.Body.Changes {
			if n, ok := d.Body.Changes[i].notification(); ok {
				out = append(out, n)
			}
		}
		return out, nil, nil
	case typeConversationChange:
		out := make([]ConversationChange, 0, len(d.Body.Changes))
		for i := range d.Body.Changes {
			if c, ok := d.Body.Changes[i].change(); ok {
				out = append(out, c)
			}
		}
		return nil, out, nil
	}
	return nil, nil, nil
}

// notification returns the messaging change c, false when it names no conversation.
func (c *deliveryChange) notification() (Notification, bool) {
	id := c.conversation()
	if len(id) == 0 {
		return Notification{}, false
	}
	return Notification{
		ConversationID: string(id), Role: string(c.OriginatorMetadata.Role), EventType: string(c.Event.Type),
		Sequence: c.Sequence, ServerTime: time.UnixMilli(c.ServerTimestamp),
	}, true
}

// change returns the conversation change c, false when it names no conversation.
func (c *deliveryChange) change() (ConversationChange, bool) {
	if len(c.Result.ConvID) == 0 {
		return ConversationChange{}, false
	}
	d := &c.Result.Details
	ch := ConversationChange{ConversationID: string(c.Result.ConvID), State: string(d.State), Stage: string(d.Stage),
		Skill: string(d.SkillID)}
	if ts := d.MetaDataLastUpdateTs; ts > 0 {
		ch.Updated = time.UnixMilli(ts)
	}
	return ch, true
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
	secret  string
	signers sync.Pool // of *signer of secret
	now     func() time.Time
	queue   chan delivery
	done    chan struct{}
	// OnHop, if set before the first delivery, is called from the receiver's one worker with
	// the time each relayed delivery took from the relay to this receiver's worker (see
	// Deliver); it need not be safe for concurrent use.
	OnHop func(time.Duration)

	mu       sync.Mutex
	active   map[string]*awaited  // conversations of running journeys
	recent   map[string]*convSeen // finished conversations and what was seen of them
	older    map[string]*convSeen // the generation before recent
	genStart time.Time
	// early holds the skills of conversation changes that came before their journey's Expect
	// (LivePerson sends a conversation's first change as it answers CONVERSATION), in two
	// generations of rememberFor like recent and older, each of at most maxEarly entries.
	early, earlyOld map[string]routed
	earlyStart      time.Time

	received, badSig, undecodable, autoMsgs, dups, unmatched, late, echoes, overflow, relayed, reordered atomic.Int64
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
	convSeen
	ch     chan time.Time // receives the arrival time, once
	gaveUp bool           // the journey stopped waiting
}

// convSeen is what the receiver saw of one conversation's notifications. Order matters twice:
// an auto message is a duplicate when its sequence was seen before (another auto message of the
// conversation, with its own sequence, is not), and a notification is out of order when its
// sequence, or its conversation change's metaDataLastUpdateTs, is below one already seen.
type convSeen struct {
	got     bool    // its first auto message came (the first to arrive, whatever its sequence)
	seqs    []int64 // the sequences of its auto messages seen
	maxSeq  int64   // the highest of them
	updated int64   // the latest metaDataLastUpdateTs of its changes seen (Unix ms; 0: none)
	routed
}

// routed is the skill a conversation was routed to: that of its earliest change seen (by
// metaDataLastUpdateTs; the first to arrive when they carry none), so that a later transfer, or
// changes delivered out of order, do not hide where it first went.
type routed struct {
	skill   string
	skillAt int64 // the metaDataLastUpdateTs of the change that gave skill (Unix ms; 0: none)
}

// sawSkill records the skill of a change updated at ts (Unix ms; 0: unknown).
func (r *routed) sawSkill(skill string, ts int64) {
	if skill == "" {
		return
	}
	if r.skill == "" || (ts > 0 && r.skillAt > 0 && ts < r.skillAt) {
		r.skill, r.skillAt = skill, ts
	}
}

// maxEarly bounds each generation of the skills seen before their journey's Expect: beyond
// it (other traffic on the webhook), changes of unknown conversations are not kept.
const maxEarly = 1 << 16

// sawMessage records an auto message of sequence seq and reports whether that sequence was seen
// before and whether a higher one was.
func (c *convSeen) sawMessage(seq int64) (dup, outOfOrder bool) {
	if slices.Contains(c.seqs, seq) {
		return true, false
	}
	outOfOrder = len(c.seqs) > 0 && seq < c.maxSeq
	c.seqs = append(c.seqs, seq)
	c.maxSeq = max(c.maxSeq, seq)
	return false, outOfOrder
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
	r := &Receiver{secret: clientSecret, now: time.Now, queue: make(chan delivery, queue), done: make(chan struct{}),
		active: map[string]*awaited{}, recent: map[string]*convSeen{}, older: map[string]*convSeen{}, genStart: time.Now(),
		early: map[string]routed{}, earlyOld: map[string]routed{}, earlyStart: time.Now()}
	r.signers.New = func() any { return newSigner(clientSecret) }
	return r
}

// ServeHTTP answers a webhook delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := readNotification(req.Body, req.ContentLength)
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

// readNotification reads a webhook body of at most maxNotification+1 bytes: into one buffer of
// its announced length (n, -1 when unknown) and a byte more, which only a body longer than
// announced fills; a body of unknown length, or longer, is read on as io.ReadAll reads it.
func readNotification(rd io.Reader, n int64) ([]byte, error) {
	if n <= 0 || n > maxNotification {
		return io.ReadAll(io.LimitReader(rd, maxNotification+1))
	}
	buf := make([]byte, n+1)
	got := 0
	for got < len(buf) {
		m, err := rd.Read(buf[got:])
		got += m
		if err == io.EOF {
			return buf[:got], nil
		}
		if err != nil {
			return nil, err
		}
	}
	rest, err := io.ReadAll(io.LimitReader(rd, maxNotification+1-int64(got)))
	return append(buf, rest...), err
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
	if !r.validSignature(d.body, signature) {
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

// validSignature checks a delivery's signature with one of the receiver's signers.
func (r *Receiver) validSignature(body []byte, signature string) bool {
	if r.secret == "" {
		return false
	}
	s := r.signers.Get().(*signer)
	ok := s.valid(body, signature)
	r.signers.Put(s)
	return ok
}

// work matches queued deliveries to waiting journeys.
func (r *Receiver) work() {
	defer close(r.done)
	var scratch deliveryBody
	for d := range r.queue {
		r.process(d, &scratch)
	}
}

// process matches one delivery, decoded into scratch (whose storage the worker reuses).
func (r *Receiver) process(d delivery, scratch *deliveryBody) {
	at := r.now()
	if !d.relayedAt.IsZero() && r.OnHop != nil {
		r.OnHop(at.Sub(d.relayedAt))
	}
	if err := decodeInto(d.body, scratch); err != nil {
		r.undecodable.Add(1)
		return
	}
	switch string(scratch.Type) {
	case typeMessaging:
		for i := range scratch.Body.Changes {
			c := &scratch.Body.Changes[i]
			if id := c.conversation(); len(id) > 0 {
				r.message(id, c.OriginatorMetadata.Role, c.Event.Type, c.Sequence, at)
			}
		}
	case typeConversationChange:
		for i := range scratch.Body.Changes {
			c := &scratch.Body.Changes[i]
			if len(c.Result.ConvID) > 0 {
				r.changed(c.Result.ConvID, string(c.Result.Details.SkillID), c.Result.Details.MetaDataLastUpdateTs)
			}
		}
	}
}

// seen returns what was seen of a conversation of this run (running or recently finished), nil
// for another's. r.mu must be held.
func (r *Receiver) seen(id string) *convSeen {
	if a, ok := r.active[id]; ok {
		return &a.convSeen
	}
	if c, ok := r.recent[id]; ok {
		return c
	}
	return r.older[id]
}

// seenKey is seen of an id in bytes, looked up without a copy. r.mu must be held.
func (r *Receiver) seenKey(id []byte) *convSeen {
	if a, ok := r.active[string(id)]; ok {
		return &a.convSeen
	}
	if c, ok := r.recent[string(id)]; ok {
		return c
	}
	return r.older[string(id)]
}

// handleChange records a conversation change (see changed).
func (r *Receiver) handleChange(c ConversationChange) {
	var ts int64
	if !c.Updated.IsZero() {
		ts = c.Updated.UnixMilli()
	}
	r.changed([]byte(c.ConversationID), c.Skill, ts)
}

// changed records a change of conversation id updated at ts (Unix ms; 0: unknown): its skill,
// and whether it is older than a change already seen of its conversation, i.e. arrived out of
// order. Changes of other runs' conversations are not counted; those of conversations not
// expected yet keep their skill for a while (see early).
func (r *Receiver) changed(id []byte, skill string, ts int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seenKey(id)
	if s == nil {
		r.keepEarly(string(id), skill, ts)
		return
	}
	s.sawSkill(skill, ts)
	if ts == 0 {
		return
	}
	if ts < s.updated {
		r.reordered.Add(1)
		return
	}
	s.updated = ts
}

// keepEarly keeps the skill of a change of a conversation no journey expects yet. r.mu must be
// held.
func (r *Receiver) keepEarly(id, skill string, ts int64) {
	if skill == "" {
		return
	}
	if now := r.now(); now.Sub(r.earlyStart) >= rememberFor {
		r.earlyOld, r.early, r.earlyStart = r.early, make(map[string]routed), now
	}
	e, ok := r.early[id]
	if !ok && len(r.early) >= maxEarly {
		return
	}
	e.sawSkill(skill, ts)
	r.early[id] = e
}

// Skill returns the skill a conversation of this run was routed to, as its changes say (see
// routed), and false when no change with a skill has been seen for it.
func (r *Receiver) Skill(conversationID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.seen(conversationID); s != nil && s.skill != "" {
		return s.skill, true
	}
	return "", false
}

// handle records a messaging notification that arrived at at (see message).
func (r *Receiver) handle(n Notification, at time.Time) {
	r.message([]byte(n.ConversationID), []byte(n.Role), []byte(n.EventType), n.Sequence, at)
}

// message records a messaging event of conversation id: the consumer's own echo, an auto
// message (the first, a duplicate, a late one, or one of another run), or another event.
func (r *Receiver) message(id, role, eventType []byte, seq int64, at time.Time) {
	if string(role) == "CONSUMER" {
		r.echoes.Add(1)
		return
	}
	if string(eventType) != "ContentEvent" && string(eventType) != "RichContentEvent" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, running := r.active[string(id)]
	s := r.seenKey(id)
	if s == nil {
		r.unmatched.Add(1)
		return
	}
	dup, outOfOrder := s.sawMessage(seq)
	if outOfOrder {
		r.reordered.Add(1)
	}
	switch {
	case dup:
		r.dups.Add(1)
	case s.got: // another auto message of the conversation: its first came already
	case !running || a.gaveUp:
		s.got = true
		r.late.Add(1)
	default:
		s.got = true
		r.autoMsgs.Add(1)
		a.ch <- at
	}
}

// Expect registers a conversation whose first auto message a journey will wait for; it must be
// called before the first SEND, so an early notification is not taken for another run's, and
// Forget must follow when the journey ends.
func (r *Receiver) Expect(conversationID string) {
	r.mu.Lock()
	if _, ok := r.active[conversationID]; !ok {
		a := &awaited{ch: make(chan time.Time, 1)}
		for _, early := range []map[string]routed{r.earlyOld, r.early} {
			if e, ok := early[conversationID]; ok {
				a.sawSkill(e.skill, e.skillAt)
				delete(early, conversationID)
			}
		}
		r.active[conversationID] = a
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
		r.older, r.recent, r.genStart = r.recent, make(map[string]*convSeen, len(r.recent)), now
	}
	r.recent[conversationID] = &a.convSeen
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
		Echoes: r.echoes.Load(), Overflow: r.overflow.Load(), Relayed: r.relayed.Load(), Reordered: r.reordered.Load(),
	}
}

// Close stops the receiver's worker once the queue is drained; ServeHTTP must not be called after.
func (r *Receiver) Close() {
	close(r.queue)
	<-r.done
}
