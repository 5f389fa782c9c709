package lp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// sig computes the signature independently of Sign: HMAC-SHA1 of the raw body, Base64, "sha1=".
func sig(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// notification returns a messaging notification body for a conversation.
func notification(conv, role string, seq int) []byte {
	return fmt.Appendf(nil, `{"kind":"notification","type":"ms.MessagingEventNotification","body":{"changes":[{
"sequence":%d,"originatorId":"x","originatorMetadata":{"id":"x","role":%q},"serverTimestamp":1528371199686,
"event":{"type":"ContentEvent","message":"Welcome!","contentType":"text/plain"},"conversationId":%q,"dialogId":%q}]}}`, seq, role, conv, conv)
}

func post(r *Receiver, body []byte, signature string) int {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	if signature != "" {
		req.Header.Set(HeaderSignature, signature)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w.Code
}

// TestWebhookSignatures: valid signatures are accepted; forged, missing and replayed-with-altered-
// body ones are refused with 401 and counted.
func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	const secret = "app-client-secret"
	body := notification("c1", "CONTROLLER", 1)
	altered := bytes.Replace(body, []byte("Welcome!"), []byte("Welcome?"), 1)
	for _, tc := range []struct {
		name      string
		body      []byte
		signature string
		want      int
	}{
		// Signed with the app's secret: accepted.
		{"valid", body, sig(secret, body), http.StatusOK},
		// Signed with another secret.
		{"forged", body, sig("another-secret", body), http.StatusUnauthorized},
		// No signature header.
		{"missing", body, "", http.StatusUnauthorized},
		// A valid signature replayed on an altered body.
		{"replayed on altered body", altered, sig(secret, body), http.StatusUnauthorized},
		// The right digest without the sha1= prefix.
		{"no prefix", body, sig(secret, body)[len("sha1="):], http.StatusUnauthorized},
		// Another algorithm's prefix.
		{"wrong prefix", body, "sha256=" + sig(secret, body)[len("sha1="):], http.StatusUnauthorized},
		// Garbage.
		{"garbage", body, "sha1=!!!", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewReceiver(secret, 16)
			defer r.Close()
			if got := post(r, tc.body, tc.signature); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
			st := r.Stats()
			if tc.want == http.StatusOK && (st.Received != 1 || st.BadSignature != 0) {
				t.Errorf("stats %+v", st)
			}
			if tc.want != http.StatusOK && (st.Received != 0 || st.BadSignature != 1) {
				t.Errorf("stats %+v", st)
			}
		})
	}
	if got, want := Sign(secret, body), sig(secret, body); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

// TestWebhookMatching: the first auto message of an expected conversation reaches its journey;
// consumer echoes are ignored; duplicates, unknown conversations and late arrivals are counted.
func TestWebhookMatching(t *testing.T) {
	t.Parallel()
	const secret = "s"
	r := NewReceiver(secret, 64)
	defer r.Close()
	deliver := func(b []byte) {
		if code := post(r, b, sig(secret, b)); code != http.StatusOK {
			t.Fatalf("delivery refused: %d", code)
		}
	}
	r.Expect("c1")
	r.Expect("late")
	deliver(notification("c1", "CONSUMER", 0))   // the consumer's own message
	deliver(notification("c1", "CONTROLLER", 1)) // the welcome
	deliver(notification("c1", "CONTROLLER", 1)) // the same, delivered again
	deliver(notification("c1", "CONTROLLER", 2)) // the next auto message: no duplicate
	deliver(notification("other-run", "CONTROLLER", 1))
	at, ok := r.Wait("c1", 2*time.Second, nil)
	if !ok || at.IsZero() {
		t.Fatal("the journey did not get its auto message")
	}
	if _, ok := r.Wait("late", 50*time.Millisecond, nil); ok {
		t.Fatal("an auto message that never came was reported")
	}
	deliver(notification("late", "CONTROLLER", 1))
	// Let the worker drain the queue.
	deadline := time.Now().Add(2 * time.Second)
	for r.Stats().Late == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := r.Stats()
	want := sample.WebhookStats{Received: 6, AutoMessages: 1, Duplicates: 1, Unmatched: 1, Late: 1, Echoes: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// TestWebhookNeverBlocks: with the worker's queue full, deliveries are still answered at once,
// and counted as overflow.
func TestWebhookNeverBlocks(t *testing.T) {
	t.Parallel()
	r := newReceiver("s", 1) // no worker: nothing drains the queue
	b := notification("c", "CONTROLLER", 1)
	start := time.Now()
	for range 10 {
		if code := post(r, b, sig("s", b)); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("10 deliveries took %v", took)
	}
	if got := r.Stats().Overflow; got != 9 {
		t.Errorf("overflow %d, want 9", got)
	}
}

// TestWebhookOrder: the receiver tells a conversation's notifications that arrive after a later
// one: an auto message below a sequence already seen, a conversation change older than one
// already seen (metaDataLastUpdateTs); the first auto message to arrive is the one the journey
// gets, whatever its sequence, and the later one is no duplicate.
func TestWebhookOrder(t *testing.T) {
	t.Parallel()
	r := newReceiver("s", 16)
	at := time.Now()
	change := func(conv, state string, ts int64) []byte {
		return fmt.Appendf(nil, `{"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[{"type":"UPSERT",
"result":{"convId":%q,"conversationDetails":{"state":%q,"stage":%q,"metaDataLastUpdateTs":%d}}}]}}`, conv, state, state, ts)
	}
	r.Expect("c")
	for _, b := range [][]byte{
		change("c", "CLOSE", 2000),
		notification("c", "CONTROLLER", 2),
		notification("c", "CONTROLLER", 1), // overtaken by sequence 2
		change("c", "OPEN", 1000),          // overtaken by the CLOSE
		change("other", "OPEN", 1),         // another run's: not counted
		notification("c", "CONTROLLER", 3),
	} {
		ns, cs, err := decodeDelivery(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			r.handle(n, at)
		}
		for _, c := range cs {
			r.handleChange(c)
		}
	}
	if got, ok := r.Wait("c", time.Second, nil); !ok || !got.Equal(at) {
		t.Errorf("the journey did not get the first auto message to arrive")
	}
	if st := r.Stats(); st.Reordered != 2 || st.Duplicates != 0 || st.AutoMessages != 1 {
		t.Errorf("stats %+v, want 2 out of order, no duplicate, one first auto message", st)
	}
}

func TestDecodeConversationChanges(t *testing.T) {
	t.Parallel()
	b := []byte(`{"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[{"type":"UPSERT",
"result":{"convId":"c1","effectiveTTR":-1,"conversationDetails":{"state":"CLOSE","stage":"CLOSE","metaDataLastUpdateTs":1545399379370}}}]}}`)
	cs, err := DecodeConversationChanges(b)
	if err != nil || len(cs) != 1 {
		t.Fatalf("changes %+v, %v", cs, err)
	}
	if c := cs[0]; c.ConversationID != "c1" || c.State != "CLOSE" || c.Stage != "CLOSE" || c.Updated.UnixMilli() != 1545399379370 {
		t.Errorf("change %+v", c)
	}
	if cs, err := DecodeConversationChanges(notification("c1", "CONTROLLER", 1)); err != nil || len(cs) != 0 {
		t.Errorf("a messaging notification gave changes %+v, %v", cs, err)
	}
}

func TestDecodeNotifications(t *testing.T) {
	t.Parallel()
	ns, err := DecodeNotifications(notification("c9", "CONTROLLER", 3))
	if err != nil || len(ns) != 1 || ns[0].ConversationID != "c9" || ns[0].Role != "CONTROLLER" || ns[0].Sequence != 3 {
		t.Errorf("decoded %+v, %v", ns, err)
	}
	// A conversation state change carries no message.
	if ns, err := DecodeNotifications([]byte(`{"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[]}}`)); err != nil || len(ns) != 0 {
		t.Errorf("state change: %+v, %v", ns, err)
	}
	if _, err := DecodeNotifications([]byte(`<html>`)); err == nil {
		t.Error("HTML accepted as a notification")
	}
}

func FuzzDecodeNotifications(f *testing.F) {
	f.Add(notification("c", "CONTROLLER", 1))
	f.Add([]byte(`{"type":"ms.MessagingEventNotification","body":{"changes":[{"dialogId":"d"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, err := DecodeNotifications(b)
		if err != nil {
			return
		}
		for _, n := range ns {
			if n.ConversationID == "" {
				t.Fatal("a notification without a conversation")
			}
		}
	})
}

// BenchmarkReceiver measures deliveries through the handler (signature check, queueing) with the
// worker matching them, and reports the handler's p99 time per delivery.
func BenchmarkReceiver(b *testing.B) {
	const secret = "s"
	r := NewReceiver(secret, 1<<16)
	defer r.Close()
	bodies := make([][]byte, 1024)
	sigs := make([]string, len(bodies))
	for i := range bodies {
		id := fmt.Sprintf("conv-%d", i)
		r.Expect(id)
		bodies[i] = notification(id, "CONTROLLER", 1)
		sigs[i] = sig(secret, bodies[i])
	}
	times := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set(HeaderSignature, sigs[i%len(bodies)])
		w := httptest.NewRecorder()
		start := time.Now()
		r.ServeHTTP(w, req)
		d := time.Since(start)
		mu.Lock()
		times = append(times, d)
		mu.Unlock()
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
}

// TestReceiverForgets: finished conversations are remembered for a while (duplicates and late
// deliveries still recognized), then forgotten, so the receiver's memory does not grow with the
// run.
func TestReceiverForgets(t *testing.T) {
	t.Parallel()
	r := newReceiver("s", 16)
	clock := time.Now()
	r.now = func() time.Time { return clock }
	at := clock
	r.Expect("a")
	r.handle(Notification{ConversationID: "a", Role: "CONTROLLER", EventType: "ContentEvent"}, at)
	r.Forget("a")
	r.Expect("b") // gives up without an auto message
	r.Forget("b")
	if len(r.active) != 0 {
		t.Fatalf("%d conversations still active after their journeys ended", len(r.active))
	}
	r.handle(Notification{ConversationID: "a", Role: "CONTROLLER", EventType: "ContentEvent"}, at)
	r.handle(Notification{ConversationID: "b", Role: "CONTROLLER", EventType: "ContentEvent"}, at)
	if st := r.Stats(); st.Duplicates != 1 || st.Late != 1 {
		t.Errorf("recent conversations: %+v, want one duplicate and one late", st)
	}
	// Two generations later both are forgotten.
	for i := range 2 {
		clock = clock.Add(rememberFor)
		r.Expect(fmt.Sprint("x", i))
		r.Forget(fmt.Sprint("x", i))
	}
	r.handle(Notification{ConversationID: "a", Role: "CONTROLLER", EventType: "ContentEvent"}, at)
	if st := r.Stats(); st.Unmatched != 1 {
		t.Errorf("a forgotten conversation's delivery: %+v, want unmatched", st)
	}
	if n := len(r.recent) + len(r.older); n > 2 {
		t.Errorf("%d conversations remembered, want at most the last generations'", n)
	}
}

// TestWebhookRelayed: deliveries that came through a webhook relay are judged as those posted to
// the receiver — a forged signature refused, the first auto message matched, its copy a
// duplicate, another run's unmatched — and counted as relayed; the hop from the relay's receive
// time to the worker is reported for each.
func TestWebhookRelayed(t *testing.T) {
	t.Parallel()
	const secret = "s"
	r := newReceiver(secret, 64)
	var hops []time.Duration
	r.OnHop = func(d time.Duration) { hops = append(hops, d) }
	now := time.Now()
	r.now = func() time.Time { return now }
	go r.work()
	r.Expect("c1")
	auto := notification("c1", "CONTROLLER", 1)
	if r.Deliver(auto, sig("other secret", auto), now) {
		t.Error("a forged signature was taken")
	}
	for i, b := range [][]byte{auto, auto, notification("other-run", "CONTROLLER", 1)} {
		if !r.Deliver(b, sig(secret, b), now.Add(-time.Duration(i+1)*time.Millisecond)) {
			t.Fatalf("delivery %d refused", i)
		}
	}
	if _, ok := r.Wait("c1", 2*time.Second, nil); !ok {
		t.Fatal("the journey did not get its relayed auto message")
	}
	r.Forget("c1")
	r.Close()
	want := sample.WebhookStats{Received: 3, Relayed: 3, BadSignature: 1, AutoMessages: 1, Duplicates: 1, Unmatched: 1}
	if st := r.Stats(); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if len(hops) != 3 || hops[0] != time.Millisecond || hops[2] != 3*time.Millisecond {
		t.Errorf("hops %v, want 1ms, 2ms, 3ms", hops)
	}
}
