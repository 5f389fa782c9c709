package lpsim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Faults are the failures injected into one endpoint's answers, each with its probability per
// request (0..1, at most 1 in total). One draw per request picks at most one fault.
//
// A fault is decided when the request reaches its handler, after the body is read and the rate
// limit passed, and before anything else: authentication, validation and the work. Every fault
// but Trickle replaces the answer and changes no state (no token issued, no conversation created,
// no message or close recorded), so the Ledger's counts of conversations stay exact. Trickle
// delivers the real answer slowly: its request is served. Faulted answers take the endpoint's
// latency, capacity and stalls like any other.
type Faults struct {
	Error500     float64 `yaml:"error_500"`      // 500 in the documented error shape
	Error503     float64 `yaml:"error_503"`      // 503 in the documented error shape
	Expired401   float64 `yaml:"expired_401"`    // 401 errorCode 40102 "AppJWT is expired", whatever the token
	Reset        float64 `yaml:"reset"`          // 200 headers and half the body, then the connection is closed
	Trickle      float64 `yaml:"trickle"`        // the real answer, its body written one byte per TrickleDelay
	Malformed    float64 `yaml:"malformed"`      // 200 whose body is not valid JSON
	ErrorBody200 float64 `yaml:"error_body_200"` // 200 whose body reports code 500 (no conversationId, sequence or token)
	// TrickleDelay is the pause between two bytes of a trickled body; default 10ms when zero.
	TrickleDelay time.Duration `yaml:"trickle_delay"`
}

// DefaultTrickleDelay is the pause between bytes of a trickled body when Faults.TrickleDelay is 0.
const DefaultTrickleDelay = 10 * time.Millisecond

// The fault kinds counted in Ledger.Faults, per endpoint.
const (
	FaultError500     = "error_500"
	FaultError503     = "error_503"
	FaultExpired401   = "expired_401"
	FaultReset        = "reset"
	FaultTrickle      = "trickle"
	FaultMalformed    = "malformed"
	FaultErrorBody200 = "error_body_200"
	FaultStall        = "stall" // a response held by a stall (Sim.Stall or Config.Stalls)
)

// faultKind indexes faultNames; the injected kinds come first, in the order of Faults' fields.
type faultKind int

const (
	faultNone faultKind = iota - 1
	faultError500
	faultError503
	faultExpired401
	faultReset
	faultTrickle
	faultMalformed
	faultErrorBody200
	numInjected // the kinds above are drawn; the ones below are counted only
)

const (
	faultStall    = numInjected
	numFaultKinds = faultStall + 1
)

var faultNames = [numFaultKinds]string{
	FaultError500, FaultError503, FaultExpired401, FaultReset, FaultTrickle, FaultMalformed, FaultErrorBody200, FaultStall,
}

// probabilities returns f's probabilities in faultKind order.
func (f Faults) probabilities() [numInjected]float64 {
	return [numInjected]float64{f.Error500, f.Error503, f.Expired401, f.Reset, f.Trickle, f.Malformed, f.ErrorBody200}
}

