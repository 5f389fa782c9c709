package lp

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lpbench/lpbench/sample"
)

// The fuzz targets drive the decoders the client uses (decodeX: status, header and body of a
// complete answer in, a value or an *Error out) with arbitrary bodies. Seeds are the documented
// fixtures and the variants the unit tests know; inputs that once failed are kept in
// testdata/fuzz/<FuzzName>.
//
//	go test -run '^$' -fuzz FuzzCreateResponse -fuzztime 30s ./lp

// maxCopied is the longest run of body bytes an error text may repeat.
const maxCopied = 120

// checkFailure checks the invariants of every failed decode: the error is an *Error of operation
// op and status, with a real class (the status's, when the status is not 2xx), an errorCode a
// sample.Span can hold, a capped Retry-After, and a printable text that repeats no more than
// maxCopied bytes of the body.
func checkFailure(t *testing.T, err error, op string, status int, body []byte) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Class == sample.ClassNone || e.Class >= sample.NumClasses {
		t.Errorf("class %v", e.Class)
	}
	if e.Op != op || e.Status != status {
		t.Errorf("op %q, status %d; want %q, %d", e.Op, e.Status, op, status)
	}
	if status < 200 || status > 299 {
		if got, want := e.Class, statusClass(status); got != want {
			t.Errorf("class %v, want %v for status %d", got, want, status)
		}
	}
	if e.Code < 0 || e.Code > math.MaxInt32 {
		t.Errorf("errorCode %d does not fit a span", e.Code)
	}
	if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
		t.Errorf("RetryAfter %v outside [0, %v]", e.RetryAfter, maxRetryAfter)
	}
	if len(e.Title) > maxTitle+len("…") {
		t.Errorf("title of %d bytes", len(e.Title))
	}
	text := e.Error()
	if !utf8.ValidString(text) {
		t.Errorf("error text is not UTF-8: %q", text)
	}
	for _, r := range text {
		if !unicode.IsPrint(r) {
			t.Errorf("error text holds %U: %q", r, text)
			break
		}
	}
	for i := 0; i+maxCopied < len(text); i++ {
		if bytes.Contains(body, []byte(text[i:i+maxCopied+1])) {
			t.Fatalf("error text repeats more than %d bytes of the body: %q", maxCopied, text)
		}
	}
}

// seedBodies adds the named fixtures and the given bodies to f's corpus.
func seedBodies(f *testing.F, fixtures []string, bodies ...string) {
	for _, name := range fixtures {
		f.Add(fixture(f, name))
	}
	for _, b := range bodies {
		f.Add([]byte(b))
	}
}

func FuzzCreateResponse(f *testing.F) {
	seedBodies(f, []string{"create-conversation-response.json", "error-401.json", "send-response.json"},
		`[{"kind":"resp","reqId":"1,","code":200,"body":{}},{"kind":"resp","reqId":"2,","code":200,"type":"cm.RequestConversationResponse","body":{"conversationId":"c-1"}}]`,
		`[{"code":"OK","reqId":"a","body":{}},{"code":"OK","reqId":"b","body":{"conversationId":"c-2"}}]`,
		`[{"reqId":"2,","body":{"conversationId":"c-3"}}]`,
		`[{"code":"OK","reqId":"1,","body":{}},{"code":400,"reqId":"2,","body":{"title":"bad brand","errorCode":"40001"}}]`,
		`[{"code":"OK","reqId":"2,","body":{"conversationId":"c","errorCode":1e400,"sequence":1.5}}]`,
		`[]`, `null`, `{"code":"OK"}`, `<html>oops</html>`)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := decodeCreate(200, http.Header{}, body)
		if err != nil {
			checkFailure(t, err, "create", 200, body)
			return
		}
		if id == "" || len(id) > maxConversationID || !validToken(id) {
			t.Errorf("conversation id %q", id)
		}
	})
}

func FuzzSendResponse(f *testing.F) {
	seedBodies(f, []string{"send-response.json", "error-401.json"},
		`{"reqId":"1","code":200,"body":{"sequence":12}}`,
		`{"reqId":"1","code":"OK","body":{}}`,
		`{"code":500,"body":{"title":"internal"}}`,
		`{"code":"OK","body":{"sequence":-3,"errorCode":99999999999}}`,
		`{}`, `[]`, `"OK"`)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, op := range []string{"send", "close"} {
			seq, err := decodeSend(op, 200, http.Header{}, body)
			if err != nil {
				checkFailure(t, err, op, 200, body)
				continue
			}
			if seq < -1 {
				t.Errorf("%s: sequence %d", op, seq)
			}
		}
	})
}

