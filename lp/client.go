// Package lp is a client of LivePerson's consumer messaging APIs: the domain API (CSDS), Sentinel
// AppJWTs, IdP ConsumerJWS, and the Send API's CONVERSATION, SEND and close. It also runs the
// consumer journey of one synthetic consumer (journey.go) and returns a plain sample.Record.
//
// Requests are built by one newRequest and executed by one do, which reads bodies through a size
// limit; each call's answer is judged by one pure decodeX function (status, header, body in; value
// or *Error out), the code path the fuzz targets drive. Every failure is an *Error carrying
// status, LivePerson errorCode and failure class. Tokens and secrets never appear in any error
// text, not even when a server echoes them (redact.go).
package lp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/lpbench/lpbench/sample"
)

// ClientProperties is the Client-Properties header value that enables AUTO_MESSAGES; it must be on
// the CONVERSATION request and on every SEND.
const ClientProperties = `{"type":".ClientProperties","features":["AUTO_MESSAGES"]}`

// maxBody bounds what is read of any response body.
const maxBody = 1 << 20

// maxHeader bounds a response's header block (net/http's default is 10 MB). LivePerson's headers
// are a few kilobytes; a header block beyond this is a network-class failure.
const maxHeader = 64 << 10

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
	// Transport, when not nil, is the transport of the default HTTP client instead of the one
	// tuned for load (a test's). Not with HTTP, RootCAs or InsecureSkipVerify.
	Transport http.RoundTripper
	// MaxInFlight is the most journeys that run against this target at once (0: not known). A
	// journey makes one request at a time, so the default HTTP client never needs more
	// connections to a host than that plus a few for shared fetches (SpareConns): it holds at
	// most that many, open or idle (and no more than half the process's descriptor limit), so
	// that past saturation connections do not pile up.
	MaxInFlight int
	// InsecureSkipVerify skips TLS certificate verification. It is only for a target explicitly
	// marked local/insecure (a simulator behind a self-signed certificate): live LivePerson
	// targets must verify, and NewClient refuses it for a *.liveperson.net CSDS host. It applies
	// to the default HTTP client only (not with HTTP set); reports should say it was on.
	InsecureSkipVerify bool
	// RootCAs, when not nil, are the certificate authorities the default HTTP client trusts for
	// this target instead of the system's (a local simulator's CA: `lpbench sim --tls`), with
	// certificates still verified. CAFile names where they came from, for error messages. Not
	// with InsecureSkipVerify, nor with HTTP set.
	RootCAs *x509.CertPool
	CAFile  string
	// Routing is where every CONVERSATION asks the account to route its conversation; the zero
	// value leaves it to the account's rules.
	Routing Routing
	// ConsumerProfile is what every consumer sets with its CONVERSATION; nil:
	// DefaultConsumerProfile.
	ConsumerProfile *ConsumerProfile
}

// Client talks to one Target. It is safe for concurrent use by many journeys: domains and the
// AppJWT are shared, refreshed in the background of whichever caller finds them stale, and
// concurrent refreshes are collapsed into one request.
type Client struct {
	t       Target
	http    *http.Client
	direct  http.RoundTripper // http's transport when http is the default client (see roundTrip)
	shared  http.RoundTripper // with direct, the transport of the hosts a journey visits once (see via)
	limiter *rate.Limiter
	domains cached[Domains]
	appJWT  cached[string]
	create  []byte // CONVERSATION body: constant per account
	msgURLs atomic.Pointer[messagingURLs]
}

