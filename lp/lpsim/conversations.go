package lpsim

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// conversation is the server state of one conversation. Its embedded Conversation is exactly what
// the Ledger shows; the rest is bookkeeping.
type conversation struct {
	Conversation
	consumer string // lp_consumer_id of the owner
	seq      int64  // sequence of the next message
}

// conversations holds every conversation of a Sim and the counters derived from them. mu guards
// everything and is held only for map lookups and field updates, never while waiting.
type conversations struct {
	mu    sync.Mutex
	byID  map[string]*conversation
	open  map[string]*conversation // by owner: at most one open conversation per consumer
	order []*conversation          // by creation

	created, closed, sends, firstSends, autoMessages int64
}

func (cs *conversations) init() {
	cs.byID = make(map[string]*conversation)
	cs.open = make(map[string]*conversation)
}

// reset forgets every conversation and zeroes the counters.
func (cs *conversations) reset() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.init()
	cs.order = nil
	cs.created, cs.closed, cs.sends, cs.firstSends, cs.autoMessages = 0, 0, 0, 0, 0
}

// create opens a conversation for consumer c of account a, arrived at the given time, with or
// without the AUTO_MESSAGES header. When c already holds an open conversation it returns that
// one's id and ok false, and creates nothing.
func (s *Sim) createConversation(a *Account, c consumerClaims, arrived time.Duration, header bool) (id string, ok bool) {
	id = newUUID() // outside the lock: crypto/rand is the slowest part
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cur := cs.open[c.LPConsumerID]; cur != nil {
		return cur.ID, false
	}
	conv := &conversation{
		Conversation: Conversation{
			ID:             id,
			Account:        a.ID,
			ExtConsumerID:  c.ExtConsumerID,
			CreateReceived: arrived,
			CreateHeader:   header,
		},
		consumer: c.LPConsumerID,
	}
	cs.byID[id] = conv
	cs.open[c.LPConsumerID] = conv
	cs.order = append(cs.order, conv)
	cs.created++
	return id, true
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
func (s *Sim) publish(a *Account, c consumerClaims, id string, arrived time.Duration, header, message bool) (seq int64, e apiErr) {
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	conv, e := cs.find(id, c)
	if e.failed() || !message {
		return 0, e
	}
	seq = conv.seq
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
		}
	}
	return seq, apiErr{}
}

// closeConversation closes conversation id for consumer c, freeing c to open another.
func (s *Sim) closeConversation(c consumerClaims, id string) apiErr {
	cs := &s.conversations
	cs.mu.Lock()
	defer cs.mu.Unlock()
	conv, e := cs.find(id, c)
	if e.failed() {
		return e
	}
	conv.Closed = true
	if cs.open[conv.consumer] == conv {
		delete(cs.open, conv.consumer)
	}
	cs.closed++
	return apiErr{}
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
