package lp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lpbench/lpbench/sample"
)

// Error is a failed LivePerson call: its operation, HTTP status, LivePerson errorCode and failure
// class. Its text never contains a token or a secret: only the operation, status, errorCode, the
// title the server gave and the underlying error, the last two cleaned of control characters,
// shortened, and scrubbed of the request's credentials should a server echo them.
type Error struct {
	Op         string       // "csds", "appjwt", "consumerjws", "create", "send", "close"
	Status     int          // HTTP status; 0 when no response arrived
	Code       int          // LivePerson errorCode from the body, 0 when none
	Class      sample.Class // failure class
	Title      string       // the server's title or details, shortened; may be empty
	RetryAfter time.Duration
	Err        error // the underlying transport or decoding error, if any
	// Unsent: no answer came and the request's headers were never written — it was lost in the
	// client (waiting for a connection from the pool, DNS, dial, TLS handshake, or the rate
	// cap), which under a CPU-starved generator is the generator's doing, not the target's.
	Unsent bool
	// OpenConversation is, for a CONVERSATION refused with 400 because the consumer already holds
	// an open conversation, that conversation's id, when the answer names it (see
	// OpenConversationOf).
	OpenConversation string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.Status)
	}
	b.WriteString(e.Class.String())
	if e.Code != 0 {
		fmt.Fprintf(&b, " (errorCode %d)", e.Code)
	}
	if e.Title != "" {
		b.WriteString(": ")
		b.WriteString(e.Title)
	}
	if e.Err != nil {
		// Transport errors may quote what a server sent (a malformed status line), so their text
		// is bounded and cleaned like a title.
		b.WriteString(": ")
		b.WriteString(cleanText(e.Err.Error(), maxErrText))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same class (and of the same errorCode, when the
// target names one), so callers can write errors.Is(err, &lp.Error{Class: sample.ClassAuth}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Class == e.Class && (t.Code == 0 || t.Code == e.Code) && (t.Status == 0 || t.Status == e.Status)
}

// ClassOf returns the failure class of err: the class of an *Error in its chain, ClassCanceled or
// ClassTimeout for context errors, ClassNetwork otherwise. It returns ClassNone for nil.
func ClassOf(err error) sample.Class {
	if err == nil {
		return sample.ClassNone
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	switch {
	case errors.Is(err, context.Canceled):
		return sample.ClassCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return sample.ClassTimeout
	}
	return sample.ClassNetwork
}

// transportError sorts an error from http.Client.Do. When the request's context ended, its reason
// decides (a step deadline is a timeout; a cancellation is the run stopping), not the transport's
// wrapping of it.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, Class: sample.ClassNetwork, Err: err}
	switch cerr := ctx.Err(); {
	case errors.Is(cerr, context.DeadlineExceeded):
		e.Class, e.Err = sample.ClassTimeout, cerr
	case cerr != nil:
		e.Class, e.Err = sample.ClassCanceled, cerr
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			e.Class = sample.ClassTimeout
		}
		e.Err = scrubURLError(err)
	}
	return e
}

// IsCertificateError reports whether err is a failed check of a server's TLS certificate: an
// unknown authority, a certificate not valid (expired, not for serving), or one for another host.
func IsCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify)
}

// untrustedError is a failed certificate check that says what it was checked against.
type untrustedError struct {
	caFile string
	err    error
}

func (e *untrustedError) Error() string {
	if e.caFile == "" {
		return "certificate not trusted by the system's CAs: " + e.err.Error()
	}
	return "certificate not trusted by the CA file " + e.caFile + ": " + e.err.Error()
}

func (e *untrustedError) Unwrap() error { return e.err }

// CertificateError returns err, when it is a failed certificate check (IsCertificateError),
// saying what it was checked against: the CA file caFile, or the system's CAs when caFile is "".
// It is the one wording of lpbench for a certificate it does not trust: the journeys' errors
// carry it, and the engine's checks before a run. Other errors, and one that says it already,
// are returned as they are.
func CertificateError(err error, caFile string) error {
	var said *untrustedError
	if !IsCertificateError(err) || errors.As(err, &said) {
		return err
	}
	return &untrustedError{caFile: caFile, err: err}
}

