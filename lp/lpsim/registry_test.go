package lpsim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWebhookRegistrationHTTP drives the /_lpsim/webhooks control routes of a Server over
// loopback HTTP, rows in order (later rows use the ids of earlier ones): registration, its
// refusals in the documented error shape, listing and removal; none of it is counted.
func TestWebhookRegistrationHTTP(t *testing.T) {
	t.Parallel()
	srv := startServer(t, testConfig())
	base := srv.URL + "/_lpsim/webhooks"
	var ids []string // of the rows that registered, in order
	created := func(account, url string) func(t *testing.T, b []byte) {
		return func(t *testing.T, b []byte) {
			var h Webhook
			if err := json.Unmarshal(b, &h); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if !strings.HasPrefix(h.ID, "wh-") || h.Account != account || h.URL != url {
				t.Errorf("created %+v, want an id, account %s, url %s", h, account, url)
			}
			ids = append(ids, h.ID)
		}
	}
	tests := []struct {
		name, method string
		target       func() string
		body         string
		status       int
		check        func(t *testing.T, b []byte) // 2xx only; errors are checked for their shape
	}{
		// Two endpoints for account A, one for B: 201 with the registration.
		{"created", "POST", func() string { return base }, `{"account":"` + accA + `","url":"http://127.0.0.1:9/a"}`, 201, created(accA, "http://127.0.0.1:9/a")},
		{"second of the account", "POST", func() string { return base }, `{"account":"` + accA + `","url":"https://127.0.0.1:9/b"}`, 201, created(accA, "https://127.0.0.1:9/b")},
		{"another account", "POST", func() string { return base }, `{"account":"` + accB + `","url":"http://localhost:9/"}`, 201, created(accB, "http://localhost:9/")},
		// An account the simulator does not serve → 404.
		{"unknown account", "POST", func() string { return base }, `{"account":"99999999","url":"http://127.0.0.1:9/"}`, 404, nil},
		// URLs that are not absolute http(s) → 400, as SetWebhook refuses them.
		{"relative url", "POST", func() string { return base }, `{"account":"` + accA + `","url":"/hook"}`, 400, nil},
		{"ftp url", "POST", func() string { return base }, `{"account":"` + accA + `","url":"ftp://127.0.0.1/"}`, 400, nil},
		{"empty url", "POST", func() string { return base }, `{"account":"` + accA + `","url":""}`, 400, nil},
		// Malformed bodies → 400: not JSON, not an object, a field missing or of another type.
		{"malformed json", "POST", func() string { return base }, `{"account":`, 400, nil},
		{"array", "POST", func() string { return base }, `[]`, 400, nil},
		{"no account", "POST", func() string { return base }, `{"url":"http://127.0.0.1:9/"}`, 400, nil},
		{"url a number", "POST", func() string { return base }, `{"account":"` + accA + `","url":7}`, 400, nil},
		// The list holds the three registrations, by account in configuration order.
		{"list", "GET", func() string { return base }, "", 200, func(t *testing.T, b []byte) {
			var got []Webhook
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if len(got) != 3 || got[0].ID != ids[0] || got[1].ID != ids[1] || got[2].ID != ids[2] {
				t.Errorf("list %+v, want ids %v", got, ids)
			}
		}},
		// Removal → 204; an unknown or already removed id → 404.
		{"delete", "DELETE", func() string { return base + "/" + ids[1] }, "", 204, nil},
		{"delete again", "DELETE", func() string { return base + "/" + ids[1] }, "", 404, nil},
		{"delete unknown", "DELETE", func() string { return base + "/wh-0000000000000000" }, "", 404, nil},
		{"list after delete", "GET", func() string { return base }, "", 200, func(t *testing.T, b []byte) {
			var got []Webhook
			json.Unmarshal(b, &got)
			if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[2] {
				t.Errorf("list %+v, want ids %s %s", got, ids[0], ids[2])
			}
		}},
		// Other methods → 405.
		{"put", "PUT", func() string { return base }, "", 405, nil},
	}
	for _, tt := range tests {
		ok := t.Run(tt.name, func(t *testing.T) {
			st, b := do(t, tt.method, tt.target(), tt.body)
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, b)
			}
			switch {
			case st >= 400:
				checkError(t, b, st, 0)
			case tt.check != nil:
				tt.check(t, b)
			}
		})
		if !ok {
			t.Fatalf("row %q failed: later rows depend on it", tt.name)
		}
	}
	l := srv.Ledger()
	for _, e := range endpoints {
		if len(l.Requests[e]) != 0 {
			t.Errorf("control calls counted under %s: %v", e, l.Requests[e])
		}
	}
	if got := srv.Webhooks(); len(got) != 2 {
		t.Errorf("Webhooks() = %+v, want 2", got)
	}
}

