package lp

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// The credentials of hostileLP: known, so that tests can look for them in every error text.
const (
	hostileClientID     = "cid-hostile"
	hostileClientSecret = "S3cr3t-hostile-9f8e7d6c5b4a"
	hostileJWS          = "jws-hostile-0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
)

// hostileLP is a fake LivePerson that answers every endpoint as documented, with the CSDS answer
// pointing at itself, except one operation whose handler a test replaces. It also runs a second
// server, "another host", that must never be reached.
type hostileLP struct {
	srv     *httptest.Server
	other   *httptest.Server
	appJWT  string
	release chan struct{} // closed at cleanup: handlers that hang return

	mu         sync.Mutex
	hits       map[string]int
	otherHits  atomic.Int64
	written    atomic.Int64 // bytes of a large answer the server could write
	writeErr   atomic.Bool  // and whether a write failed (the client closed the connection)
	override   map[string]hostileHandler
	handlerEnd chan struct{} // closed when an overriding handler returns (once)
	endOnce    sync.Once
}

// hostileHandler answers one operation; body is the request body, already read.
type hostileHandler func(h *hostileLP, w http.ResponseWriter, r *http.Request, body []byte)

// newHostileLP starts the fake, over TLS when secure, with op answered by handler (if any).
func newHostileLP(t *testing.T, secure bool, op string, handler hostileHandler) *hostileLP {
	now := time.Now().Unix()
	h := &hostileLP{
		appJWT:     makeJWT(map[string]any{"iat": now, "exp": now + 3600, "iss": "Sentinel", "aud": testAccount}),
		release:    make(chan struct{}),
		hits:       map[string]int{},
		override:   map[string]hostileHandler{},
		handlerEnd: make(chan struct{}),
	}
	if handler != nil {
		h.override[op] = handler
	}
	mux := http.NewServeMux()
	h.srv = httptest.NewUnstartedServer(mux)
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if secure {
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	h.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.otherHits.Add(1)
	}))
	host := h.srv.Listener.Addr().String()
	csds := fmt.Appendf(nil, `{"baseURIs":[{"service":"sentinel","account":%[1]q,"baseURI":%[2]q},`+
		`{"service":"idp","account":%[1]q,"baseURI":%[2]q},{"service":"asyncMessagingEnt","account":%[1]q,"baseURI":%[2]q}]}`,
		testAccount, host)
	answers := map[string]struct {
		status int
		body   []byte
	}{
		"csds":        {200, csds},
		"appjwt":      {200, fmt.Appendf(nil, `{"access_token":%q,"token_type":"Bearer"}`, h.appJWT)},
		"consumerjws": {201, fmt.Appendf(nil, `{"token":%q}`, hostileJWS)},
		"create":      {200, fixture(t, "create-conversation-response.json")},
		"send":        {200, fixture(t, "send-response.json")},
		"close":       {200, fixture(t, "send-response.json")},
	}
	serve := func(endpoint string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			// Reading the body whole lets the server notice a client that goes away.
			body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
			op := endpoint
			if op == "send" && bytes.Contains(body, []byte("cm.UpdateConversationField")) {
				op = "close"
			}
			h.mu.Lock()
			h.hits[op]++
			fn := h.override[op]
			h.mu.Unlock()
			if fn != nil {
				defer h.endOnce.Do(func() { close(h.handlerEnd) })
				fn(h, w, r, body)
				return
			}
			a := answers[op]
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			w.Write(a.body)
		}
	}
	mux.Handle("GET /api/account/{acc}/service/baseURI.json", serve("csds"))
	mux.Handle("POST /sentinel/api/account/{acc}/app/token", serve("appjwt"))
	mux.Handle("POST /api/account/{acc}/consumer", serve("consumerjws"))
	mux.Handle("POST /api/account/{acc}/messaging/consumer/conversation", serve("create"))
	mux.Handle("POST /api/account/{acc}/messaging/consumer/conversation/send", serve("send"))
	return h
}

// close ends the fake: hanging handlers are released, every connection closed.
func (h *hostileLP) close() {
	close(h.release)
	h.srv.CloseClientConnections()
	h.srv.Close()
	h.other.CloseClientConnections()
	h.other.Close()
}

