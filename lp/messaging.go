package lp

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lpbench/lpbench/sample"
)

// Consumer is what the Send API needs to act for one consumer.
type Consumer struct {
	Domains Domains
	AppJWT  string // the target's AppJWT, sent bare in Authorization
	JWS     string // the consumer's JWS, sent in X-LP-ON-BEHALF
	// AutoMessages puts the Client-Properties AUTO_MESSAGES header on CONVERSATION and SEND.
	AutoMessages bool

	// The header values of AppJWT and JWS, made once for the consumer's requests (see
	// headerValue).
	appJWTValue, jwsValue []string
}

// headerValue returns the header value of v, kept in *cache for the consumer's next requests
// and made anew when v changed (a refreshed token) since.
func (con *Consumer) headerValue(cache *[]string, v string) []string {
	if len(*cache) != 1 || (*cache)[0] != v {
		*cache = []string{v}
	}
	return *cache
}

// The request bodies, shaped exactly as LivePerson documents them (see testdata/fixtures).
type (
	sdes struct {
		Type     string `json:"type"`
		Info     any    `json:"info,omitempty"`
		Personal any    `json:"personal,omitempty"`
	}
	userProfileReq struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
		Type string `json:"type"`
		Body struct {
			// nil for a consumer profile with nothing to say: LivePerson takes an empty body.
			AuthenticatedData *authenticatedData `json:"authenticatedData,omitempty"`
		} `json:"body"`
	}
	authenticatedData struct {
		LPSdes []sdes `json:"lp_sdes"`
	}
	conversationContext struct {
		VisitorID            string `json:"visitorId"`
		SessionID            string `json:"sessionId"`
		InteractionContextID string `json:"interactionContextId"`
		Type                 string `json:"type"`
		Lang                 string `json:"lang"`
	}
	requestConversationReq struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
		Type string `json:"type"`
		Body struct {
			TTRDefName          string              `json:"ttrDefName"`
			ChannelType         string              `json:"channelType"`
			BrandID             string              `json:"brandId"`
			SkillID             string              `json:"skillId,omitempty"`
			CampaignInfo        *campaignInfo       `json:"campaignInfo,omitempty"`
			ConversationContext conversationContext `json:"conversationContext"`
		} `json:"body"`
	}
)

// requestConversationID is the id of the cm.ConsumerRequestConversation request in the
// CONVERSATION body; LivePerson's documented example uses "2," (trailing comma included).
const requestConversationID = "2,"

// createBody returns the CONVERSATION body for account: userprofile.SetUserProfile with the
// consumer profile p first (it is mandatory), then cm.ConsumerRequestConversation with the
// routing r. It is the same for every consumer of the target, so it is built once per target.
func createBody(account string, r Routing, p ConsumerProfile) ([]byte, error) {
	up := userProfileReq{Kind: "req", ID: "1,", Type: "userprofile.SetUserProfile"}
	if s := p.sdes(); len(s) > 0 {
		up.Body.AuthenticatedData = &authenticatedData{LPSdes: s}
	}
	rc := requestConversationReq{Kind: "req", ID: requestConversationID, Type: "cm.ConsumerRequestConversation"}
	rc.Body.TTRDefName = "NORMAL"
	rc.Body.ChannelType = "MESSAGING"
	rc.Body.BrandID = account
	r.apply(&rc.Body.SkillID, &rc.Body.CampaignInfo)
	rc.Body.ConversationContext = conversationContext{InteractionContextID: "2", Type: "SharkContext", Lang: "en-US"}
	return json.Marshal([]any{up, rc})
}

// messagingURLs is the last messaging host's URLs of the Send API paths, which every journey's
// requests share (a new host, from a refreshed domain lookup, replaces them).
type messagingURLs struct {
	host string
	urls map[string]string // path → URL
}

// messagingURL returns the URL of the Send API path (under /api/account/{account}) on host,
// built once per host and path.
func (c *Client) messagingURL(host, path string) string {
	if m := c.msgURLs.Load(); m != nil && m.host == host {
		if u, ok := m.urls[path]; ok {
			return u
		}
	}
	u := c.serviceURL(host, "/api/account/"+url.PathEscape(c.t.Account)+path)
	m := &messagingURLs{host: host, urls: map[string]string{path: u}}
	if old := c.msgURLs.Load(); old != nil && old.host == host {
		maps.Copy(m.urls, old.urls)
		m.urls[path] = u
	}
	c.msgURLs.Store(m) // a concurrent Store may win: either is right, the other path is built again
	return u
}

