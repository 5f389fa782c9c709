package lpsim

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// confEnv carries what earlier rows of the conformance table obtained (tokens, conversation ids)
// to later rows.
type confEnv struct {
	urls                  map[string]string // server name → base URL
	remotes               map[string]remote // server name → its hosts, as CSDS gives them
	app, appB             string            // AppJWTs of accounts A and B
	alice, bob, carol     string            // ConsumerJWSs of A's consumers alice and bob, B's carol
	conv, bobConv         string            // alice's and bob's conversations
	expiredApp            string            // an AppJWT of the "expiring" server, expired at once
	limitedApp, limitedCJ string            // tokens of the "limited" server
}

// confRow is one request of the conformance table and what must come back.
type confRow struct {
	name   string
	server string // "" = the main server; "expiring"; "limited"
	host   string // the CSDS service name of the host to send to; "" = the path's own; "csds" = the domain API's
	method string
	path   string
	body   func(e *confEnv) string
	hdr    func(e *confEnv) []string // header name, value pairs
	status int
	shape  string // fixture whose shape a 2xx body must have; "" = none
	code   int    // LivePerson errorCode an error answer must carry; 0 = none
	// check makes further checks and saves what later rows need.
	check func(t *testing.T, e *confEnv, h http.Header, b []byte)
}

// TestConformance drives standalone simulators (Serve on 127.0.0.1:0, as `lpbench sim` runs)
// over HTTP with the exact fixture payloads and checks every documented response shape and error
// code of lp-api.md §1–4, and the ledger the run leaves. Rows run in order: later rows use the
// tokens and conversations of earlier ones.
func TestConformance(t *testing.T) {
	t.Parallel()
	conformance(t, false)
}

// TestConformanceTLS is TestConformance over HTTPS (tls: true), the client verifying every
// host's certificate with the CA file the banner names.
func TestConformanceTLS(t *testing.T) {
	t.Parallel()
	conformance(t, true)
}