// client returns a Client of the fake's target.
func (h *hostileLP) client(t *testing.T, insecure bool) *Client {
	t.Helper()
	scheme := "http"
	if strings.HasPrefix(h.srv.URL, "https:") {
		scheme = "https"
	}
	c, err := NewClient(Target{Name: "hostile", Account: testAccount, CSDS: h.srv.URL, Scheme: scheme,
		ClientID: hostileClientID, ClientSecret: hostileClientSecret, InsecureSkipVerify: insecure})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// secrets returns the credentials no error text may hold.
func (h *hostileLP) secrets() []string {
	return []string{hostileClientSecret, h.appJWT, hostileJWS}
}

// hang answers nothing until the client goes away or the test ends.
func hang(h *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
	select {
	case <-r.Context().Done():
	case <-h.release:
	}
}

// answer returns a handler writing status and body with the given Content-Type.
func answer(status int, contentType, body string) hostileHandler {
	return func(_ *hostileLP, w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// rawAnswer hijacks the connection, writes raw, waits a moment (so the client has read it), and
// resets the connection (SO_LINGER 0: an RST, not a FIN).
func rawAnswer(raw func(h *hostileLP, r *http.Request) string) hostileHandler {
	return func(h *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		buf.WriteString(raw(h, r))
		buf.Flush()
		select {
		case <-time.After(100 * time.Millisecond):
		case <-h.release:
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
}

// hugeSize is the body size of the "50 MB body" row.
const hugeSize = 50 << 20

// runHostile runs one journey against h's target and returns its record, how long Run took, and
// the text of every error the journey saw.
func runHostile(t *testing.T, c *Client, timeout time.Duration) (sample.Record, time.Duration, []error) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	j := &Journey{Client: c, Epoch: time.Now().Add(-time.Second), Target: 3, Opts: JourneyOptions{
		Window: 10 * time.Second, AutoMessages: true, Message: "hello", Close: true,
		RequestTimeout: timeout, ConsumerPrefix: "hostile-",
		OnError: func(s sample.Step, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		},
	}}
	rec := sample.Record{Index: 7, Intended: time.Second}
	start := time.Now()
	j.Run(context.Background(), &rec)
	return rec, time.Since(start), errs
}

// TestHostileServers runs a whole journey against a server one of whose endpoints misbehaves, and
// checks that the journey fails at that step with the right class, on time, with sane spans,
// bounded memory, no goroutine left behind, and no credential in any error text.
func TestHostileServers(t *testing.T) {
	const short = 300 * time.Millisecond
	for _, tc := range []struct {
		name    string
		timeout time.Duration // the request timeout, when not short
		op      string        // the operation that misbehaves
		handler hostileHandler
		ok      bool        // the journey succeeds despite it
		failed  sample.Step // else: the step that fails, its class, status and errorCode
		class   sample.Class
		status  int
		code    int
		check   func(t *testing.T, h *hostileLP, errs []error)
	}{
		// CSDS answers JSON cut short.
		{name: "malformed JSON", op: "csds",
			handler: answer(200, "application/json", `{"baseURIs":[{"service":"sentinel","baseURI":`),
			failed:  sample.Lookup, class: sample.ClassProtocol, status: 200},
		// Sentinel answers 50 MB: the client reads 1 MiB + 1 byte, gives up and closes the
		// connection, so the server cannot write it all. Reading that MiB must not race the
		// request timeout on a busy machine: the body's size, not the clock, ends the read.
		{name: "50 MB body", op: "appjwt", timeout: 10 * time.Second,
			handler: func(h *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", fmt.Sprint(hugeSize))
				chunk := bytes.Repeat([]byte("a"), 64<<10) // written again and again: no allocation
				io.WriteString(w, `{"access_token":"`)
				for h.written.Load() < hugeSize-64<<10 {
					n, err := w.Write(chunk)
					h.written.Add(int64(n))
					if err != nil {
						h.writeErr.Store(true)
						return
					}
				}
			},
			failed: sample.AppJWT, class: sample.ClassProtocol, status: 200,
			check: func(t *testing.T, h *hostileLP, _ []error) {
				select {
				case <-h.handlerEnd:
				case <-time.After(5 * time.Second):
					t.Fatal("the 50 MB handler is still writing 5 s after the journey ended")
				}
				written := h.written.Load()
				t.Logf("server wrote %d bytes of %d before the client closed the connection", written, hugeSize)
				if !h.writeErr.Load() || written >= hugeSize {
					t.Errorf("the server wrote %d bytes without error: the client read the whole body", written)
				}
			}},
		// The IdP sends its headers, then the body one byte a second: the request timeout ends
		// the read.
		{name: "trickle 1 byte/s", op: "consumerjws",
			handler: func(h *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
				body := fmt.Sprintf(`{"token":%q}`, hostileJWS)
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				w.WriteHeader(201)
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for i := 0; i < len(body); i++ {
					w.Write([]byte{body[i]})
					w.(http.Flusher).Flush()
					select {
					case <-tick.C:
					case <-r.Context().Done():
						return
					case <-h.release:
						return
					}
				}
			},
			failed: sample.ConsumerJWS, class: sample.ClassTimeout, status: 201},
		// CONVERSATION's connection is reset half-way through a body announced as 4 KiB.
		{name: "connection reset mid-body", op: "create",
			handler: rawAnswer(func(*hostileLP, *http.Request) string {
				return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n" + `[{"code":"OK","reqId":"1,",`
			}),
			failed: sample.Create, class: sample.ClassNetwork, status: 200},
		// SEND answers a proxy's HTML error page; the conversation is still closed.
		{name: "HTML error page", op: "send",
			handler: answer(500, "text/html", "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>"),
			failed:  sample.Send, class: sample.ClassHTTP5xx, status: 500},
		// CONVERSATION's valid JSON comes as text/html. Accepted: LivePerson does not document or
		// guarantee the Content-Type, and rejecting it would fail journeys the server served.
		{name: "wrong content type", op: "create",
			handler: answer(200, "text/html; charset=iso-8859-1", `[{"code":"OK","reqId":"1,","body":{}},{"code":"OK","reqId":"2,","body":{"conversationId":"c-text-html"}}]`),
			ok:      true},
		// SEND answers 200 with the documented 401 error shape: the body's code decides.
		{name: "200 with an error body", op: "send",
			handler: answer(200, "application/json", `{"kind":"resp","reqId":"1","code":401,"body":{"title":"ConsumerJWS invalid","errorCode":40103},"type":".ReqBody$ErrorResp"}`),
			failed:  sample.Send, class: sample.ClassAuth, status: 200, code: 40103},
		// CONVERSATION answers 200 with an error element for the conversation request.
		{name: "200 with an error element", op: "create",
			handler: answer(200, "application/json", `[{"code":"OK","reqId":"1,","body":{}},{"code":503,"reqId":"2,","body":{"title":"service unavailable"}}]`),
			failed:  sample.Create, class: sample.ClassHTTP5xx, status: 200},
		// CONVERSATION answers OK but without a conversationId.
		{name: "no conversationId", op: "create",
			handler: answer(200, "application/json", `[{"code":"OK","reqId":"1,","body":{}},{"code":"OK","reqId":"2,","body":{}}]`),
			failed:  sample.Create, class: sample.ClassProtocol, status: 200},
		// CONVERSATION redirects to another host: not followed, so the tokens never go there.
		{name: "redirect to another host", op: "create",
			handler: func(h *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
				http.Redirect(w, r, h.other.URL+"/api/account/"+testAccount+"/messaging/consumer/conversation?v=3", http.StatusFound)
			},
			failed: sample.Create, class: sample.ClassProtocol, status: 302,
			check: func(t *testing.T, h *hostileLP, _ []error) {
				if n := h.otherHits.Load(); n != 0 {
					t.Errorf("the other host received %d requests", n)
				}
			}},
		// SEND never answers; the close that follows does.
		{name: "never answers", op: "send", handler: hang,
			failed: sample.Send, class: sample.ClassTimeout},
		// CSDS never answers: the shared lookup runs detached from the journey, yet ends with it.
		{name: "never answers (shared lookup)", op: "csds", handler: hang,
			failed: sample.Lookup, class: sample.ClassTimeout},
		// The close never answers: an otherwise good journey fails at close.
		{name: "close never answers", op: "close", handler: hang,
			failed: sample.Close, class: sample.ClassTimeout},
		// The IdP answers with its request's Authorization (the AppJWT) as a status line;
		// net/http quotes it in its error.
		{name: "status line echoes the AppJWT", op: "consumerjws",
			handler: rawAnswer(func(_ *hostileLP, r *http.Request) string {
				return r.Header.Get("Authorization") + "\r\n\r\n"
			}),
			failed: sample.ConsumerJWS, class: sample.ClassNetwork,
			check: func(t *testing.T, h *hostileLP, errs []error) {
				if len(errs) == 0 || !strings.Contains(errs[0].Error(), redacted) {
					t.Errorf("errors %v: want the echoed AppJWT redacted", errs)
				}
			}},
		// Sentinel echoes the form it received, client_secret included, as its error text.
		{name: "error echoes client_secret", op: "appjwt",
			handler: func(_ *hostileLP, w http.ResponseWriter, _ *http.Request, body []byte) {
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, body)
			},
			failed: sample.AppJWT, class: sample.ClassAuth, status: 401},
		// CONVERSATION echoes X-LP-ON-BEHALF as its 401 title.
		{name: "error echoes the ConsumerJWS", op: "create",
			handler: func(_ *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"kind":"resp","code":401,"body":{"title":%q,"errorCode":40103}}`, r.Header.Get("X-LP-ON-BEHALF"))
			},
			failed: sample.Create, class: sample.ClassAuth, status: 401, code: 40103},
		// SEND echoes the AppJWT after 70 bytes of text, so that the title's cut falls inside it.
		{name: "error echoes a cut AppJWT", op: "send",
			handler: func(_ *hostileLP, w http.ResponseWriter, r *http.Request, _ []byte) {
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"body":{"title":%q}}`, strings.Repeat("x", 70)+r.Header.Get("Authorization"))
			},
			failed: sample.Send, class: sample.ClassHTTP4xx, status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			timeout := cmp.Or(tc.timeout, short)
			goroutines := runtime.NumGoroutine()
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)

			h := newHostileLP(t, false, tc.op, tc.handler)
			c := h.client(t, false)
			rec, took, errs := runHostile(t, c, timeout)
			// No request is left in flight: the misbehaving handler sees its client go away
			// (or finishes) soon after the journey ends, before any cleanup closes connections.
			select {
			case <-h.handlerEnd:
			case <-time.After(5 * time.Second):
				t.Errorf("the %s handler was still running 5 s after the journey ended: a request was left in flight", tc.op)
			}

			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			if tc.check != nil {
				tc.check(t, h, errs)
			}
			h.close()
			c.http.CloseIdleConnections()

			// The run ends on time: every row within a few request timeouts (the trickle alone
			// would take a minute).
			if limit := max(4*timeout, 5*time.Second); took > limit {
				t.Errorf("the journey took %v, want < %v", took, limit)
			}
			checkRecord(t, &rec, tc.ok, tc.failed, tc.class, tc.status, tc.code, timeout)
			// The failing step's error reached OnError with its class.
			if !tc.ok && (len(errs) == 0 || ClassOf(errs[len(errs)-1]) != tc.class) {
				t.Errorf("errors seen = %v, want the last of class %v", errs, tc.class)
			}
			for _, err := range errs {
				checkNoSecrets(t, err.Error(), h.secrets())
			}
			checkNoSecrets(t, rec.ConversationID, h.secrets())
			if h.hitCount(tc.op) == 0 {
				t.Errorf("the misbehaving %s endpoint was never called", tc.op)
			}

			// Memory stays bounded: no 50 MB body was buffered. TotalAlloc counts every byte
			// allocated meanwhile, garbage included; HeapAlloc what survived a GC.
			allocated := after.TotalAlloc - before.TotalAlloc
			grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			if tc.op == "appjwt" && tc.name == "50 MB body" {
				t.Logf("allocated %.1f MiB during the journey; heap grew by %.1f MiB", float64(allocated)/(1<<20), float64(grown)/(1<<20))
			}
			if allocated > 16<<20 || grown > 4<<20 {
				t.Errorf("allocated %d bytes, heap grew by %d bytes: a body was read whole", allocated, grown)
			}

			// No goroutine outlives the journey, once the servers and idle connections are closed.
			checkGoroutines(t, goroutines)
		})
	}
}

