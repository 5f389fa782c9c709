// Package lp is a client of LivePerson's consumer messaging APIs: the domain API (CSDS), Sentinel
// AppJWTs, IdP ConsumerJWS, and the Send API's CONVERSATION, SEND and close. It also runs the
// consumer journey of one synthetic consumer (journey.go) and returns a plain sample.Journey.
//
// Requests are built by one newRequest and executed by one do, which reads bodies through a size
// limit and sorts every failure into an *Error carrying status, LivePerson errorCode and failure
// class. Tokens and secrets never appear in any error text.
package lp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// ClientProperties is the Client-Properties header value that enables AUTO_MESSAGES; it must be on
// the CONVERSATION request and on every SEND.
const ClientProperties = `{"type":".ClientProperties","features":["AUTO_MESSAGES"]}`

// maxBody bounds what is read of any response body.
const maxBody = 1 << 20

// Target describes one LivePerson account to drive and how to reach it.
type Target struct {
	Name         string // label in reports
	Account      string // LivePerson account (site) id
	CSDS         string // base URL of the domain API, e.g. "https://api.liveperson.net" or a simulator URL
	Scheme       string // scheme for the base URIs CSDS returns: "https" (default) or "http" for a simulator
	ClientID     string
	ClientSecret string
	// DomainsTTL is how long a cached CSDS answer is reused (default 60 s).
	DomainsTTL time.Duration
	// MaxRequestRate caps requests per second to this target (0: no cap), a safety net for live
	// accounts. Time spent waiting for the cap counts in the step it delays.
	MaxRequestRate float64
	HTTP           *http.Client // default: a client with keep-alive tuned for load
}

// Client talks to one Target. It is safe for concurrent use by many journeys: domains and the
// AppJWT are shared, refreshed in the background of whichever caller finds them stale, and
// concurrent refreshes are collapsed into one request.
type Client struct {
	t       Target
	http    *http.Client
	limiter *rate.Limiter
	domains cached[Domains]
	appJWT  cached[string]
	create  []byte // CONVERSATION body: constant per account
}

// NewClient checks t and returns a Client for it.
func NewClient(t Target) (*Client, error) {
	if t.Account == "" {
		return nil, errors.New("lp: target has no account id")
	}
	if _, err := url.Parse(t.CSDS); err != nil || t.CSDS == "" {
		return nil, fmt.Errorf("lp: target %q: bad CSDS URL %q", t.Name, t.CSDS)
	}
	if t.Scheme == "" {
		t.Scheme = "https"
	}
	if t.Scheme != "https" && t.Scheme != "http" {
		return nil, fmt.Errorf("lp: target %q: scheme must be https or http, got %q", t.Name, t.Scheme)
	}
	if t.DomainsTTL <= 0 {
		t.DomainsTTL = 60 * time.Second
	}
	c := &Client{t: t, http: t.HTTP}
	if c.http == nil {
		c.http = DefaultHTTPClient()
	}
	if t.MaxRequestRate > 0 {
		// A burst of a tenth of a second's worth keeps the cap smooth without losing timer slack
		// at high rates (a burst of 1 cannot reach them).
		c.limiter = rate.NewLimiter(rate.Limit(t.MaxRequestRate), max(1, int(t.MaxRequestRate/10)))
	}
	var err error
	if c.create, err = createBody(t.Account); err != nil {
		return nil, err
	}
	return c, nil
}

// Target returns the client's target.
func (c *Client) Target() Target { return c.t }

// DefaultHTTPClient returns an http.Client for load: no overall timeout (steps set their own
// deadlines through contexts), many idle connections per host, no redirects followed (LivePerson
// APIs do not redirect; following one could send tokens to another host).
func DefaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 1024
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// serviceURL returns scheme://host/path for a CSDS base URI (a bare host name).
func (c *Client) serviceURL(host, path string) string {
	return c.t.Scheme + "://" + host + path
}

// newRequest builds a request; body, when not nil, is sent with contentType.
func (c *Client) newRequest(ctx context.Context, method, u string, body []byte, contentType string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "lpbench")
	return req, nil
}

// do sends req and, on a 2xx answer, decodes its JSON body into out (when out is not nil). It
// returns the HTTP status (0 when no response arrived) and an *Error for every failure.
func (c *Client) do(op string, req *http.Request, out any) (int, error) {
	ctx := req.Context()
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return 0, transportError(ctx, op, err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		e := transportError(ctx, op, err)
		e.Status = resp.StatusCode
		return resp.StatusCode, e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, responseError(op, resp, body)
	}
	if len(body) > maxBody {
		return resp.StatusCode, protocolError(op, resp.StatusCode, "response body larger than %d bytes", maxBody)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, protocolError(op, resp.StatusCode, "undecodable body: %s", jsonErrorText(err))
		}
	}
	return resp.StatusCode, nil
}

// jsonErrorText shortens a JSON decoding error to its kind, without echoing body content.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	s := err.Error()
	if i := strings.IndexByte(s, ':'); i > 0 && len(s) > 80 {
		s = s[:i]
	}
	return s
}
