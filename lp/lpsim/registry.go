package lpsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Webhook is one registered webhook endpoint of an account's app installation: every
// notification of the account is delivered to each of its endpoints.
type Webhook struct {
	ID      string `json:"id"`      // "wh-" and 16 hex digits, random: unique per Sim, never reused
	Account string `json:"account"` // the account whose notifications it receives
	URL     string `json:"url"`     // absolute http or https URL the notifications are POSTed to
}

// Errors of the webhook registry, for errors.Is.
var (
	// ErrUnknownAccount is returned for an account the simulator does not serve.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrUnknownWebhook is returned for a webhook id that is not registered.
	ErrUnknownWebhook = errors.New("unknown webhook")
)

// newWebhookID returns a random webhook id. Random, not a counter: a process that outlived a
// restarted simulator cannot remove someone else's endpoint with the id it once got.
func newWebhookID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return "wh-" + hex.EncodeToString(b[:])
}

// webhooks is the account's current endpoint set; the caller must not modify it.
func (a *account) webhooks() []Webhook {
	if p := a.hooks.Load(); p != nil {
		return *p
	}
	return nil
}

// setHooks publishes a new endpoint set of a; s.hookMu must be held (or a not yet shared).
func (a *account) setHooks(hs []Webhook) {
	if len(hs) == 0 {
		hs = nil
	}
	a.hooks.Store(&hs)
}

// SetWebhook makes url the one webhook endpoint of account accountID's app installation, as its
// owner would in LivePerson's console: it replaces every registered endpoint (Account.WebhookURL
// and AddWebhook's alike) with url under a new id; "" unregisters them all. Notifications
// emitted from then on go there; those already emitted keep their endpoints. lpbench calls it
// once its receiver listens, since the embedded simulator starts first.
func (s *Sim) SetWebhook(accountID, url string) error {
	a := s.accounts[accountID]
	if a == nil {
		return fmt.Errorf("lpsim: SetWebhook: %w %q", ErrUnknownAccount, accountID)
	}
	if err := checkWebhookURL(url); err != nil {
		return errors.New("lpsim: SetWebhook: " + err.Error())
	}
	var hs []Webhook
	if url != "" {
		hs = []Webhook{{ID: newWebhookID(), Account: accountID, URL: url}}
	}
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	a.setHooks(hs)
	a.extraRegs = nil
	return nil
}

// AddWebhook registers url as one more webhook endpoint of account accountID and returns its id:
// from now on every notification of the account is delivered to it as well as to the endpoints
// already registered. It is the in-process form of POST /_lpsim/webhooks. The URL must be an
// absolute http or https URL. A URL the account already has is the same endpoint, as in an app
// installation, whose webhook is one URL: AddWebhook returns its id and counts one more
// registration, RemoveWebhook removes one, and the endpoint goes with the last, so that the
// shards of a distributed run, each registering the one webhook relay, have it receive every
// notification once. The error wraps ErrUnknownAccount for an account the Sim does not serve.
func (s *Sim) AddWebhook(accountID, url string) (id string, err error) {
	a := s.accounts[accountID]
	if a == nil {
		return "", fmt.Errorf("lpsim: AddWebhook: %w %q", ErrUnknownAccount, accountID)
	}
	if url == "" {
		return "", errors.New("lpsim: AddWebhook: empty webhook URL")
	}
	if err := checkWebhookURL(url); err != nil {
		return "", errors.New("lpsim: AddWebhook: " + err.Error())
	}
	h := Webhook{ID: newWebhookID(), Account: accountID, URL: url}
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	cur := a.webhooks()
	for _, o := range cur {
		if o.URL == url {
			if a.extraRegs == nil {
				a.extraRegs = map[string]int{}
			}
			a.extraRegs[o.ID]++
			return o.ID, nil
		}
	}
	next := make([]Webhook, len(cur), len(cur)+1)
	copy(next, cur)
	a.setHooks(append(next, h))
	return h.ID, nil
}

