package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/sample"
)

// worker resolves one consumer.
type worker struct {
	client *lp.Client
	jl     *journal.Journal
	o      *Options
	c      journal.Consumer
	name   string      // the target's name, for the events
	mu     *sync.Mutex // guards Options.Events
}

// resolve closes the consumer's open conversation, if it has one, and returns the outcome.
func (w *worker) resolve(ctx context.Context) Counts {
	con, err := w.identify(ctx)
	if err != nil {
		if w.c.Conversation != "" {
			w.logf("could not close conversation %s: %v", w.c.Conversation, err)
			return Counts{CouldNotClose: 1}
		}
		w.logf("could not resolve (its CONVERSATION was in flight): %v", err)
		return Counts{Unresolved: 1}
	}
	if w.c.Conversation != "" {
		return w.closeKnown(ctx, con, w.c.Conversation)
	}
	return w.probe(ctx, con)
}

// identify gets the consumer's credentials: domains and AppJWT (shared by the target's
// consumers), then a ConsumerJWS for the same consumer id as the run's.
func (w *worker) identify(ctx context.Context) (*lp.Consumer, error) {
	con := &lp.Consumer{}
	err := w.try(ctx, func(ctx context.Context) error {
		d, _, err := w.client.Domains(ctx)
		con.Domains = d
		return err
	})
	if err == nil {
		err = w.try(ctx, func(ctx context.Context) error {
			tok, _, err := w.client.AppJWT(ctx, con.Domains)
			con.AppJWT = tok
			return err
		})
	}
	if err == nil {
		err = w.try(ctx, func(ctx context.Context) error {
			jws, err := w.client.ConsumerJWS(ctx, con.Domains, con.AppJWT, w.c.Consumer)
			con.JWS = jws
			return err
		})
	}
	return con, err
}

// closeKnown closes conversation id: closed, or already closed when the answer says so.
func (w *worker) closeKnown(ctx context.Context, con *lp.Consumer, id string) Counts {
	err := w.try(ctx, func(ctx context.Context) error { return w.client.CloseConversation(ctx, con, id) })
	switch {
	case err == nil:
		w.jl.ClosedBy(w.c.Target, w.c.Consumer, id, "cleanup")
		return Counts{Closed: 1}
	case alreadyClosed(err):
		w.jl.ClosedBy(w.c.Target, w.c.Consumer, id, "cleanup")
		return Counts{AlreadyClosed: 1}
	}
	w.logf("could not close conversation %s: %v", id, err)
	return Counts{CouldNotClose: 1}
}

// probe finds the open conversation of a consumer whose CONVERSATION was in flight: a new
// CONVERSATION (without the AUTO_MESSAGES header, and never followed by a SEND) is refused with
// a 400 naming the open one, which is closed; accepted, it shows that nothing was open, and the
// conversation it opened is closed at once.
func (w *worker) probe(ctx context.Context, con *lp.Consumer) Counts {
	var id string
	err := w.try(ctx, func(ctx context.Context) (err error) {
		id, err = w.client.CreateConversation(ctx, con)
		return err
	})
	if err == nil {
		if c := w.closeKnown(ctx, con, id); c.CouldNotClose > 0 {
			return c
		}
		return Counts{AlreadyClosed: 1}
	}
	if open, ok := lp.OpenConversationOf(err); ok {
		return w.closeKnown(ctx, con, open)
	}
	w.logf("could not resolve (its CONVERSATION was in flight): %v", err)
	return Counts{Unresolved: 1}
}

// alreadyClosed reports whether a close was refused because the conversation is closed: a 400
// that says so (the simulator's "Conversation is closed").
func alreadyClosed(err error) bool {
	var e *lp.Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Title), "closed")
}

// attempts is how many times a request is tried when it failed for a passing reason.
const attempts = 3

// try runs fn under the request timeout, again after a backoff (or the server's Retry-After)
// when it failed for a passing reason: a 429, a 5xx, no answer.
func (w *worker) try(ctx context.Context, fn func(ctx context.Context) error) error {
	var err error
	for i := range attempts {
		actx, cancel := context.WithTimeout(ctx, w.o.RequestTimeout)
		err = fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || i == attempts-1 {
			return err
		}
		wait := time.Duration(i+1) * time.Second
		switch lp.ClassOf(err) {
		case sample.ClassRateLimited, sample.ClassHTTP5xx, sample.ClassNetwork, sample.ClassTimeout:
		default:
			return err
		}
		var e *lp.Error
		if errors.As(err, &e) && e.RetryAfter > wait {
			wait = e.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// logf tells that the consumer is left open, and why (lp errors carry no credential).
func (w *worker) logf(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.o.Events(Event{Consumer: &ConsumerLeft{Target: w.name, Consumer: w.c.Consumer, Problem: fmt.Sprintf(format, a...)}})
}
