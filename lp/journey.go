package lp

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// JourneyOptions shape what each synthetic consumer does.
type JourneyOptions struct {
	// Window is the AUTO_MESSAGES window the first SEND is judged against (LivePerson: 10 s).
	Window time.Duration
	// LookupPerConsumer makes every journey query CSDS; otherwise journeys share a cached answer.
	LookupPerConsumer bool
	// AutoMessages sends the Client-Properties AUTO_MESSAGES header on CONVERSATION and SEND.
	AutoMessages bool
	// SendDelay, when not nil, gives the time waited between the end of CONVERSATION and the
	// first SEND (a think time that spends the window; used to probe its edge). It is called
	// from many journeys at once.
	SendDelay func() time.Duration
	// Message is the first SEND's text.
	Message string
	// Close closes the conversation at the end of the journey.
	Close bool
	// RequestTimeout bounds each request (default 30 s).
	RequestTimeout time.Duration
	// Outlive, when not nil, is the context a CONVERSATION already sent runs on once the run's
	// context has ended (see Outlive): the run shares one. Without it each journey detaches its
	// own, bounded by the request timeout alone.
	Outlive context.Context
	// ConsumerPrefix and ConsumerSuffix surround the arrival index in every ext_consumer_id, so
	// ids are unique within a run, and across runs when they carry a run id.
	ConsumerPrefix, ConsumerSuffix string
	// Retry says which failed requests are tried again.
	Retry RetryPolicy
	// OnError, when not nil, is called with the error of every failed attempt of step s, for
	// debug output: the records carry classes and codes, this the full text. Error texts carry
	// no credentials (see Error). It is called from many journeys at once.
	OnError func(s sample.Step, err error)
	// Receiver, when not nil, is the run's webhook receiver: after the first SEND the journey
	// waits up to AwaitAutoMessage for its conversation's first auto message.
	Receiver         *Receiver
	AwaitAutoMessage time.Duration
	// Journal, when not nil, is told of each consumer before its CONVERSATION is sent, of the
	// conversation it opened, and of its close, so that a run killed mid-way leaves a record of
	// what is open. It is called from many journeys at once.
	Journal Journal
	// ExpectSkill, when not empty, is the skill the CONVERSATION asked for: with a Receiver, a
	// journey that waited for its auto message compares it with the skill of its conversation's
	// change notifications (Record.Routing).
	ExpectSkill string
}

// Journal records the conversations of a run as they open and close (package journal writes
// one). Targets are indexes (Journey.Target); consumers are ext_consumer_ids.
type Journal interface {
	// Opening: consumer is about to send CONVERSATION.
	Opening(target int, consumer string)
	// Opened: its CONVERSATION opened conversation.
	Opened(target int, consumer, conversation string)
	// Refused: an answer refused its CONVERSATION, which opened nothing.
	Refused(target int, consumer string)
	// Closed: conversation was closed.
	Closed(target int, consumer, conversation string)
}

// RetryPolicy says which steps are retried, for which failure classes, how often and after what
// backoff. The zero policy retries nothing.
type RetryPolicy struct {
	Steps [sample.NumSteps]bool
	Rules [sample.NumClasses]RetryRule
}

// RetryRule is how many times a failure class is retried, and after how long. A 429's
// Retry-After replaces the backoff when it is longer.
type RetryRule struct {
	Retries int
	Backoff time.Duration
}

// next decides whether a step that failed with err on try (0 for the first) is tried again, and
// after how long.
func (p *RetryPolicy) next(s sample.Step, err error, try int) (time.Duration, bool) {
	c := ClassOf(err)
	if !p.Steps[s] || c == sample.ClassCanceled || c >= sample.NumClasses || try >= p.Rules[c].Retries {
		return 0, false
	}
	wait := p.Rules[c].Backoff
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > wait {
		wait = e.RetryAfter
	}
	return wait, true
}

// Journey runs consumer journeys against one target.
type Journey struct {
	Client *Client
	Opts   JourneyOptions
	Epoch  time.Time // the run's time origin: every recorded time is an offset from it
	Target uint16    // the target's index, copied into every record
}