func FuzzCSDSResponse(f *testing.F) {
	seedBodies(f, []string{"csds-all.json", "csds-one.json", "error-401.json"},
		`{"baseURIs":[{"service":"sentinel","baseURI":"127.0.0.1:8080"},{"service":"idp","baseURI":"[::1]:1"},{"service":"asyncMessagingEnt","baseURI":"lo.msg.liveperson.net"}]}`,
		`{"baseURIs":[{"service":"sentinel","baseURI":"va.msg.liveperson.net@evil.example"},{"service":"idp","baseURI":"a/b"},{"service":"asyncMessagingEnt","baseURI":"x?y"}]}`,
		`{"service":"asyncMessagingEnt","baseURI":""}`,
		`{"baseURIs":null}`, `{"baseURIs":{}}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeDomains(200, http.Header{}, body)
		if err != nil {
			checkFailure(t, err, "csds", 200, body)
		} else {
			for _, h := range []string{d.Sentinel, d.IdP, d.Messaging} {
				if !validHost(h) || strings.ContainsAny(h, "/?#@ ") {
					t.Errorf("domains %+v: %q is not a host", d, h)
				}
			}
		}
		host, err := decodeService(ServiceMessaging, 200, http.Header{}, body)
		if err != nil {
			checkFailure(t, err, "csds", 200, body)
		} else if !validHost(host) || strings.ContainsAny(host, "/?#@ ") {
			t.Errorf("service host %q is not a host", host)
		}
	})
}

func FuzzTokenResponse(f *testing.F) {
	now := float64(time.Now().Unix())
	seedBodies(f, []string{"appjwt-response.json", "consumerjws-response.json", "error-401.json"},
		`{"access_token":"`+makeJWT(map[string]any{"iat": now, "exp": now + 3600})+`","token_type":"Bearer"}`,
		`{"access_token":"`+makeJWT(map[string]any{"iat": 1, "exp": 9e10})+`","token":"opaque"}`,
		`{"access_token":"`+makeJWT(map[string]any{"exp": 1e300})+`"}`,
		`{"access_token":"a b","token":"x\n"}`,
		`{"access_token":"","token":""}`, `{}`, `null`)
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := decodeAppJWT(200, http.Header{}, body)
		if err != nil {
			checkFailure(t, err, "appjwt", 200, body)
		} else {
			if !validToken(tok) {
				t.Errorf("AppJWT %q", tok)
			}
			start := time.Now()
			if r := refreshTime(tok, start); r.Before(start) || r.After(start.Add(maxAppJWTLifetime)) {
				t.Errorf("refresh in %v", r.Sub(start))
			}
		}
		jws, err := decodeConsumerJWS(201, http.Header{}, body)
		if err != nil {
			checkFailure(t, err, "consumerjws", 201, body)
		} else if !validToken(jws) {
			t.Errorf("ConsumerJWS %q", jws)
		}
	})
}

// errorStatuses are the statuses FuzzErrorBody picks from.
var errorStatuses = []int{401, 429, 500, 400, 403, 404, 502, 503, 302}

func FuzzErrorBody(f *testing.F) {
	f.Add(uint8(0), "", fixture(f, "error-401.json"))
	f.Add(uint8(1), "2", []byte("Too many requests, please try again later"))
	f.Add(uint8(1), "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`{"error":"rate","error_description":"slow down"}`))
	f.Add(uint8(1), "99999999999999999999", []byte(`{"message":"m"}`))
	f.Add(uint8(2), "", []byte("<html><body><h1>500 Internal Server Error</h1></body></html>"))
	f.Add(uint8(3), "-1", []byte(`{"body":{"title":"`+strings.Repeat("é", 200)+`","errorCode":"40001"}}`))
	f.Add(uint8(0), "", []byte(`{"body":{"title":"\u001b[31mred\u202e","details":"d","errorCode":1e400}}`))
	f.Fuzz(func(t *testing.T, pick uint8, retryAfter string, body []byte) {
		status := errorStatuses[int(pick)%len(errorStatuses)]
		header := http.Header{}
		if retryAfter != "" {
			header.Set("Retry-After", retryAfter)
		}
		decoders := map[string]func() error{
			"csds": func() error { _, err := decodeDomains(status, header, body); return err },
			"csds-one": func() error {
				_, err := decodeService(ServiceIdP, status, header, body)
				return err
			},
			"appjwt":      func() error { _, err := decodeAppJWT(status, header, body); return err },
			"consumerjws": func() error { _, err := decodeConsumerJWS(status, header, body); return err },
			"create":      func() error { _, err := decodeCreate(status, header, body); return err },
			"send":        func() error { _, err := decodeSend("send", status, header, body); return err },
		}
		for op, decode := range decoders {
			err := decode()
			if err == nil {
				t.Fatalf("%s: HTTP %d decoded without error", op, status)
			}
			checkFailure(t, err, strings.TrimSuffix(op, "-one"), status, body)
		}
	})
}