// NewClient checks t and returns a Client for it.
func NewClient(t Target) (*Client, error) {
	if t.Account == "" {
		return nil, errors.New("lp: target has no account id")
	}
	csds, err := url.Parse(t.CSDS)
	if err != nil || t.CSDS == "" {
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
	if t.Transport != nil && (t.HTTP != nil || t.RootCAs != nil || t.InsecureSkipVerify) {
		return nil, fmt.Errorf("lp: target %q: Transport replaces the default HTTP client's: not with HTTP, RootCAs or InsecureSkipVerify", t.Name)
	}
	if t.RootCAs != nil && (t.HTTP != nil || t.InsecureSkipVerify) {
		return nil, fmt.Errorf("lp: target %q: RootCAs apply to the default HTTP client with certificates verified only", t.Name)
	}
	if t.InsecureSkipVerify {
		switch {
		case t.HTTP != nil:
			return nil, fmt.Errorf("lp: target %q: InsecureSkipVerify applies to the default HTTP client only", t.Name)
		case isLivePersonHost(csds.Hostname()):
			return nil, fmt.Errorf("lp: target %q: certificate verification cannot be skipped for LivePerson host %s", t.Name, csds.Hostname())
		}
	}
	c := &Client{t: t, http: t.HTTP}
	if c.http == nil {
		c.direct, c.shared = t.Transport, t.Transport
		if c.direct == nil {
			c.direct, c.shared = newTransport(t), newSharedTransport(t)
		}
		c.http = &http.Client{Transport: c.direct, CheckRedirect: noRedirect}
	}
	if t.MaxRequestRate > 0 {
		// A burst of a tenth of a second's worth keeps the cap smooth without losing timer slack
		// at high rates (a burst of 1 cannot reach them).
		c.limiter = rate.NewLimiter(rate.Limit(t.MaxRequestRate), max(1, int(t.MaxRequestRate/10)))
	}
	profile := DefaultConsumerProfile()
	if t.ConsumerProfile != nil {
		profile = *t.ConsumerProfile
	}
	if err := profile.Validate(); err != nil {
		return nil, fmt.Errorf("lp: target %q: consumer profile: %w", t.Name, err)
	}
	if c.create, err = createBody(t.Account, t.Routing, profile); err != nil {
		return nil, err
	}
	return c, nil
}

// Target returns the client's target.
func (c *Client) Target() Target { return c.t }

// DefaultHTTPClient returns an http.Client for load: no overall timeout (steps set their own
// deadlines through contexts), many idle connections per host, no redirects followed (LivePerson
// APIs do not redirect; following one could send tokens to another host), TLS 1.2 or newer with
// certificates verified, and a bounded response header.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Transport: newTransport(Target{}), CheckRedirect: noRedirect}
}

// SpareConns is how many connections per host the default HTTP client holds beyond
// Target.MaxInFlight: for the shared fetches (domains, AppJWT) a journey may start in the
// background while it goes on with its own request.
const SpareConns = 16

// readBuffer is the size of each connection's read buffer (net/http's default: 4 KB).
const readBuffer = 2 << 10

// defaultIdleConns is how many idle connections per host the default client keeps when it has no
// bound on connections (see maxConns).
const defaultIdleConns = 1024

// maxConns returns the most connections per host the default HTTP client holds for a target of
// maxInFlight journeys (0: not known) in a process allowed nofile open descriptors (0: not
// known); 0 means no bound. A journey makes one request at a time, so maxInFlight + SpareConns
// are never too few. And a process cannot hold more sockets than descriptors: past the limit a
// dial fails at once ("too many open files", a failure of the generator's that would read as
// the target's), so the bound is at most half the limit, the rest being left to the webhook
// receiver's inbound connections, the output files and other hosts. Requests beyond the bound
// wait for a connection from the pool, within their timeout; one that runs out is Unsent.
func maxConns(maxInFlight int, nofile uint64) int {
	n := 0
	if maxInFlight > 0 {
		n = maxInFlight + SpareConns
	}
	if half := nofile / 2; half > 0 && half < 1<<30 && (n == 0 || uint64(n) > half) {
		n = int(half)
	}
	return n
}

// MaxJourneys returns the most journeys in flight to one host the default HTTP client can give a
// connection each in this process (half its descriptor limit, less SpareConns: see maxConns), or
// 0 when there is no such limit. A load generator that starts more makes them wait in the
// client for a connection: a queue of its own, inside the measured steps.
func MaxJourneys() int {
	n := maxConns(0, openFileLimit())
	if n == 0 {
		return 0
	}
	return max(1, n-SpareConns)
}

// sharedIdleConns is how many idle connections per host the default HTTP client keeps to the
// hosts a journey visits once (see newSharedTransport).
const sharedIdleConns = 256

