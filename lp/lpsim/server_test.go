package lpsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer runs a Server for cfg, closed at the end of the test.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request over the network to the server.
func do(t *testing.T, method, u, body string, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestServerJourney runs the whole documented journey over HTTP, following the CSDS answer to
// every service, with a real clock and a 200 ms window.
func TestServerJourney(t *testing.T) {
	t.Parallel()
	srv := startServer(t, testConfig())
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want http://127.0.0.1:PORT", srv.URL)
	}

	// 1. Domain lookup.
	st, b := do(t, "GET", srv.URL+csdsAllPath(accA), "")
	if st != 200 {
		t.Fatalf("csds: %d %s", st, b)
	}
	var csds struct{ BaseURIs []csdsEntry }
	json.Unmarshal(b, &csds)
	hosts := map[string]string{}
	for _, e := range csds.BaseURIs {
		hosts[e.Service] = "http://" + e.BaseURI
	}
	// A host per service, none of them the domain API's.
	seen := map[string]string{srv.URL: "csds"}
	for _, svc := range []string{"sentinel", "idp", "asyncMessagingEnt"} {
		if got, want := hosts[svc], srv.ServiceURL(svc); got != want || !strings.HasPrefix(got, "http://127.0.0.1:") {
			t.Errorf("%s at %q, want %q", svc, got, want)
		}
		if other, dup := seen[hosts[svc]]; dup {
			t.Errorf("%s shares its host %s with %s", svc, hosts[svc], other)
		}
		seen[hosts[svc]] = svc
	}

	// 2. AppJWT, 3. ConsumerJWS.
	st, b = do(t, "POST", hosts["sentinel"]+sentinelPath(accA), url.Values{"client_id": {clientA}, "client_secret": {secretA}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if st != 200 {
		t.Fatalf("appjwt: %d %s", st, b)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &tok)
	journey := func(ext string, sendDelay time.Duration) (string, bool) {
		st, b := do(t, "POST", hosts["idp"]+idpPath(accA), `{"ext_consumer_id":"`+ext+`"}`, "Authorization", tok.AccessToken)
		if st != 201 {
			t.Fatalf("consumerjws: %d %s", st, b)
		}
		var jws struct{ Token string }
		json.Unmarshal(b, &jws)
		hdr := []string{"Authorization", tok.AccessToken, "X-LP-ON-BEHALF", jws.Token, "Content-Type", "application/json", "Client-Properties", autoProps}
		msg := hosts["asyncMessagingEnt"]

		// 4. CONVERSATION, 5. first SEND after the delay, 7. close.
		st, b = do(t, "POST", msg+createPath(accA), fixture(t, "create-conversation.json", "{accountid}", accA), hdr...)
		if st != 200 {
			t.Fatalf("create: %d %s", st, b)
		}
		var created []struct {
			Body struct{ ConversationID string }
		}
		json.Unmarshal(b, &created)
		id := created[1].Body.ConversationID
		time.Sleep(sendDelay)
		if st, b := do(t, "POST", msg+sendPath(accA), fixture(t, "send.json", "{conversationId}", id), hdr...); st != 200 {
			t.Fatalf("send: %d %s", st, b)
		}
		if st, b := do(t, "POST", msg+sendPath(accA), fixture(t, "close-conversation.json", "{conversationId}", id), hdr...); st != 200 {
			t.Fatalf("close: %d %s", st, b)
		}
		return id, conversationOf(t, srv.Sim, id).AutoMessages
	}
	// At once: well inside the 200 ms window.
	if id, auto := journey("quick", 0); !auto {
		t.Errorf("quick journey: no auto messages: %+v", conversationOf(t, srv.Sim, id))
	}
	// After 300 ms: outside.
	id, auto := journey("slow", 300*time.Millisecond)
	if auto {
		t.Errorf("slow journey: auto messages: %+v", conversationOf(t, srv.Sim, id))
	}
	if gap := conversationOf(t, srv.Sim, id).Gap; gap < 300*time.Millisecond {
		t.Errorf("slow journey: gap %v, want >= 300ms", gap)
	}

	// The ledger over HTTP is the ledger.
	st, b = do(t, "GET", srv.URL+"/_lpsim/ledger", "")
	if st != 200 {
		t.Fatalf("ledger: %d %s", st, b)
	}
	var got Ledger
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := srv.Ledger(); !reflect.DeepEqual(got, want) {
		t.Errorf("ledger over HTTP\n got %+v\nwant %+v", got, want)
	}
	if gap := got.Conversations[1].Gap; !strings.Contains(string(b), fmt.Sprintf(`"gap_ns":%d,`, int64(gap))) {
		t.Errorf("gap %v not written as integer nanoseconds in %s", gap, b)
	}
	if got, want := got.AutoMessagesTriggered, int64(1); got != want {
		t.Errorf("AutoMessagesTriggered = %d, want %d", got, want)
	}
}

func TestLatencyApplied(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	const d = 50 * time.Millisecond
	s.SetLatency(EndpointCSDS, Fixed(d))
	start := time.Now()
	st, _ := call(t, s, "GET", csdsAllPath(accA), "")
	if got := time.Since(start); got < d {
		t.Errorf("answered after %v, want >= %v", got, d)
	}
	if st != 200 {
		t.Errorf("status %d", st)
	}
	// Errors take the endpoint's time too.
	start = time.Now()
	call(t, s, "GET", csdsAllPath("99999999"), "")
	if got := time.Since(start); got < d {
		t.Errorf("error answered after %v, want >= %v", got, d)
	}
}

func TestStall(t *testing.T) {
	t.Parallel()
	s, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, s, accA, "stalled")

	// A request arriving during a stall is answered at its end, but its arrival time is its own.
	before := s.elapsed()
	start := time.Now()
	s.Stall(200 * time.Millisecond)
	st, _, id := c.create(t, true)
	if got := time.Since(start); got < 200*time.Millisecond {
		t.Errorf("create answered after %v during a 200ms stall", got)
	}
	if st != 200 {
		t.Fatalf("create: status %d", st)
	}
	if got := conversationOf(t, s, id).CreateReceived - before; got > 100*time.Millisecond {
		t.Errorf("CreateReceived is %v after the stall began, want at arrival", got)
	}

	// A response in progress (in its simulated latency) when a stall begins waits for its end.
	s.SetLatency(EndpointSend, Fixed(50*time.Millisecond))
	start = time.Now()
	done := make(chan time.Duration)
	go func() {
		c.send(t, id, true)
		done <- time.Since(start)
	}()
	time.Sleep(10 * time.Millisecond)
	s.Stall(250 * time.Millisecond)
	if got := <-done; got < 250*time.Millisecond {
		t.Errorf("send answered after %v, want >= 250ms", got)
	}

	// Lifting a stall releases the held responses at once.
	s.SetLatency(EndpointSend, Latency{})
	s.Stall(time.Minute)
	start = time.Now()
	go func() {
		c.send(t, id, true)
		done <- time.Since(start)
	}()
	time.Sleep(20 * time.Millisecond)
	s.Stall(0)
	if got := <-done; got > 5*time.Second {
		t.Errorf("send answered after %v once the stall was lifted", got)
	}
}

func TestServerClosePrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*Server)
	}{
		// A stall of a minute in force.
		{"stall", func(s *Server) { s.Stall(time.Minute) }},
		// A simulated latency of a minute.
		{"latency", func(s *Server) { s.SetLatency(EndpointCSDS, Fixed(time.Minute)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := NewServer(testConfig())
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(srv)
			var wg sync.WaitGroup
			wg.Go(func() {
				resp, err := http.Get(srv.URL + csdsAllPath(accA))
				if err == nil { // answered at Close, or cut: both are fine
					resp.Body.Close()
				}
			})
			// Wait until the request is being held: it is counted once its status is decided.
			for deadline := time.Now().Add(5 * time.Second); srv.Ledger().Requests[EndpointCSDS][200] == 0; {
				if time.Now().After(deadline) {
					t.Fatal("request never reached the server")
				}
				time.Sleep(5 * time.Millisecond)
			}
			start := time.Now()
			srv.Close()
			if got := time.Since(start); got > 2*time.Second {
				t.Errorf("Close took %v with a request held", got)
			}
			wg.Wait()
			srv.Close() // idempotent
			if _, err := http.Get(srv.URL + csdsAllPath(accA)); err == nil {
				t.Errorf("server still answers after Close")
			}
		})
	}
}

// TestServerSingleHost: with single_host, every service is at URL, CSDS says so, and a journey's
// requests all go there.
func TestServerSingleHost(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.SingleHost = true
	srv := startServer(t, cfg)
	host := strings.TrimPrefix(srv.URL, "http://")
	st, b := do(t, "GET", srv.URL+csdsAllPath(accA), "")
	var csds struct{ BaseURIs []csdsEntry }
	if err := json.Unmarshal(b, &csds); st != 200 || err != nil || len(csds.BaseURIs) != len(csdsServices) {
		t.Fatalf("csds: %d %s", st, b)
	}
	for _, e := range csds.BaseURIs {
		if e.BaseURI != host || srv.ServiceURL(e.Service) != srv.URL {
			t.Errorf("%s at %q (ServiceURL %q), want %q", e.Service, e.BaseURI, srv.ServiceURL(e.Service), host)
		}
	}
	c := newConsumer(t, newRemote(srv.URL), accA, "single")
	if st, b, _ := c.create(t, true); st != 200 {
		t.Errorf("create at the one host: %d %s", st, b)
	}
}