// since returns the monotonic offset of now from the epoch.
func (j *Journey) since() time.Duration { return time.Since(j.Epoch) }

// step runs fn as step s of rec, each attempt with the request timeout, retrying as the policy
// says, and records its span: begin and end include every retry and backoff, because the journey
// waited for all of them. It returns the last attempt's error.
func (j *Journey) step(ctx context.Context, rec *sample.Record, s sample.Step, fn func(ctx context.Context) (requests int, err error)) error {
	return j.stepOn(ctx, ctx, rec, s, fn)
}

// stepOn is step whose attempts run on actx (within the request timeout) while ctx decides
// whether another attempt starts: with actx detached from ctx, an attempt once started runs to
// its answer even when the run stops.
func (j *Journey) stepOn(ctx, actx context.Context, rec *sample.Record, s sample.Step, fn func(ctx context.Context) (requests int, err error)) error {
	sp := &rec.Steps[s]
	sp.Ran = true
	sp.Begin = j.since()
	var err error
	requests := 0
	for try := 0; ; try++ {
		if try > 0 {
			sp.LastBegin = j.since()
		} else {
			sp.LastBegin = sp.Begin
		}
		sp.LastWrote, sp.FirstByte = 0, 0 // the last attempt's: fn records them if it traces
		var n int
		if err = ctx.Err(); err == nil { // the run stopped before this attempt: nothing is sent
			n, err = j.attempt(actx, fn)
		}
		requests += n
		if try == 0 {
			sp.Wrote = sp.LastWrote
		}
		if err == nil {
			break
		}
		if ClassOf(err) == sample.ClassRateLimited {
			sp.RateLimited = uint8(min(int(sp.RateLimited)+1, 255))
		}
		if j.Opts.OnError != nil {
			j.Opts.OnError(s, err)
		}
		wait, again := j.Opts.Retry.next(s, err, try)
		if !again || !sleep(ctx, wait) {
			break
		}
		var e *Error
		if !errors.As(err, &e) || e.Status == 0 {
			sp.Unanswered = true // it may have taken effect
		}
		sp.Retries = uint8(min(int(sp.Retries)+1, 255))
	}
	sp.End = j.since()
	sp.Attempts = uint8(min(requests, 255))
	if err != nil {
		sp.Class = ClassOf(err)
		// A step deadline that fired because the run was stopped is a cancellation.
		if sp.Class == sample.ClassTimeout && ctx.Err() != nil {
			sp.Class = sample.ClassCanceled
		}
		var e *Error
		if errors.As(err, &e) {
			sp.Status, sp.Code = int16(e.Status), int32(e.Code)
			sp.Unsent = e.Unsent && (sp.Class == sample.ClassTimeout || sp.Class == sample.ClassNetwork)
		}
	}
	rec.End = sp.End
	return err
}

// traced records the times of a traced request as those of the last attempt of sp (LastWrote,
// FirstByte; step copies the first attempt's into Wrote).
func (j *Journey) traced(sp *sample.Span, tm *reqTimes) {
	sp.LastWrote, sp.FirstByte = j.offset(tm.wrote), j.offset(tm.firstByte)
}

// offset returns t as an offset from the epoch, or 0 for the zero time (not seen).
func (j *Journey) offset(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return t.Sub(j.Epoch)
}

// CloseGrace is what a close may spend beyond one request timeout (its retries' backoff), and
// what a CONVERSATION in flight may outlive the run's context by (Outlive).
const CloseGrace = 5 * time.Second

// Outlive returns a context for JourneyOptions.Outlive: it ends CloseGrace after ctx does (or
// when stop is called), and carries none of ctx's cancellation before that.
func Outlive(ctx context.Context) (outlive context.Context, stop func()) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, func() { time.AfterFunc(CloseGrace, cancel) })
	return out, func() { unhook(); cancel() }
}

// requestTimeout returns the bound of each request (default 30 s).
func (j *Journey) requestTimeout() time.Duration {
	if j.Opts.RequestTimeout <= 0 {
		return 30 * time.Second
	}
	return j.Opts.RequestTimeout
}

