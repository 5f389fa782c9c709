package lpsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// callH is call returning the response headers too.
func callH(t testing.TB, h http.Handler, method, target, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// TestRateLimit: once an account's burst is spent, its requests get 429 with Retry-After, and
// change nothing; other accounts and endpoints are not affected.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.RateLimits = map[Endpoint]RateLimit{EndpointCreate: {Rate: 0.01, Burst: 2, RetryAfter: 1500 * time.Millisecond}}
	s, _ := newFakeSim(t, cfg)
	create := func(c consumer) (int, http.Header, []byte) {
		return callH(t, s, "POST", createPath(c.acc), fixture(t, "create-conversation.json", "{accountid}", c.acc), c.headers(true)...)
	}
	a1, a2, a3 := newConsumer(t, s, accA, "a1"), newConsumer(t, s, accA, "a2"), newConsumer(t, s, accA, "a3")
	for _, c := range []consumer{a1, a2} { // the burst
		if st, _, b := create(c); st != 200 {
			t.Fatalf("create within the burst: %d %s", st, b)
		}
	}
	st, h, b := create(a3)
	if st != http.StatusTooManyRequests {
		t.Fatalf("create past the burst: %d %s", st, b)
	}
	checkError(t, b, 429, 0)
	if got, want := h.Get("Retry-After"), "2"; got != want { // 1.5 s, rounded up
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if !strings.Contains(string(b), `"title":"Too many requests, please try again later"`) {
		t.Errorf("429 body %s", b)
	}
	l := s.Ledger()
	if got, want := l.ConversationsCreated, int64(2); got != want {
		t.Errorf("conversations = %d, want %d: a refused request created one", got, want)
	}
	if got, want := l.Requests[EndpointCreate][429], int64(1); got != want {
		t.Errorf("429 count = %d, want %d", got, want)
	}
	// Another account has its own bucket; other endpoints are not limited.
	b1 := newConsumer(t, s, accB, "b1")
	if st, _, body := create(b1); st != 200 {
		t.Errorf("account B: %d %s", st, body)
	}
	if st, _ := call(t, s, "GET", csdsAllPath(accA), ""); st != 200 {
		t.Errorf("CSDS of account A: %d", st)
	}
	// Reset refills the buckets.
	s.Reset()
	if st, _, b := create(a3); st != 200 {
		t.Errorf("after Reset: %d %s", st, b)
	}
}

// TestRateLimitDefaults: Burst 0 is one second's worth, RetryAfter 0 the time of one token (at
// least 1 s).
func TestRateLimitDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		l          RateLimit
		burst      int
		retryAfter string
	}{
		// 5/s: burst 5, one token in 200 ms → 1 s.
		{RateLimit{Rate: 5}, 5, "1"},
		// 0.25/s: burst 1, one token in 4 s.
		{RateLimit{Rate: 0.25}, 1, "4"},
		// Explicit values win.
		{RateLimit{Rate: 5, Burst: 2, RetryAfter: 3 * time.Second}, 2, "3"},
		// Sub-second Retry-After is rounded up.
		{RateLimit{Rate: 5, RetryAfter: time.Millisecond}, 5, "1"},
	}
	for _, tt := range tests {
		l := newLimiter(tt.l)
		if l.burst != tt.burst || l.retryAfter[0] != tt.retryAfter {
			t.Errorf("%+v: burst %d retry-after %s, want %d %s", tt.l, l.burst, l.retryAfter[0], tt.burst, tt.retryAfter)
		}
	}
	if newLimiter(RateLimit{}) != nil {
		t.Errorf("rate 0 limits")
	}
}
