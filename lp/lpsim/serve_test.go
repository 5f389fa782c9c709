package lpsim

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeBanner: the standalone server prints its URL and one line per account, with the client
// secret only when it was generated locally.
func TestServeBanner(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Accounts = append(cfg.Accounts, Account{ID: "45678901", Region: "lo", ClientID: "given-id", ClientSecret: "given-secret-xyz"})
	url, banner := standalone(t, cfg)
	lines := bannerLines(banner)
	if got, want := len(lines), 2+len(cfg.Accounts)+2; got != want {
		t.Fatalf("%d banner lines, want %d:\n%s", got, want, banner)
	}
	if !regexp.MustCompile(`^lpsim listening on http://127\.0\.0\.1:[0-9]+$`).MatchString(lines[0]) {
		t.Errorf("first line %q", lines[0])
	}
	// Then the host of each service, as CSDS gives them.
	if !regexp.MustCompile(`^service hosts \(as CSDS gives them\): sentinel http://127\.0\.0\.1:[0-9]+ idp http://127\.0\.0\.1:[0-9]+ asyncMessagingEnt http://127\.0\.0\.1:[0-9]+$`).MatchString(lines[1]) {
		t.Errorf("second line %q", lines[1])
	}
	lines = lines[1:]
	for i, a := range cfg.Accounts {
		want := "account " + a.ID + " region " + a.Region + " client_id " + a.ClientID
		if a.generatedSecret {
			want += " client_secret " + a.ClientSecret
		}
		if got := lines[1+i]; got != want {
			t.Errorf("line %d = %q, want %q", 1+i, got, want)
		}
	}
	// Then how to register a webhook, with the first account as the example.
	n := 1 + len(cfg.Accounts)
	if got, want := lines[n], "register a webhook: POST "+url+`/_lpsim/webhooks {"account":"`+cfg.Accounts[0].ID+`","url":"http://HOST:PORT/PATH"} (DELETE /_lpsim/webhooks/ID removes it)`; got != want {
		t.Errorf("line %d = %q, want %q", n, got, want)
	}
	if got, want := lines[n+1], "lpbench run --sim-url "+url+" registers its own webhook receiver"; got != want {
		t.Errorf("line %d = %q, want %q", n+1, got, want)
	}
	// A secret from the configuration is never printed.
	if strings.Contains(banner, "given-secret-xyz") {
		t.Errorf("banner shows a configured secret:\n%s", banner)
	}
	// The printed credentials work.
	if st, b := call(t, newRemote(url), "GET", csdsAllPath("34567890"), ""); st != 200 {
		t.Errorf("CSDS of the sy account: %d %s", st, b)
	}
}

// TestServeStopsOnCancel: Serve returns nil soon after its context ends, even with a response
// held by a long stall, and the port then refuses connections.
func TestServeStopsOnCancel(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Stalls = []StallWindow{{At: 0, For: time.Hour}}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", cfg, out) }()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == ""; time.Sleep(2 * time.Millisecond) {
		if first, _, ok := strings.Cut(out.String(), "\n"); ok {
			url = strings.TrimPrefix(first, "lpsim listening on ")
		}
		if time.Now().After(deadline) {
			t.Fatal("no banner")
		}
	}
	held := make(chan int, 1)
	go func() {
		resp, err := http.Get(url + csdsAllPath(accA))
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	time.Sleep(50 * time.Millisecond) // let the request be held (not an assertion: either way Serve must stop)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Serve took %v to stop", d)
	}
	if st := <-held; st != 0 && st != 200 {
		t.Errorf("held request answered %d", st)
	}
	if resp, err := http.Get(url + csdsAllPath(accA)); err == nil {
		resp.Body.Close()
		t.Errorf("server still answers after Serve returned")
	}
}

