package lpsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhookConfig is how the simulated Connector API delivers notifications to the accounts'
// webhook endpoints (Account.WebhookURL, Sim.SetWebhook, Sim.AddWebhook), to each one separately. Zero fields select the defaults of
// [DefaultWebhookConfig].
//
// Every notification is one HTTP POST of one change. Its first attempt starts after a delay drawn
// from Latency (plus, with probability Reorder, up to ReorderDelay more). An attempt succeeds
// when it is answered 2xx within Timeout; otherwise (another status, a transport error, no answer
// in time) the notification is tried again, up to MaxRetries more times, attempts starting
// RetryInterval apart. Each attempt is lost with probability Loss: it is never sent, and counts as
// failed. A notification whose last attempt failed is dropped. A delivered notification is, with
// probability Duplicate, posted once more after another Latency draw.
type WebhookConfig struct {
	// AutoMessages are the texts of the account's automatic messages (Campaign Builder), emitted
	// in this order after a qualifying first message; default one welcome text.
	AutoMessages []string `yaml:"auto_messages"`
	// Latency is the delay from an event to the first attempt of its notification: the service's
	// processing and the network. A zero Latency selects the default, Fixed(0) means none.
	Latency Latency `yaml:"latency"`
	// Timeout is how long an attempt waits for its answer; default 10s, LivePerson's deadline.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is the app installation's max_retries: 0 to 5 further attempts after a failed
	// one (0, the default, tries once).
	MaxRetries int `yaml:"max_retries"`
	// RetryInterval separates the starts of two attempts; default 30s, as LivePerson documents.
	// Tests shorten it.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// Loss is the probability (0..1) that an attempt is lost: never sent, as if it had vanished on
	// the way. Without retries a lost attempt is a dropped notification.
	Loss float64 `yaml:"loss"`
	// Duplicate is the probability (0..1) that a delivered notification is delivered again: the
	// same bytes, one more attempt.
	Duplicate float64 `yaml:"duplicate"`
	// Reorder is the probability (0..1) that a notification is held back by an extra delay,
	// uniform in (0, ReorderDelay], so that later ones may overtake it.
	Reorder float64 `yaml:"reorder"`
	// ReorderDelay bounds the extra delay of a reordered notification; default 250ms.
	ReorderDelay time.Duration `yaml:"reorder_delay"`
	// Workers bounds the attempts in flight at once; default 64. Due attempts beyond wait in
	// FIFO order, and the wait adds to their delivery latency.
	Workers int `yaml:"workers"`
	// QueueSize bounds the notifications not yet delivered or dropped (waiting for their delay,
	// for a retry, for a worker, or in flight); default 65536. A notification emitted while the
	// queue is full is dropped at once (reason "queue_full").
	QueueSize int `yaml:"queue_size"`
}

// Defaults of WebhookConfig.
const (
	DefaultAutoMessage          = "Welcome! An agent will be with you shortly."
	DefaultWebhookTimeout       = 10 * time.Second
	DefaultWebhookRetryInterval = 30 * time.Second
	DefaultReorderDelay         = 250 * time.Millisecond
	DefaultWebhookWorkers       = 64
	DefaultWebhookQueueSize     = 65536
	MaxWebhookRetries           = 5 // the largest max_retries LivePerson accepts
)

// DefaultWebhookConfig returns the defaults: one welcome auto message, a log-normal delivery
// latency (median 30ms, p99 150ms), LivePerson's 10s answer deadline and 30s retry interval, no
// retries, and no loss, duplication or reordering.
func DefaultWebhookConfig() WebhookConfig {
	return WebhookConfig{
		AutoMessages:  []string{DefaultAutoMessage},
		Latency:       LogNormal(30*time.Millisecond, 150*time.Millisecond),
		Timeout:       DefaultWebhookTimeout,
		RetryInterval: DefaultWebhookRetryInterval,
		ReorderDelay:  DefaultReorderDelay,
		Workers:       DefaultWebhookWorkers,
		QueueSize:     DefaultWebhookQueueSize,
	}
}

// Validate reports the first problem of w: an empty auto message text, an invalid latency,
// negative durations or sizes, max retries outside 0..5, or probabilities outside 0..1.
func (w WebhookConfig) Validate() error {
	for i, m := range w.AutoMessages {
		if m == "" {
			return fmt.Errorf("auto_messages[%d] is empty", i)
		}
	}
	if err := w.Latency.Validate(); err != nil {
		return fmt.Errorf("latency: %v", err)
	}
	switch {
	case w.Timeout < 0:
		return fmt.Errorf("negative timeout %v", w.Timeout)
	case w.MaxRetries < 0 || w.MaxRetries > MaxWebhookRetries:
		return fmt.Errorf("max_retries %d is not in 0..%d", w.MaxRetries, MaxWebhookRetries)
	case w.RetryInterval < 0:
		return fmt.Errorf("negative retry interval %v", w.RetryInterval)
	case w.ReorderDelay < 0:
		return fmt.Errorf("negative reorder delay %v", w.ReorderDelay)
	case w.Workers < 0:
		return fmt.Errorf("negative workers %d", w.Workers)
	case w.QueueSize < 0:
		return fmt.Errorf("negative queue size %d", w.QueueSize)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", w.Loss}, {"duplicate", w.Duplicate}, {"reorder", w.Reorder}} {
		if !(p.v >= 0 && p.v <= 1) { // NaN too
			return fmt.Errorf("%s probability %v is not in 0..1", p.name, p.v)
		}
	}
	return nil
}