// newSharedTransport returns the default HTTP client's transport for the hosts a journey visits
// once or not at all — the idp host (its ConsumerJWS), Sentinel and CSDS (shared fetches) — as
// newTransport's, but with at most sharedIdleConns idle connections per host. A journey holds its
// messaging connection for its whole life, but its idp connection only for one request: when
// many journeys start at once (a burst, a generator that fell behind), each ConsumerJWS finds no
// idle connection and dials one, which would then stay idle, two goroutines and its buffers
// (about 25 KB), for every journey in flight. Past sharedIdleConns such connections are closed
// once their request is answered. Concurrent ConsumerJWS requests stay below it in a run that
// keeps up (a rate times the IdP's latency: 1,000/s × 0.1 s is 100), so none is dialled again.
func newSharedTransport(t Target) *http.Transport {
	tr := newTransport(t)
	tr.MaxIdleConnsPerHost = min(tr.MaxIdleConnsPerHost, sharedIdleConns)
	return tr
}

// newTransport returns the transport of the default HTTP client for t: certificates verified
// unless t.InsecureSkipVerify, at most maxConns connections per host, all of which may stay idle
// between requests (a connection closed because the idle pool was full is dialled again by the
// next request: CPU, a TIME_WAIT socket and a handshake inside a measured step). Every wait of a request — for a connection from the pool,
// DNS, dial, TLS handshake, writing, the answer — ends with its context (the journey's
// per-attempt request timeout); the transport's own dial (30 s) and TLS handshake (10 s) limits
// only end a wait earlier.
func newTransport(t Target) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = defaultIdleConns
	if n := maxConns(t.MaxInFlight, openFileLimit()); n > 0 {
		tr.MaxConnsPerHost = n
		tr.MaxIdleConnsPerHost = n
	}
	tr.IdleConnTimeout = 90 * time.Second
	tr.MaxResponseHeaderBytes = maxHeader
	// LivePerson's answers are a few hundred bytes of headers and body (testdata/fixtures): half
	// the default read buffer holds them whole and saves 2 KB on each of thousands of
	// connections. Requests carry two tokens in their headers: the write buffer stays 4 KB, so a
	// request still goes out in one write.
	tr.ReadBufferSize = readBuffer
	tr.TLSClientConfig = TLSConfig(t)
	return tr
}

// TLSConfig returns the TLS configuration of t's default HTTP client: TLS 1.2 or newer,
// certificates verified against t.RootCAs (the system's when nil) unless t.InsecureSkipVerify.
// Other clients of the same target (the engine's clock probe, a simulator's control calls) use
// it too.
func TLSConfig(t Target) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            t.RootCAs,
		InsecureSkipVerify: t.InsecureSkipVerify, // only for targets marked local/insecure: see Target
	}
}

// noRedirect makes the client return a redirect as the answer instead of following it.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// isLivePersonHost reports whether host is LivePerson's (liveperson.net or a subdomain).
func isLivePersonHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "liveperson.net" || strings.HasSuffix(host, ".liveperson.net")
}

// serviceURL returns scheme://host/path for a CSDS base URI (a bare host name).
func (c *Client) serviceURL(host, path string) string {
	return c.t.Scheme + "://" + host + path
}

// Header values every request shares. A header's value is a slice, and net/http only reads a
// request's (Header.Set and Add replace or grow the slice, never write into it; a cap of 1 makes
// Add copy), so one slice serves every request instead of one per request and header.
var (
	hvJSON             = []string{"application/json"}
	hvForm             = []string{"application/x-www-form-urlencoded"}
	hvUserAgent        = []string{"lpbench"}
	hvClientProperties = []string{ClientProperties}
)

// hdrOnBehalf is X-LP-ON-BEHALF in its canonical form, the key net/http stores and writes:
// Header.Set of the upper-case spelling would allocate the canonical one on every request.
const hdrOnBehalf = "X-Lp-On-Behalf"

// newRequest builds a request; body, when not nil, is sent with contentType. The header map is
// sized for the messaging requests' six headers, so that they do not grow it.
func (c *Client) newRequest(ctx context.Context, method, u string, body []byte, contentType string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, 6)
	if body != nil {
		switch contentType {
		case "application/json":
			h["Content-Type"] = hvJSON
		case "application/x-www-form-urlencoded":
			h["Content-Type"] = hvForm
		default:
			h.Set("Content-Type", contentType)
		}
	}
	h["Accept"] = hvJSON
	h["User-Agent"] = hvUserAgent
	req.Header = h
	return req, nil
}