// TestServeErrors: Serve reports a bad configuration and an address it must not use, at once.
func TestServeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr string
		cfg  Config
		want string
	}{
		// Invalid configuration.
		{"config", "", Config{}, "no accounts"},
		// All interfaces is not loopback.
		{"all interfaces", ":0", testConfig(), "not a loopback address"},
		{"unspecified", "0.0.0.0:0", testConfig(), "not a loopback address"},
		// Not host:port.
		{"no port", "127.0.0.1", testConfig(), "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out syncBuffer
			err := Serve(ctx, tt.addr, tt.cfg, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Serve = %v, want an error with %q", err, tt.want)
			}
			if ctx.Err() != nil {
				t.Errorf("Serve waited for its context before failing")
			}
			if out.String() != "" {
				t.Errorf("Serve printed %q", out.String())
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		ok   bool
	}{
		// IPv4 loopback, the whole 127/8.
		{"127.0.0.1:0", true},
		{"127.1.2.3:8080", true},
		// IPv6 loopback.
		{"[::1]:0", true},
		// The name localhost, any case.
		{"localhost:0", true},
		{"LocalHost:1", true},
		// Every interface.
		{":0", false},
		{"0.0.0.0:0", false},
		{"[::]:0", false},
		// Another address or name.
		{"10.0.0.1:80", false},
		{"example.com:80", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

// TestAllowRemote: with AllowRemote the loopback check is skipped (the listen error then comes
// from the network stack, not from the check).
func TestAllowRemote(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	if _, err := NewServerAt(cfg, "256.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("without AllowRemote: %v", err)
	}
	cfg.AllowRemote = true
	if _, err := NewServerAt(cfg, "256.0.0.1:0"); err == nil || strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("with AllowRemote: %v, want a listen error", err)
	}
}

// TestControlRoutes: the ledger and the reset over HTTP; other methods are refused and nothing
// there is counted.
func TestControlRoutes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, testConfig())
	rm := newRemote(srv.URL)
	c := newConsumer(t, rm, accA, "ctl")
	if st, _, _ := c.create(t, true); st != 200 {
		t.Fatalf("create: %d", st)
	}
	if got := srv.Ledger().ConversationsCreated; got != 1 {
		t.Fatalf("conversations = %d, want 1", got)
	}
	if st, _ := call(t, rm, "GET", "/_lpsim/reset", ""); st != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: %d, want 405", st)
	}
	if st, _ := call(t, rm, "POST", "/_lpsim/ledger", ""); st != http.StatusMethodNotAllowed {
		t.Errorf("POST ledger: %d, want 405", st)
	}
	if got := srv.Ledger().ConversationsCreated; got != 1 {
		t.Errorf("GET reset reset the ledger")
	}
	if st, b := call(t, rm, "POST", "/_lpsim/reset", ""); st != http.StatusNoContent {
		t.Fatalf("POST reset: %d %s", st, b)
	}
	l := srv.Ledger()
	if l.ConversationsCreated != 0 || len(l.Conversations) != 0 || l.AppJWTsIssued != 0 {
		t.Errorf("after reset: %+v", l)
	}
	for _, e := range endpoints {
		if len(l.Requests[e]) != 0 {
			t.Errorf("after reset: requests[%s] = %v", e, l.Requests[e])
		}
	}
}

// TestCloseFreshConnection: a connection on which no request was ever sent (transports dial them
// ahead) does not hold up Close, while a request in progress still gets its answer.
func TestCloseFreshConnection(t *testing.T) {
	t.Parallel()
	srv, err := NewServer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv.Stall(time.Minute)
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + csdsAllPath(accA))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	for deadline := time.Now().Add(5 * time.Second); srv.Ledger().Requests[EndpointCSDS][200] == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the server")
		}
	}
	start := time.Now()
	srv.Close()
	if got := time.Since(start); got > 2*time.Second {
		t.Errorf("Close took %v with a fresh connection open", got)
	}
	if got := <-answered; got != 200 {
		t.Errorf("request in progress: status %d, want 200", got)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("fresh connection still open after Close")
	}
}
