package lpsim

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sort"
	"sync"
	"time"
)

// conversation is the server state of one conversation. Its embedded Conversation is exactly what
// the Ledger shows; the rest is bookkeeping.
type conversation struct {
	Conversation
	consumer string // lp_consumer_id of the owner
	seq      int64  // sequence of the next message
	startMs  int64  // creation, Unix milliseconds on the Sim's clock: startTs of state notifications
	updateMs int64  // the last change of its metadata (creation, close): metaDataLastUpdateTs
	ttr      string // ttrDefName of the request, NORMAL when absent
	// unsettled counts the deliveries of its auto messages not yet delivered or dropped;
	// outside is set once it has left the window of recent conversations. Under conversations.mu.
	unsettled int
	outside   bool
}

// conversationInfo is what the state notifications of a conversation say about it.
type conversationInfo struct {
	id, consumer, ttr, skill string
	startMs, updateMs        int64
	controller               bool // the controller has posted (auto messages): it is a participant
}

func (c *conversation) info() conversationInfo {
	return conversationInfo{
		id: c.ID, consumer: c.consumer, ttr: c.ttr, skill: c.Skill, startMs: c.startMs, updateMs: c.updateMs,
		controller: c.AutoMessagesEmitted > 0,
	}
}

// published is what publish decided about an accepted event, for its notifications.
type published struct {
	seq      int64         // the event's sequence, when it is a message
	conv     *conversation // its conversation
	hooks    []Webhook     // the account's webhook endpoints when the event was accepted; nil = none
	autoSeq  int64         // sequence of the first auto message to emit
	autoN    int           // auto messages to emit (only with an endpoint)
	unrouted int           // auto messages not emitted for want of an endpoint
}

// conversations holds the conversations of a Sim whose detail it keeps, and the exact counters of
// all of them. mu guards everything and is held only for map lookups and field updates, never
// while waiting.
//
// Detail is kept for the keep most recent conversations by creation (recent, a ring once full)
// and, beyond them, for those still open or with auto message deliveries not yet settled
// (lingering), so that the one-open-conversation rule and the ledger's delivery records hold
// whatever the bound. A conversation leaves for good (forgotten) once it is outside the window,
// closed and settled. With keep 0 every conversation is kept.
type conversations struct {
	mu        sync.Mutex
	keep      int                      // the window's size; 0 = keep all
	byID      map[string]*conversation // every conversation kept
	open      map[string]*conversation // by owner: at most one open conversation per consumer
	recent    []*conversation          // the window, by creation; once full a ring whose oldest is at head
	head      int
	lingering map[*conversation]struct{} // outside the window, kept while open or unsettled
	bySkill   map[string]int64           // conversations created, by the skill they were routed to

	created, closed, sends, firstSends, autoMessages, forgotten int64
}

func (cs *conversations) init() {
	cs.byID = make(map[string]*conversation)
	cs.open = make(map[string]*conversation)
	cs.lingering = make(map[*conversation]struct{})
	cs.bySkill = make(map[string]int64)
}

// reset forgets every conversation and zeroes the counters.
func (cs *conversations) reset() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.init()
	cs.recent, cs.head = nil, 0
	cs.created, cs.closed, cs.sends, cs.firstSends, cs.autoMessages, cs.forgotten = 0, 0, 0, 0, 0, 0
}

// remember puts a new conversation into the window, pushing out the oldest once it is full.
// cs.mu must be held.
func (cs *conversations) remember(c *conversation) {
	if cs.keep == 0 || len(cs.recent) < cs.keep {
		cs.recent = append(cs.recent, c)
		return
	}
	old := cs.recent[cs.head]
	cs.recent[cs.head] = c
	cs.head = (cs.head + 1) % cs.keep
	old.outside = true
	cs.lingering[old] = struct{}{}
	cs.release(old)
}

// release forgets c when it is outside the window, closed and settled. cs.mu must be held.
func (cs *conversations) release(c *conversation) {
	if !c.outside || !c.Closed || c.unsettled > 0 || cs.byID[c.ID] != c { // not kept (a Reset came)
		return
	}
	delete(cs.byID, c.ID)
	delete(cs.lingering, c)
	cs.forgotten++
}

// settle records that one delivery of c's auto messages was delivered or dropped.
func (cs *conversations) settle(c *conversation) {
	cs.mu.Lock()
	c.unsettled--
	cs.release(c)
	cs.mu.Unlock()
}

