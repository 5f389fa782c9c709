package lpsim

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestReset: Reset forgets conversations and zeroes the ledger; tokens stay valid, and a consumer
// whose conversation was open may open a new one.
func TestReset(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCSDS: {Concurrency: 1}}
	cfg.Latency = map[Endpoint]Latency{EndpointCSDS: Fixed(20 * time.Millisecond)}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, s, accA, "resetter")
	_, _, before := c.create(t, true)
	c.send(t, before, true)
	s.SetFaults(EndpointConsumerJWS, Faults{Error503: 1})
	call(t, s, "POST", idpPath(accA), `{"ext_consumer_id":"y"}`, "Authorization", c.app) // a 503 fault
	var wg sync.WaitGroup
	for range 3 { // a queue at CSDS
		wg.Go(func() { call(t, s, "GET", csdsAllPath(accA), "") })
	}
	wg.Wait()
	l := s.Ledger()
	if l.ConversationsCreated != 1 || l.Sends != 1 || l.Faults[EndpointConsumerJWS][FaultError503] != 1 || l.Queues[EndpointCSDS].Queued == 0 {
		t.Fatalf("before reset: %+v", l)
	}

	s.Reset()
	empty := Ledger{
		Requests:         map[Endpoint]map[int]int64{},
		Faults:           map[Endpoint]map[string]int64{},
		Queues:           map[Endpoint]QueueStats{},
		Webhooks:         WebhookStats{DroppedByReason: map[string]int64{}},
		WebhookEndpoints: map[string]WebhookEndpointStats{},
		Conversations:    []Conversation{},
		// Conversations by skill: none.
		ConversationsBySkill: map[string]int64{},
	}
	for _, e := range endpoints {
		empty.Requests[e] = map[int]int64{}
		empty.Faults[e] = map[string]int64{}
		empty.Queues[e] = QueueStats{}
	}
	if got := s.Ledger(); !reflect.DeepEqual(got, empty) {
		t.Errorf("after reset\n got %+v\nwant %+v", got, empty)
	}
	// The old conversation is gone; its owner, with the same tokens, opens another.
	if st, b := c.send(t, before, true); st != 400 {
		t.Errorf("send to a forgotten conversation: %d %s", st, b)
	}
	st, b, after := c.create(t, true)
	if st != 200 || after == before {
		t.Fatalf("create after reset: %d %s", st, b)
	}
	if got := s.Ledger().ConversationsCreated; got != 1 {
		t.Errorf("conversations = %d, want 1", got)
	}
	// The configuration stays.
	if got := s.Config().Faults[EndpointConsumerJWS]; got.Error503 != 1 {
		t.Errorf("faults after reset: %+v", got)
	}
}

// TestTwoClients: two clients with their own connections, tokens and consumer ids share one
// server (the same account, and another account with the same consumer ids) without colliding:
// every journey succeeds, and the ledger holds each client's conversations exactly.
func TestTwoClients(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Window = 10 * time.Second
	srv := startServer(t, cfg)
	const journeys = 15
	type client struct {
		name, acc, prefix string
		ids               []string
	}
	clients := []*client{
		{name: "x", acc: accA, prefix: "run-x-"},
		{name: "y", acc: accA, prefix: "run-y-"},
		{name: "z", acc: accB, prefix: "run-x-"}, // x's ids, another account
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, cl := range clients {
		rm := newRemote(srv.URL) // its own connections
		for i := range journeys {
			wg.Go(func() {
				c := newConsumer(t, rm, cl.acc, fmt.Sprintf("%s%03d", cl.prefix, i))
				st, b, id := c.create(t, true)
				if st != 200 {
					t.Errorf("%s: create %d %s", cl.name, st, b)
					return
				}
				if st, b := c.send(t, id, true); st != 200 {
					t.Errorf("%s: send %d %s", cl.name, st, b)
				}
				if st, b := c.close(t, id); st != 200 {
					t.Errorf("%s: close %d %s", cl.name, st, b)
				}
				mu.Lock()
				cl.ids = append(cl.ids, id)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	l := srv.Ledger()
	total := int64(len(clients) * journeys)
	if l.ConversationsCreated != total || l.FirstSends != total || l.ConversationsClosed != total {
		t.Errorf("ledger: created %d, first sends %d, closed %d; want %d each", l.ConversationsCreated, l.FirstSends, l.ConversationsClosed, total)
	}
	byID := map[string]Conversation{}
	for _, c := range l.Conversations {
		byID[c.ID] = c
	}
	if len(byID) != int(total) {
		t.Errorf("%d distinct conversation ids, want %d", len(byID), total)
	}
	for _, cl := range clients {
		for _, id := range cl.ids {
			c := byID[id]
			if c.Account != cl.acc || len(c.ExtConsumerID) < len(cl.prefix) || c.ExtConsumerID[:len(cl.prefix)] != cl.prefix || !c.Closed || c.AutoMessages != (cl.acc == accA) {
				t.Errorf("client %s: ledger entry %+v", cl.name, c)
			}
		}
	}
}