// withDefaults returns w with its zero fields set to the defaults; the texts are copied.
func (w WebhookConfig) withDefaults() WebhookConfig {
	d := DefaultWebhookConfig()
	if len(w.AutoMessages) == 0 {
		w.AutoMessages = d.AutoMessages
	} else {
		w.AutoMessages = append([]string(nil), w.AutoMessages...)
	}
	if w.Latency == (Latency{}) {
		w.Latency = d.Latency
	}
	if w.Timeout == 0 {
		w.Timeout = d.Timeout
	}
	if w.RetryInterval == 0 {
		w.RetryInterval = d.RetryInterval
	}
	if w.ReorderDelay == 0 {
		w.ReorderDelay = d.ReorderDelay
	}
	if w.Workers == 0 {
		w.Workers = d.Workers
	}
	if w.QueueSize == 0 {
		w.QueueSize = d.QueueSize
	}
	return w
}

// checkWebhookURL accepts "" (no webhooks) or an absolute http or https URL with a host.
func checkWebhookURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook URL %q: %v", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook URL %q is not an absolute http or https URL", raw)
	}
	return nil
}

// The event types of an app installation's webhooks (capabilities.webhooks), one endpoint each
// at LivePerson; Account.WebhookEvents names some of them.
const (
	EventContent            = typeMessagingNotification + ".ContentEvent"
	EventRichContent        = typeMessagingNotification + ".RichContentEvent"
	EventChatState          = typeMessagingNotification + ".ChatStateEvent"
	EventAcceptStatus       = typeMessagingNotification + ".AcceptStatusEvent"
	EventConversationChange = typeConversationChange
)

// WebhookEventTypes lists the event types an installation may have a webhook for.
var WebhookEventTypes = []string{EventContent, EventRichContent, EventChatState, EventAcceptStatus, EventConversationChange}

// checkWebhookInstallation reports to bad what is wrong with account a's webhook installation: an
// unknown or repeated event type, a signing client id without its secret or the other way round.
func checkWebhookInstallation(a Account, where string, bad func(string, ...any)) {
	for i, e := range a.WebhookEvents {
		switch {
		case !slices.Contains(WebhookEventTypes, e):
			bad("%s: webhook_events[%d]: unknown event type %q (one of %s)", where, i, e, strings.Join(WebhookEventTypes, ", "))
		case slices.Index(a.WebhookEvents, e) < i:
			bad("%s: webhook_events[%d]: %q is listed twice", where, i, e)
		}
	}
	if (a.WebhookClientID == "") != (a.WebhookClientSecret == "") {
		bad("%s: webhook_client_id and webhook_client_secret go together (another installation signs the webhooks)", where)
	}
}

// subscribes reports whether the account's installation has a webhook for event type typ.
func (a *account) subscribes(typ string) bool {
	return len(a.WebhookEvents) == 0 || slices.Contains(a.WebhookEvents, typ)
}

// AutoMessageRole is the originatorMetadata.role of auto messages in the simulated notifications.
//
// LivePerson does not document it. CONTROLLER is the messaging API's participant role for the
// system (the "Controller Bot" that the AUTO_MESSAGES rule requires permission for), and it is
// neither CONSUMER, the role clients filter out as their own echo, nor an agent's role, so a
// receiver that mistook agent messages for auto messages would not pass by accident.
const AutoMessageRole = "CONTROLLER"

// The notification types the simulator emits.
const (
	typeMessagingNotification = "ms.MessagingEventNotification"
	typeConversationChange    = "cqm.ExConversationChangeNotification"
)

// notificationBody returns {"kind":"notification","type":typ,"body":{"changes":[change]}}.
func notificationBody(typ string, change any) []byte {
	b, err := json.Marshal(struct {
		Kind string `json:"kind"`
		Type string `json:"type"`
		Body struct {
			Changes []any `json:"changes"`
		} `json:"body"`
	}{Kind: "notification", Type: typ, Body: struct {
		Changes []any `json:"changes"`
	}{Changes: []any{change}}})
	if err != nil { // plain data and validated raw JSON only: cannot happen
		panic("lpsim: encoding a notification: " + err.Error())
	}
	return b
}