func (h *hostileLP) hitCount(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[op]
}

// checkRecord checks a journey record against what the row expects: the steps before the failing
// one succeeded, the failing one carries the class, status and errorCode, later steps did not run
// except the close of an opened conversation, and the spans are ordered inside [Start, End].
func checkRecord(t *testing.T, rec *sample.Record, ok bool, failed sample.Step, class sample.Class, status, code int, timeout time.Duration) {
	t.Helper()
	if ok {
		if rec.Outcome != sample.OutcomeOK || rec.Class != sample.ClassNone {
			t.Errorf("outcome %v (%v at %v), want ok", rec.Outcome, rec.Class, rec.Failed)
		}
		if rec.Verdict != sample.VerdictIn {
			t.Errorf("verdict %v, want in", rec.Verdict)
		}
	} else {
		if rec.Outcome != sample.OutcomeFailed || rec.Failed != failed || rec.Class != class {
			t.Errorf("outcome %v at %v, class %v; want failed at %v, class %v", rec.Outcome, rec.Failed, rec.Class, failed, class)
		}
		sp := rec.Steps[failed]
		if int(sp.Status) != status || int(sp.Code) != code {
			t.Errorf("%v: status %d, errorCode %d; want %d, %d", failed, sp.Status, sp.Code, status, code)
		}
		if class == sample.ClassTimeout && sp.Duration() < timeout-10*time.Millisecond {
			t.Errorf("%v timed out after %v, before the request timeout %v", failed, sp.Duration(), timeout)
		}
	}
	created := ok || failed > sample.Create
	prevEnd := rec.Start
	for s := sample.Lookup; s < sample.NumSteps; s++ {
		sp := rec.Steps[s]
		wantRan := s != sample.AutoMsg && (ok || s <= failed || s == sample.Close && created)
		if sp.Ran != wantRan {
			t.Errorf("%v ran = %v, want %v", s, sp.Ran, wantRan)
		}
		if !sp.Ran {
			if sp != (sample.Span{}) {
				t.Errorf("%v did not run but has a span %+v", s, sp)
			}
			continue
		}
		wantClass := sample.ClassNone
		if !ok && s == failed {
			wantClass = class
		}
		if sp.Class != wantClass {
			t.Errorf("%v class %v, want %v", s, sp.Class, wantClass)
		}
		if sp.Begin < prevEnd || sp.End < sp.Begin || sp.End > rec.End {
			t.Errorf("%v span [%v, %v] out of order (previous end %v, journey end %v)", s, sp.Begin, sp.End, prevEnd, rec.End)
		}
		if sp.Attempts != 1 || sp.Retries != 0 {
			t.Errorf("%v: %d attempts, %d retries; want 1, 0", s, sp.Attempts, sp.Retries)
		}
		prevEnd = sp.End
	}
	if rec.Start < rec.Intended || rec.End < rec.Start {
		t.Errorf("journey start %v, end %v, intended %v: out of order", rec.Start, rec.End, rec.Intended)
	}
}

