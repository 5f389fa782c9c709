package lpsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCSDS(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	tests := []struct {
		name    string
		target  string
		status  int
		fixture string // shape of a 200 answer
	}{
		// All services: the documented list shape.
		{"all", csdsAllPath(accA), 200, "csds-all.json"},
		// One service: the documented single shape.
		{"one", "/api/account/" + accA + "/service/asyncMessagingEnt/baseURI.json?version=1.0", 200, "csds-one.json"},
		// The other services lpbench needs.
		{"sentinel", "/api/account/" + accA + "/service/sentinel/baseURI.json?version=1.0", 200, "csds-one.json"},
		{"idp", "/api/account/" + accB + "/service/idp/baseURI.json?version=1.0", 200, "csds-one.json"},
		// version is required.
		{"no version", "/api/account/" + accA + "/service/baseURI.json", 400, ""},
		// Only version 1.0 exists.
		{"bad version", "/api/account/" + accA + "/service/idp/baseURI.json?version=2.0", 400, ""},
		// An unknown account is "invalid site".
		{"unknown account", csdsAllPath("99999999"), 401, ""},
		{"unknown account one", "/api/account/99999999/service/idp/baseURI.json?version=1.0", 401, ""},
		// Without ".json", as public clients call it, and the legacy /csdr/ form.
		{"all no json", "/api/account/" + accA + "/service/baseURI?version=1.0", 200, "csds-all.json"},
		{"one no json", "/api/account/" + accA + "/service/idp/baseURI?version=1.0", 200, "csds-one.json"},
		{"csdr all", "/csdr/account/" + accA + "/service/baseURI.json?version=1.0", 200, "csds-all.json"},
		{"csdr one", "/csdr/account/" + accA + "/service/sentinel/baseURI.json?version=1.0", 200, "csds-one.json"},
		{"csdr no json", "/csdr/account/" + accA + "/service/baseURI?version=1.0", 200, "csds-all.json"},
		// The other forms refuse what the documented one refuses.
		{"no json no version", "/api/account/" + accA + "/service/baseURI", 400, ""},
		{"no json bad version", "/api/account/" + accA + "/service/idp/baseURI?version=2.0", 400, ""},
		{"csdr unknown account", "/csdr/account/99999999/service/baseURI.json?version=1.0", 401, ""},
		{"no json unknown service", "/api/account/" + accA + "/service/nope/baseURI?version=1.0", 404, ""},
		{"csdr wrong case", "/csdr/account/" + accA + "/service/Idp/baseURI.json?version=1.0", 404, ""},
		// Service names are case-sensitive.
		{"wrong case", "/api/account/" + accA + "/service/AsyncMessagingEnt/baseURI.json?version=1.0", 404, ""},
		// Unknown service.
		{"unknown service", "/api/account/" + accA + "/service/nope/baseURI.json?version=1.0", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, b := call(t, s, "GET", tt.target, "")
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, b)
			}
			if tt.fixture == "" {
				checkError(t, b, tt.status, 0)
				return
			}
			checkShape(t, b, tt.fixture)
			// Every baseURI is the host the request came to, without scheme.
			for _, m := range regexp.MustCompile(`"baseURI":"([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
				if got, want := m[1], "example.com"; got != want {
					t.Errorf("baseURI = %q, want %q", got, want)
				}
			}
		})
	}
	if got, want := s.Ledger().Requests[EndpointCSDS][200], int64(9); got != want {
		t.Errorf("csds 200 count = %d, want %d", got, want)
	}
}

func TestCSDSAllServices(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	_, b := call(t, s, "GET", csdsAllPath(accA), "")
	var out struct{ BaseURIs []csdsEntry }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, e := range out.BaseURIs {
		found[e.Service] = true
		if got, want := e.Account, accA; got != want {
			t.Errorf("%s: account = %q, want %q", e.Service, got, want)
		}
	}
	for _, svc := range []string{"sentinel", "idp", "asyncMessagingEnt"} {
		if !found[svc] {
			t.Errorf("service %s missing from %s", svc, b)
		}
	}
}

func TestAppJWT(t *testing.T) {
	t.Parallel()
	s, clk := newFakeSim(t, testConfig())
	form := "client_id=" + clientA + "&client_secret=" + secretA
	formCT := []string{"Content-Type", "application/x-www-form-urlencoded"}
	tests := []struct {
		name   string
		target string
		body   string
		hdr    []string
		status int
	}{
		// The documented way: parameters in the query, credentials in the form body.
		{"form", sentinelPath(accA), form, formCT, 200},
		// Some clients put everything in the query.
		{"query", sentinelPath(accA) + "&" + form, "", nil, 200},
		// ... or everything in the form body.
		{"all in body", "/sentinel/api/account/" + accA + "/app/token", "v=1.0&grant_type=client_credentials&" + form, formCT, 200},
		// A wrong v is refused wherever it is.
		{"wrong v in body", "/sentinel/api/account/" + accA + "/app/token", "v=3.0&grant_type=client_credentials&" + form, formCT, 400},
		// Wrong secret.
		{"bad secret", sentinelPath(accA), "client_id=" + clientA + "&client_secret=nope", formCT, 401},
		// Another account's credentials.
		{"other account creds", sentinelPath(accA), "client_id=" + clientB + "&client_secret=" + secretB, formCT, 401},
		// No credentials at all.
		{"no creds", sentinelPath(accA), "", formCT, 401},
		// Unknown account.
		{"unknown account", sentinelPath("99999999"), form, formCT, 401},
		// grant_type is required.
		{"no grant_type", "/sentinel/api/account/" + accA + "/app/token?v=1.0", form, formCT, 400},
		// Only client credentials are granted.
		{"bad grant_type", "/sentinel/api/account/" + accA + "/app/token?v=1.0&grant_type=password", form, formCT, 400},
		// v is required.
		{"no v", "/sentinel/api/account/" + accA + "/app/token?grant_type=client_credentials", form, formCT, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, b := call(t, s, "POST", tt.target, tt.body, tt.hdr...)
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, b)
			}
			if st != 200 {
				checkError(t, b, tt.status, 0)
				return
			}
			out := checkShape(t, b, "appjwt-response.json").(map[string]any)
			if got, want := out["token_type"], "Bearer"; got != want {
				t.Errorf("token_type = %v, want %v", got, want)
			}
			tok := out["access_token"].(string)
			// RS256 with a kid, as Sentinel signs, verified with the published key set.
			_, jwks := call(t, s, "GET", "/sentinel/well-known/jwks", "")
			verifyRS256(t, jwks, tok)
			p := jwtPayload(t, tok)
			iat := float64(clk.Now().Unix())
			for k, want := range map[string]any{
				"aud": accA, "azp": clientA, "scope": "msg.consumer", "iss": "Sentinel",
				"iat": iat, "exp": iat + 3600,
			} {
				if got := p[k]; got != want {
					t.Errorf("claim %s = %v, want %v", k, got, want)
				}
			}
		})
	}
	if got, want := s.Ledger().AppJWTsIssued, int64(3); got != want {
		t.Errorf("AppJWTsIssued = %d, want %d", got, want)
	}
}

func TestConsumerJWS(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	app := appJWT(t, s, accA, clientA, secretA)
	tests := []struct {
		name   string
		target string
		body   string
		status int
	}{
		// The documented request.
		{"ok", idpPath(accA), `{"ext_consumer_id":"lpbench-7f3a-000042"}`, 201},
		// ext_consumer_id is required.
		{"missing ext id", idpPath(accA), `{}`, 400},
		// ... and not empty.
		{"empty ext id", idpPath(accA), `{"ext_consumer_id":""}`, 400},
		// The body must be JSON.
		{"not json", idpPath(accA), `ext_consumer_id=x`, 400},
		// v may be left out, as public clients do; a v that is given must be 1.0.
		{"no v", "/api/account/" + accA + "/consumer", `{"ext_consumer_id":"lpbench-7f3a-000042"}`, 201},
		{"empty v", "/api/account/" + accA + "/consumer?v=", `{"ext_consumer_id":"x"}`, 400},
		{"wrong v", "/api/account/" + accA + "/consumer?v=2.0", `{"ext_consumer_id":"x"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, b := call(t, s, "POST", tt.target, tt.body, "Authorization", app)
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, b)
			}
			if st != 201 {
				checkError(t, b, tt.status, 0)
				return
			}
			out := checkShape(t, b, "consumerjws-response.json").(map[string]any)
			p := jwtPayload(t, out["token"].(string))
			if got, want := p["account_id"], accA; got != want {
				t.Errorf("account_id = %v, want %v", got, want)
			}
			if got, want := p["ext_consumer_id"], "lpbench-7f3a-000042"; got != want {
				t.Errorf("ext_consumer_id = %v, want %v", got, want)
			}
			if got := p["lp_consumer_id"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got) {
				t.Errorf("lp_consumer_id = %q, want 64 hex characters", got)
			}
			if _, ok := p["exp"]; ok {
				t.Errorf("ConsumerJWS has exp; it must never expire")
			}
		})
	}
	// lp_consumer_id is deterministic in (account, ext id) and differs between consumers.
	id := func(acc, ext string) any { return jwtPayload(t, consumerJWS(t, s, acc, app, ext))["lp_consumer_id"] }
	if got, want := id(accA, "x"), id(accA, "x"); got != want {
		t.Errorf("lp_consumer_id not deterministic: %v != %v", got, want)
	}
	if a, b := id(accA, "x"), id(accA, "y"); a == b {
		t.Errorf("two consumers share lp_consumer_id %v", a)
	}
	if got, want := s.Ledger().ConsumerJWSsIssued, int64(6); got != want {
		t.Errorf("ConsumerJWSsIssued = %d, want %d", got, want)
	}
}