// originator is originatorMetadata.
type originator struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// messagingChange is one change of an ms.MessagingEventNotification (lp-api.md §6).
type messagingChange struct {
	Sequence           int64           `json:"sequence"`
	OriginatorID       string          `json:"originatorId"`
	OriginatorMetadata originator      `json:"originatorMetadata"`
	ServerTimestamp    int64           `json:"serverTimestamp"` // Unix milliseconds
	Event              json.RawMessage `json:"event"`
	ConversationID     string          `json:"conversationId"`
	DialogID           string          `json:"dialogId"`
}

// contentEvent is the event of an auto message.
type contentEvent struct {
	Type        string `json:"type"`
	Message     string `json:"message"`
	ContentType string `json:"contentType"`
}

// stateChange is the change of a cqm.ExConversationChangeNotification: the shape of lp-api.md §6
// with the fields LivePerson's schema and its demo connector's fixtures show
// (testdata/notifications/conversation-open.json and conversation-close.json).
type stateChange struct {
	Type   string `json:"type"` // UPSERT
	Result struct {
		ConvID       string       `json:"convId"`
		EffectiveTTR int64        `json:"effectiveTTR"` // Unix milliseconds the answer is due by; -1 once closed
		Details      stateDetails `json:"conversationDetails"`
	} `json:"result"`
}

// stateDetails is conversationDetails.
type stateDetails struct {
	SkillID              string        `json:"skillId"`
	Participants         []originator  `json:"participants"`
	Dialogs              []stateDialog `json:"dialogs"`
	BrandID              string        `json:"brandId"`
	State                string        `json:"state"`                 // OPEN or CLOSE
	Stage                string        `json:"stage"`                 // OPEN or CLOSE, as state: a close is both CLOSE
	CloseReason          string        `json:"closeReason,omitempty"` // CONSUMER, once closed
	StartTs              int64         `json:"startTs"`               // Unix milliseconds
	EndTs                int64         `json:"endTs,omitempty"`       // Unix milliseconds, once closed
	MetaDataLastUpdateTs int64         `json:"metaDataLastUpdateTs"`  // Unix milliseconds of this change: orders the notifications
	TTR                  struct {
		Type  string `json:"ttrType"`
		Value int    `json:"value"` // seconds
	} `json:"ttr"`
}

// stateDialog is one element of conversationDetails.dialogs: the conversation's one MAIN dialog,
// whose id is the conversation's.
type stateDialog struct {
	DialogID             string       `json:"dialogId"`
	ParticipantsDetails  []originator `json:"participantsDetails"`
	DialogType           string       `json:"dialogType"`  // MAIN
	ChannelType          string       `json:"channelType"` // MESSAGING
	State                string       `json:"state"`
	CreationTs           int64        `json:"creationTs"`
	EndTs                int64        `json:"endTs,omitempty"`
	MetaDataLastUpdateTs int64        `json:"metaDataLastUpdateTs"`
	ClosedBy             string       `json:"closedBy,omitempty"` // CONSUMER, once closed
}

// ttrSeconds is the time to respond the simulator announces for every TTR type: LivePerson's
// values are configured per account, and nothing here depends on them.
const ttrSeconds = 600

// controllerID returns the originatorId of an account's auto messages: stable, UUID-shaped,
// derived from the account id as lp_consumer_id is from the consumer's.
func controllerID(accountID string) string {
	sum := sha256.Sum256([]byte(accountID + "\x00" + AutoMessageRole))
	var b [36]byte
	hex.Encode(b[0:8], sum[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], sum[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], sum[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], sum[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], sum[10:16])
	return string(b[:])
}