// messagingRequest builds a Send API request carrying the consumer's headers.
func (c *Client) messagingRequest(ctx context.Context, path string, body []byte, con *Consumer) (*http.Request, error) {
	u := c.messagingURL(con.Domains.Messaging, path)
	req, err := c.newRequest(ctx, http.MethodPost, u, body, "application/json")
	if err != nil {
		return nil, err
	}
	req.Header["Authorization"] = con.headerValue(&con.appJWTValue, con.AppJWT)
	req.Header[hdrOnBehalf] = con.headerValue(&con.jwsValue, con.JWS)
	if con.AutoMessages {
		req.Header["Client-Properties"] = hvClientProperties
	}
	return req, nil
}

// rawJSON is a JSON value as it stands in an answer's body, without a copy: it aliases the body,
// which outlives its decoding (json.RawMessage copies each value).
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// respCode is a response's "code": "OK" or 200 mean success (both forms are in use).
type respCode = rawJSON

// ok reports whether the code means success, and the numeric code when it is a number.
func (rc rawJSON) ok() (bool, int) {
	s := string(bytes.Trim(rc, `"`))
	if s == "OK" || s == "ok" {
		return true, 200
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 200 && n < 300, n
}

// isString reports whether r is the JSON string s (escaped or not).
func (r rawJSON) isString(s string) bool {
	if len(r) == len(s)+2 && r[0] == '"' && string(r[1:len(r)-1]) == s {
		return true
	}
	if bytes.IndexByte(r, '\\') < 0 {
		return false
	}
	var v string
	return json.Unmarshal(r, &v) == nil && v == s
}

type respElem struct {
	Code  respCode `json:"code"`
	ReqID rawJSON  `json:"reqId"`
	Body  struct {
		ConversationID string  `json:"conversationId"`
		Sequence       rawJSON `json:"sequence"`
		Title          string  `json:"title"`
		Details        string  `json:"details"`
		ErrorCode      flexInt `json:"errorCode"`
	} `json:"body"`
}

// elemError turns an element whose code is not a success into an *Error.
func elemError(op string, status int, e *respElem) *Error {
	_, n := e.Code.ok()
	err := &Error{Op: op, Status: status, Code: int(e.Body.ErrorCode), Class: sample.ClassProtocol,
		Title: cleanText(firstNonEmpty(e.Body.Title, e.Body.Details), maxTitle)}
	if n >= 400 {
		err.Class = statusClass(n)
	}
	return err
}

// maxConversationID bounds a conversation id (LivePerson's are 36-character UUIDs): the id is
// the one string a journey's record keeps.
const maxConversationID = 256

// CreateConversation opens a conversation for the consumer and returns its id.
func (c *Client) CreateConversation(ctx context.Context, con *Consumer) (string, error) {
	return c.createConversation(ctx, con, nil)
}

// createConversation is CreateConversation that traces its request into tm when tm is not nil.
func (c *Client) createConversation(ctx context.Context, con *Consumer, tm *reqTimes) (string, error) {
	req, err := c.messagingRequest(ctx, "/messaging/consumer/conversation?v=3", c.create, con)
	if err != nil {
		return "", err
	}
	return callTimed(c, "create", req, tm, decodeCreate)
}

// decodeCreate reads a CONVERSATION answer. Parsing is lenient as the API's variants require: the
// conversation's element is found by its reqId or by carrying a conversationId; its code may be
// "OK" or 200; other fields are ignored. A 200 whose element carries an error code fails with the
// class of that code.
func decodeCreate(status int, header http.Header, body []byte) (string, error) {
	out := make([]respElem, 0, 2) // the documented answer's two elements
	if err := decodeJSON("create", status, header, body, &out); err != nil {
		return "", err
	}
	for i := range out {
		e := &out[i]
		if !e.ReqID.isString(requestConversationID) && e.Body.ConversationID == "" {
			continue
		}
		if ok, _ := e.Code.ok(); !ok && len(e.Code) > 0 {
			return "", elemError("create", status, e)
		}
		if e.Body.ConversationID == "" {
			break
		}
		if len(e.Body.ConversationID) > maxConversationID || !validToken(e.Body.ConversationID) {
			return "", protocolError("create", status, "the conversationId is not a plain id")
		}
		return e.Body.ConversationID, nil
	}
	return "", protocolError("create", status, "no conversationId in the answer")
}

// Send publishes a text message in the conversation (ms.PublishEvent) and returns the sequence
// number the server gave it (-1 when the answer has none).
func (c *Client) Send(ctx context.Context, con *Consumer, conversationID, text string) (int, error) {
	return c.send(ctx, con, conversationID, text, nil)
}

// The SEND and close bodies around their strings, in the order and spelling json.Marshal gives
// publishReq and closeReq (TestBodiesAsMarshalled holds them to it).
const (
	publishHead = `{"kind":"req","id":"1","type":"ms.PublishEvent","body":{"dialogId":`
	publishMid  = `,"event":{"type":"ContentEvent","contentType":"text/plain","message":`
	publishTail = `}}}`
	closeHead   = `{"kind":"req","id":1,"type":"cm.UpdateConversationField","body":{"conversationId":`
	closeTail   = `,"conversationField":{"field":"ConversationStateField","conversationState":"CLOSE"}}}`
)

// publishBody returns the SEND body of text in the conversation: publishReq, as json.Marshal
// writes it, without reflection.
func publishBody(conversationID, text string) []byte {
	b := make([]byte, 0, len(publishHead)+len(publishMid)+len(publishTail)+len(conversationID)+len(text)+4)
	b = appendJSONString(append(b, publishHead...), conversationID)
	b = appendJSONString(append(b, publishMid...), text)
	return append(b, publishTail...)
}

// closeBody returns the close body of the conversation: closeReq, as json.Marshal writes it.
func closeBody(conversationID string) []byte {
	b := make([]byte, 0, len(closeHead)+len(closeTail)+len(conversationID)+2)
	b = appendJSONString(append(b, closeHead...), conversationID)
	return append(b, closeTail...)
}

// appendJSONString appends s to b as json.Marshal encodes a string: quoted as is when it is
// printable ASCII that needs no escape (ids, tokens, the default message), through json.Marshal
// otherwise (escapes, HTML-safe forms, invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// send is Send that traces its request into tm when tm is not nil.
func (c *Client) send(ctx context.Context, con *Consumer, conversationID, text string, tm *reqTimes) (int, error) {
	return c.sendEvent(ctx, "send", con, publishBody(conversationID, text), tm)
}

// CloseConversation closes the conversation (cm.UpdateConversationField, state CLOSE).
func (c *Client) CloseConversation(ctx context.Context, con *Consumer, conversationID string) error {
	_, err := c.sendEvent(ctx, "close", con, closeBody(conversationID), nil)
	return err
}

// sendEvent posts one request body to the SEND endpoint, tracing it into tm when tm is not nil.
func (c *Client) sendEvent(ctx context.Context, op string, con *Consumer, body []byte, tm *reqTimes) (int, error) {
	req, err := c.messagingRequest(ctx, "/messaging/consumer/conversation/send?v=3", body, con)
	if err != nil {
		return 0, err
	}
	return callTimed(c, op, req, tm, func(status int, header http.Header, body []byte) (int, error) {
		return decodeSend(op, status, header, body)
	})
}

// decodeSend reads a SEND (or close) answer: the sequence number the server gave the event, -1
// when it gave none (or none that reads as a sequence number).
func decodeSend(op string, status int, header http.Header, body []byte) (int, error) {
	var out respElem
	if err := decodeJSON(op, status, header, body, &out); err != nil {
		return 0, err
	}
	if ok, _ := out.Code.ok(); !ok && len(out.Code) > 0 {
		return 0, elemError(op, status, &out)
	}
	seq, err := strconv.Atoi(string(out.Body.Sequence))
	if err != nil || seq < 0 {
		return -1, nil
	}
	return seq, nil
}
