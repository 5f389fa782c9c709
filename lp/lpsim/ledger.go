package lpsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Ledger is the simulator's ground truth: what it answered and what it decided, for comparison
// with what a client reports. Times are durations on the server's monotonic clock since the Sim
// was created; in JSON they are integer nanoseconds.
//
// Requests counts answers by the status written in their headers: faulted answers included (a
// reset under 200, the status its cut answer announced), so the counts of work done are the
// counters below, not Requests[...][200]. Faults counts, per endpoint, every injected fault by
// kind (the Fault* constants) and every response a stall held; a 429 of a rate limit is not a
// fault and shows as Requests[endpoint][429].
type Ledger struct {
	Requests              map[Endpoint]map[int]int64    `json:"requests"` // endpoint → HTTP status → count (every request answered)
	Faults                map[Endpoint]map[string]int64 `json:"faults"`   // endpoint → fault kind → count
	Queues                map[Endpoint]QueueStats       `json:"queues"`   // endpoint → waits for capacity (zero where unlimited)
	AppJWTsIssued         int64                         `json:"appjwts_issued"`
	ConsumerJWSsIssued    int64                         `json:"consumerjws_issued"`
	ConversationsCreated  int64                         `json:"conversations_created"`
	ConversationsClosed   int64                         `json:"conversations_closed"`
	Sends                 int64                         `json:"sends"`                   // ms.PublishEvent accepted (200)
	FirstSends            int64                         `json:"first_sends"`             // conversations that got their first accepted ms.PublishEvent
	AutoMessagesTriggered int64                         `json:"auto_messages_triggered"` // conversations whose first send qualified
	Webhooks              WebhookStats                  `json:"webhooks"`                // notifications to the accounts' webhook endpoints
	// WebhookEndpoints breaks the deliveries of Webhooks down by endpoint: keyed by Webhook.ID,
	// one entry per endpoint that was sent a delivery since the last Reset (removed endpoints
	// included). Their Deliveries, Delivered, Dropped, Pending, Retried, Lost and Duplicated add
	// up to those of Webhooks.
	WebhookEndpoints map[string]WebhookEndpointStats `json:"webhook_endpoints"`
	// ConversationsBySkill counts the conversations created by the skill they were routed to
	// (Conversation.Skill); never nil.
	ConversationsBySkill map[string]int64 `json:"conversations_by_skill"`
	// ConversationsKept counts the conversations whose detail the simulator keeps (see
	// Config.LedgerConversations), ConversationsForgotten those it no longer does: they add up
	// to ConversationsCreated.
	ConversationsKept      int64 `json:"conversations_kept"`
	ConversationsForgotten int64 `json:"conversations_forgotten"`
	// Conversations are the kept conversations the query selected (all of them for Ledger),
	// ordered by creation. GET /_lpsim/ledger writes them, then NextAfter, after the rest.
	Conversations []Conversation `json:"conversations"`
	// NextAfter is set when LedgerQuery.Limit cut Conversations short: the Seq of the last one
	// listed, for LedgerQuery.After (after=) to list the next page; 0 when none is left out.
	NextAfter int64 `json:"next_after,omitempty"`
}

// LedgerQuery selects the conversations a ledger lists ([Sim.LedgerOf], GET /_lpsim/ledger's
// parameters); the counters are always whole. The zero LedgerQuery lists every kept one.
type LedgerQuery struct {
	Account  string // only this account's ("" = every account); account=
	Consumer string // only those whose ext_consumer_id starts with it, e.g. a run's "lpbench-RUN-"; consumer=
	After    int64  // only those created after the one with this Seq; after=
	Limit    int    // at most this many (0 = no limit, < 0 = none: the counters alone); limit= (0 there: none)
}

func (q LedgerQuery) selects(c *conversation) bool {
	return c.Seq > q.After && (q.Account == "" || c.Account == q.Account) && strings.HasPrefix(c.ExtConsumerID, q.Consumer)
}