func TestCreateSendCloseShapes(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	c := newConsumer(t, s, accA, "shapes")

	st, b, id := c.create(t, true)
	if got, want := st, 200; got != want {
		t.Fatalf("create: status = %d, want %d: %s", got, want, b)
	}
	out := checkShape(t, b, "create-conversation-response.json").([]any)
	// reqIds echo the request ids ("1," and "2,") and codes are "OK".
	for i, want := range []string{"1,", "2,"} {
		el := out[i].(map[string]any)
		if got := el["reqId"]; got != want {
			t.Errorf("create[%d].reqId = %v, want %v", i, got, want)
		}
		if got, want := el["code"], "OK"; got != want {
			t.Errorf("create[%d].code = %v, want %v", i, got, want)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("conversationId %q is not a UUID v4", id)
	}

	// Sequences start at 0 and grow by one per message.
	for seq := range 3 {
		st, b := c.send(t, id, true)
		if got, want := st, 200; got != want {
			t.Fatalf("send: status = %d, want %d: %s", got, want, b)
		}
		out := checkShape(t, b, "send-response.json").(map[string]any)
		if got, want := out["reqId"], "1"; got != want {
			t.Errorf("send.reqId = %v, want %v", got, want)
		}
		if got, want := out["body"].(map[string]any)["sequence"], float64(seq); got != want {
			t.Errorf("send.body.sequence = %v, want %v", got, want)
		}
	}

	st, b = c.close(t, id)
	if got, want := st, 200; got != want {
		t.Fatalf("close: status = %d, want %d: %s", got, want, b)
	}
	// The close request's id is the number 1; it comes back as the number 1.
	if got, want := string(b), `{"reqId":1,"code":"OK","body":{}}`; got != want {
		t.Errorf("close answer = %s, want %s", got, want)
	}
}

func TestOtherEvents(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	c := newConsumer(t, s, accA, "events")
	_, _, id := c.create(t, true)
	tests := []struct {
		name   string
		event  string
		status int
	}{
		// Chat state events are acknowledged, not messages.
		{"chat state", `{"type":"ChatStateEvent","chatState":"COMPOSING"}`, 200},
		// Accept status events likewise.
		{"accept status", `{"type":"AcceptStatusEvent","status":"READ","sequenceList":[0]}`, 200},
		// Unknown event types are refused.
		{"unknown", `{"type":"Nope"}`, 400},
		// An event needs a type.
		{"no type", `{}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"kind":"req","id":"7","type":"ms.PublishEvent","body":{"dialogId":"` + id + `","event":` + tt.event + `}}`
			st, b := call(t, s, "POST", sendPath(accA), body, c.headers(true)...)
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, b)
			}
			if st == 200 {
				if got, want := string(b), `{"reqId":"7","code":"OK","body":{}}`; got != want {
					t.Errorf("answer = %s, want %s", got, want)
				}
			}
		})
	}
	// None of them is a message: no first send yet.
	l := s.Ledger()
	if got, want := l.Sends, int64(0); got != want {
		t.Errorf("Sends = %d, want %d", got, want)
	}
	if got, want := l.Requests[EndpointSend][200], int64(2); got != want {
		t.Errorf("send 200 count = %d, want %d", got, want)
	}
	if conversationOf(t, s, id).FirstSend {
		t.Errorf("a chat state event counted as the first send")
	}
}