// each calls f on the conversations kept whose Seq is above after, by creation, until f returns
// false. cs.mu must be held.
func (cs *conversations) each(after int64, f func(*conversation) bool) {
	var old []*conversation
	for c := range cs.lingering {
		if c.Seq > after {
			old = append(old, c)
		}
	}
	// The lingering ones left the window before any of it was created: they come first.
	slices.SortFunc(old, func(a, b *conversation) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, c := range old {
		if !f(c) {
			return
		}
	}
	// The window is in creation order from head on: find the first above after.
	n := len(cs.recent)
	at := func(i int) *conversation { return cs.recent[(cs.head+i)%n] }
	for i := sort.Search(n, func(i int) bool { return at(i).Seq > after }); i < n; i++ {
		if !f(at(i)) {
			return
		}
	}
}

// page returns up to n (> 0) of the kept conversations q selects whose Seq is above after and at
// most upTo, by creation, copied, and whether more of them are left.
func (cs *conversations) page(q LedgerQuery, after, upTo int64, n int) (list []Conversation, more bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.each(after, func(c *conversation) bool {
		if c.Seq > upTo {
			return false
		}
		if !q.selects(c) {
			return true
		}
		if len(list) == n {
			more = true
			return false
		}
		e := c.Conversation
		e.FirstAutoMessageDeliveries = slices.Clone(c.FirstAutoMessageDeliveries)
		list = append(list, e)
		return true
	})
	return list, more
}

// createConversation opens a conversation for consumer c of account a, arrived at the given
// time, with or without the AUTO_MESSAGES header, with the given ttrDefName ("" = NORMAL), the
// skillId it asked for (asked; "" = none) and the skill it was routed to (RouteSkill). When c
// already holds an open conversation it returns that one's id and ok false, and creates nothing.
// hooks are the account's webhook endpoints at creation, for the OPEN notification.
func (s *Sim) createConversation(a *account, c consumerClaims, arrived time.Duration, header bool, ttr, asked, skill string) (info conversationInfo, hooks []Webhook, ok bool) {
	id := newUUID() // outside the lock: crypto/rand is the slowest part
	if ttr == "" {
		ttr = "NORMAL"
	}
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cur := cs.open[c.LPConsumerID]; cur != nil {
		return cur.info(), nil, false
	}
	conv := &conversation{
		Conversation: Conversation{
			ID:             id,
			Account:        a.ID,
			ExtConsumerID:  c.ExtConsumerID,
			CreateReceived: arrived,
			CreateHeader:   header,
			SkillAsked:     asked,
			Skill:          skill,
		},
		consumer: c.LPConsumerID,
		startMs:  s.now().UnixMilli(),
		ttr:      ttr,
	}
	conv.updateMs = conv.startMs
	cs.created++
	conv.Seq = cs.created
	cs.byID[id] = conv
	cs.open[c.LPConsumerID] = conv
	cs.bySkill[skill]++
	cs.remember(conv)
	return conv.info(), a.webhooks(), true
}

// find returns the conversation id for consumer c, or the refusal: unknown → 400; owned by
// someone else → 401 40103 (checked before the state, so a stranger learns nothing more);
// closed → 400. cs.mu must be held.
func (cs *conversations) find(id string, c consumerClaims) (*conversation, apiErr) {
	conv := cs.byID[id]
	switch {
	case conv == nil:
		return nil, badRequest("Unknown conversation", "no conversation "+id)
	case conv.consumer != c.LPConsumerID || conv.Account != c.AccountID:
		return nil, errNotOwner
	case conv.Closed:
		return nil, badRequest("Conversation is closed", "conversation "+id+" is closed")
	}
	return conv, apiErr{}
}

// publish records an accepted ms.PublishEvent on conversation id by consumer c of account a,
// arrived at the given time with or without the AUTO_MESSAGES header. Messages (message true) take
// the next sequence; the first one fixes the conversation's gap and its AUTO_MESSAGES verdict.
// Other events (chat state, accept status) are only checked.
//
// When the first message qualifies and the account has webhook endpoints, the auto messages
// take the sequences after it, so the consumer's next message comes after them, as in a
// LivePerson dialog, and the ledger entry gets one FirstAutoMessageDeliveries record per endpoint. Without an endpoint nobody sees them and they take none: the default
// simulator, which has no endpoint, keeps the consumer's sequences consecutive.
func (s *Sim) publish(a *account, c consumerClaims, id string, arrived time.Duration, header, message bool) (p published, e apiErr) {
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	conv, e := cs.find(id, c)
	if e.failed() || !message {
		return published{}, e
	}
	p = published{seq: conv.seq, conv: conv, hooks: a.webhooks()}
	conv.seq++
	cs.sends++
	if !conv.FirstSend {
		conv.FirstSend = true
		conv.FirstSendReceived = arrived
		conv.Gap = arrived - conv.CreateReceived
		conv.SendHeader = header
		// The AUTO_MESSAGES rule (lp-api.md §5): feature on the account, Controller Bot
		// permission, header on CONVERSATION and on the first SEND, first SEND no later than the
		// window after CONVERSATION.
		conv.AutoMessages = a.AutoMessages && !a.NoControllerBot && conv.CreateHeader && header && conv.Gap <= s.cfg.Window
		cs.firstSends++
		if conv.AutoMessages {
			cs.autoMessages++
			n := len(s.cfg.Webhooks.AutoMessages)
			if len(p.hooks) == 0 {
				p.unrouted = n
			} else {
				p.autoSeq, p.autoN = conv.seq, n
				conv.seq += int64(n)
				conv.AutoMessagesEmitted = n
				if a.subscribes(EventContent) { // otherwise none is emitted (notifyMessage)
					conv.unsettled += n * len(p.hooks)
				}
				conv.FirstAutoMessageDeliveries = make([]AutoMessageDelivery, len(p.hooks))
				for i, h := range p.hooks {
					conv.FirstAutoMessageDeliveries[i].Webhook = h.ID
				}
			}
		}
	}
	return p, apiErr{}
}

// closeConversation closes conversation id for consumer c of account a, freeing c to open
// another. It returns what the CLOSE notification needs, and a's webhook endpoints at the close.
func (s *Sim) closeConversation(a *account, c consumerClaims, id string) (info conversationInfo, hooks []Webhook, e apiErr) {
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	conv, e := cs.find(id, c)
	if e.failed() {
		return conversationInfo{}, nil, e
	}
	conv.Closed = true
	// Strictly after the last change, so that receivers can order a conversation's changes by it
	// even within one millisecond.
	conv.updateMs = max(s.now().UnixMilli(), conv.updateMs+1)
	if cs.open[conv.consumer] == conv {
		delete(cs.open, conv.consumer)
	}
	cs.closed++
	cs.release(conv)
	return conv.info(), a.webhooks(), apiErr{}
}

// newUUID returns a random (version 4) UUID in its canonical text form.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])         // never fails (crypto/rand panics instead)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}
