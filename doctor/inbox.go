package doctor

import (
	"crypto/hmac"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp"
)

// inbox records what one target's webhooks brought during its check: every delivery, well
// signed or not, by conversation.
type inbox struct {
	notify chan struct{}

	mu        sync.Mutex
	secret    string           // the app's client secret: checks signatures, never shown
	total     int              // deliveries of any kind
	badSig    int              // deliveries the app's secret did not sign
	badSigIDs []string         // their x-liveperson-client-id, distinct, in order of arrival
	convs     map[string]*conv // well-signed deliveries by conversation id
}

// conv is what arrived for one conversation.
type conv struct {
	changes int       // conversation changes
	skills  []string  // conversationDetails.skillId of its changes, distinct
	echoes  int       // ContentEvents of role CONSUMER
	content int       // ContentEvents and RichContentEvents of other roles
	auto    time.Time // the first of them: the auto message (zero: none)
}

func newInbox() *inbox {
	return &inbox{notify: make(chan struct{}, 1), convs: map[string]*conv{}}
}

// setSecret sets the secret the deliveries must be signed with; those before are counted as
// badly signed.
func (in *inbox) setSecret(secret string) {
	in.mu.Lock()
	in.secret = secret
	in.mu.Unlock()
}

// delivery is the part of a notification the diagnosis reads.
type delivery struct {
	Type string `json:"type"`
	Body struct {
		Changes []struct {
			OriginatorMetadata struct {
				Role string `json:"role"`
			} `json:"originatorMetadata"`
			Event struct {
				Type string `json:"type"`
			} `json:"event"`
			ConversationID string `json:"conversationId"`
			DialogID       string `json:"dialogId"`
			Result         struct {
				ConvID  string `json:"convId"`
				Details struct {
					SkillID json.RawMessage `json:"skillId"`
				} `json:"conversationDetails"`
			} `json:"result"`
		} `json:"changes"`
	} `json:"body"`
}

// add records one delivery, at the time it is called.
func (in *inbox) add(d engine.Delivery) {
	at := time.Now()
	var n delivery
	undecodable := json.Unmarshal(d.Body, &n) != nil
	in.mu.Lock()
	defer in.mu.Unlock()
	good := in.secret != "" && hmac.Equal([]byte(lp.Sign(in.secret, d.Body)), []byte(d.Header.Get(lp.HeaderSignature)))
	defer in.wake()
	in.total++
	if !good {
		in.badSig++
		if id := d.Header.Get(lp.HeaderClientID); !slices.Contains(in.badSigIDs, id) {
			in.badSigIDs = append(in.badSigIDs, id)
		}
		return
	}
	if undecodable {
		return
	}
	for _, ch := range n.Body.Changes {
		id := firstOf(ch.ConversationID, ch.DialogID, ch.Result.ConvID)
		if id == "" {
			continue
		}
		c := in.convs[id]
		if c == nil {
			c = &conv{}
			in.convs[id] = c
		}
		switch {
		case n.Type == "cqm.ExConversationChangeNotification":
			c.changes++
			if s := skillText(ch.Result.Details.SkillID); !slices.Contains(c.skills, s) {
				c.skills = append(c.skills, s)
			}
		case ch.Event.Type != "ContentEvent" && ch.Event.Type != "RichContentEvent":
		case ch.OriginatorMetadata.Role == "CONSUMER":
			c.echoes++
		default:
			c.content++
			if c.auto.IsZero() {
				c.auto = at
			}
		}
	}
}

// wake tells a waiter that something arrived.
func (in *inbox) wake() {
	select {
	case in.notify <- struct{}{}:
	default:
	}
}

// await waits until an auto message of conversation id arrived, or timeout passed; it returns
// when it arrived (zero: it did not).
func (in *inbox) await(id string, timeout time.Duration) time.Time {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		if at := in.of(id).auto; !at.IsZero() {
			return at
		}
		select {
		case <-in.notify:
		case <-t.C:
			return in.of(id).auto
		}
	}
}

// snapshot is what arrived so far, for the diagnosis.
type snapshot struct {
	total, badSig, other int
	badSigIDs            []string
	conv                 conv
}

// snap returns what arrived so far for conversation id, and in total.
func (in *inbox) snap(id string) snapshot {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := snapshot{total: in.total, badSig: in.badSig, badSigIDs: slices.Clone(in.badSigIDs)}
	for cid, c := range in.convs {
		if cid == id {
			s.conv = *c
			s.conv.skills = slices.Clone(c.skills)
		} else {
			s.other += c.changes + c.echoes + c.content
		}
	}
	return s
}

// of returns a copy of what arrived for conversation id.
func (in *inbox) of(id string) conv {
	return in.snap(id).conv
}

// skillText reads a skillId, a string or a number in the notifications.
func skillText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