// newNotification returns the delivery of body to url for account a: signed with its webhooks'
// client secret (the app's, or Account.WebhookClientSecret's installation), as LivePerson signs
// (Base64 HMAC-SHA1 of the exact bytes sent).
func newNotification(a *account, url string, body []byte) *notification {
	clientID, secret := a.ClientID, a.ClientSecret
	if a.WebhookClientID != "" {
		clientID, secret = a.WebhookClientID, a.WebhookClientSecret
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return &notification{
		url: url, body: body, accountID: a.ID, clientID: clientID,
		signature: "sha1=" + base64.StdEncoding.EncodeToString(m.Sum(nil)),
		autoIndex: -1,
	}
}

// newNotifications returns the deliveries of one notification, body, to each of the endpoints
// hooks of account a, in their order: the same bytes and signature, one delivery per endpoint.
// conv and autoIndex mark an auto message (nil and -1 otherwise).
//
// The deliveries to one endpoint of one conversation (convID) go out in the order they were
// emitted (see dispatcher), unless drawn for reordering.
func newNotifications(a *account, hooks []Webhook, body []byte, conv *conversation, autoIndex int, convID string) []*notification {
	first := newNotification(a, "", body)
	ns := make([]*notification, len(hooks))
	for i, h := range hooks {
		n := first
		if i > 0 {
			n = new(notification)
			*n = *first
		}
		n.url, n.hook, n.hookIndex = h.URL, h.ID, i
		n.conv, n.autoIndex = conv, autoIndex
		n.chain = h.ID + "\x00" + convID
		ns[i] = n
	}
	return ns
}

// notifyState emits the cqm.ExConversationChangeNotification of conversation conv entering
// state ("OPEN" on create, "CLOSE" on close). hooks are the account's endpoints, read with the
// conversation's state. The participants are the consumer and, once it has posted auto messages,
// the controller (role CONTROLLER).
func (s *Sim) notifyState(a *account, hooks []Webhook, conv conversationInfo, state string) {
	if len(hooks) == 0 {
		s.hooks.noEndpoint.Add(1)
		return
	}
	if !a.subscribes(EventConversationChange) {
		s.hooks.unsubscribed.Add(1)
		return
	}
	var c stateChange
	c.Type = "UPSERT"
	c.Result.ConvID = conv.id
	c.Result.EffectiveTTR = conv.startMs + ttrSeconds*1000
	d := &c.Result.Details
	d.SkillID = conv.skill
	d.Participants = []originator{{ID: conv.consumer, Role: "CONSUMER"}}
	if conv.controller {
		d.Participants = append(d.Participants, originator{ID: controllerID(a.ID), Role: AutoMessageRole})
	}
	d.BrandID = a.ID
	d.State, d.Stage = state, state
	d.StartTs = conv.startMs
	d.MetaDataLastUpdateTs = conv.updateMs
	dialog := stateDialog{
		DialogID: conv.id, ParticipantsDetails: d.Participants, DialogType: "MAIN", ChannelType: "MESSAGING",
		State: state, CreationTs: conv.startMs, MetaDataLastUpdateTs: conv.updateMs,
	}
	if state == "CLOSE" {
		c.Result.EffectiveTTR = -1
		d.EndTs = conv.updateMs
		d.CloseReason = "CONSUMER"
		dialog.EndTs, dialog.ClosedBy = conv.updateMs, "CONSUMER"
	}
	d.Dialogs = []stateDialog{dialog}
	d.TTR.Type = conv.ttr
	d.TTR.Value = ttrSeconds
	s.hooks.emit(newNotifications(a, hooks, notificationBody(typeConversationChange, c), nil, -1, conv.id)...)
}

// notifyMessage emits the notifications of an accepted consumer message: its echo with role
// CONSUMER, then, when p says the message qualified, the account's auto messages with the
// sequences publish reserved for them, each to every endpoint of p. body is the SEND request's
// body, from which the echo takes the consumer's event as sent.
func (s *Sim) notifyMessage(a *account, c consumerClaims, p published, body []byte) {
	if len(p.hooks) == 0 {
		s.hooks.noEndpoint.Add(int64(1 + p.unrouted))
		return
	}
	now := s.now().UnixMilli()
	var q struct {
		Body struct {
			Event json.RawMessage `json:"event"`
		} `json:"body"`
	}
	json.Unmarshal(body, &q) // it parsed once already
	var ev struct {
		Type string `json:"type"`
	}
	json.Unmarshal(q.Body.Event, &ev)
	if a.subscribes(typeMessagingNotification + "." + ev.Type) {
		echo := messagingChange{
			Sequence: p.seq, OriginatorID: c.LPConsumerID, OriginatorMetadata: originator{ID: c.LPConsumerID, Role: "CONSUMER"},
			ServerTimestamp: now, Event: q.Body.Event, ConversationID: p.conv.ID, DialogID: p.conv.ID,
		}
		s.hooks.emit(newNotifications(a, p.hooks, notificationBody(typeMessagingNotification, echo), nil, -1, p.conv.ID)...)
	} else {
		s.hooks.unsubscribed.Add(1)
	}
	if !a.subscribes(EventContent) {
		s.hooks.unsubscribed.Add(int64(p.autoN))
		return
	}
	id := controllerID(a.ID)
	for i := range p.autoN {
		ev, _ := json.Marshal(contentEvent{Type: "ContentEvent", Message: s.cfg.Webhooks.AutoMessages[i], ContentType: "text/plain"})
		auto := messagingChange{
			Sequence: p.autoSeq + int64(i), OriginatorID: id, OriginatorMetadata: originator{ID: id, Role: AutoMessageRole},
			ServerTimestamp: now, Event: ev, ConversationID: p.conv.ID, DialogID: p.conv.ID,
		}
		s.hooks.emit(newNotifications(a, p.hooks, notificationBody(typeMessagingNotification, auto), p.conv, i, p.conv.ID)...)
	}
}