// TestErrors covers every documented errorCode and the 400s of the messaging endpoints.
func TestErrors(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	a := newConsumer(t, s, accA, "alice")
	other := newConsumer(t, s, accA, "bob")
	b := newConsumer(t, s, accB, "carol")
	_, _, convA := a.create(t, true)
	_, _, convOther := other.create(t, true)
	_, _, closed := b.create(t, true)
	b.close(t, closed)
	tamper := func(tok string) string { // change one character in the middle of the signature
		i := strings.LastIndexByte(tok, '.') + 10
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		return tok[:i] + string(c) + tok[i+1:]
	}
	// Another Sim signs with the same RSA key (one per process) but its own kid: its AppJWT
	// never verifies here.
	otherSim, _ := newFakeSim(t, testConfig())
	foreign := appJWT(t, otherSim, accA, clientA, secretA)
	createBody := fixture(t, "create-conversation.json", "{accountid}", accA)
	sendBody := func(id string) string { return fixture(t, "send.json", "{conversationId}", id) }
	closeBody := func(id string) string { return fixture(t, "close-conversation.json", "{conversationId}", id) }

	tests := []struct {
		name   string
		target string
		body   string
		hdr    []string
		status int
		code   int // errorCode; 0 = none
	}{
		// No Authorization at all.
		{"idp appjwt missing", idpPath(accA), `{"ext_consumer_id":"x"}`, nil, 401, 40105},
		{"create appjwt missing", createPath(accA), createBody, []string{"X-LP-ON-BEHALF", a.jws}, 401, 40105},
		{"send appjwt missing", sendPath(accA), sendBody(convA), []string{"X-LP-ON-BEHALF", a.jws}, 401, 40105},
		// A token whose signature does not verify.
		{"idp appjwt tampered", idpPath(accA), `{"ext_consumer_id":"x"}`, []string{"Authorization", tamper(a.app)}, 401, 40102},
		{"create appjwt tampered", createPath(accA), createBody, []string{"Authorization", tamper(a.app), "X-LP-ON-BEHALF", a.jws}, 401, 40102},
		// Not a JWT at all.
		{"send appjwt malformed", sendPath(accA), sendBody(convA), []string{"Authorization", "abc", "X-LP-ON-BEHALF", a.jws}, 401, 40102},
		// An AppJWT of another Sim.
		{"appjwt of another sim", idpPath(accA), `{"ext_consumer_id":"x"}`, []string{"Authorization", foreign}, 401, 40102},
		// A ConsumerJWS is no AppJWT.
		{"appjwt is a jws", idpPath(accA), `{"ext_consumer_id":"x"}`, []string{"Authorization", a.jws}, 401, 40102},
		// "Bearer " prefix is accepted.
		{"bearer prefix", idpPath(accA), `{"ext_consumer_id":"x"}`, []string{"Authorization", "Bearer " + a.app}, 201, 0},
		// An AppJWT of another account.
		{"idp aud", idpPath(accA), `{"ext_consumer_id":"x"}`, []string{"Authorization", b.app}, 401, 40001},
		{"send aud", sendPath(accA), sendBody(convA), []string{"Authorization", b.app, "X-LP-ON-BEHALF", a.jws}, 401, 40001},
		// X-LP-ON-BEHALF absent.
		{"create jws missing", createPath(accA), createBody, []string{"Authorization", a.app}, 401, 40104},
		{"send jws missing", sendPath(accA), sendBody(convA), []string{"Authorization", a.app}, 401, 40104},
		{"close jws missing", sendPath(accA), closeBody(convA), []string{"Authorization", a.app}, 401, 40104},
		// A ConsumerJWS that does not verify.
		{"create jws tampered", createPath(accA), createBody, []string{"Authorization", a.app, "X-LP-ON-BEHALF", tamper(a.jws)}, 401, 40103},
		// A ConsumerJWS of another account.
		{"send jws other account", sendPath(accA), sendBody(convA), []string{"Authorization", a.app, "X-LP-ON-BEHALF", b.jws}, 401, 40103},
		// An AppJWT is no ConsumerJWS.
		{"jws is an appjwt", createPath(accA), createBody, []string{"Authorization", a.app, "X-LP-ON-BEHALF", a.app}, 401, 40103},
		// A consumer sending to, or closing, a conversation it does not own.
		{"send not owner", sendPath(accA), sendBody(convOther), a.headers(true), 401, 40103},
		{"close not owner", sendPath(accA), closeBody(convOther), a.headers(true), 401, 40103},
		// A conversation of another account is not this consumer's either.
		{"send other account conv", sendPath(accA), sendBody(closed), a.headers(true), 401, 40103},
		// Unknown conversation.
		{"send unknown conv", sendPath(accA), sendBody("00000000-0000-4000-8000-000000000000"), a.headers(true), 400, 0},
		{"close unknown conv", sendPath(accA), closeBody("00000000-0000-4000-8000-000000000000"), a.headers(true), 400, 0},
		// Closed conversation.
		{"send closed", sendPath(accB), sendBody(closed), b.headers(true), 400, 0},
		{"close closed", sendPath(accB), closeBody(closed), b.headers(true), 400, 0},
		// v is required on messaging.
		{"create no v", strings.TrimSuffix(createPath(accA), "?v=3"), createBody, a.headers(true), 400, 0},
		{"send bad v", strings.TrimSuffix(sendPath(accA), "3") + "2", sendBody(convA), a.headers(true), 400, 0},
		// CONVERSATION bodies.
		{"create not array", createPath(accA), `{"type":"cm.ConsumerRequestConversation"}`, a.headers(true), 400, 0},
		{"create empty array", createPath(accA), `[]`, a.headers(true), 400, 0},
		{"create profile not first", createPath(accA), `[{"id":"2,","type":"cm.ConsumerRequestConversation","body":{"brandId":"` + accA + `"}},{"id":"1,","type":"userprofile.SetUserProfile","body":{}}]`, a.headers(true), 400, 0},
		{"create no request", createPath(accA), `[{"id":"1,","type":"userprofile.SetUserProfile","body":{}}]`, a.headers(true), 400, 0},
		{"create two requests", createPath(accA), `[{"id":"1,","type":"userprofile.SetUserProfile","body":{}},{"id":"2,","type":"cm.ConsumerRequestConversation","body":{"brandId":"` + accA + `"}},{"id":"3,","type":"cm.ConsumerRequestConversation","body":{"brandId":"` + accA + `"}}]`, a.headers(true), 400, 0},
		{"create wrong brand", createPath(accA), fixture(t, "create-conversation.json", "{accountid}", accB), a.headers(true), 400, 40001},
		{"create no brand", createPath(accA), strings.Replace(createBody, `"brandId": "`+accA+`",`, "", 1), a.headers(true), 400, 40001},
		{"create bad ttr", createPath(accA), strings.Replace(createBody, "NORMAL", "SLOW", 1), a.headers(true), 400, 0},
		// SEND bodies.
		{"send array", sendPath(accA), `[` + sendBody(convA) + `]`, a.headers(true), 400, 0},
		{"send unknown type", sendPath(accA), `{"id":"1","type":"ms.Nope","body":{}}`, a.headers(true), 400, 0},
		{"send no dialog", sendPath(accA), `{"id":"1","type":"ms.PublishEvent","body":{"event":{"type":"ContentEvent","message":"x"}}}`, a.headers(true), 400, 0},
		{"close other state", sendPath(accA), strings.Replace(closeBody(convA), "CLOSE", "OPEN", 1), a.headers(true), 400, 0},
		// Bodies are limited to 64 KiB.
		{"send too large", sendPath(accA), `{"id":"` + strings.Repeat("x", 70<<10) + `"}`, a.headers(true), 413, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := call(t, s, "POST", tt.target, tt.body, tt.hdr...)
			if got, want := st, tt.status; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, body)
			}
			if st < 400 {
				return
			}
			checkError(t, body, tt.status, tt.code)
		})
	}
}

