package lpsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkHandler measures the handler cost of one conversation (create, first send, close)
// with latency off, from parallel consumers.
func BenchmarkHandler(b *testing.B) {
	s, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	createBody := fixture(b, "create-conversation.json", "{accountid}", accA)
	sendTmpl := fixture(b, "send.json")
	closeTmpl := fixture(b, "close-conversation.json")
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := newConsumer(b, s, accA, "bench-"+strconv.FormatInt(next.Add(1), 10))
		hdr := c.headers(true)
		post := func(path, body string) []byte {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			for i := 0; i < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
			}
			return rec.Body.Bytes()
		}
		for pb.Next() {
			out := string(post(createPath(accA), createBody))
			i := strings.Index(out, `"conversationId":"`) + len(`"conversationId":"`)
			id := out[i : i+36]
			post(sendPath(accA), strings.Replace(sendTmpl, "{conversationId}", id, 1))
			post(sendPath(accA), strings.Replace(closeTmpl, "{conversationId}", id, 1))
		}
	})
}

// FuzzSendBody feeds arbitrary bodies to the SEND endpoint: the handler must answer with a
// documented status and never panic.
func FuzzSendBody(f *testing.F) {
	f.Add(fixture(f, "send.json"))
	f.Add(fixture(f, "close-conversation.json"))
	f.Add(`{"type":"ms.PublishEvent","body":{"dialogId":null,"event":[]}}`)
	f.Add(`[`)
	s, _ := newFakeSim(f, testConfig())
	c := newConsumer(f, s, accA, "fuzz")
	_, _, id := c.create(f, true)
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "{conversationId}", id)
		st, b := call(t, s, "POST", sendPath(accA), body, c.headers(true)...)
		switch st {
		case 200, 400, 401, 413:
		default:
			t.Errorf("status %d: %s", st, b)
		}
		if !json.Valid(b) {
			t.Errorf("answer is not JSON: %s", b)
		}
	})
}

// FuzzCreateBody feeds arbitrary bodies to the CONVERSATION endpoint.
func FuzzCreateBody(f *testing.F) {
	f.Add(fixture(f, "create-conversation.json", "{accountid}", accA))
	f.Add(`[{"type":"userprofile.SetUserProfile","body":null},{"id":{"x":[1]},"type":"cm.ConsumerRequestConversation","body":{"brandId":"` + accA + `"}}]`)
	f.Add(`[null]`)
	s, _ := newFakeSim(f, testConfig())
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body string) {
		c := newConsumer(t, s, accA, "fuzz-"+strconv.FormatInt(n.Add(1), 10))
		st, b := call(t, s, "POST", createPath(accA), body, c.headers(true)...)
		switch st {
		case 200:
			if !strings.HasPrefix(string(b), "[") {
				t.Errorf("200 answer is not an array: %s", b)
			}
		case 400, 413:
		default:
			t.Errorf("status %d: %s", st, b)
		}
		if !json.Valid(b) {
			t.Errorf("answer is not JSON: %s", b)
		}
	})
}