// TestWebhookRegistry: the in-process registry. AddWebhook appends, SetWebhook replaces the whole
// set (and "" clears it), RemoveWebhook removes one; unknown accounts and ids are refused with
// their sentinel errors, bad URLs as SetWebhook refuses them; Config shows the oldest endpoint.
func TestWebhookRegistry(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Accounts[0].WebhookURL = "http://127.0.0.1:9/configured"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := s.Webhooks()
	if len(hs) != 1 || hs[0].Account != accA || hs[0].URL != cfg.Accounts[0].WebhookURL || hs[0].ID == "" {
		t.Fatalf("configured endpoint: %+v", hs)
	}
	id, err := s.AddWebhook(accA, "http://127.0.0.1:9/added")
	if err != nil || id == hs[0].ID {
		t.Fatalf("AddWebhook: %q, %v", id, err)
	}
	if got := s.Webhooks(); len(got) != 2 || got[1].ID != id {
		t.Errorf("after AddWebhook: %+v", got)
	}
	if got := s.Config().Accounts[0].WebhookURL; got != cfg.Accounts[0].WebhookURL {
		t.Errorf("Config WebhookURL = %q, want the oldest endpoint's", got)
	}
	if _, err := s.AddWebhook("99999999", "http://127.0.0.1:9/"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("AddWebhook unknown account: %v", err)
	}
	for _, u := range []string{"", "127.0.0.1:9", "ftp://127.0.0.1/"} {
		if _, err := s.AddWebhook(accA, u); err == nil {
			t.Errorf("AddWebhook accepted %q", u)
		}
	}
	if err := s.RemoveWebhook("wh-nope"); !errors.Is(err, ErrUnknownWebhook) {
		t.Errorf("RemoveWebhook unknown: %v", err)
	}
	if err := s.RemoveWebhook(hs[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := s.Webhooks(); len(got) != 1 || got[0].ID != id {
		t.Errorf("after RemoveWebhook: %+v", got)
	}
	if err := s.SetWebhook(accA, "http://127.0.0.1:9/set"); err != nil {
		t.Fatal(err)
	}
	if got := s.Webhooks(); len(got) != 1 || got[0].URL != "http://127.0.0.1:9/set" || got[0].ID == id {
		t.Errorf("after SetWebhook: %+v", got)
	}
	if err := s.SetWebhook(accA, ""); err != nil {
		t.Fatal(err)
	}
	if got := s.Webhooks(); len(got) != 0 {
		t.Errorf("after SetWebhook \"\": %+v", got)
	}
	if got := s.Config().Accounts[0].WebhookURL; got != "" {
		t.Errorf("Config WebhookURL = %q with no endpoint", got)
	}
}

// checkEndpointSums fails the test unless the per-endpoint statistics add up to the totals.
func checkEndpointSums(t testing.TB, l Ledger) {
	t.Helper()
	var sum WebhookEndpointStats
	for id, e := range l.WebhookEndpoints {
		if e.Deliveries != e.Delivered+e.Dropped+e.Pending {
			t.Errorf("endpoint %s stats do not add up: %+v", id, e)
		}
		sum.Deliveries += e.Deliveries
		sum.Delivered += e.Delivered
		sum.Dropped += e.Dropped
		sum.Pending += e.Pending
		sum.Retried += e.Retried
		sum.Lost += e.Lost
		sum.Duplicated += e.Duplicated
	}
	w := l.Webhooks
	if sum.Deliveries != w.Deliveries || sum.Delivered != w.Delivered || sum.Dropped != w.Dropped || sum.Pending != w.Pending ||
		sum.Retried != w.Retried || sum.Lost != w.Lost || sum.Duplicated != w.Duplicated {
		t.Errorf("endpoint stats %+v do not add up to %+v", sum, w)
	}
}

// TestWebhookTwoEndpoints: two endpoints registered over HTTP with RegisterWebhook for one account
// both receive every notification of a conversation, the same bytes; the ledger counts each
// notification emitted once and delivered twice, per endpoint and per conversation. Once one is
// unregistered (UnregisterWebhook), the next conversation reaches only the other.
func TestWebhookTwoEndpoints(t *testing.T) {
	t.Parallel()
	one, two := newHookReceiver(t, nil), newHookReceiver(t, nil)
	cfg := webhookConfig("")
	cfg.Webhooks.Latency = Fixed(time.Millisecond)
	srv := startServer(t, cfg)
	ctx := context.Background()
	id1, err := RegisterWebhook(ctx, nil, srv.URL, accA, one.URL+"/one")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := RegisterWebhook(ctx, nil, srv.URL+"/", accA, two.URL+"/two") // a trailing slash is fine
	if err != nil {
		t.Fatal(err)
	}

	ids, _ := runConversations(t, srv.Sim, 1) // OPEN, echo, auto message, CLOSE
	const n = 4
	l := settle(t, srv.Sim)
	checkStats(t, l.Webhooks)
	checkEndpointSums(t, l)
	if got, want := l.Webhooks, (WebhookStats{Emitted: n, Deliveries: 2 * n, Delivered: 2 * n, FirstAutoMessagesDelivered: 1}); !equalStats(got, want) {
		t.Errorf("webhooks = %+v, want %+v", got, want)
	}
	for id, rcv := range map[string]*hookReceiver{id1: one, id2: two} {
		want := WebhookEndpointStats{Account: accA, URL: rcv.URL + map[string]string{id1: "/one", id2: "/two"}[id],
			Deliveries: n, Delivered: n, FirstAutoMessagesDelivered: 1}
		if got := l.WebhookEndpoints[id]; got != want {
			t.Errorf("endpoint %s = %+v, want %+v", id, got, want)
		}
	}
	a, b := one.deliveries(), two.deliveries()
	if len(a) != n || len(b) != n {
		t.Fatalf("receivers got %d and %d deliveries, want %d each", len(a), len(b), n)
	}
	bodies := map[string]int{}
	for _, d := range append(a, b...) {
		bodies[d.body]++
	}
	for body, k := range bodies {
		if k != 2 {
			t.Errorf("notification delivered %d times, want once to each endpoint: %s", k, body)
		}
	}
	cv := conversationOf(t, srv.Sim, ids[0])
	if cv.AutoMessagesEmitted != 1 || cv.AutoMessagesDelivered != 2 || !cv.FirstAutoMessageDelivered || cv.FirstAutoMessageDropped ||
		cv.FirstAutoMessageAttempts != 1 || len(cv.FirstAutoMessageDeliveries) != 2 {
		t.Errorf("conversation = %+v", cv)
	}
	for _, id := range []string{id1, id2} {
		if r, ok := cv.FirstAutoMessageAt(id); !ok || !r.Delivered || r.Dropped || r.Attempts != 1 || r.DeliveredAt == 0 || r.DeliveredAt > cv.FirstAutoMessageDeliveredAt {
			t.Errorf("first auto message at %s: %+v, %v (conversation delivered at %v)", id, r, ok, cv.FirstAutoMessageDeliveredAt)
		}
	}

	if err := UnregisterWebhook(ctx, nil, srv.URL, id2); err != nil {
		t.Fatal(err)
	}
	ids2, _ := runConversations(t, srv.Sim, 1)
	l = settle(t, srv.Sim)
	checkEndpointSums(t, l)
	if got := len(one.deliveries()); got != 2*n {
		t.Errorf("the remaining endpoint got %d deliveries, want %d", got, 2*n)
	}
	if got := len(two.deliveries()); got != n {
		t.Errorf("the removed endpoint got %d deliveries, want still %d", got, n)
	}
	if got, want := l.Webhooks.Emitted, int64(2*n); got != want {
		t.Errorf("emitted = %d, want %d", got, want)
	}
	if got, want := l.Webhooks.Deliveries, int64(3*n); got != want {
		t.Errorf("deliveries = %d, want %d", got, want)
	}
	if cv := conversationOf(t, srv.Sim, ids2[0]); len(cv.FirstAutoMessageDeliveries) != 1 || cv.FirstAutoMessageDeliveries[0].Webhook != id1 || !cv.FirstAutoMessageDelivered {
		t.Errorf("second conversation = %+v", cv)
	}
}

// TestWebhookOneEndpointFails: when one of two endpoints drops the first auto message, the
// conversation's first auto message counts as dropped (and not delivered) once, and its record
// per endpoint tells which one got it.
func TestWebhookOneEndpointFails(t *testing.T) {
	t.Parallel()
	good := newHookReceiver(t, nil)
	bad := newHookReceiver(t, func(*http.Request, int) int { return http.StatusInternalServerError })
	s, err := New(webhookConfig(good.URL))
	if err != nil {
		t.Fatal(err)
	}
	goodID := s.Webhooks()[0].ID
	badID, err := s.AddWebhook(accA, bad.URL)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := runConversations(t, s, 1)
	l := settle(t, s)
	checkStats(t, l.Webhooks)
	checkEndpointSums(t, l)
	const n = 4
	if got, want := l.Webhooks, (WebhookStats{Emitted: n, Deliveries: 2 * n, Delivered: n, Dropped: n, FirstAutoMessagesDropped: 1,
		DroppedByReason: map[string]int64{DropFailed: n}}); !equalStats(got, want) {
		t.Errorf("webhooks = %+v, want %+v", got, want)
	}
	if e := l.WebhookEndpoints[goodID]; e.Delivered != n || e.FirstAutoMessagesDelivered != 1 || e.FirstAutoMessagesDropped != 0 {
		t.Errorf("good endpoint = %+v", e)
	}
	if e := l.WebhookEndpoints[badID]; e.Dropped != n || e.FirstAutoMessagesDelivered != 0 || e.FirstAutoMessagesDropped != 1 {
		t.Errorf("failing endpoint = %+v", e)
	}
	cv := conversationOf(t, s, ids[0])
	if cv.FirstAutoMessageDelivered || !cv.FirstAutoMessageDropped || cv.AutoMessagesDelivered != 1 || cv.FirstAutoMessageDeliveredAt != 0 {
		t.Errorf("conversation = %+v", cv)
	}
	if r, _ := cv.FirstAutoMessageAt(goodID); !r.Delivered || r.Dropped {
		t.Errorf("at the good endpoint: %+v", r)
	}
	if r, _ := cv.FirstAutoMessageAt(badID); r.Delivered || !r.Dropped || r.Attempts != 1 {
		t.Errorf("at the failing endpoint: %+v", r)
	}
}

// TestWebhookRegistryConcurrent: endpoints registered and removed over and over while
// conversations emit notifications (run with -race): every delivery is accounted for, and the
// endpoint kept throughout receives every notification.
func TestWebhookRegistryConcurrent(t *testing.T) {
	t.Parallel()
	kept := newHookReceiver(t, nil)
	churn := newHookReceiver(t, nil)
	s, err := New(webhookConfig(kept.URL))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			id, err := s.AddWebhook(accA, churn.URL)
			if err != nil {
				t.Error(err)
				return
			}
			s.Webhooks()
			if err := s.RemoveWebhook(id); err != nil {
				t.Error(err)
				return
			}
		}
	})
	const conversations = 20
	runConversations(t, s, conversations)
	close(stop)
	wg.Wait()
	l := settle(t, s)
	checkStats(t, l.Webhooks)
	checkEndpointSums(t, l)
	if got, want := len(kept.deliveries()), 4*conversations; got != want {
		t.Errorf("the kept endpoint got %d deliveries, want %d", got, want)
	}
	if got, want := l.Webhooks.Emitted, int64(4*conversations); got != want {
		t.Errorf("emitted = %d, want %d", got, want)
	}
	if got, want := l.Webhooks.Delivered, l.Webhooks.Deliveries; got != want {
		t.Errorf("delivered %d of %d deliveries", got, want)
	}
}

