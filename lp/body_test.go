package lp

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The SEND and close request objects as LivePerson documents them (testdata/fixtures): the shapes
// publishBody, closeBody and consumerJWSBody write without reflection.
type (
	publishReq struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
		Type string `json:"type"`
		Body struct {
			DialogID string `json:"dialogId"`
			Event    struct {
				Type        string `json:"type"`
				ContentType string `json:"contentType"`
				Message     string `json:"message"`
			} `json:"event"`
		} `json:"body"`
	}
	closeReq struct {
		Kind string `json:"kind"`
		ID   int    `json:"id"`
		Type string `json:"type"`
		Body struct {
			ConversationID    string `json:"conversationId"`
			ConversationField struct {
				Field             string `json:"field"`
				ConversationState string `json:"conversationState"`
			} `json:"conversationField"`
		} `json:"body"`
	}
)

// TestBodiesAsMarshalled checks that the SEND, close and ConsumerJWS bodies are byte for byte
// what json.Marshal writes for their request objects, for plain strings and for every kind that
// json.Marshal escapes.
func TestBodiesAsMarshalled(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"",                                     // empty
		"4a8b2f0e-1c3d-4e5f-8a9b-0c1d2e3f4a5b", // a conversation id, the common case
		"Hi from lpbench - Auto Messages feature", // the default message: spaces and a dash
		`say "hi" \ back`,                         // quote and backslash
		"tab\there\nnew line\x00\x1f",             // control characters
		"<b>&amp;</b>",                            // HTML-escaped by json.Marshal
		"grüße, 日本",                               // multi-byte UTF-8
		"bad \xff\xfe utf-8",                      // invalid UTF-8: replaced
		"line\u2028sep\u2029",                     // U+2028 and U+2029: escaped
		"\x7f del",                                // DEL: above the fast path's range
	} {
		p := publishReq{Kind: "req", ID: "1", Type: "ms.PublishEvent"}
		p.Body.DialogID = s
		p.Body.Event.Type = "ContentEvent"
		p.Body.Event.ContentType = "text/plain"
		p.Body.Event.Message = s + "!"
		want, _ := json.Marshal(p)
		if got := publishBody(s, s+"!"); string(got) != string(want) {
			t.Errorf("publishBody(%q):\n got %s\nwant %s", s, got, want)
		}
		r := closeReq{Kind: "req", ID: 1, Type: "cm.UpdateConversationField"}
		r.Body.ConversationID = s
		r.Body.ConversationField.Field = "ConversationStateField"
		r.Body.ConversationField.ConversationState = "CLOSE"
		want, _ = json.Marshal(r)
		if got := closeBody(s); string(got) != string(want) {
			t.Errorf("closeBody(%q):\n got %s\nwant %s", s, got, want)
		}
		want, _ = json.Marshal(struct {
			ExtConsumerID string `json:"ext_consumer_id"`
		}{s})
		if got := consumerJWSBody(s); string(got) != string(want) {
			t.Errorf("consumerJWSBody(%q):\n got %s\nwant %s", s, got, want)
		}
	}
}

// TestMessagingHeaders checks the headers of a Send API request, built from shared values: the
// canonical keys net/http writes, the consumer's tokens, a token changed between two requests of
// the same consumer, and that a request's header can be changed without touching the next one's.
func TestMessagingHeaders(t *testing.T) {
	t.Parallel()
	c, err := NewClient(Target{Account: "123", CSDS: "http://127.0.0.1:1", Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	con := &Consumer{Domains: Domains{Messaging: "127.0.0.1:1"}, AppJWT: "app-1", JWS: "jws-1", AutoMessages: true}
	req, err := c.messagingRequest(t.Context(), "/x", []byte("{}"), con)
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json"}, "User-Agent": {"lpbench"},
		"Authorization": {"app-1"}, "X-Lp-On-Behalf": {"jws-1"}, "Client-Properties": {ClientProperties},
	}
	if got, want := len(req.Header), len(want); got != want {
		t.Errorf("%d headers, want %d: %v", got, want, req.Header)
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v[0] {
			t.Errorf("%s = %q, want %q", k, got, v[0])
		}
	}
	req.Header.Add("Accept", "text/plain") // must not reach the next request
	con.AppJWT = "app-2"                   // a refreshed AppJWT
	next, err := c.messagingRequest(t.Context(), "/x", []byte("{}"), con)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next.Header.Values("Accept"), 1; len(got) != want {
		t.Errorf("next request's Accept = %q, want one value", got)
	}
	if got, want := next.Header.Get("Authorization"), "app-2"; got != want {
		t.Errorf("next request's Authorization = %q, want %q", got, want)
	}
	if got, want := next.Header.Get("X-LP-ON-BEHALF"), "jws-1"; got != want {
		t.Errorf("next request's X-LP-ON-BEHALF = %q, want %q", got, want)
	}
}
