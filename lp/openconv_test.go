package lp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// TestOpenConversationOf: a CONVERSATION refused with 400 because the consumer holds an open
// conversation names it; no other answer does.
func TestOpenConversationOf(t *testing.T) {
	const id = "8602832d-dce1-446b-8445-0d51f5926a42"
	for _, tc := range []struct {
		name, op string
		status   int
		body     string
		want     string
	}{
		{"details", "create", 400, `{"kind":"resp","code":400,"body":{"title":"Consumer already has an open conversation","details":"open conversation ` + id + `"},"type":".ReqBody$ErrorResp"}`, id},
		{"title", "create", 400, `{"body":{"title":"open conversation ` + id + `"}}`, id},
		{"no id", "create", 400, `{"body":{"title":"Bad request","details":"brandId is missing"}}`, ""},
		{"longer hex run", "create", 400, `{"body":{"details":"a` + id + `"}}`, ""},
		{"not create", "send", 400, `{"body":{"details":"open conversation ` + id + `"}}`, ""},
		{"not 400", "create", 401, `{"body":{"details":"open conversation ` + id + `"}}`, ""},
	} {
		got, ok := OpenConversationOf(responseError(tc.op, tc.status, http.Header{}, []byte(tc.body)))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := OpenConversationOf(errors.New("x")); ok {
		t.Error("a plain error names an open conversation")
	}
}

// TestSecondConversationNamesTheOpenOne: the simulator refuses a second CONVERSATION of a consumer
// with a 400 that names its open conversation, and the client reads it.
func TestSecondConversationNamesTheOpenOne(t *testing.T) {
	_, c := simClient(t, lpsim.DefaultConfig())
	ctx := context.Background()
	d, _, err := c.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := c.AppJWT(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := c.ConsumerJWS(ctx, d, tok, "one")
	if err != nil {
		t.Fatal(err)
	}
	con := &Consumer{Domains: d, AppJWT: tok, JWS: jws}
	first, err := c.CreateConversation(ctx, con)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateConversation(ctx, con)
	if got, ok := OpenConversationOf(err); !ok || got != first {
		t.Errorf("second CONVERSATION: %v, names %q; want a 400 naming %s", err, got, first)
	}
}

// fakeJournal records the journal calls of journeys.
type fakeJournal struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeJournal) add(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}
func (f *fakeJournal) Opening(t int, c string) { f.add(fmt.Sprintf("opening %d %s", t, c)) }
func (f *fakeJournal) Opened(t int, c, conv string) {
	f.add(fmt.Sprintf("opened %d %s %v", t, c, conv != ""))
}
func (f *fakeJournal) Refused(t int, c string) { f.add(fmt.Sprintf("refused %d %s", t, c)) }
func (f *fakeJournal) Closed(t int, c, conv string) {
	f.add(fmt.Sprintf("closed %d %s %v", t, c, conv != ""))
}

// TestJourneyJournal: a journey tells the journal of its consumer before CONVERSATION, of the
// conversation it opened and of its close; a CONVERSATION refused by an answer is recorded as
// opening nothing; one whose answer never came stays in flight.
func TestJourneyJournal(t *testing.T) {
	sim, c := simClient(t, lpsim.DefaultConfig())
	jl := &fakeJournal{}
	j := &Journey{Client: c, Epoch: time.Now(), Target: 2, Opts: JourneyOptions{Window: 10 * time.Second, Close: true,
		ConsumerPrefix: "c-", Journal: jl, RequestTimeout: 5 * time.Second}}
	var rec sample.Record
	j.Run(context.Background(), &rec)
	sim.SetFaults(lpsim.EndpointCreate, lpsim.Faults{Expired401: 1})
	rec = sample.Record{Index: 1}
	j.Run(context.Background(), &rec)
	sim.SetFaults(lpsim.EndpointCreate, lpsim.Faults{Error503: 1}) // a 5xx may have opened one
	rec = sample.Record{Index: 2}
	j.Run(context.Background(), &rec)
	want := "opening 2 c-0|opened 2 c-0 true|closed 2 c-0 true|opening 2 c-1|refused 2 c-1|opening 2 c-2"
	if got := strings.Join(jl.calls, "|"); got != want {
		t.Errorf("journal calls\n%s\nwant\n%s", got, want)
	}
}

// TestInterruptedCreateIsClosed: the run stops while a CONVERSATION is on its way (the simulator,
// like LivePerson, has opened the conversation and not yet answered). The journey waits for the
// answer, ends interrupted, and closes the conversation it now knows: none is left open.
func TestInterruptedCreateIsClosed(t *testing.T) {
	cfg := lpsim.DefaultConfig()
	cfg.Latency = map[lpsim.Endpoint]lpsim.Latency{lpsim.EndpointCreate: lpsim.Fixed(300 * time.Millisecond)}
	sim, c := simClient(t, cfg)
	j := &Journey{Client: c, Epoch: time.Now(), Opts: JourneyOptions{Window: 10 * time.Second, Close: true, RequestTimeout: 10 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // cancel once the simulator has opened the conversation (bounded polling)
		defer cancel()
		for range 1000 {
			if sim.Ledger().ConversationsCreated > 0 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var rec sample.Record
	j.Run(ctx, &rec)
	led := sim.Ledger()
	if led.ConversationsCreated != 1 || led.ConversationsClosed != 1 {
		t.Errorf("created %d, closed %d conversations; want 1 and 1", led.ConversationsCreated, led.ConversationsClosed)
	}
	if rec.Outcome != sample.OutcomeInterrupted || rec.ConversationID == "" {
		t.Errorf("outcome %v, conversation %q: want interrupted, with the conversation's id", rec.Outcome, rec.ConversationID)
	}
}

// TestStaleAppJWTRenewed: a journey whose AppJWT expired during its send delay sends and
// closes with a token fetched again: its consumer is not failed, nor its conversation left
// open, for lpbench's own stale token.
func TestStaleAppJWTRenewed(t *testing.T) {
	cfg := lpsim.DefaultConfig()
	cfg.AppJWTLifetime = 2 * time.Second
	sim, c := simClient(t, cfg)
	j := &Journey{Client: c, Epoch: time.Now(), Opts: JourneyOptions{Window: 10 * time.Second, Close: true, RequestTimeout: 10 * time.Second,
		SendDelay: func() time.Duration { return 3 * time.Second }}}
	var rec sample.Record
	j.Run(context.Background(), &rec)
	if rec.Outcome != sample.OutcomeOK || c.AppJWTFetches() < 2 {
		t.Errorf("outcome %v (failed at %v, %v), %d AppJWT fetches: want ok, the token fetched again", rec.Outcome, rec.Failed, rec.Class, c.AppJWTFetches())
	}
	if led := sim.Ledger(); led.ConversationsCreated != 1 || led.ConversationsClosed != 1 {
		t.Errorf("created %d, closed %d conversations; want 1 and 1", led.ConversationsCreated, led.ConversationsClosed)
	}
}

// simClient starts a simulator of cfg and returns it with a client of its first account; both
// are closed when the test ends.
func simClient(t *testing.T, cfg lpsim.Config) (*lpsim.Server, *Client) {
	t.Helper()
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	acct := sim.Config().Accounts[0]
	c, err := NewClient(Target{Name: "sim", Account: acct.ID, CSDS: sim.URL, Scheme: "http", ClientID: acct.ClientID, ClientSecret: acct.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return sim, c
}