func TestErrorBodyMatchesFixture(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	_, b := call(t, s, "POST", idpPath(accA), `{"ext_consumer_id":"x"}`)
	var got, want any
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(fixture(t, "error-401.json")), &want)
	// The documented AppJWT-missing answer, word for word.
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Errorf("answer = %s, want %s", g, w)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAppJWTExpiry(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.AppJWTLifetime = 1500 * time.Millisecond
	s, clk := newFakeSim(t, cfg) // starts at .25 s past a whole second
	app := appJWT(t, s, accA, clientA, secretA)
	p := jwtPayload(t, app)
	// exp − iat is the lifetime rounded up to whole seconds.
	if got, want := p["exp"].(float64)-p["iat"].(float64), 2.0; got != want {
		t.Errorf("exp - iat = %v, want %v", got, want)
	}
	// iat is the truncated whole second, so the token lives until 1.5 s after it: 1.25 s from now.
	tests := []struct {
		advance time.Duration // from the previous row
		status  int
	}{
		// Fresh.
		{0, 201},
		// Just before iat + 1.5 s.
		{1249 * time.Millisecond, 201},
		// Exactly at iat + 1.5 s: not yet past it.
		{time.Millisecond, 201},
		// Past iat + 1.5 s, though before exp (iat + 2 s).
		{time.Millisecond, 401},
	}
	for i, tt := range tests {
		clk.Advance(tt.advance)
		st, b := call(t, s, "POST", idpPath(accA), `{"ext_consumer_id":"x"}`, "Authorization", app)
		if got, want := st, tt.status; got != want {
			t.Fatalf("row %d: status = %d, want %d: %s", i, got, want, b)
		}
		if st == 401 {
			checkError(t, b, 401, 40102)
		}
	}
}

