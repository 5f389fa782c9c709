package lpsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strings"
	"sync"
	"time"
)

// jwtHeader is base64url({"alg":"HS256","typ":"JWT"}): the only header the Sim's HS256 signer
// (ConsumerJWSs) signs, so a token with any other header is refused without further work.
const jwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

var b64 = base64.RawURLEncoding

// jwsSigner issues and verifies compact JWS tokens: verify reports false for anything malformed or
// badly signed, and unmarshals a good token's payload into claims.
type jwsSigner interface {
	sign(payload []byte) string
	verify(token string, claims any) bool
}

// signer issues and verifies HS256 compact JWS tokens under one key random per Sim. Tokens of
// another Sim (or another signer of this Sim) never verify.
type signer struct {
	key  []byte
	macs sync.Pool // of *macState: HMAC state is costly to set up and verification is on every request
}

type macState struct {
	h   hash.Hash
	buf []byte
}

func newSigner() *signer {
	s := &signer{key: make([]byte, 32)}
	rand.Read(s.key) // never fails (crypto/rand panics instead)
	s.macs.New = func() any { return &macState{h: hmac.New(sha256.New, s.key)} }
	return s
}

// sign returns header.payload.signature for the JSON payload.
func (s *signer) sign(payload []byte) string {
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	tok := make([]byte, 0, len(jwtHeader)+1+b64.EncodedLen(len(payload))+1+b64.EncodedLen(sha256.Size))
	tok = append(tok, jwtHeader...)
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, payload)
	m.h.Reset()
	m.h.Write(tok)
	m.buf = m.h.Sum(m.buf[:0])
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, m.buf)
	return string(tok)
}

// verify checks token's header and signature and unmarshals its payload into claims. It reports
// false for anything malformed or badly signed. All scratch space lives in the pooled macState, so
// a verification allocates only what json.Unmarshal keeps.
func (s *signer) verify(token string, claims any) bool {
	head, rest, ok := strings.Cut(token, ".")
	if !ok || head != jwtHeader {
		return false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || len(sig) != b64.EncodedLen(sha256.Size) {
		return false
	}
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)

	// m.buf = signing input | expected signature (encoded) | presented signature
	m.buf = append(m.buf[:0], token[:len(head)+1+len(payload)]...)
	m.h.Reset()
	m.h.Write(m.buf)
	m.buf = m.h.Sum(m.buf[:0]) // the signing input is no longer needed
	m.buf = b64.AppendEncode(m.buf, m.buf[:sha256.Size])
	want := len(m.buf)
	m.buf = append(m.buf, sig...)
	if !hmac.Equal(m.buf[sha256.Size:want], m.buf[want:]) {
		return false
	}

	// m.buf = encoded payload | decoded payload
	m.buf = append(m.buf[:0], payload...)
	n := b64.DecodedLen(len(payload))
	m.buf = slices.Grow(m.buf, n)
	dec := m.buf[len(m.buf) : len(m.buf)+n]
	n, err := b64.Decode(dec, m.buf)
	if err != nil {
		return false
	}
	return json.Unmarshal(dec[:n], claims) == nil
}

// maxVerified bounds each verified-token cache: far more than the tokens in use at once (one
// AppJWT per client, one ConsumerJWS per journey in flight); when full, the cache starts afresh.
const maxVerified = 4096

// issuer is a signer with a cache of the tokens it has verified and their claims, so a token sent
// again and again (a client's AppJWT on every request, a ConsumerJWS on each step of a journey)
// is checked and decoded once. A token in the cache verified once under this Sim's key, which
// never changes, so it verifies for ever; expiry is judged from the claims at every use. Failures
// are not cached.
type issuer[C any] struct {
	jwsSigner
	mu   sync.RWMutex
	seen map[string]C
}

func newIssuer[C any](s jwsSigner) *issuer[C] {
	return &issuer[C]{jwsSigner: s, seen: make(map[string]C)}
}

// check returns token's claims when its header and signature verify and its payload decodes.
func (is *issuer[C]) check(token string) (C, bool) {
	is.mu.RLock()
	claims, ok := is.seen[token]
	is.mu.RUnlock()
	if ok {
		return claims, true
	}
	// A new variable: its address escapes into verify, and only a miss should pay for that.
	var fresh C
	if !is.verify(token, &fresh) {
		return claims, false
	}
	claims = fresh
	is.mu.Lock()
	if len(is.seen) >= maxVerified {
		clear(is.seen)
	}
	is.seen[token] = claims
	is.mu.Unlock()
	return claims, true
}

