package lp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/sample"
)

const testAccount = "12345678"

// fixture returns a file of the documented payloads (a copy of ../shared/fixtures).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createFixture returns LivePerson's documented CONVERSATION body (fixtures/create-conversation.json)
// for testAccount, with the given fields added to its cm.ConsumerRequestConversation body and
// its userprofile.SetUserProfile body replaced by profile (JSON).
func createFixture(t *testing.T, add map[string]any, profile string) []byte {
	t.Helper()
	var reqs []map[string]any
	b := bytes.ReplaceAll(fixture(t, "create-conversation.json"), []byte("{accountid}"), []byte(testAccount))
	if err := json.Unmarshal(b, &reqs); err != nil {
		t.Fatal(err)
	}
	var up any
	if err := json.Unmarshal([]byte(profile), &up); err != nil {
		t.Fatal(err)
	}
	reqs[0]["body"] = up
	for k, v := range add {
		reqs[1]["body"].(map[string]any)[k] = v
	}
	out, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonEqual reports whether a and b hold the same JSON value, ignoring formatting and key order.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decoding %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// captured is one request as the server saw it.
type captured struct {
	Method, Path string
	Query        string
	Header       http.Header
	Body         []byte
}

// fakeLP answers every documented endpoint with the documented fixture, pointing CSDS at itself,
// and keeps every request it received.
type fakeLP struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs map[string]captured // by operation
}

func newFakeLP(t *testing.T) *fakeLP {
	f := &fakeLP{t: t, reqs: map[string]captured{}}
	mux := http.NewServeMux()
	keep := func(op string, answer []byte, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.reqs[op] = captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body}
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(answer)
		}
	}
	f.srv = httptest.NewServer(mux)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	csds := bytes.ReplaceAll(fixture(t, "csds-all.json"), []byte("va.sentinel.liveperson.net"), []byte(host))
	csds = bytes.ReplaceAll(csds, []byte("va.idp.liveperson.net"), []byte(host))
	csds = bytes.ReplaceAll(csds, []byte("va.msg.liveperson.net"), []byte(host))
	mux.Handle("GET /api/account/{acc}/service/baseURI.json", keep("csds", csds, 200))
	mux.Handle("GET /api/account/{acc}/service/{svc}/baseURI.json", keep("csds-one", fixture(t, "csds-one.json"), 200))
	mux.Handle("POST /sentinel/api/account/{acc}/app/token", keep("appjwt", fixture(t, "appjwt-response.json"), 200))
	mux.Handle("POST /api/account/{acc}/consumer", keep("consumerjws", fixture(t, "consumerjws-response.json"), 201))
	mux.Handle("POST /api/account/{acc}/messaging/consumer/conversation", keep("create", fixture(t, "create-conversation-response.json"), 200))
	mux.HandleFunc("POST /api/account/{acc}/messaging/consumer/conversation/send", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := "send"
		if bytes.Contains(body, []byte("cm.UpdateConversationField")) {
			op = "close"
		}
		keep(op, fixture(t, "send-response.json"), 200)(w, r)
	})
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLP) req(op string) captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[op]
	if !ok {
		f.t.Fatalf("no %s request reached the server", op)
	}
	return r
}

