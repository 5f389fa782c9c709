// Package bench holds lpbench's generator benchmarks: the baseline client they compare lpbench
// with (Plain, run by the baseline command), Go benchmarks of the journey's code path, and the
// script (run.sh) that produces the table of BENCHMARKS.md.
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// clientProperties is the AUTO_MESSAGES header, as lpbench sends it on CONVERSATION and SEND.
const clientProperties = `{"type":".ClientProperties","features":["AUTO_MESSAGES"]}`

// createBody is the CONVERSATION body (testdata/fixtures/create-conversation.json's shape, compact,
// with the keys in the order lpbench writes them and lpbench's default synthetic consumer profile
// instead of the fixture's example customer); %s is the account.
const createBody = `[{"kind":"req","id":"1,","type":"userprofile.SetUserProfile","body":{"authenticatedData":` +
	`{"lp_sdes":[{"type":"personal","personal":{"firstname":"lpbench","lastname":"synthetic consumer"}}]}}},` +
	`{"kind":"req","id":"2,",` +
	`"type":"cm.ConsumerRequestConversation","body":{"ttrDefName":"NORMAL","channelType":"MESSAGING",` +
	`"brandId":"%s","conversationContext":{"visitorId":"","sessionId":"","interactionContextId":"2",` +
	`"type":"SharkContext","lang":"en-US"}}}]`

// DefaultMessage is lpbench's default first SEND text.
const DefaultMessage = "Hi from lpbench - Auto Messages feature"

// Plain is the baseline client: the consumer journey's HTTP calls with the same bodies and headers
// as lpbench, and nothing else — no timestamps, histograms, retries, error classes, recorder or
// reports. Responses are read whole; only the two values a journey needs (the consumer's JWS and
// the conversation id) are decoded. It is safe for concurrent use once Setup has returned.
type Plain struct {
	HTTP    *http.Client
	Account string
	Message string
	// Timed, when not nil, is given the time each CONVERSATION and first SEND took, from before
	// the request is built to the end of its answer's body (the span lpbench times as a step).
	// Nil for the cost figures: the baseline then reads no clock at all.
	Timed func(step string, d time.Duration)

	idp, msg string // base URLs
	appJWT   string
	create   []byte
}

// NewPlain returns a baseline client for account with keep-alive connections enough for load
// (net/http's default of 2 idle connections per host would reconnect all the time).
func NewPlain(account string) *Plain {
	return &Plain{
		HTTP:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}},
		Account: account,
		Message: DefaultMessage,
		create:  []byte(fmt.Sprintf(createBody, account)),
	}
}

// Setup looks up the domains at the CSDS base URL csds and fetches the AppJWT, once.
func (c *Plain) Setup(csds, clientID, clientSecret string) error {
	var d struct {
		BaseURIs []struct {
			Service string `json:"service"`
			BaseURI string `json:"baseURI"`
		} `json:"baseURIs"`
	}
	if err := c.do(http.MethodGet, csds+"/api/account/"+c.Account+"/service/baseURI.json?version=1.0", "", nil, "", "", &d); err != nil {
		return fmt.Errorf("csds: %w", err)
	}
	var sentinel string
	for _, b := range d.BaseURIs {
		switch b.Service {
		case "sentinel":
			sentinel = "http://" + b.BaseURI
		case "idp":
			c.idp = "http://" + b.BaseURI + "/api/account/" + c.Account + "/consumer?v=1.0"
		case "asyncMessagingEnt":
			c.msg = "http://" + b.BaseURI + "/api/account/" + c.Account + "/messaging/consumer/conversation"
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := []byte("client_id=" + clientID + "&client_secret=" + clientSecret)
	u := sentinel + "/sentinel/api/account/" + c.Account + "/app/token?v=1.0&grant_type=client_credentials"
	if err := c.do(http.MethodPost, u, "application/x-www-form-urlencoded", form, "", "", &tok); err != nil {
		return fmt.Errorf("appjwt: %w", err)
	}
	c.appJWT = tok.AccessToken
	return nil
}

// Journey runs consumer n: ConsumerJWS, CONVERSATION, first SEND, close; 4 requests.
func (c *Plain) Journey(n int) error {
	var jws struct {
		Token string `json:"token"`
	}
	body := []byte(`{"ext_consumer_id":"baseline-` + strconv.Itoa(n) + `"}`)
	if err := c.do(http.MethodPost, c.idp, "application/json", body, c.appJWT, "", &jws); err != nil {
		return err
	}
	var created []struct {
		Body struct {
			ConversationID string `json:"conversationId"`
		} `json:"body"`
	}
	t0 := c.now()
	if err := c.do(http.MethodPost, c.msg+"?v=3", "application/json", c.create, c.appJWT, jws.Token, &created); err != nil {
		return err
	}
	c.timed("create", t0)
	var conv string
	for _, e := range created {
		if e.Body.ConversationID != "" {
			conv = e.Body.ConversationID
		}
	}
	t0 = c.now()
	send := []byte(`{"kind":"req","id":"1","type":"ms.PublishEvent","body":{"dialogId":"` + conv +
		`","event":{"type":"ContentEvent","contentType":"text/plain","message":"` + c.Message + `"}}}`)
	if err := c.do(http.MethodPost, c.msg+"/send?v=3", "application/json", send, c.appJWT, jws.Token, nil); err != nil {
		return err
	}
	c.timed("send", t0)
	closing := []byte(`{"kind":"req","id":1,"type":"cm.UpdateConversationField","body":{"conversationId":"` + conv +
		`","conversationField":{"field":"ConversationStateField","conversationState":"CLOSE"}}}`)
	return c.do(http.MethodPost, c.msg+"/send?v=3", "application/json", closing, c.appJWT, jws.Token, nil)
}

// now reads the clock only when requests are timed.
func (c *Plain) now() time.Time {
	if c.Timed == nil {
		return time.Time{}
	}
	return time.Now()
}

// timed reports a step that began at t0.
func (c *Plain) timed(step string, t0 time.Time) {
	if c.Timed != nil {
		c.Timed(step, time.Since(t0))
	}
}

// do sends one request with lpbench's headers (Authorization and X-LP-ON-BEHALF when given, and
// Client-Properties with both, as on CONVERSATION and SEND), reads the whole answer, fails on a
// non-2xx status and decodes the body into out when out is not nil.
func (c *Plain) do(method, url, contentType string, body []byte, appJWT, jws string, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lpbench")
	if appJWT != "" {
		req.Header.Set("Authorization", appJWT)
	}
	if jws != "" {
		req.Header.Set("X-LP-ON-BEHALF", jws)
		req.Header.Set("Client-Properties", clientProperties)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: status %d", req.URL.Path, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
