package lp

import (
	"errors"
	"strings"
)

// redacted replaces a credential in error text.
const redacted = "[redacted]"

// minSecret is the shortest credential that is redacted: shorter ones would blank out ordinary
// words and say nothing anyway.
const minSecret = 4

// redactError removes the given credentials (the request's Authorization and X-LP-ON-BEHALF
// values, the client secret) from err's printable text, in place, and returns err.
//
// A client never puts a credential in an error, but a server can: a hostile or broken one may
// echo the request in its error title, or in a malformed status line that net/http quotes in its
// transport error. Titles are cut to maxTitle before this runs, so a credential may also sit, cut
// short, at the end of a title that ends in "…": that tail is redacted too.
func redactError(err error, secrets ...string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	e.Title = redactText(e.Title, secrets)
	if e.Err != nil {
		if s := e.Err.Error(); redactText(s, secrets) != s {
			// The original error is dropped, not wrapped: unwrapping would expose its text.
			e.Err = errors.New(redactText(s, secrets))
		}
	}
	return err
}

// redactText replaces every occurrence of a secret in s, and a secret's prefix that ends a text
// cut short with "…".
func redactText(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecret && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	body, cut := strings.CutSuffix(s, "…")
	if !cut {
		return s
	}
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		for k := min(len(sec), len(body)); k >= minSecret; k-- {
			if strings.HasSuffix(body, sec[:k]) {
				body = body[:len(body)-k] + redacted
				break
			}
		}
	}
	return body + "…"
}