func (f *fakeLP) client(t *testing.T) *Client {
	c, err := NewClient(Target{Name: "test", Account: testAccount, CSDS: f.srv.URL, Scheme: "http",
		ClientID: "client-id-1", ClientSecret: "s3cr3t-client-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequestsMatchFixtures runs every call against a server that keeps what it received, and
// checks method, path, query, headers and body against LivePerson's documented requests.
func TestRequestsMatchFixtures(t *testing.T) {
	f := newFakeLP(t)
	c := f.client(t)
	ctx := context.Background()

	d, err := c.LookupDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.FetchAppJWT(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := c.ConsumerJWS(ctx, d, tok.Token, "lpbench-7f3a-000042")
	if err != nil {
		t.Fatal(err)
	}
	con := &Consumer{Domains: d, AppJWT: tok.Token, JWS: jws, AutoMessages: true}
	id, err := c.CreateConversation(ctx, con)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id, "8602832d-dce1-446b-8445-0d51f5926a42"; got != want {
		t.Errorf("conversation id = %q, want %q", got, want)
	}
	seq, err := c.Send(ctx, con, id, "Hi from Send Message only - Auto Messages feature")
	if err != nil {
		t.Fatal(err)
	}
	if seq != 0 {
		t.Errorf("sequence = %d, want 0", seq)
	}
	if err := c.CloseConversation(ctx, con, id); err != nil {
		t.Fatal(err)
	}

	// CSDS: all services, version=1.0, no auth.
	r := f.req("csds")
	if got, want := r.Method+" "+r.Path+"?"+r.Query, "GET /api/account/12345678/service/baseURI.json?version=1.0"; got != want {
		t.Errorf("csds request = %q, want %q", got, want)
	}
	// Sentinel: form body with the client credentials, grant type in the query.
	r = f.req("appjwt")
	if got, want := r.Path+"?"+r.Query, "/sentinel/api/account/12345678/app/token?v=1.0&grant_type=client_credentials"; got != want {
		t.Errorf("appjwt request = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"; got != want {
		t.Errorf("appjwt Content-Type = %q, want %q", got, want)
	}
	if got, want := string(r.Body), "client_id=client-id-1&client_secret=s3cr3t-client-secret"; got != want {
		t.Errorf("appjwt body = %q, want %q", got, want)
	}
	// IdP: the bare AppJWT in Authorization, the consumer id in the body.
	r = f.req("consumerjws")
	if got, want := r.Path+"?"+r.Query, "/api/account/12345678/consumer?v=1.0"; got != want {
		t.Errorf("consumerjws request = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("Authorization"), tok.Token; got != want {
		t.Errorf("consumerjws Authorization = %q, want the bare AppJWT", got)
	}
	if !jsonEqual(t, r.Body, []byte(`{"ext_consumer_id":"lpbench-7f3a-000042"}`)) {
		t.Errorf("consumerjws body = %s", r.Body)
	}

	clientProps := fixture(t, "client-properties.json")
	for _, tc := range []struct {
		op, path string
		want     []byte
	}{
		// CONVERSATION: the documented two-request array with the account as brandId, and the
		// default consumer profile instead of the documented example's John Doe.
		{"create", "/api/account/12345678/messaging/consumer/conversation?v=3", createFixture(t, nil, `{"authenticatedData":{"lp_sdes":[`+
			`{"type":"personal","personal":{"firstname":"lpbench","lastname":"synthetic consumer"}}]}}`)},
		// SEND: ms.PublishEvent on the conversation.
		{"send", "/api/account/12345678/messaging/consumer/conversation/send?v=3",
			bytes.ReplaceAll(fixture(t, "send.json"), []byte("{conversationId}"), []byte(id))},
		// close: cm.UpdateConversationField CLOSE on the same endpoint.
		{"close", "/api/account/12345678/messaging/consumer/conversation/send?v=3",
			bytes.ReplaceAll(fixture(t, "close-conversation.json"), []byte("{conversationId}"), []byte(id))},
	} {
		r := f.req(tc.op)
		if got := r.Method + " " + r.Path + "?" + r.Query; got != "POST "+tc.path {
			t.Errorf("%s request = %q, want POST %s", tc.op, got, tc.path)
		}
		if !jsonEqual(t, r.Body, tc.want) {
			t.Errorf("%s body =\n%s\nwant\n%s", tc.op, r.Body, tc.want)
		}
		if got, want := r.Header.Get("Authorization"), tok.Token; got != want {
			t.Errorf("%s Authorization = %q, want the bare AppJWT", tc.op, got)
		}
		if got, want := r.Header.Get("X-LP-ON-BEHALF"), jws; got != want {
			t.Errorf("%s X-LP-ON-BEHALF = %q, want the ConsumerJWS", tc.op, got)
		}
		if got, want := r.Header.Get("Content-Type"), "application/json"; got != want {
			t.Errorf("%s Content-Type = %q, want %q", tc.op, got, want)
		}
		if cp := r.Header.Get("Client-Properties"); cp == "" || !jsonEqual(t, []byte(cp), clientProps) {
			t.Errorf("%s Client-Properties = %q, want %s", tc.op, cp, clientProps)
		}
	}
}

// TestNoClientPropertiesWithoutAutoMessages checks that the header is left out when asked.
func TestNoClientPropertiesWithoutAutoMessages(t *testing.T) {
	f := newFakeLP(t)
	c := f.client(t)
	ctx := context.Background()
	d, _ := c.LookupDomains(ctx)
	con := &Consumer{Domains: d, AppJWT: "a", JWS: "b"}
	if _, err := c.CreateConversation(ctx, con); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, con, "x", "hi"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"create", "send"} {
		if h, ok := f.req(op).Header["Client-Properties"]; ok {
			t.Errorf("%s carries Client-Properties %q without AUTO_MESSAGES", op, h)
		}
	}
}

// TestParseDocumentedResponses decodes every documented response fixture.
func TestParseDocumentedResponses(t *testing.T) {
	f := newFakeLP(t)
	c := f.client(t)
	ctx := context.Background()

	host, err := c.LookupService(ctx, ServiceMessaging)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := host, "va.msg.liveperson.net"; got != want {
		t.Errorf("LookupService = %q, want %q", got, want)
	}
	if r := f.req("csds-one"); r.Path != "/api/account/12345678/service/asyncMessagingEnt/baseURI.json" || r.Query != "version=1.0" {
		t.Errorf("single-service CSDS request = %s?%s", r.Path, r.Query)
	}

	// The all-services fixture, served as documented (with LivePerson's hosts).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(fixture(t, "csds-all.json"))
	}))
	defer srv.Close()
	c2, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL})
	d, err := c2.LookupDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d, (Domains{Sentinel: "va.sentinel.liveperson.net", IdP: "va.idp.liveperson.net", Messaging: "va.msg.liveperson.net"}); got != want {
		t.Errorf("domains = %+v, want %+v", got, want)
	}
	if got, want := c2.serviceURL(d.Sentinel, "/x"), "https://va.sentinel.liveperson.net/x"; got != want {
		t.Errorf("live service URL = %q, want %q", got, want)
	}

	// The AppJWT fixture: exp − iat = 3600 s, long past; renewal is due at once.
	var appjwt struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(fixture(t, "appjwt-response.json"), &appjwt)
	claims, err := jwtClaims(appjwt.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := claims.Exp-claims.Iat, 3600.0; got != want {
		t.Errorf("exp − iat = %v, want %v", got, want)
	}
	if r := refreshTime(appjwt.AccessToken, time.Now()); time.Until(r) > 0 {
		t.Errorf("an expired token's refresh time is in the future: %v", r)
	}

	// The 401 error shape.
	e := responseError("create", 401, http.Header{}, fixture(t, "error-401.json"))
	if got, want := e.Code, 40105; got != want {
		t.Errorf("errorCode = %d, want %d", got, want)
	}
	if got, want := e.Class, sample.ClassAuth; got != want {
		t.Errorf("class = %v, want %v", got, want)
	}
	if got, want := e.Error(), "create: HTTP 401 auth (errorCode 40105): AppJWT is missing"; got != want {
		t.Errorf("error text = %q, want %q", got, want)
	}
}

// TestCreateResponseVariants checks the lenient parsing of CONVERSATION answers.
func TestCreateResponseVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		id    string
		class sample.Class
	}{
		{"documented", string(fixture(t, "create-conversation-response.json")), "8602832d-dce1-446b-8445-0d51f5926a42", sample.ClassNone},
		// Numeric codes and extra fields, as the websocket flavour answers.
		{"numeric codes", `[{"kind":"resp","reqId":"1,","code":200,"body":{}},{"kind":"resp","reqId":"2,","code":200,"type":"cm.RequestConversationResponse","body":{"conversationId":"c-1"}}]`, "c-1", sample.ClassNone},
		// The conversation element found by its conversationId when reqIds differ.
		{"other reqIds", `[{"code":"OK","reqId":"a","body":{}},{"code":"OK","reqId":"b","body":{"conversationId":"c-2"}}]`, "c-2", sample.ClassNone},
		// No code at all.
		{"no code", `[{"reqId":"2,","body":{"conversationId":"c-3"}}]`, "c-3", sample.ClassNone},
		// The conversation request answered with an error element inside a 200.
		{"error element", `[{"code":"OK","reqId":"1,","body":{}},{"code":400,"reqId":"2,","body":{"title":"bad brand"}}]`, "", sample.ClassHTTP4xx},
		// The element is there but carries no id.
		{"no conversationId", `[{"code":"OK","reqId":"1,","body":{}},{"code":"OK","reqId":"2,","body":{}}]`, "", sample.ClassProtocol},
		// Not an array.
		{"object", `{"code":"OK"}`, "", sample.ClassProtocol},
		// Not JSON.
		{"html", `<html>oops</html>`, "", sample.ClassProtocol},
		// Empty array.
		{"empty", `[]`, "", sample.ClassProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
			con := &Consumer{Domains: Domains{Messaging: strings.TrimPrefix(srv.URL, "http://")}, AppJWT: "a", JWS: "b"}
			id, err := c.CreateConversation(context.Background(), con)
			if got := ClassOf(err); got != tc.class {
				t.Fatalf("class = %v (err %v), want %v", got, err, tc.class)
			}
			if id != tc.id {
				t.Errorf("id = %q, want %q", id, tc.id)
			}
		})
	}
}