// Validate reports whether every probability is in 0..1, their sum at most 1, and the delay not
// negative.
func (f Faults) Validate() error {
	sum := 0.0
	for k, p := range f.probabilities() {
		if !(p >= 0 && p <= 1) { // NaN too
			return fmt.Errorf("%s probability %v is not in 0..1", faultNames[k], p)
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fault probabilities add up to %v, more than 1", sum)
	}
	if f.TrickleDelay < 0 {
		return fmt.Errorf("negative trickle delay %v", f.TrickleDelay)
	}
	return nil
}

// faultPlan is a Faults prepared for drawing: cumulative thresholds.
type faultPlan struct {
	f            Faults // as configured
	cum          [numInjected]float64
	trickleDelay time.Duration
}

// newFaultPlan returns nil when f injects nothing, so requests of fault-free endpoints draw no
// random number.
func newFaultPlan(f Faults) *faultPlan {
	p := &faultPlan{f: f, trickleDelay: f.TrickleDelay}
	if p.trickleDelay == 0 {
		p.trickleDelay = DefaultTrickleDelay
	}
	sum := 0.0
	for k, q := range f.probabilities() {
		sum += q
		p.cum[k] = sum
	}
	if sum == 0 {
		return nil
	}
	return p
}

// pick returns the fault for a uniform draw u in [0, 1).
func (p *faultPlan) pick(u float64) faultKind {
	for k, c := range p.cum {
		if u < c {
			return faultKind(k)
		}
	}
	return faultNone
}

// StallWindow holds every response from At to At+For, times since the Sim was created (on the
// real monotonic clock). A response due during the window is written at its end.
type StallWindow struct {
	At  time.Duration `yaml:"at"`  // start, since the Sim was created
	For time.Duration `yaml:"for"` // length
}

// Validate reports whether w starts at or after 0 and lasts.
func (w StallWindow) Validate() error {
	if w.At < 0 {
		return fmt.Errorf("negative start %v", w.At)
	}
	if w.For <= 0 {
		return fmt.Errorf("length %v is not positive", w.For)
	}
	return nil
}

// The answers of the faults that replace a response.
var (
	errInjected500 = apiErr{status: http.StatusInternalServerError, title: "Internal server error", details: "injected by lpsim"}
	errInjected503 = apiErr{status: http.StatusServiceUnavailable, title: "Service unavailable", details: "injected by lpsim"}

	// malformedBody is a complete answer that is not JSON: an object cut inside a string.
	malformedBody = []byte(`{"kind":"resp","code":"OK","body":{"msg":"malformed`)
	// resetBody is announced in full by Content-Length, but only its first half is written.
	resetBody = []byte(`{"kind":"resp","code":"OK","body":{"msg":"this answer is cut short by an injected connection reset"}}`)
)

// errorBody200 is the body of an ErrorBody200 fault on ep: for CONVERSATION the documented array
// whose conversation element reports code 500 and has no conversationId; for SEND and close the
// response object with code 500; elsewhere the documented error shape with code 500. reqIds are
// echoed from body when it parses.
func errorBody200(ep Endpoint, body []byte) []byte {
	const errBody = `"code":500,"body":{"title":"Internal error","details":"injected by lpsim"}`
	switch ep {
	case EndpointCreate:
		var reqs []struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(body, &reqs)
		id := func(i int, def string) json.RawMessage {
			if i < len(reqs) && len(reqs[i].ID) > 0 {
				return reqs[i].ID
			}
			return json.RawMessage(def)
		}
		out := []byte(`[{"code":"OK","body":{"msg":"OK User Profile set successfully"},"reqId":`)
		out = append(out, id(0, `"1,"`)...)
		out = append(out, `},{"kind":"resp",`+errBody+`,"reqId":`...)
		out = append(out, id(1, `"2,"`)...)
		return append(out, `,"type":".ReqBody$ErrorResp"}]`...)
	case EndpointSend, EndpointClose:
		var q struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(body, &q)
		out := []byte(`{"kind":"resp","reqId":`)
		out = appendRaw(out, q.ID)
		return append(out, `,`+errBody+`,"type":".ReqBody$ErrorResp"}`...)
	}
	return errInjected500.body()
}

// trickleWriter writes the body one byte at a time, flushing each, with delay between bytes. The
// whole length is announced in Content-Length. The trickle ends early (the rest written at once)
// when the request ends or the Sim shuts down.
type trickleWriter struct {
	http.ResponseWriter
	ctx     context.Context
	closing <-chan struct{}
	delay   time.Duration
	status  int
}

func (t *trickleWriter) WriteHeader(status int) { t.status = status }

func (t *trickleWriter) Write(b []byte) (int, error) {
	t.Header().Set("Content-Length", strconv.Itoa(len(b)))
	t.ResponseWriter.WriteHeader(cmp.Or(t.status, http.StatusOK))
	rc := http.NewResponseController(t.ResponseWriter)
	for i := range b {
		if i > 0 {
			rc.Flush()
			if !sleepCtx(t.ctx, t.closing, t.delay) {
				n, err := t.ResponseWriter.Write(b[i:])
				return i + n, err
			}
		}
		if _, err := t.ResponseWriter.Write(b[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(b), nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trickleWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// resetWriter announces the whole body in Content-Length, writes its first half, flushes, and
// closes the connection: the client sees a 200 whose body ends early (an unexpected EOF). A
// connection cut after the headers, rather than before, is never silently retried by an HTTP
// client (Go's transport replays idempotent requests whose connection closed before any answer).
// On a ResponseWriter that cannot be hijacked (httptest.ResponseRecorder), the half body is all
// that is written.
type resetWriter struct {
	http.ResponseWriter
	status int
}

func (rw *resetWriter) WriteHeader(status int) { rw.status = status }

func (rw *resetWriter) Write(b []byte) (int, error) {
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rw.ResponseWriter.WriteHeader(cmp.Or(rw.status, http.StatusOK))
	n, err := rw.ResponseWriter.Write(b[:len(b)/2])
	if err != nil {
		return n, err
	}
	// Flush first: Hijack does not flush the response's own buffer.
	rc := http.NewResponseController(rw.ResponseWriter)
	rc.Flush()
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
	}
	return n, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *resetWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
