package lp

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// roundTrip sends req as c.http.Do(req) does. When the client is lp's own (no cookie jar, no
// overall timeout, redirects returned as answers: see NewClient), it hands req straight to the
// transport, with Do's checks and errors but without its per-request copies (the header, kept
// for redirects the client never follows; the URL, for a cookie jar it has not), which are a
// tenth of a journey's allocations. tr is c.direct or c.shared (see via).
func (c *Client) roundTrip(tr http.RoundTripper, req *http.Request) (*http.Response, error) {
	if tr == nil || req.URL.User != nil {
		return c.http.Do(req)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		if tlsErr, ok := err.(tls.RecordHeaderError); ok && string(tlsErr.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		return nil, doError(req, err)
	}
	switch {
	case resp == nil:
		return nil, doError(req, fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", tr))
	case resp.Body == nil && resp.ContentLength > 0 && req.Method != http.MethodHead:
		return nil, doError(req, fmt.Errorf("http: RoundTripper implementation (%T) returned a *Response with content length %d but a nil Body",
			tr, resp.ContentLength))
	case resp.Body == nil:
		resp.Body = io.NopCloser(strings.NewReader(""))
	}
	if redirected(req, resp) {
		// Do parses the Location of a redirect it would follow before asking whether to.
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, err := req.URL.Parse(loc); err != nil {
				resp.Body.Close()
				return nil, doError(req, fmt.Errorf("failed to parse Location header %q: %v", loc, err))
			}
		}
	}
	return resp, nil
}

// via returns the transport of operation op: c.shared for the hosts a journey visits once (idp,
// Sentinel, CSDS), c.direct for the messaging host; nil when the client is not lp's own.
func (c *Client) via(op string) http.RoundTripper {
	switch op {
	case "consumerjws", "appjwt", "csds":
		return c.shared
	}
	return c.direct
}

// redirected reports whether http.Client would take resp as a redirect of req.
func redirected(req *http.Request, resp *http.Response) bool {
	switch resp.StatusCode {
	case 301, 302, 303:
		return true
	case 307, 308:
		return req.GetBody != nil || req.Body == nil || req.Body == http.NoBody
	}
	return false
}

// doError is the error http.Client.Do returns for err from req (a URL without a password).
func doError(req *http.Request, err error) error {
	op := "Get"
	if m := req.Method; m != "" {
		op = m[:1] + strings.ToLower(m[1:])
	}
	return &url.Error{Op: op, URL: req.URL.String(), Err: err}
}
