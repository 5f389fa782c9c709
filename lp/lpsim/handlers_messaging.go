package lpsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// The request types of the Send API that the simulator knows.
const (
	typeSetUserProfile      = "userprofile.SetUserProfile"
	typeRequestConversation = "cm.ConsumerRequestConversation"
	typePublishEvent        = "ms.PublishEvent"
	typeUpdateField         = "cm.UpdateConversationField"
)

// ttrDefNames are the documented values of ttrDefName.
var ttrDefNames = map[string]bool{"NORMAL": true, "URGENT": true, "PRIORITIZED": true, "CUSTOM": true}

// createRequest is one element of a CONVERSATION body (fixtures/create-conversation.json). Body
// holds the fields of both request types; the ones of the other type stay empty.
type createRequest struct {
	ID   json.RawMessage `json:"id"` // echoed verbatim as reqId, whatever JSON value it is
	Type string          `json:"type"`
	Body struct {
		BrandID    string          `json:"brandId"`
		TTRDefName string          `json:"ttrDefName"`
		SkillID    json.RawMessage `json:"skillId"` // a string ("-1" = any) or a number, as clients send it
	} `json:"body"`
}

// handleCreate answers POST /api/account/{acc}/messaging/consumer/conversation
// (fixtures/create-conversation-response.json).
func (s *Sim) handleCreate(w http.ResponseWriter, r *http.Request) {
	arrived := s.elapsed() // before anything else: the window starts when the request arrives
	const ep = EndpointCreate
	buf, e := readBody(w, r)
	defer putBody(buf)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	w, ok := s.admit(w, r, ep, buf.Bytes())
	if !ok {
		return
	}
	acc := r.PathValue("acc")
	a, c, e := s.authenticate(r, acc, true)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	if e := checkVersion(r, "v", "3"); e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	reqs := make([]createRequest, 0, 2) // the documented body's length: Unmarshal appends without growing
	if err := json.Unmarshal(buf.Bytes(), &reqs); err != nil {
		s.fail(w, r, ep, badRequest("Bad request", "the body is not a JSON array of requests: "+err.Error()))
		return
	}
	if e := checkCreate(reqs, acc); e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	var ttr, skill string
	for _, q := range reqs {
		if q.Type == typeRequestConversation {
			ttr, skill = q.Body.TTRDefName, skillID(q.Body.SkillID)
		}
	}
	acct := s.accounts[a.ID]
	conv, hooks, ok := s.createConversation(acct, c, arrived, autoMessagesFeature(r.Header), ttr, skill, RouteSkill(acct.Skills, skill))
	id := conv.id
	if !ok {
		s.fail(w, r, ep, badRequest("Consumer already has an open conversation", "open conversation "+id))
		return
	}
	s.notifyState(acct, hooks, conv, "OPEN")

	out := make([]byte, 0, 192)
	out = append(out, '[')
	for i, q := range reqs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"code":"OK","body":`...)
		if q.Type == typeSetUserProfile {
			out = append(out, `{"msg":"OK User Profile set successfully"}`...)
		} else {
			out = append(out, `{"conversationId":"`...)
			out = append(out, id...)
			out = append(out, `"}`...)
		}
		out = append(out, `,"reqId":`...)
		out = appendRaw(out, q.ID)
		out = append(out, '}')
	}
	out = append(out, ']')
	s.respond(w, r, ep, http.StatusOK, out)
}

// DefaultSkill is the skill id of LivePerson's "any skill", where a conversation goes that asked
// for none.
const DefaultSkill = "-1"

// RouteSkill returns the skill a conversation that asked for skill lands on in an account with
// the given skill list: the one asked for when the account has no list (nil) or the list holds
// it, DefaultSkill otherwise (none asked, "-1", or an id the account does not have). What
// LivePerson does with an unknown skill id is not documented: sending it to the default skill is
// this simulator's assumption.
func RouteSkill(skills []string, skill string) string {
	switch {
	case skill == "":
		return DefaultSkill
	case skills == nil || slices.Contains(skills, skill):
		return skill
	default:
		return DefaultSkill
	}
}