// do sends req and reads the answer's body through the size limit (at most maxBody+1 bytes: a
// longer body is cut there and its connection closed, never read whole). It returns an *Error only
// when no complete answer arrived (transport failure, timeout, cancellation); judging the answer
// is the decoder's job. Every request is traced, to tell a failure before the request was
// written (Error.Unsent); when tm is not nil, do also fills tm (see reqTimes).
func (c *Client) do(op string, req *http.Request, tm *reqTimes) (status int, header http.Header, body []byte, err error) {
	ctx := req.Context()
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			e := transportError(ctx, op, err)
			e.Unsent = true
			return 0, nil, nil, e
		}
	}
	rt := newReqTrace(ctx)
	req = req.WithContext(httptrace.WithClientTrace(ctx, &rt.trace))
	resp, err := c.roundTrip(c.via(op), req)
	sent := rt.done(tm, resp, err)
	if err != nil {
		e := transportError(ctx, op, err)
		e.Err = CertificateError(e.Err, c.t.CAFile)
		e.Unsent = !sent
		return 0, nil, nil, e
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		e := transportError(ctx, op, err)
		e.Status = resp.StatusCode
		return resp.StatusCode, resp.Header, nil, e
	}
	return resp.StatusCode, resp.Header, body, nil
}

// call sends req and turns the answer into a value with decode, one of the decodeX functions
// (which the fuzz targets drive directly). Every failure is an *Error whose text is scrubbed of
// the request's credentials, even when a hostile server echoes them.
func call[T any](c *Client, op string, req *http.Request, decode func(status int, header http.Header, body []byte) (T, error)) (T, error) {
	return callTimed(c, op, req, nil, decode)
}

// callTimed is call that also traces the request into tm when tm is not nil (see reqTimes).
func callTimed[T any](c *Client, op string, req *http.Request, tm *reqTimes, decode func(status int, header http.Header, body []byte) (T, error)) (T, error) {
	status, header, body, err := c.do(op, req, tm)
	if err == nil {
		var v T
		if v, err = decode(status, header, body); err == nil {
			return v, nil
		}
	}
	var zero T
	return zero, redactError(err, req.Header.Get("Authorization"), req.Header.Get(hdrOnBehalf),
		c.t.ClientSecret, url.QueryEscape(c.t.ClientSecret))
}

// decodeJSON judges a complete answer of operation op and decodes its body into out: a non-2xx
// status is a responseError (class from the status, errorCode and title from the body); a 2xx
// body beyond the limit or not decodable into out is a protocol error. The Content-Type is not
// checked: LivePerson does not document or guarantee it, so the body alone decides.
func decodeJSON(op string, status int, header http.Header, body []byte, out any) error {
	if status < 200 || status > 299 {
		return responseError(op, status, header, body)
	}
	if len(body) > maxBody {
		return protocolError(op, status, "response body larger than %d bytes", maxBody)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return protocolError(op, status, "undecodable body: %s", jsonErrorText(err))
	}
	return nil
}

// jsonErrorText shortens a JSON decoding error to its kind, without echoing body content.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		// Value is "number <literal>" for numbers that do not fit: keep the kind only, or a
		// long literal from the body would be copied into the error text.
		kind, _, _ := strings.Cut(te.Value, " ")
		return fmt.Sprintf("field %q: want %s, got JSON %s", te.Field, te.Type, kind)
	}
	s := err.Error()
	if i := strings.IndexByte(s, ':'); i > 0 && len(s) > 80 {
		s = s[:i]
	}
	return cleanText(s, 80)
}

// unusableAfter is how many refused shared fetches in a row, with none ever accepted, make a
// target unusable.
const unusableAfter = 3

// Unusable returns an error when the target cannot serve any journey: its domain lookup or its
// AppJWT has been refused (401 or another 4xx: not a passing fault) several times in a row and
// never granted. The error says what failed and what to check. It returns nil otherwise.
func (c *Client) Unusable() error {
	check := func(n int, err error, ok bool) (error, bool) {
		cl := ClassOf(err)
		return err, n >= unusableAfter && !ok && (cl == sample.ClassAuth || cl == sample.ClassHTTP4xx)
	}
	if err, bad := check(c.domains.failing()); bad {
		return fmt.Errorf("target %s: the domain API refused account %q %d times in a row (%v): check the account id and the csds host",
			c.t.Name, c.t.Account, unusableAfter, err)
	}
	if err, bad := check(c.appJWT.failing()); bad {
		return fmt.Errorf("target %s: Sentinel refused the app's credentials %d times in a row (%v): check the client id and secret "+
			"(client_id_env, client_secret_env) and that the app is installed on account %q", c.t.Name, unusableAfter, err, c.t.Account)
	}
	return nil
}