// checkNoSecrets fails when text holds a credential or any 12-byte piece of one.
func checkNoSecrets(t *testing.T, text string, secrets []string) {
	t.Helper()
	const piece = 12
	for _, sec := range secrets {
		for i := 0; i+piece <= len(sec); i++ {
			if strings.Contains(text, sec[i:i+piece]) {
				t.Errorf("text %q holds a piece of a credential (%q)", text, sec[i:i+piece])
				return
			}
		}
	}
}

// checkGoroutines waits up to 5 s for the number of goroutines to fall back to want, and fails
// with a dump of them if it does not.
func checkGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines, %d before: leaked\n%s", n, want, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHostileGoroutines runs every kind of misbehaviour at once, many journeys each, and checks
// that the goroutine count returns to where it was.
func TestHostileGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	handlers := map[string]hostileHandler{"csds": hang, "consumerjws": hang, "create": rawAnswer(func(*hostileLP, *http.Request) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n["
	}), "send": hang, "close": hang}
	var wg sync.WaitGroup
	var fakes []*hostileLP
	var clients []*Client
	for op, handler := range handlers {
		h := newHostileLP(t, false, op, handler)
		c := h.client(t, false)
		fakes, clients = append(fakes, h), append(clients, c)
		for range 10 {
			wg.Go(func() { runHostile(t, c, 200*time.Millisecond) })
		}
	}
	wg.Wait()
	during := runtime.NumGoroutine()
	for i, h := range fakes {
		h.close()
		clients[i].http.CloseIdleConnections()
	}
	checkGoroutines(t, before)
	t.Logf("goroutines: %d before, %d after the journeys ended, %d after cleanup", before, during, runtime.NumGoroutine())
}
