package lp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// makeJWT returns an unsigned JWT-shaped token with the given claims.
func makeJWT(claims map[string]any) string {
	p, _ := json.Marshal(claims)
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
}

func TestRefreshTime(t *testing.T) {
	now := time.Now()
	unix := float64(now.Unix())
	for _, tc := range []struct {
		name  string
		token string
		// want is the refresh time's offset from now, within a second.
		want time.Duration
	}{
		// One hour: renewed 60 s before expiry.
		{"one hour", makeJWT(map[string]any{"iat": unix, "exp": unix + 3600}), 3540 * time.Second},
		// Three seconds: renewed a fifth of the lifetime early.
		{"three seconds", makeJWT(map[string]any{"iat": unix, "exp": unix + 3}), 2400 * time.Millisecond},
		// exp − iat says an hour, but the wall clock says it ends in 10 s: believe the nearer.
		{"skewed", makeJWT(map[string]any{"iat": unix - 3590, "exp": unix + 10}), 8 * time.Second},
		// No iat: exp alone.
		{"exp only", makeJWT(map[string]any{"exp": unix + 100}), 80 * time.Second},
		// Not a JWT: LivePerson's documented one hour.
		{"opaque", "opaque-token", 59 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := refreshTime(tc.token, now).Sub(now)
			if d := got - tc.want; d < -time.Second || d > time.Second {
				t.Errorf("refresh in %v, want %v ± 1s", got, tc.want)
			}
		})
	}
}

