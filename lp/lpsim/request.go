package lpsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxBody bounds every request body: LivePerson's requests are a few hundred bytes, and a
// simulator under load must not be made to buffer arbitrary amounts.
const maxBody = 64 << 10

var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads r's body, at most maxBody bytes, into a pooled buffer. The caller must hand the
// buffer back with putBody once done with its bytes (json.Unmarshal copies what it keeps).
func readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, apiErr) {
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		putBody(buf)
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, errTooLarge
		}
		return nil, badRequest("Unreadable body", err.Error())
	}
	return buf, apiErr{}
}

func putBody(buf *bytes.Buffer) {
	if buf != nil && buf.Cap() <= maxBody+bytes.MinRead { // don't pin oddly grown buffers
		bodyBufs.Put(buf)
	}
}

// queryValue returns the first value of key in a raw query string, like url.Values.Get, without
// building the whole map (keys looked up here never need unescaping), and whether key is there.
func queryValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				return u, true
			}
		}
		return v, true
	}
	return "", false
}

// checkVersion refuses a request whose query parameter key is not want.
func checkVersion(r *http.Request, key, want string) apiErr {
	if got, _ := queryValue(r.URL.RawQuery, key); got != want {
		return badRequest("Bad version", "query parameter "+key+" must be "+want+", got "+strconv.Quote(got))
	}
	return apiErr{}
}

// checkOptionalVersion refuses a request whose query parameter key is given and not want; a
// request without it passes.
func checkOptionalVersion(r *http.Request, key, want string) apiErr {
	if _, given := queryValue(r.URL.RawQuery, key); !given {
		return apiErr{}
	}
	return checkVersion(r, key, want)
}

// autoMessagesFeature reports whether the Client-Properties header enables AUTO_MESSAGES: its value
// parses as a JSON object whose "features" array holds "AUTO_MESSAGES".
func autoMessagesFeature(h http.Header) bool {
	v := h.Get("Client-Properties")
	if !strings.Contains(v, "AUTO_MESSAGES") { // cheap rejection, including the absent header
		return false
	}
	// Clients send one constant value: remember the last verdict.
	if last := lastClientProperties.Load(); last != nil && last.value == v {
		return last.on
	}
	on := parseClientProperties(v)
	lastClientProperties.Store(&clientPropertiesVerdict{value: v, on: on})
	return on
}

// clientPropertiesVerdict is a Client-Properties value and whether it enables AUTO_MESSAGES.
type clientPropertiesVerdict struct {
	value string
	on    bool
}

// lastClientProperties caches autoMessagesFeature, a pure function, for its last argument.
var lastClientProperties atomic.Pointer[clientPropertiesVerdict]

// parseClientProperties is autoMessagesFeature without the cache.
func parseClientProperties(v string) bool {
	var p struct {
		Features []string `json:"features"`
	}
	if json.Unmarshal([]byte(v), &p) != nil {
		return false
	}
	for _, f := range p.Features {
		if f == "AUTO_MESSAGES" {
			return true
		}
	}
	return false
}

// requestHost is the host:port this request came to.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return "127.0.0.1"
}

// authenticate checks the AppJWT and, when consumer is true, the ConsumerJWS of a request for
// account acc (the path account), in that order.
func (s *Sim) authenticate(r *http.Request, acc string, consumer bool) (*Account, consumerClaims, apiErr) {
	if e := s.checkAppJWT(r.Header.Get("Authorization"), acc); e.failed() {
		return nil, consumerClaims{}, e
	}
	a := s.accounts[acc]
	if a == nil { // only tokens of known accounts are ever signed, so aud = acc is known
		return nil, consumerClaims{}, errAppJWTAud
	}
	if !consumer {
		return &a.Account, consumerClaims{}, apiErr{}
	}
	c, e := s.checkConsumerJWS(r.Header.Get("X-Lp-On-Behalf"), acc) // X-LP-ON-BEHALF, canonical: Get then allocates nothing
	return &a.Account, c, e
}