// attempt runs fn once under the request timeout.
func (j *Journey) attempt(ctx context.Context, fn func(ctx context.Context) (int, error)) (int, error) {
	actx, cancel := context.WithTimeout(ctx, j.requestTimeout())
	defer cancel()
	return fn(actx)
}

// sleep waits d unless ctx ends first; it reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fail marks rec failed (or interrupted) at step s.
func fail(rec *sample.Record, s sample.Step) {
	rec.Failed, rec.Class = s, rec.Steps[s].Class
	if rec.Class == sample.ClassCanceled {
		rec.Outcome = sample.OutcomeInterrupted
	} else {
		rec.Outcome = sample.OutcomeFailed
	}
}

// ConsumerID returns the ext_consumer_id of arrival index.
func (j *Journey) ConsumerID(index int64) string {
	return j.Opts.ConsumerPrefix + strconv.FormatInt(index, 10) + j.Opts.ConsumerSuffix
}

// Run drives one consumer through the journey and fills rec, whose Index and Intended the caller
// has set. ctx ending (the run stopping) makes the step in flight end as canceled and the journey
// interrupted — except a CONVERSATION already sent, which is awaited (within its request timeout)
// so that its conversation is known. A conversation that was opened is closed even then, on a
// short detached context, so that no consumer is left with an open conversation.
func (j *Journey) Run(ctx context.Context, rec *sample.Record) {
	rec.Target = j.Target
	rec.Start = j.since()
	rec.End = rec.Start
	c := j.Client
	con := Consumer{AutoMessages: j.Opts.AutoMessages}
	consumer := j.ConsumerID(rec.Index)
	if !j.identify(ctx, rec, &con, consumer) {
		return
	}
	if ctx.Err() != nil { // the run stopped before CONVERSATION: nothing was sent or opened
		rec.Steps[sample.Create].Class = sample.ClassCanceled
		fail(rec, sample.Create)
		return
	}
	if j.Opts.Journal != nil {
		j.Opts.Journal.Opening(int(j.Target), consumer)
	}
	// Once sent, a CONVERSATION runs to its answer, within its request timeout, even when the
	// run stops meanwhile (at most CloseGrace longer, with Opts.Outlive): the server opens the
	// conversation whether or not the client waits, and only its answer names the one to close.
	detached := j.Opts.Outlive
	if detached == nil {
		detached = context.WithoutCancel(ctx)
	}
	err := j.stepOn(ctx, detached, rec, sample.Create, func(ctx context.Context) (int, error) {
		var tm reqTimes
		j.renewAppJWT(ctx, &con)
		id, err := c.createConversation(ctx, &con, &tm)
		j.traced(&rec.Steps[sample.Create], &tm)
		rec.ConversationID = id
		return 1, j.checkAuth(err, con.AppJWT)
	})
	if j.Opts.Journal != nil {
		j.journalCreate(rec, consumer, err)
	}
	if err != nil {
		fail(rec, sample.Create)
		return
	}
	defer j.close(ctx, rec, &con, consumer)
	awaiting := j.Opts.Receiver != nil && j.Opts.AwaitAutoMessage > 0
	if awaiting {
		// Registered before the first SEND, so an early auto message is not taken for another
		// run's.
		j.Opts.Receiver.Expect(rec.ConversationID)
		defer j.forget(rec)
	}

	if j.Opts.SendDelay != nil {
		rec.SendDelay = j.Opts.SendDelay()
		if !sleep(ctx, rec.SendDelay) {
			rec.Steps[sample.Send].Class = sample.ClassCanceled
			fail(rec, sample.Send)
			return
		}
	}
	if err := j.step(ctx, rec, sample.Send, func(ctx context.Context) (int, error) {
		var tm reqTimes
		j.renewAppJWT(ctx, &con)
		_, err := c.send(ctx, &con, rec.ConversationID, j.Opts.Message, &tm)
		j.traced(&rec.Steps[sample.Send], &tm)
		return 1, j.checkAuth(err, con.AppJWT)
	}); err != nil {
		fail(rec, sample.Send)
		return
	}
	if gap, gapMin, ok := rec.Gap(); ok {
		rec.Verdict = sample.Judge(gap, gapMin, j.Opts.Window)
	}
	if awaiting {
		j.awaitAutoMessage(ctx, rec)
	} else if rec.Verdict == sample.VerdictMissed {
		rec.Outcome, rec.Failed, rec.Class = sample.OutcomeFailed, sample.Send, sample.ClassWindowMissed
	}
}

