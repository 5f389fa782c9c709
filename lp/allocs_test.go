package lp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// deliveryAllocsCeiling bounds the allocations of one signed webhook delivery, from the handler
// (httptest.NewRecorder and the request's header included) to the worker's matching of it:
// TestDeliveryAllocs fails when they grow past it.
const deliveryAllocsCeiling = 16

// deliveryPath returns a function that makes one signed delivery of body through the Receiver's
// handler into a fresh recorder, then has the worker's code match it, and fails t unless it was
// accepted.
func deliveryPath(t testing.TB, body []byte) func() {
	const secret = "s3cret"
	r := newReceiver(secret, 1)
	r.Expect("conv-1")
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/webhook", rd)
	req.Header.Set(HeaderSignature, Sign(secret, body))
	var scratch deliveryBody
	return func() {
		rd.Reset(body)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("delivery answered %d", w.Code)
		}
		r.process(<-r.queue, &scratch)
	}
}

// TestDeliveryAllocs: a webhook delivery — an auto message of a running journey's conversation,
// and a change of its conversation — allocates no more than deliveryAllocsCeiling.
func TestDeliveryAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	change := []byte(`{"kind":"notification","type":"cqm.ExConversationChangeNotification","body":{"changes":[{"type":"UPSERT",
"result":{"convId":"conv-1","effectiveTTR":-1,"conversationDetails":{"state":"OPEN","stage":"OPEN","skillId":"1234","metaDataLastUpdateTs":1545399379370}}}]}}`)
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"auto message", notification("conv-1", "CONTROLLER", 1)},
		{"conversation change", change},
	} {
		if n := testing.AllocsPerRun(200, deliveryPath(t, tc.body)); n > deliveryAllocsCeiling {
			t.Errorf("%s: %.0f allocations per delivery, ceiling %d", tc.name, n, deliveryAllocsCeiling)
		} else {
			t.Logf("%s: %.0f allocations per delivery", tc.name, n)
		}
	}
}

// BenchmarkDelivery is one signed webhook delivery through the handler and the worker's
// matching (see TestDeliveryAllocs), on one goroutine.
func BenchmarkDelivery(b *testing.B) {
	run := deliveryPath(b, notification("conv-1", "CONTROLLER", 1))
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}
