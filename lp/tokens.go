package lp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AppJWT is a Sentinel token and when to refresh it.
type AppJWT struct {
	Token   string
	Refresh time.Time // local clock: refresh after this
}

// defaultAppJWTLifetime is assumed when a token carries no exp: LivePerson documents one hour.
const defaultAppJWTLifetime = time.Hour

// maxAppJWTLifetime caps the lifetime a token's claims can claim, so that a garbled exp cannot
// keep a token from ever being renewed.
const maxAppJWTLifetime = 24 * time.Hour

// FetchAppJWT requests a new AppJWT from Sentinel with the client-credentials grant, uncached.
func (c *Client) FetchAppJWT(ctx context.Context, d Domains) (AppJWT, error) {
	u := c.serviceURL(d.Sentinel, "/sentinel/api/account/"+url.PathEscape(c.t.Account)+"/app/token?v=1.0&grant_type=client_credentials")
	form := url.Values{"client_id": {c.t.ClientID}, "client_secret": {c.t.ClientSecret}}
	req, err := c.newRequest(ctx, http.MethodPost, u, []byte(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return AppJWT{}, err
	}
	start := time.Now()
	tok, err := call(c, "appjwt", req, decodeAppJWT)
	if err != nil {
		return AppJWT{}, err
	}
	return AppJWT{Token: tok, Refresh: refreshTime(tok, start)}, nil
}

// decodeAppJWT reads Sentinel's token answer.
func decodeAppJWT(status int, header http.Header, body []byte) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON("appjwt", status, header, body, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", protocolError("appjwt", status, "no access_token in the answer")
	}
	if !validToken(out.AccessToken) {
		return "", protocolError("appjwt", status, "the access_token is not a plain token")
	}
	return out.AccessToken, nil
}

// validToken reports whether s can be sent as a header value unchanged: visible ASCII only, as
// JWTs and OAuth bearer tokens are. Anything else would fail every later request at the client.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// refreshTime decides when to renew a token fetched at start (local clock). The lifetime is
// exp − iat when both are present, bounded by exp − now so a token never outlives what it says on
// the local wall clock; counting from start, not from the answer, keeps it on the safe side. The
// token is renewed a margin before expiry: a fifth of its lifetime, at most 60 s (what public
// clients use for one-hour tokens). Claims are outside input: a lifetime is at most
// maxAppJWTLifetime, and claims beyond any plausible date are ignored rather than overflowing.
func refreshTime(token string, start time.Time) time.Time {
	const maxClaim = 1e11 // seconds since 1970: year 5138
	lifetime := defaultAppJWTLifetime
	if claims, err := jwtClaims(token); err == nil && claims.Exp > 0 && claims.Exp < maxClaim {
		untilExp := time.Until(time.UnixMilli(int64(claims.Exp * 1000)))
		if claims.Iat > 0 && claims.Exp > claims.Iat {
			claimed := min(claims.Exp-claims.Iat, maxAppJWTLifetime.Seconds()) // no Duration overflow
			lifetime = min(time.Duration(claimed*float64(time.Second)), untilExp)
		} else {
			lifetime = untilExp
		}
	}
	lifetime = min(max(lifetime, 0), maxAppJWTLifetime)
	margin := min(lifetime/5, 60*time.Second)
	return start.Add(lifetime - margin)
}

type jwtPayload struct {
	Exp float64 `json:"exp"` // NumericDate: seconds, possibly fractional
	Iat float64 `json:"iat"`
}

// jwtClaims decodes (without verifying) the payload of a JWT.
func jwtClaims(token string) (jwtPayload, error) {
	var p jwtPayload
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return p, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(raw, &p)
}

// AppJWT returns the target's shared AppJWT, fetching a new one when there is none or it is due
// for renewal. Concurrent callers share one fetch. fetched reports whether this call made it.
func (c *Client) AppJWT(ctx context.Context, d Domains) (token string, fetched bool, err error) {
	return c.appJWT.get(ctx, func(ctx context.Context) (string, time.Time, error) {
		t, err := c.FetchAppJWT(ctx, d)
		return t.Token, t.Refresh, err
	})
}

// CachedAppJWT returns the shared AppJWT when one is held that needs no renewal yet: the
// journey's fast path, with no request and no wait.
func (c *Client) CachedAppJWT() (string, bool) { return c.appJWT.fresh() }

// InvalidateAppJWT drops the shared AppJWT if it still is token, after the server rejected it as
// expired or invalid (errorCode 40102), so the next caller fetches a new one.
func (c *Client) InvalidateAppJWT(token string) {
	c.appJWT.invalidate(func(cur string) bool { return cur == token })
}

// AppJWTFetches returns how many AppJWT fetches were made.
func (c *Client) AppJWTFetches() int64 { return c.appJWT.count() }

// ConsumerJWS asks the IdP for the JWS of consumer extID (the X-LP-ON-BEHALF value). The AppJWT is
// sent bare in Authorization, as LivePerson documents.
func (c *Client) ConsumerJWS(ctx context.Context, d Domains, appJWT, extID string) (string, error) {
	u := c.serviceURL(d.IdP, "/api/account/"+url.PathEscape(c.t.Account)+"/consumer?v=1.0")
	body := consumerJWSBody(extID)
	req, err := c.newRequest(ctx, http.MethodPost, u, body, "application/json")
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", appJWT)
	return call(c, "consumerjws", req, decodeConsumerJWS)
}

// consumerJWSBody returns the ConsumerJWS body of consumer extID, {"ext_consumer_id":"…"}, as
// json.Marshal writes it.
func consumerJWSBody(extID string) []byte {
	const head, tail = `{"ext_consumer_id":`, `}`
	b := make([]byte, 0, len(head)+len(extID)+2+len(tail))
	b = appendJSONString(append(b, head...), extID)
	return append(b, tail...)
}

// decodeConsumerJWS reads the IdP's answer.
func decodeConsumerJWS(status int, header http.Header, body []byte) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if tok, ok := onlyStringField(body, "token"); ok && status >= 200 && status <= 299 {
		out.Token = tok // what decodeJSON would give, without its reflection
	} else if err := decodeJSON("consumerjws", status, header, body, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", protocolError("consumerjws", status, "no token in the answer")
	}
	if !validToken(out.Token) {
		return "", protocolError("consumerjws", status, "the token is not a plain token")
	}
	return out.Token, nil
}

// onlyStringField returns v when body is the JSON object {"key":"v"} and nothing else (white
// space aside), v being printable ASCII without a quote or a backslash: the shape of the IdP's
// answer, whose value json.Unmarshal gives as it stands. Any other body: false.
func onlyStringField(body []byte, key string) (string, bool) {
	b := skipSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return "", false
	}
	b = skipSpace(b[1:])
	if len(b) < len(key)+2 || b[0] != '"' || string(b[1:len(key)+1]) != key || b[len(key)+1] != '"' {
		return "", false
	}
	b = skipSpace(b[len(key)+2:])
	if len(b) == 0 || b[0] != ':' {
		return "", false
	}
	b = skipSpace(b[1:])
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	b = b[1:]
	end := 0
	for end < len(b) && b[end] >= 0x20 && b[end] <= 0x7e && b[end] != '"' && b[end] != '\\' {
		end++
	}
	if end == len(b) || b[end] != '"' {
		return "", false
	}
	v := b[:end]
	if rest := skipSpace(b[end+1:]); len(rest) == 0 || rest[0] != '}' || len(skipSpace(rest[1:])) != 0 {
		return "", false
	}
	return string(v), true
}

// skipSpace returns b past its leading JSON white space.
func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}