// forget ends the receiver's registration of the journey's conversation, first judging its
// routing from the changes seen of it when a skill was asked for.
func (j *Journey) forget(rec *sample.Record) {
	r := j.Opts.Receiver
	if want := j.Opts.ExpectSkill; want != "" {
		switch got, ok := r.Skill(rec.ConversationID); {
		case !ok:
			rec.Routing = sample.RoutingUnseen
		case got == want:
			rec.Routing = sample.RoutingMatched
		default:
			rec.Routing = sample.RoutingMismatched
		}
	}
	r.Forget(rec.ConversationID)
}

// identify runs the steps that give the consumer its credentials — domain lookup, the shared
// AppJWT, its ConsumerJWS — and reports whether they all succeeded (rec is marked failed at the
// step that did not). consumer is its ext_consumer_id.
func (j *Journey) identify(ctx context.Context, rec *sample.Record, con *Consumer, consumer string) bool {
	c := j.Client
	if d, ok := c.CachedDomains(); ok && !j.Opts.LookupPerConsumer {
		con.Domains = d
		j.hit(rec, sample.Lookup)
	} else if err := j.step(ctx, rec, sample.Lookup, func(ctx context.Context) (int, error) {
		if j.Opts.LookupPerConsumer {
			d, err := c.LookupDomains(ctx)
			con.Domains = d
			return 1, err
		}
		d, fetched, err := c.Domains(ctx)
		con.Domains = d
		return b2i(fetched), err
	}); err != nil {
		fail(rec, sample.Lookup)
		return false
	}
	if tok, ok := c.CachedAppJWT(); ok {
		con.AppJWT = tok
		j.hit(rec, sample.AppJWT)
	} else if err := j.step(ctx, rec, sample.AppJWT, func(ctx context.Context) (int, error) {
		tok, fetched, err := c.AppJWT(ctx, con.Domains)
		con.AppJWT = tok
		return b2i(fetched), err
	}); err != nil {
		fail(rec, sample.AppJWT)
		return false
	}
	if err := j.step(ctx, rec, sample.ConsumerJWS, func(ctx context.Context) (int, error) {
		jws, err := c.ConsumerJWS(ctx, con.Domains, con.AppJWT, consumer)
		con.JWS = jws
		return 1, j.checkAuth(err, con.AppJWT)
	}); err != nil {
		fail(rec, sample.ConsumerJWS)
		return false
	}
	return true
}

// hit records step s as served from the target's shared cache: no request, no wait worth a
// request timeout (the common case of lookup and AppJWT, taken without a context per attempt).
func (j *Journey) hit(rec *sample.Record, s sample.Step) {
	sp := &rec.Steps[s]
	sp.Ran = true
	sp.Begin = j.since()
	sp.LastBegin, sp.End = sp.Begin, sp.Begin
	rec.End = sp.End
}

// awaitAutoMessage waits for the conversation's first auto message, records the wait as the
// automsg step (send end → arrival), and decides the journey's outcome from that evidence:
// "ok" means the consumer got its auto message, whatever the client's timing said.
//
//   - received: ok, for every verdict (an auto message after a missed window is an anomaly the
//     report shows: LivePerson says it never comes);
//   - not received, verdict in: failed no_auto_message (the window was kept, the server sent
//     nothing);
//   - not received, verdict uncertain or missed: failed window_missed at the send step (the
//     timing could not decide or said late; the server's silence did).
func (j *Journey) awaitAutoMessage(ctx context.Context, rec *sample.Record) {
	sp := &rec.Steps[sample.AutoMsg]
	sp.Ran = true
	sp.Begin = rec.Steps[sample.Send].End
	at, ok := j.Opts.Receiver.Wait(rec.ConversationID, j.Opts.AwaitAutoMessage, ctx.Done())
	switch {
	case ok:
		sp.End = max(at.Sub(j.Epoch), sp.Begin)
	case ctx.Err() != nil:
		sp.End, sp.Class = j.since(), sample.ClassCanceled
		fail(rec, sample.AutoMsg)
	default:
		sp.End, sp.Class = j.since(), sample.ClassNoAutoMessage
		if rec.Verdict == sample.VerdictIn {
			fail(rec, sample.AutoMsg)
		} else {
			rec.Outcome, rec.Failed, rec.Class = sample.OutcomeFailed, sample.Send, sample.ClassWindowMissed
		}
	}
	rec.End = max(rec.End, sp.End)
}