// TestConsumerJWSExpiry: with a ConsumerJWS lifetime, the token carries iat and exp and is refused
// with 401 40103 once past iat + the lifetime; without one (the documented behaviour) it never
// expires.
func TestConsumerJWSExpiry(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.ConsumerJWSLifetime = 1500 * time.Millisecond
	cfg.AppJWTLifetime = 24 * time.Hour
	s, clk := newFakeSim(t, cfg) // starts at .25 s past a whole second
	c := newConsumer(t, s, accA, "short-lived")
	p := jwtPayload(t, c.jws)
	if got, want := p["exp"].(float64)-p["iat"].(float64), 2.0; got != want {
		t.Errorf("exp - iat = %v, want %v", got, want)
	}
	clk.Advance(1250 * time.Millisecond) // exactly iat + 1.5 s: still valid
	if st, b, _ := c.create(t, true); st != 200 {
		t.Fatalf("create at the end of the lifetime: %d %s", st, b)
	}
	clk.Advance(time.Millisecond)
	st, b, _ := c.create(t, true)
	if st != 401 {
		t.Fatalf("create past the lifetime: %d %s", st, b)
	}
	checkError(t, b, 401, codeConsumerInvalid)

	// The default: no iat, no exp, valid for ever.
	s, clk = newFakeSim(t, testConfig())
	c = newConsumer(t, s, accA, "forever")
	if p := jwtPayload(t, c.jws); p["exp"] != nil || p["iat"] != nil {
		t.Errorf("ConsumerJWS payload %v has a time", p)
	}
	clk.Advance(1000 * time.Hour)
	c.app = appJWT(t, s, accA, clientA, secretA) // the old AppJWT has expired
	if st, b, _ := c.create(t, true); st != 200 {
		t.Errorf("create with a 1000 h old ConsumerJWS: %d %s", st, b)
	}
}

