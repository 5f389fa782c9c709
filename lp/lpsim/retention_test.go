package lpsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestLedgerKeepsRecent is the simulator's soak by count: many times more conversations than its
// detail bound go through the handler, each created, sent to and closed by one of a few
// consumers, while one consumer's first conversation stays open. The counters stay exact, the
// detail kept never exceeds the bound plus the open conversation, the window holds the most
// recent ones in order, and the open one is never forgotten: its consumer is still refused a
// second conversation, naming it.
func TestLedgerKeepsRecent(t *testing.T) {
	t.Parallel()
	const keep, n, consumers = 64, 4000, 8
	cfg := testConfig()
	cfg.LedgerConversations = keep
	s, _ := newFakeSim(t, cfg)

	holder := newConsumer(t, s, accA, "holder")
	_, _, openID := holder.create(t, true)
	cs := make([]consumer, consumers)
	for i := range cs {
		cs[i] = newConsumer(t, s, accA, fmt.Sprint("c-", i))
	}
	maxKept := 0
	for i := range n {
		c := cs[i%consumers]
		st, b, id := c.create(t, true)
		if st != http.StatusOK {
			t.Fatalf("conversation %d: create %d %s", i, st, b)
		}
		if st, b := c.send(t, id, true); st != http.StatusOK {
			t.Fatalf("conversation %d: send %d %s", i, st, b)
		}
		if st, b := c.close(t, id); st != http.StatusOK {
			t.Fatalf("conversation %d: close %d %s", i, st, b)
		}
		s.conversations.mu.Lock()
		maxKept = max(maxKept, len(s.conversations.byID))
		s.conversations.mu.Unlock()
	}
	if maxKept > keep+1 {
		t.Errorf("at most %d conversations kept at once, want ≤ %d (the bound and the open one)", maxKept, keep+1)
	}

	led := s.Ledger()
	total := int64(n + 1)
	if led.ConversationsCreated != total || led.ConversationsClosed != n || led.Sends != n || led.FirstSends != n ||
		led.AutoMessagesTriggered != n || led.ConversationsBySkill[DefaultSkill] != total {
		t.Errorf("counters: created %d closed %d sends %d first sends %d auto %d by skill %v; want %d created, %d of the rest",
			led.ConversationsCreated, led.ConversationsClosed, led.Sends, led.FirstSends, led.AutoMessagesTriggered, led.ConversationsBySkill, total, n)
	}
	if got := led.Requests[EndpointCreate][200]; got != total {
		t.Errorf("CONVERSATION 200s: %d, want %d", got, total)
	}
	if led.ConversationsKept != keep+1 || led.ConversationsForgotten != total-keep-1 || len(led.Conversations) != keep+1 {
		t.Fatalf("kept %d, forgotten %d, listed %d; want %d kept and listed, %d forgotten",
			led.ConversationsKept, led.ConversationsForgotten, len(led.Conversations), keep+1, total-keep-1)
	}
	if c := led.Conversations[0]; c.ID != openID || c.Seq != 1 || c.Closed {
		t.Errorf("first listed %+v, want the open conversation %s, seq 1", c, openID)
	}
	for i, c := range led.Conversations[1:] {
		if want := total - keep + 1 + int64(i); c.Seq != want || !c.Closed || !c.AutoMessages {
			t.Errorf("listed %d: seq %d closed %v auto %v, want seq %d, closed, with auto messages", i+1, c.Seq, c.Closed, c.AutoMessages, want)
		}
	}

	// The window is a ring by now: after= finds its place in it.
	if tail := getLedger(t, s, fmt.Sprint("?after=", total-10)); len(tail.Conversations) != 10 || firstSeq(tail) != total-9 {
		t.Errorf("after=%d: %d listed, the first seq %d; want the last 10", total-10, len(tail.Conversations), firstSeq(tail))
	}

	st, b, _ := holder.create(t, true)
	if st != http.StatusBadRequest || !strings.Contains(string(b), openID) {
		t.Errorf("the holder's second conversation: %d %s, want 400 naming %s", st, b, openID)
	}
	if st, b := holder.close(t, openID); st != http.StatusOK {
		t.Errorf("closing the open conversation: %d %s", st, b)
	}
	if led := s.Ledger(); led.ConversationsKept != keep || firstSeq(led) != total-keep+1 {
		t.Errorf("after closing the open one, outside the window: %d kept, the first seq %d; want %d, from seq %d",
			led.ConversationsKept, firstSeq(led), keep, total-keep+1)
	}
}