// close closes the journey's conversation when the options ask for it. It runs even when the
// journey failed after CONVERSATION or was interrupted; in the latter case on a context detached
// from the run, bounded by the request timeout. A failed close fails an otherwise good journey.
func (j *Journey) close(ctx context.Context, rec *sample.Record, con *Consumer, consumer string) {
	if !j.Opts.Close {
		return
	}
	// Always on a context detached from the run's cancellation, so that a close in flight when
	// the run is cancelled still closes the consumer's conversation — bounded by one request
	// timeout and CloseGrace for retries, so that a 429 storm cannot hold a shutdown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.requestTimeout()+CloseGrace)
	defer cancel()
	err := j.step(ctx, rec, sample.Close, func(ctx context.Context) (int, error) {
		j.renewAppJWT(ctx, con)
		err := j.checkAuth(j.Client.CloseConversation(ctx, con, rec.ConversationID), con.AppJWT)
		if !expired(err) {
			return 1, err
		}
		// The token expired on its way (a busy machine, a short-lived token): the conversation
		// must still be closed, so once more with a new one, whatever the retry policy says.
		j.renewAppJWT(ctx, con)
		return 2, j.checkAuth(j.Client.CloseConversation(ctx, con, rec.ConversationID), con.AppJWT)
	})
	if err == nil && j.Opts.Journal != nil {
		j.Opts.Journal.Closed(int(j.Target), consumer, rec.ConversationID)
	}
	if err != nil && rec.Outcome == sample.OutcomeOK {
		fail(rec, sample.Close)
	}
}

// journalCreate records the outcome of the consumer's CONVERSATION: the conversation it opened,
// or, when a single attempt was answered with a refusal that names no open conversation, that
// nothing was opened. Any other failure (no answer, a 5xx, a retry after either) may have opened
// one: the journal keeps the consumer as in flight, for a cleanup to resolve.
func (j *Journey) journalCreate(rec *sample.Record, consumer string, err error) {
	if err == nil {
		j.Opts.Journal.Opened(int(j.Target), consumer, rec.ConversationID)
		return
	}
	sp := &rec.Steps[sample.Create]
	var e *Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && sp.Attempts == 1 && e.OpenConversation == "" {
		j.Opts.Journal.Refused(int(j.Target), consumer)
	}
}

// renewAppJWT gives con the shared AppJWT as it is now, fetched again if the cache holds none
// fresh, before each CONVERSATION, SEND and close: the journey's own may have expired since it
// was taken (a send delay, the wait for an auto message, a busy machine; the cache renews it a
// fifth of its lifetime early, at most 60 s), and a request refused for lpbench's own stale token
// would be counted against the target. On a failed fetch con keeps its own.
func (j *Journey) renewAppJWT(ctx context.Context, con *Consumer) {
	if tok, ok := j.Client.CachedAppJWT(); ok {
		con.AppJWT = tok
	} else if tok, _, err := j.Client.AppJWT(ctx, con.Domains); err == nil {
		con.AppJWT = tok
	}
}

// expired reports whether err is the server's rejection of an expired or invalid AppJWT.
func expired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == 40102
}

// checkAuth passes err through, first dropping the shared AppJWT when the server rejected it as
// expired or invalid, so the journeys after this one fetch a new one.
func (j *Journey) checkAuth(err error, appJWT string) error {
	if err == nil {
		return nil
	}
	if expired(err) {
		j.Client.InvalidateAppJWT(appJWT)
	}
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
