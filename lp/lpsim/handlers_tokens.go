package lpsim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// handleAppJWT answers POST /sentinel/api/account/{acc}/app/token (Sentinel's API v1): the OAuth2
// client-credentials grant of the account's app (fixtures/appjwt-response.json). v is 1.0, or 2.0
// as LivePerson's own example for the v2 keys writes it.
func (s *Sim) handleAppJWT(w http.ResponseWriter, r *http.Request) {
	s.appJWTGrant(w, r, func(v string, _ bool) bool { return v == "1.0" || v == "2.0" }, "query parameter v must be 1.0")
}

// handleAppJWTv2 answers POST /sentinel/api/v2/account/{acc}/app/token (Sentinel's API v2, whose
// keys /sentinel/well-known/jwks publishes): the same grant, v not needed; one given must be 2.0.
func (s *Sim) handleAppJWTv2(w http.ResponseWriter, r *http.Request) {
	s.appJWTGrant(w, r, func(v string, given bool) bool { return !given || v == "2.0" }, "v, when given, must be 2.0 on the v2 path")
}

// handleJWKS answers GET /sentinel/well-known/jwks: the key set that verifies the AppJWTs. Like
// the control routes, it is neither counted, delayed nor stalled: it is no step of a journey.
func (s *Sim) handleJWKS(w http.ResponseWriter, r *http.Request) {
	s.respond(w, r, "", http.StatusOK, s.jwks)
}

// appJWTGrant answers a token request of either path; versionOK judges its v parameter (form
// body or query), and badVersion says what it wants.
func (s *Sim) appJWTGrant(w http.ResponseWriter, r *http.Request, versionOK func(v string, given bool) bool, badVersion string) {
	const ep = EndpointAppJWT
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// The form body is the documented way; ParseForm merges it with the query, body values first.
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			s.fail(w, r, ep, errTooLarge)
			return
		}
		s.fail(w, r, ep, badRequest("Bad request", "the form does not parse: "+err.Error()))
		return
	}
	w, ok := s.admit(w, r, ep, nil)
	if !ok {
		return
	}
	if v, given := r.Form["v"]; !versionOK(r.Form.Get("v"), given && len(v) > 0) {
		s.fail(w, r, ep, badRequest("Bad version", badVersion))
		return
	}
	switch r.Form.Get("grant_type") {
	case "client_credentials":
	case "":
		s.fail(w, r, ep, badRequest("Bad request", "grant_type is missing"))
		return
	default:
		s.fail(w, r, ep, badRequest("Bad request", "unsupported grant_type (want client_credentials)"))
		return
	}
	a := s.accounts[r.PathValue("acc")]
	if a == nil || !secretEqual(r.Form.Get("client_id"), a.ClientID) || !secretEqual(r.Form.Get("client_secret"), a.ClientSecret) {
		s.fail(w, r, ep, apiErr{status: http.StatusUnauthorized, title: "Unauthorized", details: "unknown account or bad client credentials"})
		return
	}
	tok := s.issueAppJWT(&a.Account)
	s.appJWTsIssued.Add(1)
	s.respond(w, r, ep, http.StatusOK, appendJSONObject(nil, "access_token", tok, "token_type", "Bearer"))
}

// secretEqual compares credentials in constant time, as a real service must.
func secretEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// handleConsumerJWS answers POST /api/account/{acc}/consumer: a ConsumerJWS for the external
// consumer id of the body (fixtures/consumerjws-response.json), 201.
func (s *Sim) handleConsumerJWS(w http.ResponseWriter, r *http.Request) {
	const ep = EndpointConsumerJWS
	buf, e := readBody(w, r)
	defer putBody(buf)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	w, ok := s.admit(w, r, ep, buf.Bytes())
	if !ok {
		return
	}
	acc := r.PathValue("acc")
	if _, _, e := s.authenticate(r, acc, false); e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	// Public clients leave v out, and LivePerson serves them; a v that is given must be 1.0.
	if e := checkOptionalVersion(r, "v", "1.0"); e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	var in struct {
		ExtConsumerID string `json:"ext_consumer_id"`
	}
	if err := json.Unmarshal(buf.Bytes(), &in); err != nil {
		s.fail(w, r, ep, badRequest("Bad request", "the body is not {\"ext_consumer_id\":STRING}"))
		return
	}
	if strings.TrimSpace(in.ExtConsumerID) == "" {
		s.fail(w, r, ep, badRequest("Bad request", "ext_consumer_id is missing"))
		return
	}
	tok := s.issueConsumerJWS(acc, in.ExtConsumerID)
	s.consumerJWSsIssued.Add(1)
	s.respond(w, r, ep, http.StatusCreated, appendJSONObject(nil, "token", tok))
}

// appendJSONObject appends a flat JSON object of string fields, given as key, value pairs, in
// order: cheaper than json.Marshal on the hot path and keeps the documented key order.
func appendJSONObject(b []byte, kv ...string) []byte {
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv[i])
		b = append(b, ':')
		b = appendJSONString(b, kv[i+1])
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Tokens, ids and fixed words need no escaping; other
// strings go through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
