package lpsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// delivery is one webhook POST as a test receiver saw it.
type delivery struct {
	at              time.Time
	account, client string
	body            string
	note            hookNote
	status          int // the receiver's answer
}

// hookNote is the part of a notification the tests look at.
type hookNote struct {
	Kind string `json:"kind"`
	Type string `json:"type"`
	Body struct {
		Changes []struct {
			// ms.MessagingEventNotification
			Sequence           int64 `json:"sequence"`
			OriginatorMetadata struct {
				Role string `json:"role"`
			} `json:"originatorMetadata"`
			ServerTimestamp int64 `json:"serverTimestamp"`
			Event           struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"event"`
			ConversationID string `json:"conversationId"`
			// cqm.ExConversationChangeNotification
			Type   string `json:"type"`
			Result struct {
				ConvID  string `json:"convId"`
				Details struct {
					State   string `json:"state"`
					BrandID string `json:"brandId"`
				} `json:"conversationDetails"`
			} `json:"result"`
		} `json:"changes"`
	} `json:"body"`
}

// conv is the conversation a notification is about.
func (n hookNote) conv() string {
	if len(n.Body.Changes) == 0 {
		return ""
	}
	c := n.Body.Changes[0]
	if c.ConversationID != "" {
		return c.ConversationID
	}
	return c.Result.ConvID
}

// auto reports whether n is an auto message: a ContentEvent not from the consumer.
func (n hookNote) auto() bool {
	return n.Type == typeMessagingNotification && len(n.Body.Changes) == 1 &&
		n.Body.Changes[0].Event.Type == "ContentEvent" && n.Body.Changes[0].OriginatorMetadata.Role != "CONSUMER"
}

// hookReceiver is a webhook endpoint for tests on 127.0.0.1. It checks signatures on its own
// (crypto/hmac, not the simulator's code), refuses bad ones with 401 and counts them, and records
// every signed delivery. answer, when set, picks the status of a delivery from the number of
// times these exact bytes arrived (1 the first time); it may block until the request ends.
type hookReceiver struct {
	*httptest.Server
	secrets map[string]string // account id → client secret
	answer  func(r *http.Request, seen int) int

	mu     sync.Mutex
	got    []delivery
	seen   map[string]int
	badSig int
}

func newHookReceiver(t *testing.T, answer func(r *http.Request, seen int) int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{
		secrets: map[string]string{accA: secretA, accB: secretB, accC: secretC},
		answer:  answer,
		seen:    map[string]int{},
	}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	acc := r.Header.Get("X-Liveperson-Account-Id")
	m := hmac.New(sha1.New, []byte(h.secrets[acc]))
	m.Write(body)
	want := "sha1=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if r.Method != http.MethodPost || h.secrets[acc] == "" || !hmac.Equal([]byte(r.Header.Get("X-Liveperson-Signature")), []byte(want)) {
		h.mu.Lock()
		h.badSig++
		h.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d := delivery{at: at, account: acc, client: r.Header.Get("X-Liveperson-Client-Id"), body: string(body), status: http.StatusOK}
	if err := json.Unmarshal(body, &d.note); err != nil {
		d.status = http.StatusBadRequest
	}
	h.mu.Lock()
	h.seen[d.body]++
	seen := h.seen[d.body]
	h.mu.Unlock()
	if h.answer != nil && d.status == http.StatusOK {
		d.status = h.answer(r, seen)
	}
	h.mu.Lock()
	h.got = append(h.got, d)
	h.mu.Unlock()
	w.WriteHeader(d.status)
}

// deliveries returns what arrived so far, in order of arrival.
func (h *hookReceiver) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// accepted returns the deliveries answered 2xx, by conversation, in order of arrival.
func (h *hookReceiver) accepted() map[string][]delivery {
	m := map[string][]delivery{}
	for _, d := range h.deliveries() {
		if d.status/100 == 2 {
			m[d.note.conv()] = append(m[d.note.conv()], d)
		}
	}
	return m
}

// webhookConfig is testConfig with every account's webhook at url, the default AUTO_MESSAGES
// window, fast deliveries and short retries.
func webhookConfig(url string) Config {
	cfg := testConfig()
	for i := range cfg.Accounts {
		cfg.Accounts[i].WebhookURL = url
	}
	// The AUTO_MESSAGES window of the real service: these tests run on the real clock, where a
	// loaded machine can take longer than testConfig's 200 ms between a create and its send;
	// the window itself is tested on a fake clock (TestWebhookNoAutoMessages).
	cfg.Window = DefaultWindow
	cfg.Webhooks = WebhookConfig{
		Latency:       Uniform(0, 2*time.Millisecond),
		RetryInterval: 50 * time.Millisecond,
		// Far above what a receiver on 127.0.0.1 takes, however busy the machine: an attempt
		// that timed out would be retried or dropped, and the counts the tests check would move.
		Timeout: 10 * time.Second,
	}
	return cfg
}

// settle waits until the Sim has no notification waiting or in flight.
func settle(t testing.TB, s *Sim) Ledger {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !s.hooks.idle(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("webhook deliveries still pending: %+v", s.Ledger().Webhooks)
		}
	}
	return s.Ledger()
}

// checkStats fails the test unless the webhook statistics add up.
func checkStats(t testing.TB, st WebhookStats) {
	t.Helper()
	sum := int64(0)
	for _, n := range st.DroppedByReason {
		sum += n
	}
	if st.Deliveries != st.Delivered+st.Dropped+st.Pending || st.Deliveries < st.Emitted || sum != st.Dropped {
		t.Errorf("webhook stats do not add up: %+v", st)
	}
}

// The fixtures of each notification shape: lp-api.md §6 with the fields LivePerson's schema and
// its demo connector's fixtures show.
var notificationFixtures = map[string]string{
	"OPEN":  "conversation-open-notification.json",
	"CLOSE": "conversation-close-notification.json",
	"":      "message-notification.json",
}

// TestWebhookJourney: a qualifying conversation yields, signed and with the account's headers, the
// OPEN state, the consumer's echo (role CONSUMER), the auto messages (another role) with the
// sequences after the first message, the next echo, and the CLOSE state; the ledger agrees.
func TestWebhookJourney(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, nil)
	cfg := webhookConfig("")
	cfg.Webhooks.AutoMessages = []string{"Welcome!", "You are in the queue."}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Registered at run time, as lpbench does once its receiver listens.
	if err := s.SetWebhook(accA, rcv.URL+"/hook"); err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, s, accA, "journey")
	_, _, id := c.create(t, true)
	if st, b := c.send(t, id, true); st != 200 || !strings.Contains(string(b), `"sequence":0`) {
		t.Fatalf("first send: %d %s", st, b)
	}
	// The two auto messages took sequences 1 and 2.
	if st, b := c.send(t, id, true); st != 200 || !strings.Contains(string(b), `"sequence":3`) {
		t.Fatalf("second send: %d %s", st, b)
	}
	c.close(t, id)
	l := settle(t, s)

	got := rcv.deliveries()
	if rcv.badSig != 0 {
		t.Errorf("%d deliveries with a bad signature", rcv.badSig)
	}
	type want struct {
		typ, role, state, message string
		seq                       int64
	}
	wants := map[string]want{ // by a key unique to each notification
		"OPEN":  {typ: typeConversationChange, state: "OPEN"},
		"0":     {typ: typeMessagingNotification, role: "CONSUMER", seq: 0, message: "Hi from Send Message only - Auto Messages feature"},
		"1":     {typ: typeMessagingNotification, role: AutoMessageRole, seq: 1, message: "Welcome!"},
		"2":     {typ: typeMessagingNotification, role: AutoMessageRole, seq: 2, message: "You are in the queue."},
		"3":     {typ: typeMessagingNotification, role: "CONSUMER", seq: 3, message: "Hi from Send Message only - Auto Messages feature"},
		"CLOSE": {typ: typeConversationChange, state: "CLOSE"},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d deliveries, want %d: %+v", len(got), len(wants), got)
	}
	for _, d := range got {
		if d.account != accA || d.client != clientA {
			t.Errorf("headers: account %q client %q, want %q %q", d.account, d.client, accA, clientA)
		}
		if d.note.conv() != id || len(d.note.Body.Changes) != 1 || d.note.Kind != "notification" {
			t.Errorf("notification not about %s: %s", id, d.body)
			continue
		}
		ch := d.note.Body.Changes[0]
		key := ch.Result.Details.State
		checkShape(t, []byte(d.body), notificationFixtures[key])
		if d.note.Type == typeMessagingNotification {
			key = strconv.FormatInt(ch.Sequence, 10)
			if ch.ServerTimestamp < time.Now().Add(-time.Minute).UnixMilli() {
				t.Errorf("serverTimestamp %d is not Unix milliseconds of now", ch.ServerTimestamp)
			}
		} else {
			checkStateFields(t, d.body, id, key)
		}
		w, ok := wants[key]
		if !ok {
			t.Errorf("unexpected notification %s", d.body)
			continue
		}
		delete(wants, key)
		if d.note.Type != w.typ || ch.OriginatorMetadata.Role != w.role || ch.Event.Message != w.message ||
			ch.Result.Details.State != w.state || (w.typ == typeMessagingNotification && ch.Event.Type != "ContentEvent") {
			t.Errorf("notification %s = %s, want %+v", key, d.body, w)
		}
		if w.typ == typeConversationChange && (ch.Type != "UPSERT" || ch.Result.Details.BrandID != accA) {
			t.Errorf("state notification %s", d.body)
		}
	}

	if got, want := l.Webhooks, (WebhookStats{Emitted: 6, Deliveries: 6, Delivered: 6, FirstAutoMessagesDelivered: 1, DroppedByReason: map[string]int64{}}); !equalStats(got, want) {
		t.Errorf("ledger webhooks = %+v, want %+v", got, want)
	}
	cv := conversationOf(t, s, id)
	if !cv.AutoMessages || cv.AutoMessagesEmitted != 2 || cv.AutoMessagesDelivered != 2 || !cv.FirstAutoMessageDelivered ||
		cv.FirstAutoMessageDropped || cv.FirstAutoMessageAttempts != 1 || cv.FirstAutoMessageDeliveredAt < cv.FirstSendReceived {
		t.Errorf("ledger conversation = %+v", cv)
	}
}

// checkStateFields checks the values of a conversation change notification of conversation id
// in state: stage as state, the consumer and (on CLOSE, after auto messages) the controller as
// participants, of the one MAIN dialog too, the skill, the close's reason and times.
func checkStateFields(t *testing.T, body, id, state string) {
	t.Helper()
	var n struct {
		Body struct {
			Changes []stateChange `json:"changes"`
		} `json:"body"`
	}
	if err := json.Unmarshal([]byte(body), &n); err != nil || len(n.Body.Changes) != 1 {
		t.Fatalf("state notification %s: %v", body, err)
	}
	r := n.Body.Changes[0].Result
	d := r.Details
	roles := func(ps []originator) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Role)
		}
		return strings.Join(out, ",")
	}
	wantRoles := map[string]string{"OPEN": "CONSUMER", "CLOSE": "CONSUMER," + AutoMessageRole}[state]
	problems := []string{}
	check := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	check(d.State == state && d.Stage == state, "state and stage")
	check(d.SkillID == "-1", "skillId")
	check(roles(d.Participants) == wantRoles, "participants' roles")
	check(len(d.Dialogs) == 1 && d.Dialogs[0].DialogID == id && d.Dialogs[0].DialogType == "MAIN" &&
		d.Dialogs[0].ChannelType == "MESSAGING" && d.Dialogs[0].State == state && roles(d.Dialogs[0].ParticipantsDetails) == wantRoles &&
		d.Dialogs[0].CreationTs == d.StartTs && d.Dialogs[0].MetaDataLastUpdateTs == d.MetaDataLastUpdateTs, "dialogs")
	check(d.MetaDataLastUpdateTs >= d.StartTs, "metaDataLastUpdateTs")
	if state == "OPEN" {
		check(r.EffectiveTTR == d.StartTs+ttrSeconds*1000 && d.CloseReason == "" && d.EndTs == 0, "an open conversation's fields")
	} else {
		check(r.EffectiveTTR == -1 && d.CloseReason == "CONSUMER" && d.EndTs == d.MetaDataLastUpdateTs && d.EndTs > d.StartTs &&
			d.Dialogs[0].ClosedBy == "CONSUMER" && d.Dialogs[0].EndTs == d.EndTs, "a closed conversation's fields")
	}
	if len(problems) > 0 {
		t.Errorf("%s notification: wrong %s\n%s", state, strings.Join(problems, ", "), body)
	}
}

// equalStats compares webhook statistics, an empty DroppedByReason equal to a nil one.
func equalStats(a, b WebhookStats) bool {
	if len(a.DroppedByReason) == 0 && len(b.DroppedByReason) == 0 {
		a.DroppedByReason, b.DroppedByReason = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// TestWebhookNoAutoMessages: conversations that fail the AUTO_MESSAGES rule get their echoes and
// state notifications but no auto message, and the ledger says none was emitted.
func TestWebhookNoAutoMessages(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, nil)
	cfg := webhookConfig(rcv.URL)
	cfg.Window = 100 * time.Millisecond
	s, clk := newFakeSim(t, cfg)
	tests := []struct {
		name                   string
		acc                    string
		createProps, sendProps bool
		late                   time.Duration // clock advance between create and send
		auto                   bool
	}{
		// The rule holds: the control row.
		{"qualifying", accA, true, true, 0, true},
		// Exactly at the window still qualifies.
		{"at the window", accA, true, true, 100 * time.Millisecond, true},
		// The first send after the window.
		{"late send", accA, true, true, 150 * time.Millisecond, false},
		// No Client-Properties header on CONVERSATION, or on the first SEND.
		{"no header on create", accA, false, true, 0, false},
		{"no header on send", accA, true, false, 0, false},
		// The account lacks the feature, or its app the Controller Bot permission.
		{"account without feature", accB, true, true, 0, false},
		{"no controller bot", accC, true, true, 0, false},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		c := newConsumer(t, s, tt.acc, "no-auto-"+strconv.Itoa(i))
		_, _, ids[i] = c.create(t, tt.createProps)
		clk.Advance(tt.late)
		if st, b := c.send(t, ids[i], tt.sendProps); st != 200 {
			t.Fatalf("%s: send: %d %s", tt.name, st, b)
		}
		c.send(t, ids[i], true) // later messages change nothing
	}
	l := settle(t, s)
	checkStats(t, l.Webhooks)
	byConv := rcv.accepted()
	autos := int64(0)
	for i, tt := range tests {
		autoSeen, echoes := 0, 0
		for _, d := range byConv[ids[i]] {
			if d.note.auto() {
				autoSeen++
			} else if d.note.Type == typeMessagingNotification {
				echoes++
			}
		}
		cv := conversationOf(t, s, ids[i])
		if got, want := autoSeen > 0, tt.auto; got != want {
			t.Errorf("%s: receiver saw an auto message = %v, want %v", tt.name, got, want)
		}
		if echoes != 2 {
			t.Errorf("%s: %d echoes, want 2", tt.name, echoes)
		}
		want := Conversation{AutoMessages: tt.auto, FirstAutoMessageDelivered: tt.auto}
		if tt.auto {
			want.AutoMessagesEmitted, want.AutoMessagesDelivered, want.FirstAutoMessageAttempts = 1, 1, 1
			autos++
		}
		if cv.AutoMessages != want.AutoMessages || cv.AutoMessagesEmitted != want.AutoMessagesEmitted ||
			cv.AutoMessagesDelivered != want.AutoMessagesDelivered || cv.FirstAutoMessageDelivered != want.FirstAutoMessageDelivered ||
			cv.FirstAutoMessageDropped || cv.FirstAutoMessageAttempts != want.FirstAutoMessageAttempts {
			t.Errorf("%s: ledger conversation = %+v", tt.name, cv)
		}
	}
	// An OPEN and two echoes per conversation, and the auto messages.
	if got, want := l.Webhooks.Delivered, int64(3*len(tests))+autos; got != want {
		t.Errorf("delivered = %d, want %d", got, want)
	}
	if got := l.Webhooks.FirstAutoMessagesDelivered; got != autos {
		t.Errorf("first auto messages delivered = %d, want %d", got, autos)
	}
}

// TestWebhookNoEndpoint: without an endpoint nothing is emitted, the notifications are counted
// as having none, and the consumer's sequences stay consecutive.
func TestWebhookNoEndpoint(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	c := newConsumer(t, s, accA, "nowhere")
	_, _, id := c.create(t, true)
	c.send(t, id, true)
	if st, b := c.send(t, id, true); st != 200 || !strings.Contains(string(b), `"sequence":1`) {
		t.Errorf("second send: %d %s", st, b)
	}
	c.close(t, id)
	// OPEN, two echoes, one auto message, CLOSE.
	if got, want := s.Ledger().Webhooks, (WebhookStats{NoEndpoint: 5}); !equalStats(got, want) {
		t.Errorf("webhooks = %+v, want %+v", got, want)
	}
	if cv := conversationOf(t, s, id); !cv.AutoMessages || cv.AutoMessagesEmitted != 0 || cv.FirstAutoMessageDropped {
		t.Errorf("conversation = %+v", cv)
	}
}

// runConversations runs n conversations of one consumer of account A, each created, sent to
// once and closed, all qualifying, and returns their ids and the time of each first send.
func runConversations(t *testing.T, s *Sim, n int) ([]string, []time.Time) {
	t.Helper()
	ids, _, sent := runConversationsTimed(t, s, n)
	return ids, sent
}

// runConversationsTimed is runConversations, with the time each CONVERSATION was sent too.
func runConversationsTimed(t *testing.T, s *Sim, n int) (ids []string, created, sent []time.Time) {
	t.Helper()
	c := newConsumer(t, s, accA, "many")
	ids, created, sent = make([]string, n), make([]time.Time, n), make([]time.Time, n)
	for i := range n {
		created[i] = time.Now()
		_, _, ids[i] = c.create(t, true)
		sent[i] = time.Now()
		if st, b := c.send(t, ids[i], true); st != 200 {
			t.Fatalf("send: %d %s", st, b)
		}
		c.close(t, ids[i])
	}
	return ids, created, sent
}

// TestWebhookLoss: with 5 % loss and no retries, the conversations whose receiver never saw an
// auto message are exactly those whose first auto message the ledger says was dropped; with
// retries, every one is recovered, and those retried arrive at least a retry interval late.
func TestWebhookLoss(t *testing.T) {
	t.Parallel()
	const conversations = 400
	for _, retries := range []int{0, 5} {
		t.Run("retries="+strconv.Itoa(retries), func(t *testing.T) {
			t.Parallel()
			rcv := newHookReceiver(t, nil)
			cfg := webhookConfig(rcv.URL)
			cfg.Webhooks.Loss = 0.05
			cfg.Webhooks.MaxRetries = retries
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ids, sent := runConversations(t, s, conversations)
			l := settle(t, s)
			checkStats(t, l.Webhooks)
			byConv := rcv.accepted()
			missing, late := 0, 0
			for i, cv := range l.Conversations {
				if cv.ID != ids[i] {
					t.Fatalf("ledger conversation %d is %s, want %s", i, cv.ID, ids[i])
				}
				var first *delivery
				for _, d := range byConv[cv.ID] {
					if d.note.auto() {
						first = &d
						break
					}
				}
				if first == nil {
					missing++
				}
				if (first == nil) != cv.FirstAutoMessageDropped || (first != nil) != cv.FirstAutoMessageDelivered {
					t.Errorf("conversation %s: receiver saw an auto message %v, ledger %+v", cv.ID, first != nil, cv)
				}
				if first != nil && cv.FirstAutoMessageAttempts > 1 {
					late++
					// Latency is at most 2ms: what exceeds it is the retry interval.
					if wait := time.Duration(cv.FirstAutoMessageAttempts-1) * cfg.Webhooks.RetryInterval; first.at.Sub(sent[i]) < wait {
						t.Errorf("conversation %s: auto message after %v with %d attempts, want at least %v",
							cv.ID, first.at.Sub(sent[i]), cv.FirstAutoMessageAttempts, wait)
					}
				}
			}
			st := l.Webhooks
			if got, want := st.FirstAutoMessagesDropped, int64(missing); got != want {
				t.Errorf("ledger first auto messages dropped = %d, receiver missed %d", got, want)
			}
			if got, want := st.Emitted, int64(4*conversations); got != want {
				t.Errorf("emitted = %d, want %d", got, want)
			}
			if st.Lost == 0 {
				t.Errorf("no attempt lost at 5 %%: %+v", st)
			}
			if retries == 0 {
				// About 20 of 400; none at all would mean loss is not applied.
				if missing == 0 || st.Dropped != st.Lost || st.DroppedByReason[DropLoss] != st.Dropped || st.Retried != 0 {
					t.Errorf("missing %d, stats %+v", missing, st)
				}
			} else {
				if missing != 0 || st.Dropped != 0 || late == 0 || st.Retried != st.Lost {
					t.Errorf("missing %d, retried first auto messages %d, stats %+v", missing, late, st)
				}
			}
			t.Logf("%d conversations, %d without auto message, %d recovered by a retry; %+v", conversations, missing, late, st)
		})
	}
}

// TestWebhookRetry: attempts answered other than 2xx, or not within the timeout, are retried
// RetryInterval apart until max_retries is spent; the ledger counts each retry and drop.
func TestWebhookRetry(t *testing.T) {
	t.Parallel()
	const interval = 50 * time.Millisecond
	tests := []struct {
		name      string
		retries   int
		timeout   time.Duration
		answer    func(r *http.Request, seen int) int
		delivered bool
		attempts  int
	}{
		// 500 at the first attempt, 200 at the second.
		{"500 then 200", 2, 10 * time.Second, func(_ *http.Request, seen int) int {
			if seen == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}, true, 2},
		// No answer within the timeout, then 201. (The timeout leaves the second attempt, on a
		// new connection, time enough under -race on a busy machine.)
		{"timeout then 201", 2, time.Second, func(r *http.Request, seen int) int {
			if seen == 1 {
				<-r.Context().Done()
				return http.StatusServiceUnavailable
			}
			return http.StatusCreated
		}, true, 2},
		// Always 503: one attempt and max_retries more, then dropped.
		{"always 503", 2, 10 * time.Second, func(*http.Request, int) int { return http.StatusServiceUnavailable }, false, 3},
		// No retries: the first failure drops the notification.
		{"no retries", 0, 10 * time.Second, func(*http.Request, int) int { return http.StatusBadGateway }, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newHookReceiver(t, tt.answer)
			cfg := webhookConfig(rcv.URL)
			cfg.Webhooks.MaxRetries = tt.retries
			cfg.Webhooks.RetryInterval = interval
			cfg.Webhooks.Timeout = tt.timeout
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ids, created, sent := runConversationsTimed(t, s, 1)
			l := settle(t, s)
			st := l.Webhooks
			checkStats(t, st)
			const n = 4 // OPEN, echo, auto message, CLOSE
			want := WebhookStats{Emitted: n, Deliveries: n, Retried: int64(n * (tt.attempts - 1)), DroppedByReason: map[string]int64{}}
			if tt.delivered {
				want.Delivered, want.FirstAutoMessagesDelivered = n, 1
			} else {
				want.Dropped, want.FirstAutoMessagesDropped, want.DroppedByReason[DropFailed] = n, 1, n
			}
			if !equalStats(st, want) {
				t.Errorf("webhooks = %+v, want %+v", st, want)
			}
			cv := conversationOf(t, s, ids[0])
			if cv.FirstAutoMessageDelivered != tt.delivered || cv.FirstAutoMessageDropped == tt.delivered || cv.FirstAutoMessageAttempts != tt.attempts {
				t.Errorf("conversation = %+v", cv)
			}
			// Every notification arrived attempts times, attempt k no sooner than k-1 intervals
			// after its event: the CONVERSATION for the OPEN notification, the SEND for the
			// others. (A busy machine once took 10 ms between the two, so that the OPEN's second
			// attempt came 41 ms after the SEND. Arrivals are not compared with each other: the
			// first attempt may pay for a new connection, so two arrivals can be a little closer
			// than the interval that separates the starts of their attempts.)
			arrivals := map[string][]time.Time{}
			for _, d := range rcv.deliveries() {
				arrivals[d.body] = append(arrivals[d.body], d.at)
			}
			if len(arrivals) != n {
				t.Errorf("%d distinct notifications arrived, want %d", len(arrivals), n)
			}
			opens := 0
			for body, at := range arrivals {
				if len(at) != tt.attempts {
					t.Errorf("%d attempts, want %d: %s", len(at), tt.attempts, body)
				}
				slices.SortFunc(at, time.Time.Compare) // recorded as answered: a timed-out attempt comes late
				event, what := sent[0], "the SEND"
				if strings.Contains(body, `"state":"OPEN"`) {
					event, what = created[0], "the CONVERSATION"
					opens++
				}
				for i := 1; i < len(at); i++ {
					if since := at[i].Sub(event); since < time.Duration(i)*interval {
						t.Errorf("attempt %d arrived %v after %s, want at least %v", i+1, since, what, time.Duration(i)*interval)
					}
				}
			}
			if opens != 1 {
				t.Errorf("%d OPEN notifications arrived, want 1", opens)
			}
		})
	}
}

// TestWebhookDuplicateReorder: duplicated notifications arrive twice with the same bytes, and
// reordered ones are overtaken by later ones of their conversation.
func TestWebhookDuplicateReorder(t *testing.T) {
	t.Parallel()
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		rcv := newHookReceiver(t, nil)
		cfg := webhookConfig(rcv.URL)
		cfg.Webhooks.Duplicate = 1
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		runConversations(t, s, 5)
		st := settle(t, s).Webhooks
		checkStats(t, st)
		if st.Delivered != 20 || st.Duplicated != 20 {
			t.Errorf("webhooks = %+v, want 20 delivered, 20 duplicated", st)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.seen) != 20 {
			t.Errorf("%d distinct bodies, want 20", len(rcv.seen))
		}
		for body, n := range rcv.seen {
			if n != 2 {
				t.Errorf("arrived %d times, want 2: %s", n, body)
			}
		}
	})
	t.Run("reorder", func(t *testing.T) {
		t.Parallel()
		rcv := newHookReceiver(t, nil)
		cfg := webhookConfig(rcv.URL)
		cfg.Webhooks.Latency = Fixed(0)
		cfg.Webhooks.Reorder = 0.5
		cfg.Webhooks.ReorderDelay = 50 * time.Millisecond
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := runConversations(t, s, 20)
		st := settle(t, s).Webhooks
		checkStats(t, st)
		// Emission order within a conversation: OPEN, echo, auto message, CLOSE.
		rank := func(d delivery) int {
			switch {
			case d.note.Type == typeConversationChange && d.note.Body.Changes[0].Result.Details.State == "OPEN":
				return 0
			case d.note.Type == typeConversationChange:
				return 3
			case d.note.auto():
				return 2
			}
			return 1
		}
		byConv := rcv.accepted()
		overtaken := 0
		for _, id := range ids {
			ds := byConv[id]
			for i := 1; i < len(ds); i++ {
				if rank(ds[i]) < rank(ds[i-1]) {
					overtaken++
					break
				}
			}
		}
		if st.Reordered == 0 || overtaken == 0 || st.Delivered != 80 {
			t.Errorf("%d of %d conversations saw notifications out of order; %+v", overtaken, len(ids), st)
		}
	})
}

// TestWebhookConfig: the webhook settings are validated, defaulted, and reported by Config;
// SetWebhook refuses unknown accounts and URLs that are not http(s).
func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		w    WebhookConfig
		url  string
		want string // substring of the error; "" = valid
	}{
		// The zero value selects the defaults.
		{"zero", WebhookConfig{}, "", ""},
		// LivePerson accepts max_retries 0..5.
		{"max retries 5", WebhookConfig{MaxRetries: 5}, "", ""},
		{"max retries 6", WebhookConfig{MaxRetries: 6}, "", "max_retries 6 is not in 0..5"},
		{"negative retries", WebhookConfig{MaxRetries: -1}, "", "max_retries -1"},
		// Probabilities are in 0..1.
		{"loss above 1", WebhookConfig{Loss: 1.5}, "", "loss probability"},
		{"negative duplicate", WebhookConfig{Duplicate: -0.1}, "", "duplicate probability"},
		{"reorder", WebhookConfig{Reorder: 2}, "", "reorder probability"},
		// Durations and sizes are not negative.
		{"negative timeout", WebhookConfig{Timeout: -1}, "", "negative timeout"},
		{"negative interval", WebhookConfig{RetryInterval: -1}, "", "negative retry interval"},
		{"negative workers", WebhookConfig{Workers: -1}, "", "negative workers"},
		{"negative queue", WebhookConfig{QueueSize: -1}, "", "negative queue size"},
		// Latency is a valid distribution.
		{"bad latency", WebhookConfig{Latency: Latency{Dist: "gamma"}}, "", "webhooks: latency"},
		// Auto message texts are not empty.
		{"empty text", WebhookConfig{AutoMessages: []string{"hi", ""}}, "", "auto_messages[1] is empty"},
		// Account webhook URLs are absolute http(s) URLs.
		{"https url", WebhookConfig{}, "https://example.com/hook", ""},
		{"relative url", WebhookConfig{}, "/hook", "not an absolute http or https URL"},
		{"ftp url", WebhookConfig{}, "ftp://example.com/", "not an absolute http or https URL"},
	}
	for _, tt := range tests {
		cfg := testConfig()
		cfg.Webhooks = tt.w
		cfg.Accounts[0].WebhookURL = tt.url
		_, err := New(cfg)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: New: %v, want error containing %q", tt.name, err, tt.want)
		}
	}

	s, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	w := s.Config().Webhooks
	if w.Timeout != DefaultWebhookTimeout || w.RetryInterval != DefaultWebhookRetryInterval || w.MaxRetries != 0 ||
		len(w.AutoMessages) != 1 || w.AutoMessages[0] != DefaultAutoMessage || w.Latency.Dist != "lognormal" {
		t.Errorf("default webhooks = %+v", w)
	}
	if err := s.SetWebhook("nope", "http://127.0.0.1:1/"); err == nil {
		t.Error("SetWebhook accepted an unknown account")
	}
	if err := s.SetWebhook(accA, "127.0.0.1:1"); err == nil {
		t.Error("SetWebhook accepted a URL without scheme")
	}
	if err := s.SetWebhook(accB, "http://127.0.0.1:1/hook"); err != nil {
		t.Fatal(err)
	}
	if got := s.Config().Accounts[1].WebhookURL; got != "http://127.0.0.1:1/hook" {
		t.Errorf("Config shows webhook %q after SetWebhook", got)
	}
}

// TestWebhookReset: Reset zeroes the webhook statistics; endpoints stay registered.
func TestWebhookReset(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, nil)
	s, err := New(webhookConfig(rcv.URL))
	if err != nil {
		t.Fatal(err)
	}
	runConversations(t, s, 2)
	if st := settle(t, s).Webhooks; st.Delivered != 8 {
		t.Fatalf("before reset: %+v", st)
	}
	s.Reset()
	if got, want := s.Ledger().Webhooks, (WebhookStats{}); !equalStats(got, want) {
		t.Errorf("after reset: %+v", got)
	}
	runConversations(t, s, 1)
	if st := settle(t, s).Webhooks; st.Delivered != 4 || st.FirstAutoMessagesDelivered != 1 {
		t.Errorf("after reset and one conversation: %+v", st)
	}
}

// TestWebhookClose: closing the Server abandons pending retries and cancels attempts in flight
// at once, counts them dropped for shutdown, and leaves no goroutine behind. Not parallel: it
// counts goroutines.
func TestWebhookClose(t *testing.T) {
	release := make(chan struct{})
	failing := newHookReceiver(t, func(*http.Request, int) int { return http.StatusInternalServerError })
	hanging := newHookReceiver(t, func(r *http.Request, _ int) int {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK
	})
	defer close(release)
	before := runtime.NumGoroutine()

	cfg := webhookConfig(failing.URL)
	cfg.Accounts[1].WebhookURL = hanging.URL // account B: attempts in flight at Close
	cfg.Webhooks.MaxRetries = 5
	cfg.Webhooks.RetryInterval = time.Hour
	cfg.Webhooks.Timeout = time.Hour
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rm := newRemote(srv.URL)
	a := newConsumer(t, rm, accA, "closing-a")
	b := newConsumer(t, rm, accB, "closing-b")
	_, _, idA := a.create(t, true)
	a.send(t, idA, true)
	_, _, idB := b.create(t, true)
	b.send(t, idB, true) // B has no auto messages: OPEN and the echo
	// Wait for every first attempt: A's failed (retries due in an hour), B's OPEN hanging, its
	// echo held behind it (deliveries of a conversation go out in order).
	for deadline := time.Now().Add(5 * time.Second); len(failing.deliveries()) < 3 || inFlight(hanging) < 1; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("first attempts did not arrive: %d failing, %d hanging", len(failing.deliveries()), inFlight(hanging))
		}
	}

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		srv.Close()
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close took more than 2s with pending retries and attempts in flight")
	}
	l := srv.Ledger()
	st := l.Webhooks
	want := WebhookStats{Emitted: 5, Deliveries: 5, Dropped: 5, FirstAutoMessagesDropped: 1, DroppedByReason: map[string]int64{DropShutdown: 5}}
	if !equalStats(st, want) {
		t.Errorf("webhooks after Close = %+v, want %+v", st, want)
	}
	if cv := conversationOf(t, srv.Sim, idA); !cv.FirstAutoMessageDropped || cv.FirstAutoMessageAttempts != 1 {
		t.Errorf("conversation A after Close = %+v", cv)
	}
	// Emitted after Close: dropped at once.
	_, _, idA2 := a.create(t, true) // the Server no longer listens: nothing happens
	if idA2 != "" {
		t.Errorf("create answered after Close")
	}
	srv.Sim.hooks.emit(newNotification(srv.accounts[accA], failing.URL, []byte(`{}`)))
	if got := srv.Ledger().Webhooks.DroppedByReason[DropShutdown]; got != 6 {
		t.Errorf("dropped for shutdown after a late emit = %d, want 6", got)
	}
	rm.client.CloseIdleConnections()

	var after int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		after = runtime.NumGoroutine()
		if after <= before || time.Now().After(deadline) {
			break
		}
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "(*dispatcher)") {
		t.Errorf("dispatcher goroutines left after Close:\n%s", stacks)
	} else if after > before {
		t.Errorf("%d goroutines after Close, %d before:\n%s", after, before, stacks)
	}
}

// inFlight counts the requests a receiver is answering (received, not yet recorded).
func inFlight(h *hookReceiver) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.seen {
		n += c
	}
	return n - len(h.got)
}