// TestErrorClasses sorts answers and transport failures into failure classes.
func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		class      sample.Class
		code       int
		retryAfter time.Duration
	}{
		// The documented 401 with its errorCode.
		{"401", 401, nil, `{"kind":"resp","code":401,"body":{"title":"AppJWT expired","errorCode":40102},"type":".ReqBody$ErrorResp"}`, sample.ClassAuth, 40102, 0},
		// 401 without a body.
		{"401 bare", 401, nil, ``, sample.ClassAuth, 0, 0},
		// 429 with Retry-After in seconds.
		{"429", 429, http.Header{"Retry-After": {"2"}}, `Too many requests, please try again later`, sample.ClassRateLimited, 0, 2 * time.Second},
		// 400 invalid input.
		{"400", 400, nil, `{"error":"invalid"}`, sample.ClassHTTP4xx, 0, 0},
		// 404 is a 4xx too.
		{"404", 404, nil, ``, sample.ClassHTTP4xx, 0, 0},
		// 500 and 503.
		{"500", 500, nil, `oops`, sample.ClassHTTP5xx, 0, 0},
		{"503", 503, nil, ``, sample.ClassHTTP5xx, 0, 0},
		// A redirect is not followed (it could carry tokens elsewhere) and is not a success.
		{"302", 302, http.Header{"Location": {"http://127.0.0.1:1/elsewhere"}}, ``, sample.ClassProtocol, 0, 0},
		// A 200 whose body is not JSON.
		{"200 html", 200, nil, `<html></html>`, sample.ClassProtocol, 0, 0},
		// A 200 with an error code in the body.
		{"200 error body", 200, nil, `{"code":500,"body":{"title":"internal"}}`, sample.ClassHTTP5xx, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
			con := &Consumer{Domains: Domains{Messaging: strings.TrimPrefix(srv.URL, "http://")}, AppJWT: "tok-abc", JWS: "jws-def"}
			_, err := c.Send(context.Background(), con, "conv", "hi")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if got, want := e.Class, tc.class; got != want {
				t.Errorf("class = %v, want %v (%v)", got, want, err)
			}
			if got, want := e.Code, tc.code; got != want {
				t.Errorf("errorCode = %d, want %d", got, want)
			}
			if got, want := e.RetryAfter, tc.retryAfter; got != want {
				t.Errorf("RetryAfter = %v, want %v", got, want)
			}
			if s := err.Error(); strings.Contains(s, "tok-abc") || strings.Contains(s, "jws-def") {
				t.Errorf("error text carries a token: %q", s)
			}
		})
	}
}