// conformance runs the conformance table against standalone simulators, over TLS or not.
func conformance(t *testing.T, overTLS bool) {
	mainCfg := testConfig()
	mainCfg.Window = 10 * time.Second
	expiringCfg := testConfig()
	expiringCfg.AppJWTLifetime = time.Nanosecond // every AppJWT is expired once issued
	limitedCfg := testConfig()
	limitedCfg.RateLimits = map[Endpoint]RateLimit{EndpointCreate: {Rate: 0.001, Burst: 1, RetryAfter: 1500 * time.Millisecond}}
	env := &confEnv{urls: map[string]string{}, remotes: map[string]remote{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	client := &http.Client{Transport: tr}
	for name, cfg := range map[string]Config{"": mainCfg, "expiring": expiringCfg, "limited": limitedCfg} {
		cfg.TLS = overTLS
		var banner string
		env.urls[name], banner = standalone(t, cfg)
		if overTLS {
			tr.TLSClientConfig.RootCAs.AppendCertsFromPEM(readFile(t, bannerCAFile(t, banner)))
		}
	}
	for name, u := range env.urls {
		env.remotes[name] = newRemoteClient(u, client)
	}
	scheme := map[bool]string{true: "https://", false: "http://"}[overTLS]
	mainHost := strings.TrimPrefix(env.urls[""], scheme)
	hostOf := func(svc string) string { return strings.TrimPrefix(env.remotes[""].hosts[svc], scheme) }
	formHdr := func(*confEnv) []string { return []string{"Content-Type", "application/x-www-form-urlencoded"} }

	props := strings.TrimSpace(fixture(t, "client-properties.json"))
	text := func(s string) func(*confEnv) string { return func(*confEnv) string { return s } }
	form := "application/x-www-form-urlencoded"
	appjwtForm := func(id, secret string) func(*confEnv) string {
		return text(url.Values{"client_id": {id}, "client_secret": {secret}}.Encode())
	}
	ext := func(id string) func(*confEnv) string { return text(`{"ext_consumer_id":"` + id + `"}`) }
	createBody := func(acc string) func(*confEnv) string {
		return text(fixture(t, "create-conversation.json", "{accountid}", acc))
	}
	sendBody := func(conv func(*confEnv) string) func(*confEnv) string {
		return func(e *confEnv) string { return fixture(t, "send.json", "{conversationId}", conv(e)) }
	}
	closeBody := func(conv func(*confEnv) string) func(*confEnv) string {
		return func(e *confEnv) string { return fixture(t, "close-conversation.json", "{conversationId}", conv(e)) }
	}
	aliceConv := func(e *confEnv) string { return e.conv }
	bobConv := func(e *confEnv) string { return e.bobConv }
	// msg returns the Send API headers for an AppJWT and a ConsumerJWS (either may be "" to
	// leave its header out), with the documented Client-Properties.
	msg := func(app, jws func(*confEnv) string) func(*confEnv) []string {
		return func(e *confEnv) []string {
			h := []string{"Content-Type", "application/json", "Client-Properties", props}
			if app != nil {
				h = append(h, "Authorization", app(e))
			}
			if jws != nil {
				h = append(h, "X-LP-ON-BEHALF", jws(e))
			}
			return h
		}
	}
	appA := func(e *confEnv) string { return e.app }
	alice := func(e *confEnv) string { return e.alice }
	bob := func(e *confEnv) string { return e.bob }
	tampered := func(tok func(*confEnv) string) func(*confEnv) string {
		return func(e *confEnv) string {
			s := tok(e)
			i := strings.LastIndexByte(s, '.') + 5
			return s[:i] + map[bool]string{true: "B", false: "A"}[s[i] == 'A'] + s[i+1:]
		}
	}
	token := func(field string, save *string) func(*testing.T, *confEnv, http.Header, []byte) {
		return func(t *testing.T, e *confEnv, h http.Header, b []byte) {
			var m map[string]string
			json.Unmarshal(b, &m)
			if *save = m[field]; *save == "" {
				t.Fatalf("no %s in %s", field, b)
			}
		}
	}
	convID := func(save *string) func(*testing.T, *confEnv, http.Header, []byte) {
		return func(t *testing.T, e *confEnv, h http.Header, b []byte) {
			var out []struct {
				Code  string
				ReqID string
				Body  struct{ ConversationID string }
			}
			json.Unmarshal(b, &out)
			if len(out) != 2 || out[0].ReqID != "1," || out[1].ReqID != "2," || out[0].Code != "OK" || out[1].Code != "OK" {
				t.Errorf("reqIds and codes of %s: want 1, and 2, both OK", b)
			}
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(out[1].Body.ConversationID) {
				t.Errorf("conversationId %q is not a UUID", out[1].Body.ConversationID)
			}
			*save = out[1].Body.ConversationID
		}
	}
	exact := func(want string) func(*testing.T, *confEnv, http.Header, []byte) {
		return func(t *testing.T, e *confEnv, h http.Header, b []byte) {
			var g, w any
			json.Unmarshal(b, &g)
			json.Unmarshal([]byte(want), &w)
			if mustJSON(g) != mustJSON(w) {
				t.Errorf("answer %s, want %s", b, want)
			}
		}
	}
	sequence := func(n int) func(*testing.T, *confEnv, http.Header, []byte) {
		return exact(`{"reqId":"1","code":"OK","body":{"sequence":` + string(rune('0'+n)) + `}}`)
	}

	rows := []confRow{
		// §1 CSDS, all services: the documented list, no scheme, a host of its own for each
		// service the journey uses (the domain API's for the others, which are not simulated).
		{name: "csds all", method: "GET", path: csdsAllPath(accA), status: 200, shape: "csds-all.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				var out struct{ BaseURIs []csdsEntry }
				json.Unmarshal(b, &out)
				got := map[string]string{}
				hosts := map[string]string{mainHost: "csds"}
				for _, s := range out.BaseURIs {
					got[s.Service] = s.BaseURI
					if s.Account != accA || !strings.HasPrefix(s.BaseURI, "127.0.0.1:") {
						t.Errorf("entry %+v: want account %s on 127.0.0.1", s, accA)
					}
				}
				for _, svc := range []string{"sentinel", "idp", "asyncMessagingEnt"} {
					if other, dup := hosts[got[svc]]; got[svc] == "" || dup {
						t.Errorf("service %s at %q, the host of %q, in %s", svc, got[svc], other, b)
					}
					hosts[got[svc]] = svc
				}
				if got["agentVep"] != mainHost || got["leDataReporting"] != mainHost {
					t.Errorf("services not simulated: want them at the domain API's host %s: %s", mainHost, b)
				}
			}},
		// §1 CSDS, one service.
		{name: "csds one", method: "GET", path: "/api/account/" + accA + "/service/asyncMessagingEnt/baseURI.json?version=1.0", status: 200, shape: "csds-one.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				exact(`{"service":"asyncMessagingEnt","account":"`+accA+`","baseURI":"`+hostOf("asyncMessagingEnt")+`"}`)(t, e, h, b)
			}},
		// A service's path at another service's host: 404, as at LivePerson.
		{name: "csds at the messaging host", host: "asyncMessagingEnt", method: "GET", path: csdsAllPath(accA), status: 404},
		{name: "appjwt at the csds host", host: "csds", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, secretA), hdr: formHdr, status: 404},
		{name: "appjwt at the idp host", host: "idp", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, secretA), hdr: formHdr, status: 404},
		{name: "control routes at the sentinel host", host: "sentinel", method: "GET", path: "/_lpsim/ledger", status: 404},
		// §6 public clients call CSDS without ".json"; the legacy /csdr/ form too.
		{name: "csds all no json", method: "GET", path: "/api/account/" + accA + "/service/baseURI?version=1.0", status: 200, shape: "csds-all.json"},
		{name: "csds one no json", method: "GET", path: "/api/account/" + accA + "/service/idp/baseURI?version=1.0", status: 200, shape: "csds-one.json"},
		{name: "csds csdr all", method: "GET", path: "/csdr/account/" + accA + "/service/baseURI.json?version=1.0", status: 200, shape: "csds-all.json"},
		{name: "csds csdr one no json", method: "GET", path: "/csdr/account/" + accA + "/service/sentinel/baseURI?version=1.0", status: 200, shape: "csds-one.json"},
		// ... and they refuse what the documented form refuses.
		{name: "csds no json no version", method: "GET", path: "/api/account/" + accA + "/service/baseURI", status: 400},
		{name: "csds no json bad version", method: "GET", path: "/api/account/" + accA + "/service/baseURI?version=2.0", status: 400},
		{name: "csds no json unknown service", method: "GET", path: "/api/account/" + accA + "/service/Sentinel/baseURI?version=1.0", status: 404},
		{name: "csds csdr unknown account", method: "GET", path: "/csdr/account/99999999/service/baseURI?version=1.0", status: 401},
		// §1 version=1.0 is required: missing → 400.
		{name: "csds no version", method: "GET", path: "/api/account/" + accA + "/service/baseURI.json", status: 400},
		// §1 a bad parameter → 400.
		{name: "csds bad version", method: "GET", path: "/api/account/" + accA + "/service/idp/baseURI.json?version=2.0", status: 400},
		// §1 unknown account → 401 "invalid site" (both forms).
		{name: "csds unknown account", method: "GET", path: csdsAllPath("99999999"), status: 401,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				if !strings.Contains(string(b), `"title":"invalid site"`) {
					t.Errorf("answer %s: want title invalid site", b)
				}
			}},
		{name: "csds one unknown account", method: "GET", path: "/api/account/99999999/service/sentinel/baseURI.json?version=1.0", status: 401},

		// §2 AppJWT, the documented form body: a JWT with aud, azp, iss Sentinel, exp − iat = 3600.
		{name: "appjwt", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, secretA), hdr: func(*confEnv) []string { return []string{"Content-Type", form} },
			status: 200, shape: "appjwt-response.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				token("access_token", &e.app)(t, e, h, b)
				p := jwtPayload(t, e.app)
				if p["aud"] != accA || p["azp"] != clientA || p["iss"] != "Sentinel" || p["exp"].(float64)-p["iat"].(float64) != 3600 {
					t.Errorf("AppJWT payload %v", p)
				}
				if !strings.Contains(string(b), `"token_type":"Bearer"`) {
					t.Errorf("token_type not Bearer: %s", b)
				}
			}},
		// §2 some clients send every parameter in the query string.
		{name: "appjwt query", method: "POST", path: sentinelPath(accA) + "&client_id=" + clientA + "&client_secret=" + secretA, status: 200, shape: "appjwt-response.json"},
		// §2 ... or every parameter in the form body.
		{name: "appjwt all in body", method: "POST", path: "/sentinel/api/account/" + accA + "/app/token",
			body: text("v=1.0&grant_type=client_credentials&" + url.Values{"client_id": {clientA}, "client_secret": {secretA}}.Encode()),
			hdr:  func(*confEnv) []string { return []string{"Content-Type", form} }, status: 200, shape: "appjwt-response.json"},
		// §2 a wrong v → 400, in the query or in the body.
		{name: "appjwt wrong v", method: "POST", path: "/sentinel/api/account/" + accA + "/app/token?v=3.0&grant_type=client_credentials", body: appjwtForm(clientA, secretA), hdr: func(*confEnv) []string { return []string{"Content-Type", form} }, status: 400},
		{name: "appjwt wrong v in body", method: "POST", path: "/sentinel/api/account/" + accA + "/app/token",
			body: text("v=3.0&grant_type=client_credentials&" + url.Values{"client_id": {clientA}, "client_secret": {secretA}}.Encode()),
			hdr:  func(*confEnv) []string { return []string{"Content-Type", form} }, status: 400},
		// §2 RS256 with a kid, verified with Sentinel's published key set.
		{name: "jwks", method: "GET", path: "/sentinel/well-known/jwks", status: 200,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { verifyRS256(t, b, e.app) }},
		// §2 Sentinel's API v2: the grant in the form body, no v.
		{name: "appjwt v2", method: "POST", path: "/sentinel/api/v2/account/" + accA + "/app/token",
			body: text("grant_type=client_credentials&" + url.Values{"client_id": {clientA}, "client_secret": {secretA}}.Encode()), hdr: formHdr,
			status: 200, shape: "appjwt-response.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				var v2 string
				token("access_token", &v2)(t, e, h, b)
				_, jwks := call(t, e.remotes[""], "GET", "/sentinel/well-known/jwks", "")
				verifyRS256(t, jwks, v2)
			}},
		{name: "appjwt v2 wrong v", method: "POST", path: "/sentinel/api/v2/account/" + accA + "/app/token?v=1.0",
			body: text("grant_type=client_credentials&" + url.Values{"client_id": {clientA}, "client_secret": {secretA}}.Encode()), hdr: formHdr, status: 400},
		{name: "appjwt v2 wrong secret", method: "POST", path: "/sentinel/api/v2/account/" + accA + "/app/token",
			body: text("grant_type=client_credentials&" + url.Values{"client_id": {clientA}, "client_secret": {"wrong"}}.Encode()), hdr: formHdr, status: 401},
		// §2 wrong credentials → 401.
		{name: "appjwt wrong secret", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, "wrong"), hdr: func(*confEnv) []string { return []string{"Content-Type", form} }, status: 401},
		// §2 unknown account → 401.
		{name: "appjwt unknown account", method: "POST", path: sentinelPath("99999999"), body: appjwtForm(clientA, secretA), hdr: func(*confEnv) []string { return []string{"Content-Type", form} }, status: 401},
		// §2 account B's app.
		{name: "appjwt B", method: "POST", path: sentinelPath(accB), body: appjwtForm(clientB, secretB), hdr: func(*confEnv) []string { return []string{"Content-Type", form} },
			status: 200, shape: "appjwt-response.json", check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { token("access_token", &e.appB)(t, e, h, b) }},

		// §3 ConsumerJWS: 201 {"token"}, payload account_id, ext_consumer_id, 64-hex lp_consumer_id, no exp.
		{name: "consumerjws", method: "POST", path: idpPath(accA), body: ext("lpbench-7f3a-000042"), hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} },
			status: 201, shape: "consumerjws-response.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				token("token", &e.alice)(t, e, h, b)
				p := jwtPayload(t, e.alice)
				lp, _ := p["lp_consumer_id"].(string)
				if p["account_id"] != accA || p["ext_consumer_id"] != "lpbench-7f3a-000042" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(lp) || p["exp"] != nil {
					t.Errorf("ConsumerJWS payload %v", p)
				}
			}},
		{name: "consumerjws bob", method: "POST", path: idpPath(accA), body: ext("lpbench-7f3a-000043"), hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} },
			status: 201, shape: "consumerjws-response.json", check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { token("token", &e.bob)(t, e, h, b) }},
		{name: "consumerjws carol of B", method: "POST", path: idpPath(accB), body: ext("lpbench-7f3a-000042"), hdr: func(e *confEnv) []string {
			return []string{"Content-Type", "application/json", "Authorization", e.appB}
		},
			status: 201, shape: "consumerjws-response.json", check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { token("token", &e.carol)(t, e, h, b) }},
		// §6 public clients leave v out of the IdP call; a v that is given must be 1.0.
		{name: "consumerjws no v", method: "POST", path: "/api/account/" + accA + "/consumer", body: ext("lpbench-7f3a-000099"), hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} },
			status: 201, shape: "consumerjws-response.json"},
		{name: "consumerjws wrong v", method: "POST", path: "/api/account/" + accA + "/consumer?v=2.0", body: ext("lpbench-7f3a-000099"), hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} },
			status: 400},
		// The ConsumerJWS request at the messaging host, or the domain API's: 404.
		{name: "consumerjws at the messaging host", host: "asyncMessagingEnt", method: "POST", path: idpPath(accA), body: ext("lpbench-7f3a-000042"),
			hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} }, status: 404},
		{name: "consumerjws at the csds host", host: "csds", method: "POST", path: idpPath(accA), body: ext("lpbench-7f3a-000042"),
			hdr: func(e *confEnv) []string { return []string{"Content-Type", "application/json", "Authorization", e.app} }, status: 404},
		// §3 without an AppJWT → 401 40105.
		{name: "consumerjws no appjwt", method: "POST", path: idpPath(accA), body: ext("x"), status: 401, code: 40105},

		// §4 CONVERSATION with the documented body and header: the documented array.
		{name: "create", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, alice), status: 200, shape: "create-conversation-response.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { convID(&e.conv)(t, e, h, b) }},
		{name: "create bob", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, bob), status: 200, shape: "create-conversation-response.json",
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { convID(&e.bobConv)(t, e, h, b) }},
		// CONVERSATION and SEND at the IdP host or Sentinel's: 404, and nothing created.
		{name: "create at the idp host", host: "idp", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, alice), status: 404},
		{name: "send at the sentinel host", host: "sentinel", method: "POST", path: sendPath(accA), body: sendBody(bobConv), hdr: msg(appA, bob), status: 404},
		// §0 one open conversation per consumer → 400.
		{name: "create while open", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, alice), status: 400},
		// §4 Authorization absent → 401 40105, the documented body word for word.
		{name: "create no appjwt", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(nil, alice), status: 401, code: 40105,
			check: exact(fixture(t, "error-401.json"))},
		// §4 AppJWT invalid → 401 40102.
		{name: "create appjwt invalid", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(tampered(appA), alice), status: 401, code: 40102},
		// §4 AppJWT expired → 401 40102 (a server whose AppJWTs expire at once).
		{name: "appjwt to expire", server: "expiring", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, secretA), hdr: func(*confEnv) []string { return []string{"Content-Type", form} },
			status: 200, shape: "appjwt-response.json", check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				token("access_token", &e.expiredApp)(t, e, h, b)
			}},
		{name: "create appjwt expired", server: "expiring", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(func(e *confEnv) string { return e.expiredApp }, alice), status: 401, code: 40102,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				if !strings.Contains(string(b), "expired") {
					t.Errorf("answer %s does not say expired", b)
				}
			}},
		// §4 an AppJWT of another account → 401 40001.
		{name: "create appjwt of B", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(func(e *confEnv) string { return e.appB }, alice), status: 401, code: 40001},
		// §4 X-LP-ON-BEHALF absent → 401 40104.
		{name: "create no consumerjws", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, nil), status: 401, code: 40104},
		// §4 ConsumerJWS invalid → 401 40103.
		{name: "create consumerjws invalid", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, tampered(alice)), status: 401, code: 40103},
		// §4 a ConsumerJWS of another account → 401 40103.
		{name: "create consumerjws of B", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, func(e *confEnv) string { return e.carol }), status: 401, code: 40103},
		// §4 invalid input → 400: not an array, another brand (40001), no v.
		{name: "create not an array", method: "POST", path: createPath(accA), body: text(`{"kind":"req"}`), hdr: msg(appA, alice), status: 400},
		{name: "create brand of B", method: "POST", path: createPath(accA), body: createBody(accB), hdr: msg(appA, alice), status: 400, code: 40001},
		{name: "create no v", method: "POST", path: strings.TrimSuffix(createPath(accA), "?v=3"), body: createBody(accA), hdr: msg(appA, alice), status: 400},
		// §4 429 "Too many requests, please try again later", with Retry-After (a server limiting
		// CONVERSATION to a burst of 1 per account).
		{name: "limited appjwt", server: "limited", method: "POST", path: sentinelPath(accA), body: appjwtForm(clientA, secretA), hdr: func(*confEnv) []string { return []string{"Content-Type", form} },
			status: 200, check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				token("access_token", &e.limitedApp)(t, e, h, b)
			}},
		{name: "limited consumerjws", server: "limited", method: "POST", path: idpPath(accA), body: ext("limited"), hdr: func(e *confEnv) []string { return []string{"Authorization", e.limitedApp} },
			status: 201, check: func(t *testing.T, e *confEnv, h http.Header, b []byte) { token("token", &e.limitedCJ)(t, e, h, b) }},
		{name: "limited create", server: "limited", method: "POST", path: createPath(accA), body: createBody(accA),
			hdr: msg(func(e *confEnv) string { return e.limitedApp }, func(e *confEnv) string { return e.limitedCJ }), status: 200, shape: "create-conversation-response.json"},
		{name: "limited create again", server: "limited", method: "POST", path: createPath(accA), body: createBody(accA),
			hdr: msg(func(e *confEnv) string { return e.limitedApp }, func(e *confEnv) string { return e.limitedCJ }), status: 429,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				if got, want := h.Get("Retry-After"), "2"; got != want {
					t.Errorf("Retry-After = %q, want %q", got, want)
				}
				if !strings.Contains(string(b), `"title":"Too many requests, please try again later"`) {
					t.Errorf("429 answer %s", b)
				}
			}},

		// §4 SEND, the documented text message: {"reqId":"1","code":"OK","body":{"sequence":0}}.
		{name: "send", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(appA, alice), status: 200, shape: "send-response.json", check: sequence(0)},
		// Later messages take the next sequence.
		{name: "send again", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(appA, alice), status: 200, shape: "send-response.json", check: sequence(1)},
		// §4 the consumer does not own the conversation → 401 40103.
		{name: "send not owner", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(appA, bob), status: 401, code: 40103},
		// §4 X-LP-ON-BEHALF absent, Authorization absent.
		{name: "send no consumerjws", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(appA, nil), status: 401, code: 40104},
		{name: "send no appjwt", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(nil, alice), status: 401, code: 40105},
		// An unknown conversation → 400.
		{name: "send unknown conversation", method: "POST", path: sendPath(accA), body: sendBody(text("00000000-0000-4000-8000-000000000000")), hdr: msg(appA, alice), status: 400},

		// §4 close: cm.UpdateConversationField CLOSE → 200.
		{name: "close", method: "POST", path: sendPath(accA), body: closeBody(aliceConv), hdr: msg(appA, alice), status: 200, check: exact(`{"reqId":1,"code":"OK","body":{}}`)},
		// A closed conversation takes no message and no second close → 400.
		{name: "send after close", method: "POST", path: sendPath(accA), body: sendBody(aliceConv), hdr: msg(appA, alice), status: 400},
		{name: "close again", method: "POST", path: sendPath(accA), body: closeBody(aliceConv), hdr: msg(appA, alice), status: 400},
		// Closing another's conversation → 401 40103.
		{name: "close not owner", method: "POST", path: sendPath(accA), body: closeBody(bobConv), hdr: msg(appA, alice), status: 401, code: 40103},
		// §0 once closed, the consumer may open another.
		{name: "create after close", method: "POST", path: createPath(accA), body: createBody(accA), hdr: msg(appA, alice), status: 200, shape: "create-conversation-response.json"},

		// The ledger records alice's conversation: first send inside the window, with the header
		// on both calls: auto messages; closed.
		{name: "ledger", method: "GET", path: "/_lpsim/ledger", status: 200,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				var l Ledger
				if err := json.Unmarshal(b, &l); err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range l.Conversations {
					if c.ID == e.conv {
						found = true
						if c.ExtConsumerID != "lpbench-7f3a-000042" || !c.CreateHeader || !c.SendHeader || !c.FirstSend || !c.AutoMessages || !c.Closed || c.Gap < 0 {
							t.Errorf("ledger entry %+v", c)
						}
					}
				}
				if !found || l.ConversationsCreated != 3 || l.Sends != 2 || l.FirstSends != 1 || l.ConversationsClosed != 1 || l.AutoMessagesTriggered != 1 {
					t.Errorf("ledger %+v", l)
				}
				if got := l.Requests[EndpointCreate][401]; got != 6 { // the 401 rows of create on this server
					t.Errorf("create 401s = %d, want 6", got)
				}
			}},
		{name: "limited ledger", server: "limited", method: "GET", path: "/_lpsim/ledger", status: 200,
			check: func(t *testing.T, e *confEnv, h http.Header, b []byte) {
				var l Ledger
				json.Unmarshal(b, &l)
				if l.Requests[EndpointCreate][429] != 1 || l.ConversationsCreated != 1 {
					t.Errorf("ledger requests %v, created %d: want one 429 and one conversation", l.Requests[EndpointCreate], l.ConversationsCreated)
				}
			}},
	}

	for _, row := range rows {
		ok := t.Run(row.name, func(t *testing.T) {
			body := ""
			if row.body != nil {
				body = row.body(env)
			}
			u := env.remotes[row.server].url(row.path)
			switch row.host {
			case "":
			case "csds":
				u = env.urls[row.server] + row.path
			default:
				u = env.remotes[row.server].hosts[row.host] + row.path
			}
			req, err := http.NewRequest(row.method, u, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if row.hdr != nil {
				h := row.hdr(env)
				for i := 0; i+1 < len(h); i += 2 {
					req.Header.Set(h[i], h[i+1])
				}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, row.status; got != want {
				t.Fatalf("status %d, want %d: %s", got, want, b)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			switch {
			case row.status >= 400:
				checkError(t, b, row.status, row.code)
			case row.shape != "":
				checkShape(t, b, row.shape)
			}
			if row.check != nil {
				row.check(t, env, resp.Header, b)
			}
		})
		if !ok {
			t.Fatalf("row %q failed: later rows depend on it", row.name)
		}
	}
}