// TestRegisterWebhookErrors: the client helpers' errors name the simulator and its answer.
func TestRegisterWebhookErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, testConfig())
	other := httptest.NewServer(http.NotFoundHandler()) // not a simulator
	t.Cleanup(other.Close)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want []string // substrings of the error
	}{
		// An unknown account: the simulator's 404 and its details.
		{"unknown account", func() error {
			_, err := RegisterWebhook(ctx, nil, srv.URL, "99999999", "http://127.0.0.1:9/")
			return err
		}, []string{srv.URL, "404", `"99999999"`}},
		// A URL that is not absolute: 400.
		{"bad url", func() error {
			_, err := RegisterWebhook(ctx, nil, srv.URL, accA, "/hook")
			return err
		}, []string{srv.URL, "400", "not an absolute http or https URL"}},
		// Removing an id that is not registered: 404.
		{"unregister unknown", func() error { return UnregisterWebhook(ctx, nil, srv.URL, "wh-nope") }, []string{srv.URL, "404", "wh-nope"}},
		// A server that is not a simulator.
		{"not a simulator", func() error {
			_, err := RegisterWebhook(ctx, nil, other.URL, accA, "http://127.0.0.1:9/")
			return err
		}, []string{other.URL, "404", "is it an lpbench simulator?"}},
		// A cancelled context.
		{"cancelled", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, err := RegisterWebhook(c, nil, srv.URL, accA, "http://127.0.0.1:9/")
			return err
		}, []string{srv.URL, "context canceled"}},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, w)
			}
		}
	}
	if got := srv.Webhooks(); len(got) != 0 {
		t.Errorf("registered after errors only: %+v", got)
	}
}