// RemoveWebhook unregisters the endpoint with the given id (from AddWebhook, SetWebhook, the
// configuration or GET /_lpsim/webhooks); the in-process form of DELETE /_lpsim/webhooks/{id}.
// Notifications emitted from then on are not delivered to it; those already emitted still are.
// An endpoint registered more than once (AddWebhook) stays until its last registration is
// removed. The error wraps ErrUnknownWebhook when no endpoint has that id.
func (s *Sim) RemoveWebhook(id string) error {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	for _, a := range s.accounts {
		if a.extraRegs[id] > 0 {
			a.extraRegs[id]--
			return nil
		}
		cur := a.webhooks()
		for i, h := range cur {
			if h.ID == id {
				next := make([]Webhook, 0, len(cur)-1)
				next = append(next, cur[:i]...)
				a.setHooks(append(next, cur[i+1:]...))
				return nil
			}
		}
	}
	return fmt.Errorf("lpsim: RemoveWebhook: %w %q", ErrUnknownWebhook, id)
}

// Webhooks lists the registered endpoints, by account in configuration order, then in order of
// registration. The result shares nothing with the Sim.
func (s *Sim) Webhooks() []Webhook {
	out := []Webhook{}
	for _, acc := range s.cfg.Accounts {
		out = append(out, s.accounts[acc.ID].webhooks()...)
	}
	return out
}

// webhookRequest is the body of POST /_lpsim/webhooks.
type webhookRequest struct {
	Account *string `json:"account"`
	URL     *string `json:"url"`
}

// handleAddWebhook answers POST /_lpsim/webhooks {"account":..,"url":..}: 201 with the Webhook;
// 400 for a body that is not that object or a URL that is not absolute http(s); 404 for an
// unknown account; 413 beyond 64 KiB.
func (s *Sim) handleAddWebhook(w http.ResponseWriter, r *http.Request) {
	buf, e := readBody(w, r)
	defer putBody(buf)
	if e.failed() {
		controlError(w, e)
		return
	}
	var q webhookRequest
	if err := json.Unmarshal(buf.Bytes(), &q); err != nil {
		controlError(w, badRequest("Bad request", `the body is not {"account":STRING,"url":STRING}: `+err.Error()))
		return
	}
	if q.Account == nil || *q.Account == "" || q.URL == nil || *q.URL == "" {
		controlError(w, badRequest("Bad request", `the body must be {"account":STRING,"url":STRING}, both non-empty`))
		return
	}
	if s.accounts[*q.Account] == nil {
		controlError(w, apiErr{status: http.StatusNotFound, title: "Unknown account", details: "no account " + strconv.Quote(*q.Account)})
		return
	}
	if err := checkWebhookURL(*q.URL); err != nil {
		controlError(w, badRequest("Bad webhook URL", err.Error()))
		return
	}
	id, err := s.AddWebhook(*q.Account, *q.URL)
	if err != nil { // checked above: cannot happen
		controlError(w, apiErr{status: http.StatusInternalServerError, title: "Internal error", details: err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, Webhook{ID: id, Account: *q.Account, URL: *q.URL})
}

// handleRemoveWebhook answers DELETE /_lpsim/webhooks/{id}: 204, or 404 for an unknown id.
func (s *Sim) handleRemoveWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.RemoveWebhook(id); err != nil {
		controlError(w, apiErr{status: http.StatusNotFound, title: "Unknown webhook", details: "no webhook " + strconv.Quote(id)})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListWebhooks answers GET /_lpsim/webhooks with Sim.Webhooks as a JSON array.
func (s *Sim) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Webhooks())
}

// writeJSON writes v as JSON with the status: for control routes, which are neither counted,
// delayed nor stalled.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // plain data only: cannot happen
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(b)
}

// controlError writes e in the documented error shape, as a control route answers: at once, not
// counted, delayed nor stalled.
func controlError(w http.ResponseWriter, e apiErr) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(e.status)
	w.Write(e.body())
}