// CloseIdleConnections closes the client's idle keep-alive connections (at the end of a run, so
// that none outlives it).
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
	if cl, ok := c.shared.(interface{ CloseIdleConnections() }); ok && c.shared != c.direct {
		cl.CloseIdleConnections()
	}
}

// reqTimes is what a traced request tells of its server's receipt of it. wrote is a lower bound:
// the server cannot have received the request before it; over HTTP/1 it is when the headers
// were written into the connection's buffer (httptrace WroteHeaders), before they and the body
// were flushed; over HTTP/2, whose WroteHeaders comes after the HEADERS frame was flushed, and
// for an attempt that got no answer, it is when the connection was obtained (GotConn), just
// before anything was written. Either way it comes after the waits for a connection, DNS, TCP
// connect and TLS handshake. firstByte is an upper bound: the first byte of the answer
// (GotFirstResponseByte) came after the server had received the request; reading the body comes
// after it. A zero time is an event not seen: the attempt failed before it, or the transport
// reported it after do returned, or the transport does not report traces.
type reqTimes struct{ wrote, firstByte time.Time }

// traceBase is the origin of the times a reqTrace stores, on the monotonic clock.
var traceBase = time.Now()

// reqTrace is the httptrace.ClientTrace of one request and the times its hooks saw, in
// nanoseconds since traceBase (0: not seen). The hooks run on the transport's goroutines, maybe
// after Do returned (a request canceled while being written), hence atomics. Each time is that of
// a hook's first call: a hook is called again when the transport retries a request on another
// connection, which it does only when the server received nothing, and the earlier time keeps a
// lower bound true.
type reqTrace struct {
	trace                     httptrace.ClientTrace
	gotConn, wrote, firstByte atomic.Int64
	pooled                    bool // from tracePool, with no other trace composed into it
}

// tracePool recycles reqTraces with their hooks, so a traced request allocates no closures.
var tracePool = sync.Pool{New: func() any { return makeReqTrace(true) }}

// makeReqTrace returns a reqTrace whose hooks store into it.
func makeReqTrace(pooled bool) *reqTrace {
	rt := &reqTrace{pooled: pooled}
	rt.trace = httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { stamp(&rt.gotConn) },
		WroteHeaders:         func() { stamp(&rt.wrote) },
		GotFirstResponseByte: func() { stamp(&rt.firstByte) },
	}
	return rt
}

// newReqTrace returns a reqTrace for a request on ctx, with no times.
func newReqTrace(ctx context.Context) *reqTrace {
	if httptrace.ContextClientTrace(ctx) != nil {
		// WithClientTrace composes the caller's hooks into ours, changing the trace: keep it
		// out of the pool.
		return makeReqTrace(false)
	}
	rt := tracePool.Get().(*reqTrace)
	rt.gotConn.Store(0)
	rt.wrote.Store(0)
	rt.firstByte.Store(0)
	return rt
}

// stamp stores the time since traceBase in t unless t already holds one.
func stamp(t *atomic.Int64) { t.CompareAndSwap(0, max(1, int64(time.Since(traceBase)))) }

// done fills tm (when not nil) from the trace once Do returned resp and err, reports whether the
// request's headers had been written by then (WroteHeaders seen), and gives the trace back to the
// pool when it can no longer change: after an answer for which every hook has run (the transport
// retries, and so calls hooks again, only before an answer).
func (rt *reqTrace) done(tm *reqTimes, resp *http.Response, err error) (sent bool) {
	sent = rt.wrote.Load() != 0
	if tm != nil {
		wrote := &rt.gotConn
		if err == nil && resp.ProtoMajor == 1 {
			wrote = &rt.wrote
		}
		tm.wrote, tm.firstByte = traceTime(wrote.Load()), traceTime(rt.firstByte.Load())
	}
	if rt.pooled && err == nil && rt.gotConn.Load() != 0 && rt.wrote.Load() != 0 && rt.firstByte.Load() != 0 {
		tracePool.Put(rt)
	}
	return sent
}

// traceTime returns the time ns nanoseconds after traceBase, or the zero time for 0.
func traceTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return traceBase.Add(time.Duration(ns))
}
