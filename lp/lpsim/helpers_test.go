package lpsim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Accounts of the test configuration.
const (
	accA      = "12345678" // AUTO_MESSAGES enabled
	accB      = "87654321" // AUTO_MESSAGES disabled
	accC      = "11223344" // AUTO_MESSAGES enabled, no Controller Bot permission
	secretA   = "secret-a"
	secretB   = "secret-b"
	secretC   = "secret-c"
	clientA   = "client-a"
	clientB   = "client-b"
	clientC   = "client-c"
	autoProps = `{ "type": ".ClientProperties", "features": ["AUTO_MESSAGES"] }`
)

// testConfig has three accounts, a 200 ms window and no latency.
func testConfig() Config {
	return Config{
		Accounts: []Account{
			{ID: accA, Region: "va", ClientID: clientA, ClientSecret: secretA, AutoMessages: true},
			{ID: accB, Region: "lo", ClientID: clientB, ClientSecret: secretB},
			{ID: accC, Region: "sy", ClientID: clientC, ClientSecret: secretC, AutoMessages: true, NoControllerBot: true},
		},
		Window: 200 * time.Millisecond,
		Seed:   1,
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFakeSim returns a Sim for cfg on a fake clock that starts a quarter second past a whole
// second, so truncation of iat is visible.
func newFakeSim(t testing.TB, cfg Config) (*Sim, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 250_000_000)}
	s, err := newSim(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// call sends one request straight to h and returns the status and body. hdr holds header name,
// value pairs.
func call(t testing.TB, h http.Handler, method, target, body string, hdr ...string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// fixture returns the named file of testdata/fixtures with the replacements (old, new pairs) made.
func fixture(t testing.TB, name string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/fixtures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(repl...).Replace(string(b))
}

// decode unmarshals JSON into a generic value, failing the test when it does not parse.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, b)
	}
	return v
}

// sameShape reports the differences in shape between two generic JSON values: the JSON types,
// object keys and array lengths must agree; scalar values may differ.
func sameShape(got, want any, path string) []string {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return []string{path + ": got " + typeName(got) + ", want " + typeName(want)}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := map[string]bool{}
		for k := range g {
			keys[k] = true
		}
		for k := range w {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				diffs = append(diffs, path+"."+k+": missing")
			case !wok:
				diffs = append(diffs, path+"."+k+": unexpected")
			default:
				diffs = append(diffs, sameShape(gv, wv, path+"."+k)...)
			}
		}
	case []any:
		g := got.([]any)
		if len(g) == len(w) {
			for i := range w {
				diffs = append(diffs, sameShape(g[i], w[i], path+"["+strconv.Itoa(i)+"]")...)
			}
			return diffs
		}
		// A list of another length: fine when the fixture's elements all share one shape (a
		// list of like items), which every element of got must then have.
		for i := 1; i < len(w); i++ {
			if len(sameShape(w[i], w[0], "")) > 0 {
				return []string{path + ": length differs"}
			}
		}
		if len(w) == 0 {
			return nil
		}
		for i := range g {
			diffs = append(diffs, sameShape(g[i], w[0], path+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return diffs
}

func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return reflect.TypeOf(v).String()
}

// checkShape fails the test when the response body's shape differs from the fixture's.
func checkShape(t testing.TB, got []byte, fixtureName string) any {
	t.Helper()
	g := decode(t, got)
	if d := sameShape(g, decode(t, []byte(fixture(t, fixtureName))), "$"); len(d) > 0 {
		t.Errorf("response shape differs from %s: %v\n%s", fixtureName, d, got)
	}
	return g
}

// jwtPayload decodes the payload of a compact JWS into a map.
func jwtPayload(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload is not base64url without padding: %v", err)
	}
	return decode(t, b).(map[string]any)
}

// checkError fails the test unless b is the documented error shape (fixtures/error-401.json) for
// status, with errorCode code (absent when code is 0).
func checkError(t testing.TB, b []byte, status, code int) {
	t.Helper()
	want := decode(t, []byte(fixture(t, "error-401.json"))).(map[string]any)
	if code == 0 {
		delete(want["body"].(map[string]any), "errorCode")
	}
	got := decode(t, b)
	if d := sameShape(got, want, "$"); len(d) > 0 {
		t.Errorf("error shape differs from error-401.json: %v\n%s", d, b)
		return
	}
	m := got.(map[string]any)
	if got, want := m["code"], float64(status); got != want {
		t.Errorf("code = %v, want %v", got, want)
	}
	if got, want := m["kind"], "resp"; got != want {
		t.Errorf("kind = %v, want %v", got, want)
	}
	if got, want := m["type"], ".ReqBody$ErrorResp"; got != want {
		t.Errorf("type = %v, want %v", got, want)
	}
	if code != 0 {
		if got, want := m["body"].(map[string]any)["errorCode"], float64(code); got != want {
			t.Errorf("errorCode = %v, want %v: %s", got, want, b)
		}
	}
}

// Paths of the simulated API for an account.
func csdsAllPath(acc string) string {
	return "/api/account/" + acc + "/service/baseURI.json?version=1.0"
}
func sentinelPath(acc string) string {
	return "/sentinel/api/account/" + acc + "/app/token?v=1.0&grant_type=client_credentials"
}
func idpPath(acc string) string { return "/api/account/" + acc + "/consumer?v=1.0" }
func createPath(acc string) string {
	return "/api/account/" + acc + "/messaging/consumer/conversation?v=3"
}
func sendPath(acc string) string {
	return "/api/account/" + acc + "/messaging/consumer/conversation/send?v=3"
}

// appJWT obtains an AppJWT for acc.
func appJWT(t testing.TB, h http.Handler, acc, clientID, secret string) string {
	t.Helper()
	st, b := call(t, h, "POST", sentinelPath(acc), "client_id="+clientID+"&client_secret="+secret,
		"Content-Type", "application/x-www-form-urlencoded")
	if st != http.StatusOK {
		t.Fatalf("AppJWT: status %d: %s", st, b)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &out)
	return out.AccessToken
}

// consumerJWS obtains a ConsumerJWS for external consumer ext of acc.
func consumerJWS(t testing.TB, h http.Handler, acc, app, ext string) string {
	t.Helper()
	st, b := call(t, h, "POST", idpPath(acc), `{"ext_consumer_id":"`+ext+`"}`, "Authorization", app)
	if st != http.StatusCreated {
		t.Fatalf("ConsumerJWS: status %d: %s", st, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	return out.Token
}

// consumer is one authenticated synthetic consumer of an account.
type consumer struct {
	h        http.Handler
	acc      string
	app, jws string
}

// newConsumer authenticates external consumer ext of account A, B or C.
func newConsumer(t testing.TB, h http.Handler, acc, ext string) consumer {
	t.Helper()
	id, secret := clientA, secretA
	switch acc {
	case accB:
		id, secret = clientB, secretB
	case accC:
		id, secret = clientC, secretC
	}
	app := appJWT(t, h, acc, id, secret)
	return consumer{h: h, acc: acc, app: app, jws: consumerJWS(t, h, acc, app, ext)}
}

// headers returns the authentication headers, plus Client-Properties when props is set.
func (c consumer) headers(props bool) []string {
	hdr := []string{"Authorization", c.app, "X-LP-ON-BEHALF", c.jws, "Content-Type", "application/json"}
	if props {
		hdr = append(hdr, "Client-Properties", autoProps)
	}
	return hdr
}

// create sends the fixture CONVERSATION request and returns the status, body and new id.
func (c consumer) create(t testing.TB, props bool) (int, []byte, string) {
	t.Helper()
	st, b := call(t, c.h, "POST", createPath(c.acc), fixture(t, "create-conversation.json", "{accountid}", c.acc), c.headers(props)...)
	var out []struct {
		Body struct{ ConversationID string } `json:"body"`
	}
	json.Unmarshal(b, &out)
	id := ""
	if st == http.StatusOK && len(out) == 2 {
		id = out[1].Body.ConversationID
	}
	return st, b, id
}

// send sends the fixture text message to conversation id.
func (c consumer) send(t testing.TB, id string, props bool) (int, []byte) {
	t.Helper()
	return call(t, c.h, "POST", sendPath(c.acc), fixture(t, "send.json", "{conversationId}", id), c.headers(props)...)
}

// close sends the fixture close request for conversation id.
func (c consumer) close(t testing.TB, id string) (int, []byte) {
	t.Helper()
	return call(t, c.h, "POST", sendPath(c.acc), fixture(t, "close-conversation.json", "{conversationId}", id), c.headers(true)...)
}

// conversation returns the ledger entry of conversation id.
func conversationOf(t testing.TB, s *Sim, id string) Conversation {
	t.Helper()
	for _, c := range s.Ledger().Conversations {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("conversation %s is not in the ledger", id)
	return Conversation{}
}

// verifyRS256 checks tok as a client of Sentinel's v2 keys would: its header is
// {"kid","typ":"JWT","alg":"RS256"}, and its signature verifies with the key of that kid in the
// key set jwks ({"keys":[{"kty":"RSA","kid","n","e",…}]}).
func verifyRS256(t testing.TB, jwks []byte, tok string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	var head struct{ Kid, Typ, Alg string }
	if err := json.Unmarshal(hb, &head); err != nil || head.Alg != "RS256" || head.Typ != "JWT" || head.Kid == "" {
		t.Fatalf("header %s: want kid, typ JWT, alg RS256", hb)
	}
	var set struct {
		Keys []struct{ Kty, Kid, Use, Alg, N, E string }
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("key set %s: %v", jwks, err)
	}
	for _, k := range set.Keys {
		if k.Kid != head.Kid {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("key %+v or signature does not decode", k)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("the signature does not verify with key %s: %v", k.Kid, err)
		}
		return
	}
	t.Fatalf("no key %q in the key set %s", head.Kid, jwks)
}