// scrubURLError drops the URL from a *url.Error: it names hosts and accounts only, but keeping
// error text free of query strings is the safer habit.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// statusClass maps an HTTP status to a failure class.
func statusClass(status int) sample.Class {
	switch {
	case status == http.StatusUnauthorized:
		return sample.ClassAuth
	case status == http.StatusTooManyRequests:
		return sample.ClassRateLimited
	case status >= 500:
		return sample.ClassHTTP5xx
	case status >= 400:
		return sample.ClassHTTP4xx
	default:
		return sample.ClassProtocol
	}
}

// errorBody is the documented LivePerson error shape; other services answer with variants, so
// every field is optional.
type errorBody struct {
	Body struct {
		Title     string  `json:"title"`
		Details   string  `json:"details"`
		ErrorCode flexInt `json:"errorCode"`
	} `json:"body"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
}

// flexInt is a LivePerson errorCode: a JSON number or a string holding one. Anything else, and any
// value outside 0…MaxInt32 (what a sample.Span holds), reads as 0 rather than failing the decode.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(bytes.Trim(b, `"`)), 10, 32)
	if err != nil || v < 0 {
		v = 0
	}
	*n = flexInt(v)
	return nil
}

const (
	// maxTitle bounds the server text an Error carries, in bytes. It is well below 120 so that
	// no error text, with what surrounds the title, repeats a long run of a response body.
	maxTitle = 100
	// maxErrText bounds the printed text of an underlying error.
	maxErrText = 200
	// maxRetryAfter caps a server's Retry-After, so that a hostile or broken answer cannot park a
	// journey for hours (or overflow a Duration).
	maxRetryAfter = 10 * time.Minute
)

// cleanText makes server-supplied text safe to print: control and format characters (newlines,
// escape sequences, bidi overrides) and invalid UTF-8 become '?' or a space, and the text is cut
// at a character boundary to at most n bytes, "…" marking a cut.
func cleanText(s string, n int) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			r = '?'
		case unicode.IsSpace(r):
			r = ' '
		case !unicode.IsPrint(r):
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > n {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// responseError builds the Error for a non-2xx answer from its (size-limited) body. The body is
// read leniently: a field of an unexpected type is skipped, the others are kept.
func responseError(op string, status int, header http.Header, body []byte) *Error {
	e := &Error{Op: op, Status: status, Class: statusClass(status)}
	var eb errorBody
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &eb); err == nil || errors.As(err, &te) {
		e.Code = int(eb.Body.ErrorCode)
		e.Title = cleanText(firstNonEmpty(eb.Body.Title, eb.Body.Details, eb.ErrorDescription, eb.Error, eb.Message), maxTitle)
		if op == "create" && status == http.StatusBadRequest {
			e.OpenConversation = firstNonEmpty(findUUID(eb.Body.Details), findUUID(eb.Body.Title))
		}
	}
	if status >= 300 && status < 400 {
		// The Location is not named: it is the server's text, and may carry anything.
		e.Err = errors.New("redirect not followed")
	}
	e.RetryAfter = retryAfter(header.Get("Retry-After"))
	return e
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at maxRetryAfter.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(0, time.Until(t)), maxRetryAfter)
	}
	return 0
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// protocolError is a 2xx response whose body is not what the API documents.
func protocolError(op string, status int, format string, args ...any) *Error {
	return &Error{Op: op, Status: status, Class: sample.ClassProtocol, Err: fmt.Errorf(format, args...)}
}

// OpenConversationOf returns the id of the open conversation that a refused CONVERSATION named:
// one consumer holds at most one open conversation, and a second CONVERSATION for it is answered
// 400 in LivePerson's error shape, its title or details carrying the open conversation's id (a
// UUID, as LivePerson's conversation ids are). ok is false for any other error.
func OpenConversationOf(err error) (id string, ok bool) {
	var e *Error
	if errors.As(err, &e) && e.OpenConversation != "" {
		return e.OpenConversation, true
	}
	return "", false
}

// findUUID returns the first UUID (8-4-4-4-12 hexadecimal digits) in s, or "".
func findUUID(s string) string {
	const n = 36
	for i := 0; i+n <= len(s); i++ {
		if isUUID(s[i:i+n]) && (i == 0 || !isHex(s[i-1])) && (i+n == len(s) || !isHex(s[i+n])) {
			return s[i : i+n]
		}
	}
	return ""
}

func isUUID(s string) bool {
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