// TestWebhookSameURLOnce: the shards of a distributed run all register one webhook relay's URL.
// It is one endpoint, with one id: every notification is delivered to it once, not once per
// registration; it stays registered until the last registration is removed, and a removal more
// is refused as unknown.
func TestWebhookSameURLOnce(t *testing.T) {
	t.Parallel()
	relay := newHookReceiver(t, nil)
	cfg := webhookConfig("")
	cfg.Webhooks.Latency = Fixed(time.Millisecond)
	srv := startServer(t, cfg)
	ctx := context.Background()
	const shards = 3
	var ids []string
	for range shards {
		id, err := RegisterWebhook(ctx, nil, srv.URL, accA, relay.URL+"/webhook/sim")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[1] != ids[0] || ids[2] != ids[0] {
		t.Errorf("ids %v: want one endpoint", ids)
	}
	if hs := srv.Sim.Webhooks(); len(hs) != 1 {
		t.Fatalf("endpoints %+v, want 1", hs)
	}
	runConversations(t, srv.Sim, 2)
	l := settle(t, srv.Sim)
	const n = 2 * 4 // OPEN, echo, auto message, CLOSE each
	if got := len(relay.deliveries()); got != n || l.Webhooks.Deliveries != n {
		t.Errorf("the relay got %d deliveries (ledger %d), want %d: once each", got, l.Webhooks.Deliveries, n)
	}
	for k := range shards - 1 {
		if err := UnregisterWebhook(ctx, nil, srv.URL, ids[k]); err != nil {
			t.Fatal(err)
		}
		if hs := srv.Sim.Webhooks(); len(hs) != 1 {
			t.Fatalf("after %d of %d removals: endpoints %+v, want it kept", k+1, shards, hs)
		}
	}
	if err := UnregisterWebhook(ctx, nil, srv.URL, ids[2]); err != nil {
		t.Fatal(err)
	}
	if hs := srv.Sim.Webhooks(); len(hs) != 0 {
		t.Errorf("after the last removal: %+v", hs)
	}
	if err := UnregisterWebhook(ctx, nil, srv.URL, ids[0]); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a removal more: %v", err)
	}
}