// WebhookStats counts the notifications of the simulated Connector API (see [WebhookConfig]).
//
// A notification (an event's one body) is emitted once, and delivered separately to each
// endpoint its account had when it was emitted: one delivery per endpoint, each with its own
// latency, loss, retries and duplicates. Emitted counts notifications; Deliveries, Delivered,
// Dropped, Pending, Retried, Lost, Duplicated, Reordered and DroppedByReason count deliveries.
// With one endpoint per account, as before registration came, a delivery is a notification
// and Deliveries = Emitted. A delivery ends delivered or dropped, never both: at any time
// Deliveries = Delivered + Dropped + Pending, and DroppedByReason (keyed by the Drop* constants)
// adds up to Dropped. Duplicates are extra copies of delivered deliveries, not deliveries.
// Outcomes of notifications emitted before a Reset are not counted after it.
type WebhookStats struct {
	Emitted    int64 `json:"emitted"`     // notifications handed to delivery, once each whatever the number of endpoints (the ones dropped at once included)
	Deliveries int64 `json:"deliveries"`  // deliveries of them: one per notification and endpoint
	Delivered  int64 `json:"delivered"`   // deliveries answered 2xx, at the first attempt or a retry
	Dropped    int64 `json:"dropped"`     // deliveries never delivered: lost, failed, queue full or shut down
	Pending    int64 `json:"pending"`     // deliveries neither delivered nor dropped yet
	Retried    int64 `json:"retried"`     // attempts after the first (lost ones included)
	Lost       int64 `json:"lost"`        // attempts lost (WebhookConfig.Loss): never sent
	Duplicated int64 `json:"duplicated"`  // extra copies of delivered deliveries posted
	Reordered  int64 `json:"reordered"`   // deliveries held back by an extra delay to be overtaken
	NoEndpoint int64 `json:"no_endpoint"` // notifications not emitted: the account had no webhook endpoint
	// Unsubscribed counts notifications not emitted: the installation has no webhook for their
	// event type (Account.WebhookEvents).
	Unsubscribed int64 `json:"unsubscribed"`
	// FirstAutoMessagesDelivered and FirstAutoMessagesDropped count conversations, one at most
	// each: those whose first auto message was delivered to every endpoint it was emitted to
	// (Conversation.FirstAutoMessageDelivered), and those whose first auto message was dropped
	// at one endpoint or more (Conversation.FirstAutoMessageDropped): the ground truth of a
	// client's missing auto messages. With several endpoints, a client that verifies only its
	// own reads its endpoint's record in Conversation.FirstAutoMessageDeliveries.
	FirstAutoMessagesDelivered int64            `json:"first_auto_messages_delivered"`
	FirstAutoMessagesDropped   int64            `json:"first_auto_messages_dropped"`
	DroppedByReason            map[string]int64 `json:"dropped_by_reason"` // reason → deliveries
}

// WebhookEndpointStats counts the deliveries to one webhook endpoint (Ledger.WebhookEndpoints),
// with the meanings of [WebhookStats]: Deliveries = Delivered + Dropped + Pending. Its first
// auto message counts are per delivery, so per conversation too: one delivery per conversation
// and endpoint.
type WebhookEndpointStats struct {
	Account                    string `json:"account"`
	URL                        string `json:"url"`
	Deliveries                 int64  `json:"deliveries"`
	Delivered                  int64  `json:"delivered"`
	Dropped                    int64  `json:"dropped"`
	Pending                    int64  `json:"pending"`
	Retried                    int64  `json:"retried"`
	Lost                       int64  `json:"lost"`
	Duplicated                 int64  `json:"duplicated"`
	FirstAutoMessagesDelivered int64  `json:"first_auto_messages_delivered"` // conversations whose first auto message reached this endpoint
	FirstAutoMessagesDropped   int64  `json:"first_auto_messages_dropped"`   // ... and those for which it was dropped here
}

// Conversation is the ledger entry of one conversation.
type Conversation struct {
	ID string `json:"id"`
	// Seq numbers the conversations by creation, from 1 after New or Reset: the ledger's paging
	// cursor (LedgerQuery.After).
	Seq               int64         `json:"seq"`
	Account           string        `json:"account"`
	ExtConsumerID     string        `json:"ext_consumer_id"`
	CreateReceived    time.Duration `json:"create_received_ns"`     // server monotonic time since the Sim was created, taken when the CONVERSATION request arrived (before any simulated latency)
	FirstSendReceived time.Duration `json:"first_send_received_ns"` // same clock, when the first accepted ms.PublishEvent request arrived; 0 if none
	Gap               time.Duration `json:"gap_ns"`                 // FirstSendReceived − CreateReceived; 0 if no send
	CreateHeader      bool          `json:"create_header"`          // Client-Properties with AUTO_MESSAGES on CONVERSATION
	SendHeader        bool          `json:"send_header"`            // ... on the first SEND
	FirstSend         bool          `json:"first_send"`
	AutoMessages      bool          `json:"auto_messages"` // the AUTO_MESSAGES rule held: auto messages would be emitted
	Closed            bool          `json:"closed"`
	// SkillAsked is the skillId the CONVERSATION asked for ("" when none); Skill is the skill the
	// conversation was routed to, as its change notifications say (see RouteSkill).
	SkillAsked string `json:"skill_asked"`
	Skill      string `json:"skill"`
	// Webhook deliveries of the conversation's auto messages. Auto messages are emitted only when
	// the rule held and the account had a webhook endpoint at the first send; each is one
	// notification, delivered to every endpoint the account had then
	// (len(FirstAutoMessageDeliveries) of them). The first auto message is the first of the
	// conversation's auto messages, one per conversation however many endpoints receive it; the
	// FirstAutoMessage fields tell its fate over all of them, and FirstAutoMessageDeliveries at
	// each. With one endpoint the two say the same.
	AutoMessagesEmitted         int           `json:"auto_messages_emitted"`           // notifications, one per auto message
	AutoMessagesDelivered       int           `json:"auto_messages_delivered"`         // deliveries answered 2xx, over every endpoint: at most AutoMessagesEmitted × endpoints
	FirstAutoMessageDelivered   bool          `json:"first_auto_message_delivered"`    // delivered to every endpoint it was emitted to
	FirstAutoMessageDropped     bool          `json:"first_auto_message_dropped"`      // lost, failed or abandoned at one endpoint or more: never delivered there
	FirstAutoMessageAttempts    int           `json:"first_auto_message_attempts"`     // attempts made (lost ones included) until delivered or dropped, the most of any endpoint settled so far
	FirstAutoMessageDeliveredAt time.Duration `json:"first_auto_message_delivered_ns"` // ledger clock when the last endpoint answered 2xx; 0 until every one has
	// FirstAutoMessageDeliveries is the first auto message's fate at each endpoint, in the
	// account's registration order at the first send; nil when no auto message was emitted.
	FirstAutoMessageDeliveries []AutoMessageDelivery `json:"first_auto_message_deliveries"`
}

