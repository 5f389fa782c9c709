package lpsim

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFaultsOverHTTP: each fault kind, injected into every CONVERSATION, answers as documented on
// a real server, is counted in Ledger.Faults, and creates no conversation (but trickle, which
// serves the request slowly).
func TestFaultsOverHTTP(t *testing.T) {
	t.Parallel()
	const trickleDelay = 2 * time.Millisecond
	tests := []struct {
		kind   string
		faults Faults
		status int
		check  func(t *testing.T, body []byte, readErr error)
	}{
		// A 500 in the documented error shape.
		{FaultError500, Faults{Error500: 1}, 500, func(t *testing.T, b []byte, err error) {
			checkError(t, b, 500, 0)
		}},
		// A 503 in the documented error shape.
		{FaultError503, Faults{Error503: 1}, 503, func(t *testing.T, b []byte, err error) {
			checkError(t, b, 503, 0)
		}},
		// A 401 with errorCode 40102, the AppJWT being valid.
		{FaultExpired401, Faults{Expired401: 1}, 401, func(t *testing.T, b []byte, err error) {
			checkError(t, b, 401, codeAppJWTInvalid)
		}},
		// The headers of a 200, then the connection closes mid-body.
		{FaultReset, Faults{Reset: 1}, 200, func(t *testing.T, b []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading the body: %v, want unexpected EOF (got %q)", err, b)
			}
		}},
		// A 200 whose body is not JSON.
		{FaultMalformed, Faults{Malformed: 1}, 200, func(t *testing.T, b []byte, err error) {
			if err != nil || json.Valid(b) || len(b) == 0 {
				t.Errorf("body %q (read error %v): want complete, non-JSON", b, err)
			}
		}},
		// A 200 whose conversation element reports code 500 and has no conversationId.
		{FaultErrorBody200, Faults{ErrorBody200: 1}, 200, func(t *testing.T, b []byte, err error) {
			var out []struct {
				Code  any             `json:"code"`
				ReqID string          `json:"reqId"`
				Body  map[string]any  `json:"body"`
				Kind  json.RawMessage `json:"kind"`
			}
			if err := json.Unmarshal(b, &out); err != nil || len(out) != 2 {
				t.Fatalf("body %s: want an array of 2 (%v)", b, err)
			}
			if out[0].Code != "OK" || out[0].ReqID != "1," {
				t.Errorf("profile element %+v", out[0])
			}
			if out[1].Code != float64(500) || out[1].ReqID != "2," || out[1].Body["conversationId"] != nil || out[1].Body["title"] == nil {
				t.Errorf("conversation element %+v: want code 500, reqId 2, a title, no conversationId", out[1])
			}
		}},
		// The real answer, one byte at a time.
		{FaultTrickle, Faults{Trickle: 1, TrickleDelay: trickleDelay}, 200, func(t *testing.T, b []byte, err error) {
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, b, "create-conversation-response.json")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Faults = map[Endpoint]Faults{EndpointCreate: tt.faults}
			srv := startServer(t, cfg)
			c := newConsumer(t, newRemote(srv.URL), accA, "faulted")
			req, _ := http.NewRequest("POST", srv.ServiceURL("asyncMessagingEnt")+createPath(accA), strings.NewReader(fixture(t, "create-conversation.json", "{accountid}", accA)))
			for i := 0; i < len(c.headers(true)); i += 2 {
				req.Header.Set(c.headers(true)[i], c.headers(true)[i+1])
			}
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if got, want := resp.StatusCode, tt.status; got != want {
				t.Errorf("status %d, want %d: %s", got, want, b)
			}
			tt.check(t, b, readErr)

			l := srv.Ledger()
			if got, want := l.Faults[EndpointCreate], map[string]int64{tt.kind: 1}; !maps.Equal(got, want) {
				t.Errorf("ledger faults[create] = %v, want %v", got, want)
			}
			if got, want := l.Requests[EndpointCreate][tt.status], int64(1); got != want {
				t.Errorf("ledger requests[create][%d] = %d, want %d", tt.status, got, want)
			}
			created := int64(0)
			if tt.kind == FaultTrickle {
				created = 1
				if least := time.Duration(len(b)-1) * trickleDelay; took < least {
					t.Errorf("trickled %d bytes in %v, want >= %v", len(b), took, least)
				}
			}
			if got := l.ConversationsCreated; got != created {
				t.Errorf("conversations created = %d, want %d", got, created)
			}
			// The consumer can go on: a fault leaves no half-made state.
			if created == 0 {
				srv.SetFaults(EndpointCreate, Faults{})
				if st, body, _ := c.create(t, true); st != 200 {
					t.Errorf("create after the fault: %d %s", st, body)
				}
			}
		})
	}
}

