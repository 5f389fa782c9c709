package lpsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkHandler measures the handler's cost per request, latency off, from parallel consumers
// each cycling through create, first send and close (one request per op). Requests are built
// without httptest.NewRequest (whose 4 KiB reader per request would dominate), so the figure is
// the simulator's own cost plus a bare http.Request.
func BenchmarkHandler(b *testing.B) {
	s, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := newConsumer(b, s, accA, "bench-"+strconv.FormatInt(next.Add(1), 10))
		j := newJourneyRequests(b, c)
		w := &benchWriter{h: http.Header{}}
		for i := 0; pb.Next(); i++ {
			req := j.next(i)
			w.reset()
			s.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("%s: status %d: %s", req.URL.Path, w.status, w.body)
			}
			j.answered(i, w.body)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// journeyRequests builds the requests of one consumer's journeys (create, send, close, again),
// reusing the request bodies: only the conversation id changes, copied in place.
type journeyRequests struct {
	create, send, close *http.Request // templates
	createBody          []byte
	sendBody, closeBody []byte // with a 36-byte conversation id at sendAt, closeAt
	sendAt, closeAt     int
	body                bytes.Reader
}

func newJourneyRequests(b testing.TB, c consumer) *journeyRequests {
	const placeholder = "00000000-0000-4000-8000-000000000000"
	j := &journeyRequests{
		createBody: []byte(fixture(b, "create-conversation.json", "{accountid}", c.acc)),
		sendBody:   []byte(fixture(b, "send.json", "{conversationId}", placeholder)),
		closeBody:  []byte(fixture(b, "close-conversation.json", "{conversationId}", placeholder)),
	}
	j.sendAt = bytes.Index(j.sendBody, []byte(placeholder))
	j.closeAt = bytes.Index(j.closeBody, []byte(placeholder))
	hdr := c.headers(true)
	tmpl := func(path string) *http.Request {
		r := httptest.NewRequest("POST", path, nil)
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	j.create, j.send, j.close = tmpl(createPath(c.acc)), tmpl(sendPath(c.acc)), tmpl(sendPath(c.acc))
	return j
}

// next returns request i of the cycle create, send, close.
func (j *journeyRequests) next(i int) *http.Request {
	var r http.Request
	var body []byte
	switch i % 3 {
	case 0:
		r, body = *j.create, j.createBody
	case 1:
		r, body = *j.send, j.sendBody
	default:
		r, body = *j.close, j.closeBody
	}
	j.body.Reset(body)
	r.Body = readCloser{&j.body}
	r.ContentLength = int64(len(body))
	return &r
}

// answered takes the conversation id from a create answer into the next send and close bodies.
func (j *journeyRequests) answered(i int, out []byte) {
	if i%3 != 0 {
		return
	}
	k := bytes.Index(out, []byte(`"conversationId":"`)) + len(`"conversationId":"`)
	copy(j.sendBody[j.sendAt:], out[k:k+36])
	copy(j.closeBody[j.closeAt:], out[k:k+36])
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// benchWriter is a minimal, reusable http.ResponseWriter.
type benchWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *benchWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return len(b), nil
}
func (w *benchWriter) reset() {
	clear(w.h)
	w.status = 0
	w.body = w.body[:0]
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