// TestTransportClasses covers failures without a response: timeout, cancellation, refused
// connection, and a body larger than the limit.
func TestTransportClasses(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), maxBody+10))
	}))
	defer big.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()

	for _, tc := range []struct {
		name  string
		url   string
		ctx   func() (context.Context, context.CancelFunc)
		class sample.Class
	}{
		// The step's deadline passes while the server thinks.
		{"timeout", slow.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, sample.ClassTimeout},
		// The run is stopped while the request is in flight.
		{"canceled", slow.URL, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, sample.ClassCanceled},
		// Nobody listens.
		{"refused", refusedURL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Second)
		}, sample.ClassNetwork},
		// A body beyond the limit is refused, not buffered whole.
		{"huge body", big.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Second)
		}, sample.ClassProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := NewClient(Target{Account: testAccount, CSDS: tc.url, Scheme: "http"})
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := c.LookupDomains(ctx)
			if got := ClassOf(err); got != tc.class {
				t.Errorf("class = %v (err %v), want %v", got, err, tc.class)
			}
		})
	}
}

// TestSecretsNotInErrors checks that a failed AppJWT request's error names neither the client
// secret nor anything from the request.
func TestSecretsNotInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client"}`)
	}))
	defer srv.Close()
	c, _ := NewClient(Target{Account: testAccount, CSDS: srv.URL, Scheme: "http", ClientID: "id", ClientSecret: "TOPSECRET"})
	_, err := c.FetchAppJWT(context.Background(), Domains{Sentinel: strings.TrimPrefix(srv.URL, "http://")})
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
		t.Fatalf("err = %v", err)
	}
	if got, want := ClassOf(err), sample.ClassAuth; got != want {
		t.Errorf("class = %v, want %v", got, want)
	}
}