// skillId returns the skillId of a ConsumerRequestConversation as notifications carry it, a
// string: "" when absent or neither a string nor a number.
func skillID(raw json.RawMessage) string {
	if len(raw) == 0 { // absent: the common case, without the cost of a failed Unmarshal
		return ""
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// checkCreate validates the requests of a CONVERSATION body for account acc: SetUserProfile first,
// exactly one ConsumerRequestConversation for this brand, nothing else.
func checkCreate(reqs []createRequest, acc string) apiErr {
	if len(reqs) == 0 || reqs[0].Type != typeSetUserProfile {
		return badRequest("Bad request", "the first request must be "+typeSetUserProfile)
	}
	n := 0
	for _, q := range reqs[1:] {
		switch q.Type {
		case typeRequestConversation:
			n++
			if q.Body.BrandID == "" {
				return apiErr{status: http.StatusBadRequest, title: "Missing parameter", details: "brandId is missing", code: codeBadClaims}
			}
			if q.Body.BrandID != acc {
				return apiErr{status: http.StatusBadRequest, title: "Bad parameter", details: "brandId is not the account of the request", code: codeBadClaims}
			}
			if q.Body.TTRDefName != "" && !ttrDefNames[q.Body.TTRDefName] {
				return badRequest("Bad parameter", "ttrDefName must be NORMAL, URGENT, PRIORITIZED or CUSTOM")
			}
		case typeSetUserProfile:
			return badRequest("Bad request", typeSetUserProfile+" may appear only once, first")
		default:
			return badRequest("Bad request", "unsupported request type "+strconv.Quote(q.Type))
		}
	}
	if n != 1 {
		return badRequest("Bad request", "the body must hold exactly one "+typeRequestConversation)
	}
	return apiErr{}
}

// sendRequest is a SEND body: ms.PublishEvent (fixtures/send.json) or cm.UpdateConversationField
// (fixtures/close-conversation.json). Body holds the fields of both.
type sendRequest struct {
	ID   json.RawMessage `json:"id"`
	Type string          `json:"type"`
	Body struct {
		DialogID string `json:"dialogId"`
		Event    struct {
			Type string `json:"type"`
		} `json:"event"`
		ConversationID    string `json:"conversationId"`
		ConversationField struct {
			Field             string `json:"field"`
			ConversationState string `json:"conversationState"`
		} `json:"conversationField"`
	} `json:"body"`
}

// handleSend answers POST /api/account/{acc}/messaging/consumer/conversation/send: messages and
// other events (fixtures/send-response.json) and the close request.
func (s *Sim) handleSend(w http.ResponseWriter, r *http.Request) {
	arrived := s.elapsed() // before anything else: the gap ends when the request arrives
	buf, e := readBody(w, r)
	defer putBody(buf)
	if e.failed() {
		s.fail(w, r, EndpointSend, e)
		return
	}
	// The body decides the endpoint (send or close), so it is parsed before authentication, but
	// a body that does not parse is refused only after it.
	var q sendRequest
	parseErr := json.Unmarshal(buf.Bytes(), &q)
	ep := EndpointSend
	if parseErr == nil && q.Type == typeUpdateField {
		ep = EndpointClose
	}
	w, ok := s.admit(w, r, ep, buf.Bytes())
	if !ok {
		return
	}
	acc := r.PathValue("acc")
	a, c, e := s.authenticate(r, acc, true)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	if e := checkVersion(r, "v", "3"); e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	if parseErr != nil {
		s.fail(w, r, ep, badRequest("Bad request", "the body is not a JSON request object: "+parseErr.Error()))
		return
	}
	switch q.Type {
	case typePublishEvent:
		s.handlePublish(w, r, s.accounts[a.ID], c, &q, arrived, buf.Bytes())
	case typeUpdateField:
		s.handleClose(w, r, s.accounts[a.ID], c, &q)
	default:
		s.fail(w, r, ep, badRequest("Bad request", "unsupported request type "+strconv.Quote(q.Type)))
	}
}

// handlePublish answers an ms.PublishEvent whose request body is body. Content events are messages
// and get a sequence, and are echoed to the webhook with the auto messages they trigger; chat
// state and accept status events are acknowledged with an empty body.
func (s *Sim) handlePublish(w http.ResponseWriter, r *http.Request, a *account, c consumerClaims, q *sendRequest, arrived time.Duration, body []byte) {
	const ep = EndpointSend
	var message bool
	switch q.Body.Event.Type {
	case "ContentEvent", "RichContentEvent":
		message = true
	case "ChatStateEvent", "AcceptStatusEvent":
	case "":
		s.fail(w, r, ep, badRequest("Bad request", "body.event.type is missing"))
		return
	default:
		s.fail(w, r, ep, badRequest("Bad request", "unsupported event type "+strconv.Quote(q.Body.Event.Type)))
		return
	}
	if q.Body.DialogID == "" {
		s.fail(w, r, ep, badRequest("Bad request", "body.dialogId is missing"))
		return
	}
	p, e := s.publish(a, c, q.Body.DialogID, arrived, autoMessagesFeature(r.Header), message)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	if message {
		s.notifyMessage(a, c, p, body)
	}
	out := make([]byte, 0, 64)
	out = append(out, `{"reqId":`...)
	out = appendRaw(out, q.ID)
	if message {
		out = append(out, `,"code":"OK","body":{"sequence":`...)
		out = strconv.AppendInt(out, p.seq, 10)
		out = append(out, "}}"...)
	} else {
		out = append(out, `,"code":"OK","body":{}}`...)
	}
	s.respond(w, r, ep, http.StatusOK, out)
}

// handleClose answers cm.UpdateConversationField. Only closing is simulated.
func (s *Sim) handleClose(w http.ResponseWriter, r *http.Request, a *account, c consumerClaims, q *sendRequest) {
	const ep = EndpointClose
	f := q.Body.ConversationField
	if f.Field != "ConversationStateField" || f.ConversationState != "CLOSE" {
		s.fail(w, r, ep, badRequest("Bad request", "only conversationField ConversationStateField with conversationState CLOSE is supported"))
		return
	}
	if q.Body.ConversationID == "" {
		s.fail(w, r, ep, badRequest("Bad request", "body.conversationId is missing"))
		return
	}
	conv, hooks, e := s.closeConversation(a, c, q.Body.ConversationID)
	if e.failed() {
		s.fail(w, r, ep, e)
		return
	}
	s.notifyState(a, hooks, conv, "CLOSE")
	out := make([]byte, 0, 48)
	out = append(out, `{"reqId":`...)
	out = appendRaw(out, q.ID)
	out = append(out, `,"code":"OK","body":{}}`...)
	s.respond(w, r, ep, http.StatusOK, out)
}

// appendRaw appends a JSON value as it came, or null when it was absent.
func appendRaw(b []byte, v json.RawMessage) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	return append(b, v...)
}