// TestLedgerKeepsAll: -1 keeps every conversation; GET /_lpsim/ledger, which copies and writes
// them a chunk at a time, says what Ledger says, and a limit across chunks pages exactly.
func TestLedgerKeepsAll(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.LedgerConversations = -1
	s, _ := newFakeSim(t, cfg)
	c := newConsumer(t, s, accA, "all")
	const n = 2*ledgerChunk + 100
	for range n {
		_, _, id := c.create(t, true)
		c.close(t, id)
	}
	led := s.Ledger()
	if len(led.Conversations) != n || led.ConversationsForgotten != 0 || led.ConversationsKept != n {
		t.Errorf("listed %d, kept %d, forgotten %d, want all %d kept", len(led.Conversations), led.ConversationsKept, led.ConversationsForgotten, n)
	}
	if got := getLedger(t, s, ""); !reflect.DeepEqual(got, led) {
		t.Errorf("GET /_lpsim/ledger differs from Ledger(): %d conversations listed, %d", len(got.Conversations), len(led.Conversations))
	}
	const limit = ledgerChunk + 50
	page := getLedger(t, s, fmt.Sprint("?limit=", limit, "&after=10"))
	if len(page.Conversations) != limit || firstSeq(page) != 11 || page.NextAfter != 10+limit ||
		page.Conversations[limit-1].Seq != page.NextAfter {
		t.Fatalf("limit %d after 10: %d listed from seq %d, next_after %d; want seq 11 to %d", limit, len(page.Conversations), firstSeq(page), page.NextAfter, 10+limit)
	}
	if last := getLedger(t, s, fmt.Sprint("?limit=", limit, "&after=", page.NextAfter)); len(last.Conversations) != n-10-limit || last.NextAfter != 0 {
		t.Errorf("the last page: %d listed, next_after %d; want %d, none", len(last.Conversations), last.NextAfter, n-10-limit)
	}
	if got := s.Config().LedgerConversations; got != -1 {
		t.Errorf("Config().LedgerConversations = %d, want -1", got)
	}
	cfg.LedgerConversations = -2
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "ledger_conversations -2") {
		t.Errorf("New with ledger_conversations -2: %v, want an error naming it", err)
	}
	if got := DefaultConfig().LedgerConversations; got != DefaultLedgerConversations {
		t.Errorf("DefaultConfig().LedgerConversations = %d, want %d", got, DefaultLedgerConversations)
	}
}

// TestLedgerKeepsUnsettled: a closed conversation outside the window is kept while deliveries of
// its auto messages are pending, and forgotten once they are settled; the delivery counters
// count them all.
func TestLedgerKeepsUnsettled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer hold.Close()
	releaseOnce := func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}
	defer releaseOnce() // before hold.Close, which waits for its handlers

	const keep, n = 2, 6
	cfg := webhookConfig(hold.URL)
	cfg.LedgerConversations = keep
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runConversations(t, s, n)
	if led := s.Ledger(); led.ConversationsKept != n || len(led.Conversations) != n {
		t.Errorf("deliveries pending: %d kept, %d listed, want all %d", led.ConversationsKept, len(led.Conversations), n)
	}
	releaseOnce()
	led := settle(t, s)
	checkStats(t, led.Webhooks)
	if led.ConversationsKept != keep || led.ConversationsForgotten != n-keep || len(led.Conversations) != keep {
		t.Errorf("settled: %d kept, %d forgotten, %d listed; want %d, %d", led.ConversationsKept, led.ConversationsForgotten, len(led.Conversations), keep, n-keep)
	}
	if w := led.Webhooks; w.FirstAutoMessagesDelivered != n || w.Delivered != w.Deliveries {
		t.Errorf("webhooks %+v: want every delivery delivered, %d first auto messages", w, n)
	}
	for _, c := range led.Conversations {
		if !c.FirstAutoMessageDelivered {
			t.Errorf("kept %+v: its first auto message not marked delivered", c)
		}
	}
}