// appJWTClaims is the payload of a Sentinel AppJWT, fields in the documented order.
type appJWTClaims struct {
	Aud   string `json:"aud"`
	Azp   string `json:"azp"`
	Scope string `json:"scope"`
	Iss   string `json:"iss"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

// consumerClaims is the payload of an IdP ConsumerJWS. It has no iat or exp unless
// Config.ConsumerJWSLifetime is set: LivePerson documents ConsumerJWSs as never expiring.
type consumerClaims struct {
	AccountID     string `json:"account_id"`
	ExtConsumerID string `json:"ext_consumer_id"`
	LPConsumerID  string `json:"lp_consumer_id"`
	Iat           int64  `json:"iat,omitempty"`
	Exp           int64  `json:"exp,omitempty"`
}

// issueAppJWT returns an AppJWT for account a's app. iat is the current whole second (truncated),
// exp is iat plus the lifetime rounded up to whole seconds (at least 1).
func (s *Sim) issueAppJWT(a *Account) string {
	iat := s.now().Unix()
	p, err := json.Marshal(appJWTClaims{
		Aud: a.ID, Azp: a.ClientID, Scope: "msg.consumer", Iss: "Sentinel",
		Exp: iat + s.appJWTSeconds, Iat: iat,
	})
	if err != nil { // strings and ints only: cannot happen
		panic(err)
	}
	return s.appJWT.sign(p)
}

// checkAppJWT validates the Authorization header value for the account of the request path.
//
// Expiry is judged against iat + the exact configured lifetime, not against exp: with a lifetime
// that is not a whole number of seconds, exp (rounded up) is later, and the token must never live
// longer than what it says.
func (s *Sim) checkAppJWT(authorization, account string) apiErr {
	tok := strings.TrimSpace(authorization)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		return errAppJWTMissing
	}
	c, ok := s.appJWT.check(tok)
	if !ok {
		return errAppJWTInvalid
	}
	if s.now().After(time.Unix(c.Iat, 0).Add(s.cfg.AppJWTLifetime)) {
		return errAppJWTExpired
	}
	if c.Aud != account {
		return errAppJWTAud
	}
	return apiErr{}
}

// lpConsumerID is LivePerson's consumer id for an external consumer id: 64 hex characters,
// deterministic in (account, ext id) so the same consumer keeps its identity across tokens and Sims.
func lpConsumerID(account, extConsumerID string) string {
	h := sha256.New()
	h.Write([]byte(account))
	h.Write([]byte{0}) // separator: ("1","23") and ("12","3") must differ
	h.Write([]byte(extConsumerID))
	return hex.EncodeToString(h.Sum(nil))
}

// issueConsumerJWS returns a ConsumerJWS for an external consumer of account.
func (s *Sim) issueConsumerJWS(account, extConsumerID string) string {
	c := consumerClaims{
		AccountID:     account,
		ExtConsumerID: extConsumerID,
		LPConsumerID:  lpConsumerID(account, extConsumerID),
	}
	if l := s.cfg.ConsumerJWSLifetime; l > 0 {
		c.Iat = s.now().Unix()
		c.Exp = c.Iat + max(1, int64((l+time.Second-1)/time.Second))
	}
	p, err := json.Marshal(c)
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	return s.consumerJWS.sign(p)
}

// checkConsumerJWS validates the X-LP-ON-BEHALF header value for the account of the request path
// and returns the consumer it names.
func (s *Sim) checkConsumerJWS(onBehalf, account string) (consumerClaims, apiErr) {
	tok := strings.TrimSpace(onBehalf)
	if tok == "" {
		return consumerClaims{}, errConsumerMissing
	}
	c, ok := s.consumerJWS.check(tok)
	if !ok || c.AccountID != account || c.LPConsumerID == "" {
		return consumerClaims{}, errConsumerInvalid
	}
	// As for AppJWTs, expiry is judged against iat + the exact lifetime.
	if l := s.cfg.ConsumerJWSLifetime; l > 0 && s.now().After(time.Unix(c.Iat, 0).Add(l)) {
		return consumerClaims{}, errConsumerExpired
	}
	return c, apiErr{}
}
