package lp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// Error is a failed LivePerson call: its operation, HTTP status, LivePerson errorCode and failure
// class. Its text never contains a token or a secret: only the operation, status, errorCode and
// the title the server gave.
type Error struct {
	Op         string       // "csds", "appjwt", "consumerjws", "create", "send", "close"
	Status     int          // HTTP status; 0 when no response arrived
	Code       int          // LivePerson errorCode from the body, 0 when none
	Class      sample.Class // failure class
	Title      string       // the server's title or details, shortened; may be empty
	RetryAfter time.Duration
	Err        error // the underlying transport or decoding error, if any
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
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
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
		Title     string `json:"title"`
		Details   string `json:"details"`
		ErrorCode int    `json:"errorCode"`
	} `json:"body"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
}

const maxTitle = 120

// responseError builds the Error for a non-2xx response from its (size-limited) body.
func responseError(op string, resp *http.Response, body []byte) *Error {
	e := &Error{Op: op, Status: resp.StatusCode, Class: statusClass(resp.StatusCode)}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = eb.Body.ErrorCode
		e.Title = firstNonEmpty(eb.Body.Title, eb.Body.Details, eb.ErrorDescription, eb.Error, eb.Message)
	}
	if len(e.Title) > maxTitle {
		e.Title = e.Title[:maxTitle] + "…"
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(0, time.Until(t))
		}
	}
	return e
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