// TestLedgerQuery: GET /_lpsim/ledger filters by account and consumer prefix and pages with
// after and limit, its streamed JSON says what LedgerOf says, limit=0 gives the counters alone,
// and bad parameters are refused naming them.
func TestLedgerQuery(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	for _, ext := range []string{"lpbench-r1-a", "lpbench-r2-a", "lpbench-r1-b", "lpbench-r2-b", "lpbench-r1-c"} {
		c := newConsumer(t, s, accA, ext)
		_, _, id := c.create(t, true)
		c.send(t, id, true)
		c.close(t, id)
	}
	b := newConsumer(t, s, accB, "lpbench-r1-z")
	b.create(t, false)

	get := func(query string) Ledger { t.Helper(); return getLedger(t, s, query) }
	exts := func(l Ledger) string {
		var out []string
		for _, c := range l.Conversations {
			out = append(out, c.ExtConsumerID)
		}
		return strings.Join(out, " ")
	}

	if got, want := get(""), s.Ledger(); !reflect.DeepEqual(got, want) {
		t.Errorf("the whole ledger, streamed:\n got %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct{ query, want string }{
		{"?consumer=lpbench-r1-", "lpbench-r1-a lpbench-r1-b lpbench-r1-c lpbench-r1-z"},
		{"?consumer=lpbench-r1-&account=" + accA, "lpbench-r1-a lpbench-r1-b lpbench-r1-c"},
		{"?after=4", "lpbench-r1-c lpbench-r1-z"},
		{"?limit=0", ""},
	} {
		led := get(tc.query)
		if got := exts(led); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
		if led.ConversationsCreated != 6 || led.ConversationsKept != 6 || led.Conversations == nil {
			t.Errorf("%s: created %d, kept %d, listed %v: want the counters whole and a list", tc.query, led.ConversationsCreated, led.ConversationsKept, led.Conversations)
		}
	}

	var pages []string
	after := int64(0)
	for range 10 {
		led := get(fmt.Sprintf("?consumer=lpbench-r1-&limit=2&after=%d", after))
		pages = append(pages, exts(led))
		if after = led.NextAfter; after == 0 {
			break
		}
	}
	if got, want := strings.Join(pages, " | "), "lpbench-r1-a lpbench-r1-b | lpbench-r1-c lpbench-r1-z"; got != want {
		t.Errorf("pages of 2: %q, want %q", got, want)
	}

	for _, q := range []string{"?limit=-1", "?limit=x", "?after=-3", "?after=1.5"} {
		st, body := call(t, s, "GET", "/_lpsim/ledger"+q, "")
		name := strings.SplitN(q[1:], "=", 2)[0]
		if st != http.StatusBadRequest || !strings.Contains(string(body), name+"=") {
			t.Errorf("%s: %d %s, want 400 naming %s", q, st, body, name)
		}
		checkError(t, body, http.StatusBadRequest, 0)
	}
}

// getLedger answers GET /_lpsim/ledger with the query from s, decoded.
func getLedger(t *testing.T, s *Sim, query string) Ledger {
	t.Helper()
	st, body := call(t, s, "GET", "/_lpsim/ledger"+query, "")
	if st != http.StatusOK {
		t.Fatalf("GET /_lpsim/ledger%s: %d %s", query, st, body)
	}
	var led Ledger
	if err := json.Unmarshal(body, &led); err != nil {
		t.Fatalf("GET /_lpsim/ledger%s: %v", query, err)
	}
	return led
}

// firstSeq is the Seq of l's first conversation listed, -1 when none is.
func firstSeq(l Ledger) int64 {
	if len(l.Conversations) == 0 {
		return -1
	}
	return l.Conversations[0].Seq
}