// TestFaultsChangeNothing: on every endpoint, a faulted request does none of its work.
func TestFaultsChangeNothing(t *testing.T) {
	t.Parallel()
	all := Faults{ErrorBody200: 1}
	cfg := testConfig()
	s, _ := newFakeSim(t, cfg)
	c := newConsumer(t, s, accA, "victim")
	_, _, id := c.create(t, true)
	// From here on every endpoint answers with an error body.
	for _, e := range endpoints {
		s.SetFaults(e, all)
	}
	tests := []struct {
		name string
		do   func() (int, []byte)
	}{
		// CSDS: the error shape instead of baseURIs.
		{"csds", func() (int, []byte) { return call(t, s, "GET", csdsAllPath(accA), "") }},
		// Sentinel: no token.
		{"appjwt", func() (int, []byte) {
			return call(t, s, "POST", sentinelPath(accA), "client_id="+clientA+"&client_secret="+secretA, "Content-Type", "application/x-www-form-urlencoded")
		}},
		// IdP: no token.
		{"consumerjws", func() (int, []byte) {
			return call(t, s, "POST", idpPath(accA), `{"ext_consumer_id":"x"}`, "Authorization", c.app)
		}},
		// SEND: no sequence, no first send.
		{"send", func() (int, []byte) { return c.send(t, id, true) }},
		// Close: the conversation stays open.
		{"close", func() (int, []byte) { return c.close(t, id) }},
	}
	for _, tt := range tests {
		st, b := tt.do()
		if st != 200 || !strings.Contains(string(b), `"code":500`) || !json.Valid(b) {
			t.Errorf("%s: %d %s, want 200 with code 500", tt.name, st, b)
		}
		for _, bad := range []string{"access_token", "token\"", "sequence", "baseURIs"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s: answer %s has %s", tt.name, b, bad)
			}
		}
	}
	if _, b := c.send(t, id, true); !strings.Contains(string(b), `"reqId":"1"`) {
		t.Errorf("send error body %s does not echo the reqId", b)
	}
	l := s.Ledger()
	if l.AppJWTsIssued != 1 || l.ConsumerJWSsIssued != 1 || l.Sends != 0 || l.FirstSends != 0 || l.ConversationsClosed != 0 {
		t.Errorf("faulted requests did work: %+v", l)
	}
	for _, e := range []Endpoint{EndpointCSDS, EndpointAppJWT, EndpointConsumerJWS, EndpointClose} {
		if got := l.Faults[e][FaultErrorBody200]; got != 1 {
			t.Errorf("faults[%s] = %v, want 1 %s", e, l.Faults[e], FaultErrorBody200)
		}
	}
	if got := l.Faults[EndpointSend][FaultErrorBody200]; got != 2 {
		t.Errorf("faults[send] = %v, want 2 %s", l.Faults[EndpointSend], FaultErrorBody200)
	}
}

// TestFaultsSeeded: fault draws follow the seed: the same requests in the same order meet the same
// faults, at about the configured rate.
func TestFaultsSeeded(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []int {
		cfg := testConfig()
		cfg.Seed = seed
		cfg.Faults = map[Endpoint]Faults{EndpointCSDS: {Error500: 0.2, Error503: 0.1}}
		s, _ := newFakeSim(t, cfg)
		var got []int
		for range 1000 {
			st, _ := call(t, s, "GET", csdsAllPath(accA), "")
			got = append(got, st)
		}
		l := s.Ledger()
		if l.Faults[EndpointCSDS][FaultError500] != l.Requests[EndpointCSDS][500] || l.Faults[EndpointCSDS][FaultError503] != l.Requests[EndpointCSDS][503] {
			t.Errorf("faults %v do not match statuses %v", l.Faults[EndpointCSDS], l.Requests[EndpointCSDS])
		}
		return got
	}
	a, b := run(42), run(42)
	n500, n503 := 0, 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d then %d with the same seed", i, a[i], b[i])
		}
		switch a[i] {
		case 500:
			n500++
		case 503:
			n503++
		}
	}
	// Binomial(1000, 0.2) and (1000, 0.1): these bounds are more than 5 standard deviations wide.
	if n500 < 130 || n500 > 270 || n503 < 50 || n503 > 150 {
		t.Errorf("%d 500s and %d 503s of 1000, want about 200 and 100", n500, n503)
	}
}

// TestStallWindows: a configured window holds every response until it ends, and each held response
// is counted as a stall fault; after the window, nothing is held.
func TestStallWindows(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Stalls = []StallWindow{{At: 0, For: 150 * time.Millisecond}, {At: 150 * time.Millisecond, For: 50 * time.Millisecond}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := call(t, s, "GET", csdsAllPath(accA), "")
	// Both adjacent windows hold it: 200 ms since the Sim was created.
	if got := time.Since(s.stall.epoch); got < 200*time.Millisecond || st != 200 {
		t.Errorf("answered %d at %v since creation, want 200 after >= 200ms", st, got)
	}
	start := time.Now()
	call(t, s, "GET", csdsAllPath(accA), "")
	if got := time.Since(start); got > 100*time.Millisecond {
		t.Errorf("answered after %v past the windows", got)
	}
	if got := s.Ledger().Faults[EndpointCSDS]; !maps.Equal(got, map[string]int64{FaultStall: 1}) {
		t.Errorf("faults[csds] = %v, want 1 stall", got)
	}
	// Sim.Stall is counted too.
	s.Stall(30 * time.Millisecond)
	call(t, s, "GET", csdsAllPath(accA), "")
	if got := s.Ledger().Faults[EndpointCSDS][FaultStall]; got != 2 {
		t.Errorf("stalls = %d, want 2", got)
	}
}