// sentinel is a token server that counts fetches and answers slowly, so concurrent callers
// overlap.
func sentinel(t *testing.T, lifetime time.Duration, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		time.Sleep(delay)
		now := time.Now().Unix()
		tok := makeJWT(map[string]any{"iat": now, "exp": now + int64(lifetime/time.Second), "n": k})
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer"}`, tok)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestAppJWTSharedAndCollapsed: 50 journeys asking at once cause one fetch and all get its token.
func TestAppJWTSharedAndCollapsed(t *testing.T) {
	srv, fetches := sentinel(t, time.Hour, 100*time.Millisecond)
	c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
	d := Domains{Sentinel: strings.TrimPrefix(srv.URL, "http://")}

	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Go(func() {
			tok, _, err := c.AppJWT(context.Background(), d)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	if got, want := fetches.Load(), int64(1); got != want {
		t.Errorf("fetches = %d, want %d", got, want)
	}
	for i, tok := range tokens {
		if tok != tokens[0] || tok == "" {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	// Served from the cache now.
	if _, fetched, _ := c.AppJWT(context.Background(), d); fetched {
		t.Error("a fresh token was fetched again")
	}
	if got, want := c.AppJWTFetches(), int64(1); got != want {
		t.Errorf("AppJWTFetches = %d, want %d", got, want)
	}
}

// TestAppJWTRefreshedBeforeExpiry: a 2 s token is renewed once its refresh time passes.
func TestAppJWTRefreshedBeforeExpiry(t *testing.T) {
	srv, fetches := sentinel(t, 2*time.Second, 0)
	c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
	d := Domains{Sentinel: strings.TrimPrefix(srv.URL, "http://")}
	first, _, err := c.AppJWT(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	// Lifetime at most 2 s, renewed a fifth early: due by 1.6 s at the latest.
	time.Sleep(1700 * time.Millisecond)
	second, fetched, err := c.AppJWT(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if !fetched || second == first {
		t.Errorf("token not renewed (fetched %v)", fetched)
	}
	if got, want := fetches.Load(), int64(2); got != want {
		t.Errorf("fetches = %d, want %d", got, want)
	}
}

// TestInvalidateAppJWT: a token the server rejected is dropped, but not one refreshed meanwhile.
func TestInvalidateAppJWT(t *testing.T) {
	srv, fetches := sentinel(t, time.Hour, 0)
	c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
	d := Domains{Sentinel: strings.TrimPrefix(srv.URL, "http://")}
	first, _, _ := c.AppJWT(context.Background(), d)
	c.InvalidateAppJWT("some older token")
	if tok, _, _ := c.AppJWT(context.Background(), d); tok != first {
		t.Error("invalidating another token dropped the current one")
	}
	c.InvalidateAppJWT(first)
	if tok, _, _ := c.AppJWT(context.Background(), d); tok == first {
		t.Error("the rejected token is still served")
	}
	if got, want := fetches.Load(), int64(2); got != want {
		t.Errorf("fetches = %d, want %d", got, want)
	}
}

// TestCachedFetchFailureNotCached: a failed fetch is reported to its waiters and retried by the
// next caller; a caller that gives up does not fail the fetch for the others.
func TestCachedFetchFailureNotCached(t *testing.T) {
	var c cached[int]
	calls := 0
	fail := func(ctx context.Context) (int, time.Time, error) {
		calls++
		return 0, time.Time{}, fmt.Errorf("down")
	}
	if _, _, err := c.get(context.Background(), fail); err == nil {
		t.Fatal("want the fetch's error")
	}
	// Within the backoff, callers get the last error without a new fetch.
	if _, started, err := c.get(context.Background(), fail); err == nil || started || calls != 1 {
		t.Fatalf("during the backoff: err %v, started %v, fetches %d", err, started, calls)
	}
	c.mu.Lock()
	c.retryAt = time.Time{} // the backoff is over
	c.mu.Unlock()
	release := make(chan struct{})
	slow := func(ctx context.Context) (int, time.Time, error) {
		<-release
		return 7, time.Now().Add(time.Hour), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.get(ctx, slow); err == nil {
		t.Fatal("a cancelled caller got no error")
	}
	done := make(chan int)
	go func() {
		v, _, _ := c.get(context.Background(), slow) // joins the fetch the cancelled caller started
		done <- v
	}()
	close(release)
	if got, want := <-done, 7; got != want {
		t.Errorf("value = %d, want %d", got, want)
	}
	if got, want := c.count(), int64(2); got != want {
		t.Errorf("fetches = %d, want %d", got, want)
	}
}

// TestUnusableTarget: a Sentinel that refuses the credentials every time makes the target
// unusable after a few fetches spaced by a growing backoff, not one per journey.
func TestUnusableTarget(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	defer srv.Close()
	c, _ := NewClient(Target{Name: "t", Account: testAccount, CSDS: srv.URL, Scheme: "http", ClientSecret: "SECRET-XYZ"})
	d := Domains{Sentinel: strings.TrimPrefix(srv.URL, "http://")}
	deadline := time.Now().Add(5 * time.Second)
	calls := 0
	for c.Unusable() == nil && time.Now().Before(deadline) {
		c.AppJWT(context.Background(), d)
		calls++
		time.Sleep(time.Millisecond)
	}
	err := c.Unusable()
	if err == nil || !strings.Contains(err.Error(), "Sentinel refused the app's credentials") || strings.Contains(err.Error(), "SECRET-XYZ") {
		t.Fatalf("Unusable() = %v", err)
	}
	if got := n.Load(); got != unusableAfter || calls < 100 {
		t.Errorf("%d requests for %d callers: want %d, the rest answered from the backoff", got, calls, unusableAfter)
	}
}

// TestOnlyStringField: the IdP answer's fast path gives what json.Unmarshal gives, or declines.
func TestOnlyStringField(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"token":"a.b.c"}`, ` { "token" : "a.b.c" } ` + "\n", `{"token":""}`, `{"token":"a\"b"}`, `{"token":"a\u0041"}`,
		`{"token":"a","x":1}`, `{"token":"a"}x`, `{"token":"a"`, `{"tokens":"a"}`, `{"token":1}`, `{"token":"é"}`, `[]`, ``,
	} {
		got, ok := onlyStringField([]byte(body), "token")
		var out struct {
			Token string `json:"token"`
		}
		err := json.Unmarshal([]byte(body), &out)
		if ok && (err != nil || got != out.Token) {
			t.Errorf("%q: fast path %q, json.Unmarshal %q, %v", body, got, out.Token, err)
		}
		if want := body == `{"token":"a.b.c"}` || body == ` { "token" : "a.b.c" } `+"\n" || body == `{"token":""}`; ok != want {
			t.Errorf("%q: fast path taken %v, want %v", body, ok, want)
		}
	}
}