// AutoMessageDelivery is the fate of a conversation's first auto message at one endpoint.
type AutoMessageDelivery struct {
	Webhook     string        `json:"webhook"`      // the endpoint's Webhook.ID
	Delivered   bool          `json:"delivered"`    // answered 2xx
	Dropped     bool          `json:"dropped"`      // lost, failed or abandoned: never delivered
	Attempts    int           `json:"attempts"`     // attempts made until delivered or dropped
	DeliveredAt time.Duration `json:"delivered_ns"` // ledger clock when it was answered 2xx; 0 if not
}

// FirstAutoMessageAt returns the fate of c's first auto message at the endpoint with the given
// Webhook.ID, and whether it was emitted to that endpoint.
func (c Conversation) FirstAutoMessageAt(webhookID string) (AutoMessageDelivery, bool) {
	for _, d := range c.FirstAutoMessageDeliveries {
		if d.Webhook == webhookID {
			return d, true
		}
	}
	return AutoMessageDelivery{}, false
}

// statusSlots covers HTTP statuses 100–599, the index being status − 100.
const statusSlots = 500

// count records one answer of endpoint index i with the given status.
func (s *Sim) count(i, status int) {
	if status >= 100 && status < 100+statusSlots {
		s.requests[i][status-100].Add(1)
	}
}

// Ledger returns a snapshot of the ledger that shares nothing with the Sim, every kept
// conversation listed: [Sim.LedgerOf] with the zero LedgerQuery.
func (s *Sim) Ledger() Ledger { return s.LedgerOf(LedgerQuery{}) }

// LedgerOf returns a snapshot of the ledger that shares nothing with the Sim, listing the kept
// conversations q selects. Every endpoint has a (possibly empty) entry in Requests, Faults and
// Queues, and Conversations, WebhookEndpoints and Webhooks.DroppedByReason are never nil, so the
// JSON form is stable.
func (s *Sim) LedgerOf(q LedgerQuery) Ledger {
	l := Ledger{
		Requests:           make(map[Endpoint]map[int]int64, numEndpoints),
		Faults:             make(map[Endpoint]map[string]int64, numEndpoints),
		Queues:             make(map[Endpoint]QueueStats, numEndpoints),
		AppJWTsIssued:      s.appJWTsIssued.Load(),
		ConsumerJWSsIssued: s.consumerJWSsIssued.Load(),
	}
	for i, e := range endpoints {
		m := make(map[int]int64)
		for j := range s.requests[i] {
			if n := s.requests[i][j].Load(); n != 0 {
				m[100+j] = n
			}
		}
		l.Requests[e] = m
		f := make(map[string]int64)
		for k := range s.faultCounts[i] {
			if n := s.faultCounts[i][k].Load(); n != 0 {
				f[faultNames[k]] = n
			}
		}
		l.Faults[e] = f
		if q := s.queues[i]; q != nil {
			l.Queues[e] = q.stats()
		} else {
			l.Queues[e] = QueueStats{}
		}
	}
	s.conversations.snapshot(&l, q)
	// Not under cs.mu: the dispatcher takes it inside its own lock.
	l.Webhooks, l.WebhookEndpoints = s.hooks.snapshot()
	return l
}

