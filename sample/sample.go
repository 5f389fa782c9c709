// Package sample defines the fixed-size record of one synthetic consumer journey: when each step
// began and ended, how it failed, and how the journey ended.
//
// It is the contract between the package that runs journeys (lp), the one that carries them
// (loadgen, generically) and the one that aggregates them (report). It lives apart so that lp knows
// nothing of histograms and report nothing of HTTP. A Record holds no slices or maps: recording
// millions of them costs no allocation beyond the record itself.
package sample

import (
	"fmt"
	"time"
)

// Step names one step of the consumer journey, in the order the journey runs them.
type Step uint8

// The steps of a journey.
const (
	Lookup      Step = iota // domain lookup (CSDS)
	AppJWT                  // obtaining the shared AppJWT (a cache hit or a wait for a refresh)
	ConsumerJWS             // IdP: the consumer's JWS
	Create                  // CONVERSATION
	Send                    // first SEND
	AutoMsg                 // waiting for the first auto message
	Close                   // closing the conversation
	NumSteps                // number of steps; not a step
)

var stepNames = [NumSteps]string{"lookup", "appjwt", "consumerjws", "create", "send", "automsg", "close"}

// String returns the step's name as used in reports and metric names (step.<name>).
func (s Step) String() string {
	if s < NumSteps {
		return stepNames[s]
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Class is the failure class of a step or a journey. ClassNone means no failure.
type Class uint8

// The failure classes (DESIGN.md).
const (
	ClassNone          Class = iota
	ClassHTTP4xx             // a 4xx other than 401 with an errorCode and 429
	ClassAuth                // 401 (with LivePerson errorCode when given)
	ClassRateLimited         // 429
	ClassHTTP5xx             // 5xx
	ClassTimeout             // the request timeout expired
	ClassNetwork             // connection refused, reset, DNS, TLS…
	ClassProtocol            // unparseable body, missing conversationId, unexpected shape
	ClassWindowMissed        // the first SEND certainly came after the window, or the timing could not tell and no auto message came
	ClassNoAutoMessage       // no auto message arrived for an in-window journey
	ClassCanceled            // the run was stopped while the step was in flight
	NumClasses               // number of classes; not a class
)

var classNames = [NumClasses]string{"none", "http_4xx", "auth", "rate_limited", "http_5xx", "timeout",
	"network", "protocol", "window_missed", "no_auto_message", "canceled"}

// String returns the class name as used in reports.
func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Outcome is how a started journey ended.
type Outcome uint8

// The outcomes of a started journey. Arrivals that never started (dropped, or not started because
// the run stopped) are counted by the load generator, not recorded as journeys.
const (
	// OutcomeOK: every step succeeded and, where auto messages are verified, the consumer's first
	// auto message arrived (that is the proof); where they are not, the window was not certainly
	// missed (timing alone: the report says it was not verified).
	OutcomeOK          Outcome = iota
	OutcomeFailed              // a step failed, the window was missed, or no auto message came
	OutcomeInterrupted         // the run was stopped while the journey was in flight
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{"ok", "failed", "interrupted"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Verdict is a journey's position relative to the AUTO_MESSAGES window.
type Verdict uint8

// The window verdicts. VerdictNone: the journey never completed both CONVERSATION and SEND.
const (
	VerdictNone      Verdict = iota
	VerdictIn                // gap < window: the first SEND certainly reached the server in time (Record.Gap)
	VerdictMissed            // gap_min ≥ window: it certainly reached it late
	VerdictUncertain         // in between: the client cannot tell
	NumVerdicts
)

var verdictNames = [NumVerdicts]string{"none", "in", "missed", "uncertain"}

// String returns the verdict's name.
func (v Verdict) String() string {
	if v < NumVerdicts {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Routing is what a journey learnt of where its conversation was routed, when a skill was asked
// for: whether the skill in the conversation's change notifications is the one asked.
type Routing uint8

// The routing results. RoutingNotChecked: no skill was asked for (or the account's default, "-1"
// or a campaign), or no webhook receiver could see the changes.
const (
	RoutingNotChecked Routing = iota
	RoutingMatched            // the conversation's change said the skill asked for
	RoutingMismatched         // it said another skill
	RoutingUnseen             // no change with a skill came for the conversation while its journey ran
	NumRoutings
)

var routingNames = [NumRoutings]string{"not_checked", "matched", "mismatched", "unseen"}

// String returns the routing result's name as result files write it.
func (r Routing) String() string {
	if r < NumRoutings {
		return routingNames[r]
	}
	return fmt.Sprintf("routing(%d)", uint8(r))
}

// ParseRouting returns the routing result called name (as String writes it).
func ParseRouting(name string) (Routing, bool) { return parse(name, NumRoutings) }

// Judge returns the verdict for the given gap bounds against window.
func Judge(gap, gapMin, window time.Duration) Verdict {
	switch {
	case gap < window:
		return VerdictIn
	case gapMin >= window:
		return VerdictMissed
	default:
		return VerdictUncertain
	}
}

// Span is what happened in one step. Times are offsets from the run's epoch on the monotonic clock.
// A step that did not run has Begin == End == 0 and Ran false.
type Span struct {
	Begin, End time.Duration
	Status     int16 // HTTP status of the last attempt, 0 if none
	Code       int32 // LivePerson errorCode of the last attempt, 0 if none
	Class      Class // failure class; ClassNone on success
	Attempts   uint8 // requests made (retries included); 0 for steps served from a cache
	Retries    uint8 // times the step was tried again after a failure
	// RateLimited counts the attempts answered 429 (a quota), the last one included: retries
	// that succeed hide them from the step's class, not from this count.
	RateLimited uint8
	// LastBegin is when the last attempt began (Begin when there was one attempt). A request the
	// server refused with an answer (e.g. 429) took no effect, so what counts is the last one.
	LastBegin time.Duration
	// Unanswered: an earlier attempt got no answer (timeout, network), so it may have taken
	// effect at the server before the last attempt.
	Unanswered bool
	Ran        bool
	// Unsent: the step failed (timeout or network) and its last attempt's request was never
	// written — it was lost in the client, waiting for a connection from the pool, in DNS, dial
	// or TLS handshake: under a CPU-starved generator, the generator's doing.
	Unsent bool
	// Wrote, LastWrote and FirstByte bound when the server received a request, for the steps
	// whose requests are traced (CONVERSATION and SEND); like Begin and End they are offsets from
	// the run's epoch, and 0 where the step traces nothing or the event was not seen. Wrote and
	// LastWrote are when the first and the last attempt's request could first have reached the
	// server: on a connection already obtained, after any wait for one, DNS, TCP connect and TLS
	// handshake, before the request was flushed (lp's reqTimes says exactly when). FirstByte is
	// when the first byte of the last attempt's answer arrived, before its body was read. The
	// server received the last attempt in [LastWrote, FirstByte] ⊆ [LastBegin, End].
	Wrote, LastWrote, FirstByte time.Duration
}

// Duration returns the step's service time.
func (s Span) Duration() time.Duration { return s.End - s.Begin }

// Record is the record of one consumer journey. Times are offsets from the run's epoch on the
// monotonic clock.
type Record struct {
	Index    int64         // arrival index in the run's plan
	Target   uint16        // index of the target the journey ran against
	Intended time.Duration // intended start, from the plan
	Start    time.Duration // actual start
	End      time.Duration // end of the last step that ran
	Steps    [NumSteps]Span
	Outcome  Outcome
	Failed   Step  // the step that failed, when Outcome is OutcomeFailed or OutcomeInterrupted
	Class    Class // the journey's failure class (ClassNone when OK)
	Verdict  Verdict
	Routing  Routing // where the conversation went, when a skill was asked for
	// SendDelay is the think time the journey waited between CONVERSATION and the first SEND.
	SendDelay time.Duration

	// ConversationID is the id the server gave, for matching with the server's ledger. It is the
	// only reference the record holds; the recorder does not keep it.
	ConversationID string
}

// Lag returns the load generator's lateness for this journey: actual start − intended start.
func (j *Record) Lag() time.Duration { return j.Start - j.Intended }

// Latency returns the end-to-end time from the intended start, free of coordinated omission.
func (j *Record) Latency() time.Duration { return j.End - j.Intended }

// Gap returns bounds of the gap the server saw between receiving CONVERSATION and receiving the
// first SEND: gap an upper bound, gapMin a lower bound. ok is false unless both steps completed.
//
// The server received each request after it could first have reached it (Wrote, LastWrote) and
// before the first byte of its answer arrived (FirstByte). With C and S the server's receipts of
// the CONVERSATION and the SEND that count, C ∈ [create wrote, create first byte] and
// S ∈ [send wrote, send first byte], so
//
//	gap    = send first byte − create wrote ≥ S − C
//	gapMin = send wrote − create first byte ≤ S − C
//
// A time not recorded (0) is replaced by the span's: the attempt's begin for wrote, the step's
// end for first byte. Both bounds stay true, only wider, as for records of steps that trace
// nothing (then gap = send end − create begin, gapMin = send begin − create end).
//
// With retries, the attempts the server refused with an answer took no effect: what counts is the
// last attempt of each step (the CONVERSATION that created the conversation, the SEND that was
// accepted), except that when an earlier attempt went unanswered it may have taken effect first,
// and wrote is then the first attempt's.
func (j *Record) Gap() (gap, gapMin time.Duration, ok bool) {
	c, s := &j.Steps[Create], &j.Steps[Send]
	if !c.Ran || !s.Ran || c.Class != ClassNone || s.Class != ClassNone {
		return 0, 0, false
	}
	createFrom, createTo := c.received()
	sendFrom, sendTo := s.received()
	return sendTo - createFrom, sendFrom - createTo, true
}

// received returns bounds of when the server received the step's request that took effect (see
// Record.Gap).
func (s *Span) received() (from, to time.Duration) {
	from = orElse(s.Wrote, s.Begin)
	if s.LastBegin > 0 && !s.Unanswered {
		from = orElse(s.LastWrote, s.LastBegin)
	}
	return from, orElse(s.FirstByte, s.End)
}

// orElse returns t, or fallback when t is 0 (not recorded).
func orElse(t, fallback time.Duration) time.Duration {
	if t == 0 {
		return fallback
	}
	return t
}

// ParseStep returns the step called name (as String writes it).
func ParseStep(name string) (Step, bool) { return parse(name, NumSteps) }

// ParseClass returns the failure class called name (as String writes it).
func ParseClass(name string) (Class, bool) { return parse(name, NumClasses) }

// ParseOutcome returns the outcome called name (as String writes it).
func ParseOutcome(name string) (Outcome, bool) { return parse(name, NumOutcomes) }

// ParseVerdict returns the window verdict called name (as String writes it).
func ParseVerdict(name string) (Verdict, bool) { return parse(name, NumVerdicts) }

// parse finds the value below n whose String is name.
func parse[T interface {
	~uint8
	String() string
}](name string, n T) (T, bool) {
	for v := range n {
		if v.String() == name {
			return v, true
		}
	}
	return 0, false
}
