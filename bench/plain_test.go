package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// seen is one request as a server saw it, with what differs from consumer to consumer masked.
type seen struct {
	method, uri, body string
	header            map[string]string
}

// recorder is a handler that notes every request, then passes it to the simulator.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	reqs []seen
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s := seen{method: r.Method, uri: r.URL.RequestURI(), body: string(body), header: map[string]string{}}
	for _, k := range []string{"Content-Type", "Accept", "User-Agent", "Client-Properties"} {
		s.header[k] = r.Header.Get(k)
	}
	for _, k := range []string{"Authorization", "X-LP-ON-BEHALF"} {
		if r.Header.Get(k) != "" {
			s.header[k] = "(set)" // tokens differ from client to client
		}
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, s)
	rc.mu.Unlock()
	rc.h.ServeHTTP(w, r)
}

// take returns the requests seen since the last take.
func (rc *recorder) take() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.reqs
	rc.reqs = nil
	return out
}

// TestPlainSendsLpbenchRequests checks that the baseline client makes exactly the requests of an
// lpbench journey — the same count, methods, URIs, headers and bodies, but for the consumer id
// and the conversation id — so that comparing their CPU per request compares like with like.
func TestPlainSendsLpbenchRequests(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.New(fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	rc := &recorder{h: sim}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	acct := sim.Config().Accounts[0]

	// lpbench: the first journey also looks up the domains and fetches the AppJWT.
	j := newJourney(t, srv.URL, acct, time.Now())
	j.Opts.ConsumerPrefix = "consumer-"
	var r sample.Record
	j.Run(context.Background(), &r)
	if r.Outcome != sample.OutcomeOK {
		t.Fatalf("lpbench journey: outcome %v, class %v at %v", r.Outcome, r.Class, r.Failed)
	}
	lpbench := mask(rc.take(), "consumer-0", r.ConversationID)

	c := NewPlain(acct.ID)
	if err := c.Setup(srv.URL, acct.ClientID, acct.ClientSecret); err != nil {
		t.Fatal(err)
	}
	if err := c.Journey(0); err != nil {
		t.Fatal(err)
	}
	plainReqs := rc.take()
	var conv string
	for _, s := range plainReqs { // the close request names the conversation
		if i := strings.Index(s.body, `"conversationId":"`); i >= 0 {
			conv, _, _ = strings.Cut(s.body[i+len(`"conversationId":"`):], `"`)
		}
	}
	plain := mask(plainReqs, "baseline-0", conv)

	if got, want := len(plain), len(lpbench); got != want {
		t.Fatalf("baseline made %d requests, lpbench %d", got, want)
	}
	if got, want := len(lpbench), 6; got != want { // CSDS, AppJWT, then 4 per journey
		t.Errorf("lpbench made %d requests in its first journey, want %d", got, want)
	}
	for i := range lpbench {
		l, p := lpbench[i], plain[i]
		if l.method != p.method || l.uri != p.uri {
			t.Errorf("request %d: baseline %s %s, lpbench %s %s", i, p.method, p.uri, l.method, l.uri)
			continue
		}
		for k, v := range l.header {
			if p.header[k] != v {
				t.Errorf("%s %s: header %s: baseline %q, lpbench %q", l.method, l.uri, k, p.header[k], v)
			}
		}
		for k := range p.header {
			if _, ok := l.header[k]; !ok {
				t.Errorf("%s %s: baseline sends header %s, lpbench does not", l.method, l.uri, k)
			}
		}
		if strings.Contains(l.uri, "/app/token") {
			continue // the form carries the client id and secret in lpbench's order; not per journey
		}
		if l.body != p.body {
			t.Errorf("%s %s: body\nbaseline %s\nlpbench  %s", l.method, l.uri, p.body, l.body)
		}
	}
}

// mask replaces the consumer id and conversation id in the requests' bodies.
func mask(reqs []seen, consumer, conversation string) []seen {
	for i := range reqs {
		if conversation != "" {
			reqs[i].body = strings.ReplaceAll(reqs[i].body, conversation, "{conversationId}")
		}
		reqs[i].body = strings.ReplaceAll(reqs[i].body, consumer, "{consumer}")
	}
	return reqs
}