func TestMethodAndPath(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	tests := []struct {
		method, target string
		status         int
		allow          string
	}{
		// CONVERSATION is POST only.
		{"GET", createPath(accA), 405, "POST"},
		// SEND is POST only.
		{"PUT", sendPath(accA), 405, "POST"},
		// CSDS is GET only.
		{"POST", csdsAllPath(accA), 405, "GET, HEAD"},
		// Sentinel is POST only.
		{"GET", sentinelPath(accA), 405, "POST"},
		// The webhook registry: GET and POST on the collection, DELETE on one.
		{"PUT", "/_lpsim/webhooks", 405, "GET, HEAD, POST"},
		{"GET", "/_lpsim/webhooks/wh-1", 405, "DELETE"},
		// Unknown paths.
		{"GET", "/nope", 404, ""},
		{"POST", "/api/account/" + accA + "/messaging/consumer/conversations?v=3", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if got, want := rec.Code, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if got, want := rec.Header().Get("Allow"), tt.allow; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
			checkError(t, rec.Body.Bytes(), tt.status, 0)
		})
	}
	l := s.Ledger()
	// 405s count under the path's endpoint; 404s under none.
	for ep, want := range map[Endpoint]int64{EndpointCreate: 1, EndpointSend: 1, EndpointCSDS: 1, EndpointAppJWT: 1} {
		if got := l.Requests[ep][http.StatusMethodNotAllowed]; got != want {
			t.Errorf("%s 405 count = %d, want %d", ep, got, want)
		}
	}
}