// snapshot copies into l the counters and the kept conversations q selects.
func (cs *conversations) snapshot(l *Ledger, q LedgerQuery) {
	cs.mu.Lock()
	l.ConversationsCreated = cs.created
	l.ConversationsClosed = cs.closed
	l.Sends = cs.sends
	l.FirstSends = cs.firstSends
	l.AutoMessagesTriggered = cs.autoMessages
	l.ConversationsBySkill = maps.Clone(cs.bySkill)
	l.ConversationsKept = int64(len(cs.byID))
	l.ConversationsForgotten = cs.forgotten
	cs.mu.Unlock()
	l.Conversations = []Conversation{}
	if q.Limit < 0 {
		return
	}
	n := q.Limit
	if n == 0 {
		n = math.MaxInt
	}
	// Another page cannot add one: nothing was created after l.ConversationsCreated then.
	list, more := cs.page(q, q.After, l.ConversationsCreated, n)
	if list != nil {
		l.Conversations = list
	}
	if more {
		l.NextAfter = list[len(list)-1].Seq
	}
}

// handleReset answers POST /_lpsim/reset: Sim.Reset, then 204.
func (s *Sim) handleReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// handleLedger answers GET /_lpsim/ledger with the Ledger as JSON, listing the conversations its
// parameters select (see parseLedgerQuery). Control routes are not part of the simulated service:
// no counting, no latency, no stall.
func (s *Sim) handleLedger(w http.ResponseWriter, r *http.Request) {
	q, err := parseLedgerQuery(r.URL.Query())
	if err != nil {
		controlError(w, badRequest("Bad ledger query", err.Error()))
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	s.writeLedger(w, q)
}

// parseLedgerQuery reads GET /_lpsim/ledger's parameters: account, consumer (a prefix of
// ext_consumer_id), after (a Seq) and limit (0: no conversation, the counters alone).
func parseLedgerQuery(v url.Values) (LedgerQuery, error) {
	q := LedgerQuery{Account: v.Get("account"), Consumer: v.Get("consumer")}
	if a := v.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			return q, fmt.Errorf("after=%q: give the seq of a conversation, a whole number ≥ 0 (the ledger's next_after)", a)
		}
		q.After = n
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return q, fmt.Errorf("limit=%q: give the most conversations to list, a whole number ≥ 0 (0: the counters alone)", l)
		}
		q.Limit = n
		if n == 0 {
			q.Limit = -1
		}
	}
	return q, nil
}

// ledgerChunk is how many conversations writeLedger copies at a time.
const ledgerChunk = 512

// writeLedger writes the ledger as JSON, listing the conversations q selects a chunk at a time:
// neither the answer nor the list of conversations ever exists whole in memory, and requests are
// not held up while it is written. The counters are those of the start; conversations created
// later are not listed, and one forgotten meanwhile may be left out. Conversations and
// next_after come last.
func (s *Sim) writeLedger(w io.Writer, q LedgerQuery) {
	l := s.LedgerOf(LedgerQuery{Limit: -1})
	l.Conversations = nil
	head, err := json.Marshal(l)
	if err != nil { // plain data only: cannot happen
		return
	}
	// head ends with "conversations":null}: the array and next_after replace it.
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.Write(bytes.TrimSuffix(head, []byte("null}")))
	bw.WriteByte('[')
	enc := json.NewEncoder(bw)
	after, listed, next := q.After, 0, int64(0)
	for q.Limit >= 0 {
		n := ledgerChunk
		if q.Limit > 0 {
			n = min(n, q.Limit-listed)
		}
		list, more := s.conversations.page(q, after, l.ConversationsCreated, n)
		for i := range list {
			if listed+i > 0 {
				bw.WriteByte(',')
			}
			enc.Encode(&list[i]) // plain data: cannot fail; its trailing newline is JSON space
		}
		if !more {
			break
		}
		listed += len(list)
		after = list[len(list)-1].Seq
		if listed == q.Limit {
			next = after
			break
		}
	}
	bw.WriteByte(']')
	if next > 0 {
		fmt.Fprintf(bw, `,"next_after":%d`, next)
	}
	bw.WriteString("}\n")
	bw.Flush()
}

// App is one account's app installation as GET /_lpsim/apps lists it.
type App struct {
	Account      string `json:"account"`
	Region       string `json:"region"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"` // only when generated by the simulator
}

// Apps lists the accounts and their apps' credentials, the secrets only where the simulator
// generated them (as its banner prints them): a configured secret is never shown.
func (s *Sim) Apps() []App {
	var out []App
	for _, a := range s.cfg.Accounts {
		app := App{Account: a.ID, Region: a.Region, ClientID: a.ClientID}
		if a.generatedSecret {
			app.ClientSecret = a.ClientSecret
		}
		out = append(out, app)
	}
	return out
}

// handleApps answers GET /_lpsim/apps, so that a local lpbench run (--sim-url) can drive a
// standalone simulator without copying its generated credentials by hand.
func (s *Sim) handleApps(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(s.Apps())
	if err != nil { // plain data only: cannot happen
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.Write(b)
}
