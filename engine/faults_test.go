package engine

import (
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/sample"
)

// These tests inject the simulator's faults and rate limits and compare what the client reports,
// class by class and retry by retry, with the simulator's ledger.

// TestFaultsClassifiedLikeTheLedger: each fault kind injected on one endpoint is classified by
// the client into its failure class, and the client's count of that class on the step equals the
// ledger's count of that fault kind on the endpoint, exactly; no other class appears on any step.
func TestFaultsClassifiedLikeTheLedger(t *testing.T) {
	t.Parallel()
	const (
		rate     = 400.0 // journeys per second, over
		duration = 500 * time.Millisecond
		share    = 0.3 // of the endpoint's requests that get the fault
		// The trickle rows bound every request by trickleTimeout, and trickle answers one byte per
		// trickleDelay: every answer is longer than 5 bytes, so a trickled one never completes in
		// time (5 × trickleDelay > trickleTimeout), while unfaulted requests (no simulated
		// latency) have a wide margin: a machine would have to stall one for 2 s.
		trickleTimeout = 2 * time.Second
		trickleDelay   = 500 * time.Millisecond
	)
	for _, tc := range []struct {
		name   string
		ep     lpsim.Endpoint
		step   sample.Step
		kind   string
		faults lpsim.Faults
		class  sample.Class
		status int // of every faulted step's last attempt (0: no answer)
		code   int // LivePerson errorCode of every faulted step (0: none)
	}{
		// CONVERSATION, every kind.
		// A 500 in the documented error shape.
		{"create/error_500", lpsim.EndpointCreate, sample.Create, lpsim.FaultError500, lpsim.Faults{Error500: share}, sample.ClassHTTP5xx, 500, 0},
		// A 503 in the documented error shape.
		{"create/error_503", lpsim.EndpointCreate, sample.Create, lpsim.FaultError503, lpsim.Faults{Error503: share}, sample.ClassHTTP5xx, 503, 0},
		// A 401 "AppJWT is expired" whatever the token: auth, with LivePerson's errorCode.
		{"create/expired_401", lpsim.EndpointCreate, sample.Create, lpsim.FaultExpired401, lpsim.Faults{Expired401: share}, sample.ClassAuth, 401, 40102},
		// 200 headers, half the body, connection closed: a network failure under status 200.
		{"create/reset", lpsim.EndpointCreate, sample.Create, lpsim.FaultReset, lpsim.Faults{Reset: share}, sample.ClassNetwork, 200, 0},
		// The real answer, one byte per 200 ms: the request timeout (1 s) fires mid-body.
		{"create/trickle", lpsim.EndpointCreate, sample.Create, lpsim.FaultTrickle, lpsim.Faults{Trickle: share, TrickleDelay: trickleDelay}, sample.ClassTimeout, 200, 0},
		// A 200 whose body is not JSON.
		{"create/malformed", lpsim.EndpointCreate, sample.Create, lpsim.FaultMalformed, lpsim.Faults{Malformed: share}, sample.ClassProtocol, 200, 0},
		// A 200 whose conversation element reports code 500: the class of that code.
		{"create/error_body_200", lpsim.EndpointCreate, sample.Create, lpsim.FaultErrorBody200, lpsim.Faults{ErrorBody200: share}, sample.ClassHTTP5xx, 200, 0},

		// First SEND, every kind.
		// A 500 in the documented error shape.
		{"send/error_500", lpsim.EndpointSend, sample.Send, lpsim.FaultError500, lpsim.Faults{Error500: share}, sample.ClassHTTP5xx, 500, 0},
		// A 503 in the documented error shape.
		{"send/error_503", lpsim.EndpointSend, sample.Send, lpsim.FaultError503, lpsim.Faults{Error503: share}, sample.ClassHTTP5xx, 503, 0},
		// 401 errorCode 40102.
		{"send/expired_401", lpsim.EndpointSend, sample.Send, lpsim.FaultExpired401, lpsim.Faults{Expired401: share}, sample.ClassAuth, 401, 40102},
		// Half a 200 body, then the connection is closed.
		{"send/reset", lpsim.EndpointSend, sample.Send, lpsim.FaultReset, lpsim.Faults{Reset: share}, sample.ClassNetwork, 200, 0},
		// A trickled answer outlasts the request timeout.
		{"send/trickle", lpsim.EndpointSend, sample.Send, lpsim.FaultTrickle, lpsim.Faults{Trickle: share, TrickleDelay: trickleDelay}, sample.ClassTimeout, 200, 0},
		// A 200 whose body is not JSON.
		{"send/malformed", lpsim.EndpointSend, sample.Send, lpsim.FaultMalformed, lpsim.Faults{Malformed: share}, sample.ClassProtocol, 200, 0},
		// A 200 response object with code 500.
		{"send/error_body_200", lpsim.EndpointSend, sample.Send, lpsim.FaultErrorBody200, lpsim.Faults{ErrorBody200: share}, sample.ClassHTTP5xx, 200, 0},

		// Close: it runs after every successful CONVERSATION, and its failures count on its step.
		// A 503 in the documented error shape.
		{"close/error_503", lpsim.EndpointClose, sample.Close, lpsim.FaultError503, lpsim.Faults{Error503: share}, sample.ClassHTTP5xx, 503, 0},
		// 401 errorCode 40102.
		{"close/expired_401", lpsim.EndpointClose, sample.Close, lpsim.FaultExpired401, lpsim.Faults{Expired401: share}, sample.ClassAuth, 401, 40102},
		// Half a 200 body, then the connection is closed.
		{"close/reset", lpsim.EndpointClose, sample.Close, lpsim.FaultReset, lpsim.Faults{Reset: share}, sample.ClassNetwork, 200, 0},
		// A 200 response object with code 500.
		{"close/error_body_200", lpsim.EndpointClose, sample.Close, lpsim.FaultErrorBody200, lpsim.Faults{ErrorBody200: share}, sample.ClassHTTP5xx, 200, 0},

		// IdP ConsumerJWS (one request per journey).
		// A 500 in the documented error shape.
		{"consumerjws/error_500", lpsim.EndpointConsumerJWS, sample.ConsumerJWS, lpsim.FaultError500, lpsim.Faults{Error500: share}, sample.ClassHTTP5xx, 500, 0},
		// 401 errorCode 40102 (the client also drops its shared AppJWT and fetches another).
		{"consumerjws/expired_401", lpsim.EndpointConsumerJWS, sample.ConsumerJWS, lpsim.FaultExpired401, lpsim.Faults{Expired401: share}, sample.ClassAuth, 401, 40102},
		// A 200 carrying the error shape with code 500: the IdP decoder reads no code on a 200,
		// only the missing token, so this is protocol (CONVERSATION and SEND give http_5xx).
		{"consumerjws/error_body_200", lpsim.EndpointConsumerJWS, sample.ConsumerJWS, lpsim.FaultErrorBody200, lpsim.Faults{ErrorBody200: share}, sample.ClassProtocol, 200, 0},

		// CSDS, looked up in every journey (lookup: per_consumer).
		// A 503 in the documented error shape.
		{"csds/error_503", lpsim.EndpointCSDS, sample.Lookup, lpsim.FaultError503, lpsim.Faults{Error503: share}, sample.ClassHTTP5xx, 503, 0},
		// Half a 200 body, then the connection is closed.
		{"csds/reset", lpsim.EndpointCSDS, sample.Lookup, lpsim.FaultReset, lpsim.Faults{Reset: share}, sample.ClassNetwork, 200, 0},
		// A 200 whose body is not JSON.
		{"csds/malformed", lpsim.EndpointCSDS, sample.Lookup, lpsim.FaultMalformed, lpsim.Faults{Malformed: share}, sample.ClassProtocol, 200, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := quietSim(10 * time.Second)
			cfg.Capacity = nil   // no queueing
			cfg.RateLimits = nil // AppJWTs dropped after a 40102 are fetched again without 429s
			cfg.Faults = map[lpsim.Endpoint]lpsim.Faults{tc.ep: tc.faults}
			p := testProfile(rate, duration)
			p.Journey.Retry = profiles.Retry{} // every fault shows, none is retried away
			p.Journey.AwaitAutoMessage = 0     // no webhook waits: the steps alone are compared
			if tc.ep == lpsim.EndpointCSDS {
				p.Journey.Lookup = profiles.LookupPerConsumer // each journey makes its own request
			}
			if tc.class == sample.ClassTimeout {
				p.Journey.RequestTimeout = trickleTimeout
			}
			res, led, recs := runAgainst(t, p, cfg, nil)
			checkIdentities(t, res)
			m := res.Overall
			if res.Arrivals.Started != res.Arrivals.Planned || int64(len(recs)) != res.Arrivals.Started {
				t.Errorf("planned %d, started %d, records %d: want all equal", res.Arrivals.Planned, res.Arrivals.Started, len(recs))
			}

			injected := led.Faults[tc.ep][tc.kind]
			if injected < 10 {
				t.Fatalf("ledger: %d %s faults on %s, want ≥ 10 for a meaningful comparison (faults %v)", injected, tc.kind, tc.ep, led.Faults[tc.ep])
			}
			for kind, n := range led.Faults[tc.ep] {
				if kind != tc.kind && n != 0 {
					t.Errorf("ledger: %d %s faults on %s, only %s injected", n, kind, tc.ep, tc.kind)
				}
			}
			// A close refused for an expired AppJWT is made once more with a renewed token, whatever
			// the retry policy: the conversation must be closed. Each such second request met the
			// fault as often as any; a journey fails at close when both did.
			renews := tc.step == sample.Close && tc.code == 40102
			var renewed int64
			for _, j := range recs {
				if renews && j.Steps[tc.step].Attempts == 2 {
					renewed++
				}
			}
			if renews && renewed == 0 {
				t.Errorf("no close was made again after an expired AppJWT")
			}
			faulted := injected - renewed // the journeys that failed at the step
			if got := m.StepFailures[tc.step][tc.class]; got != faulted {
				t.Errorf("step %s: lpbench %d %s failures, ledger %d %s faults (%d made again)", tc.step, got, tc.class, injected, tc.kind, renewed)
			}
			// No other class on the faulted step, and no failure on any other step.
			for s := range sample.NumSteps {
				for c := sample.ClassNone + 1; c < sample.NumClasses; c++ {
					if n := m.StepFailures[s][c]; n != 0 && (s != tc.step || c != tc.class) {
						t.Errorf("step %s: %d %s failures, want none", s, n, c)
					}
				}
			}
			// The client made exactly the requests the server answered on that endpoint.
			var answered int64
			for _, n := range led.Requests[tc.ep] {
				answered += n
			}
			if got := m.Requests[tc.step]; got != answered {
				t.Errorf("step %s: lpbench made %d requests, the ledger answered %d on %s (%v)", tc.step, got, answered, tc.ep, led.Requests[tc.ep])
			}
			// Every faulted step carries the status and errorCode of the fault's answer; the
			// journeys fail at that step (close fails an otherwise good journey).
			var failed int64
			for _, j := range recs {
				sp := j.Steps[tc.step]
				if sp.Class == sample.ClassNone {
					continue
				}
				failed++
				if int(sp.Status) != tc.status || int(sp.Code) != tc.code {
					t.Errorf("journey %d: %s failed %s with status %d, errorCode %d; want %d, %d", j.Index, tc.step, sp.Class, sp.Status, sp.Code, tc.status, tc.code)
				}
				if j.Outcome != sample.OutcomeFailed || j.Failed != tc.step || j.Class != tc.class {
					t.Errorf("journey %d: outcome %v at %s (%s), want failed at %s (%s)", j.Index, j.Outcome, j.Failed, j.Class, tc.step, tc.class)
				}
				if want := 1 + b2i(renews); int(sp.Attempts) != want || sp.Retries != 0 {
					t.Errorf("journey %d: %s made %d attempts, %d retries; want %d, 0", j.Index, tc.step, sp.Attempts, sp.Retries, want)
				}
			}
			if failed != faulted {
				t.Errorf("%d journey records failed at %s, ledger %d faults (%d made again)", failed, tc.step, injected, renewed)
			}
			if got, want := m.Failures[tc.step][tc.class], faulted; got != want {
				t.Errorf("journeys failed at %s with %s: %d, want %d", tc.step, tc.class, got, want)
			}
			if got, want := m.Outcomes[sample.OutcomeOK], res.Arrivals.Started-faulted; got != want {
				t.Errorf("ok = %d, want started %d − failed %d", got, res.Arrivals.Started, faulted)
			}
		})
	}
}

// TestRateLimitStorm: a rate limit answers 429 with Retry-After: 1 while the profile retries it.
// Every retried step waits at least the Retry-After per retry, the wait shows in the gap bounds,
// journeys whose first SEND was delayed past the window by retries are never reported in it, and
// the retries reported equal the 429s in the ledger.
//
// The verdicts follow from the gap bounds: gap = send end − create begin (retries of either step
// included) and gap_min = send begin − create end (retries of neither). A retry therefore raises
// the upper bound only, and can turn a journey's verdict from in to uncertain but never to
// missed; see the send case. Every 429 is counted, retried or not (Span.RateLimited, and
// Metrics.RateLimited in the result).
func TestRateLimitStorm(t *testing.T) {
	t.Parallel()
	const (
		window     = 1500 * time.Millisecond
		delay      = 700 * time.Millisecond // a journey with one retry (≥ 1 s) is past the window
		retryAfter = time.Second
		rate       = 30.0
		duration   = 2 * time.Second
		retries    = 10 // enough for every journey: the storm drains at 10/s in about 6 s
	)
	for _, tc := range []struct {
		name  string
		ep    lpsim.Endpoint
		step  sample.Step
		retry string
		// lost: the retries delay the first SEND the server receives, so those journeys lose the
		// window at the server. CONVERSATION refused with 429 creates nothing: the conversation
		// dates from the attempt that passed, and its window is not lost.
		lost bool
	}{
		// CONVERSATION limited: the refused attempts created nothing, so the window counts from
		// the attempt that passed: retried journeys are in, at the client and at the server.
		{"create", lpsim.EndpointCreate, sample.Create, "create", false},
		// SEND limited: the accepted SEND comes ≥ 1 s later per retry: those journeys miss the
		// window, at the client and at the server.
		{"send", lpsim.EndpointSend, sample.Send, "send", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := quietSim(window)
			cfg.Capacity = nil
			cfg.RateLimits = map[lpsim.Endpoint]lpsim.RateLimit{tc.ep: {Rate: 10, Burst: 5, RetryAfter: retryAfter}}
			p := testProfile(rate, duration)
			p.Window = window
			p.Journey.SendDelay = fixedDelay(delay)
			p.Journey.AwaitAutoMessage = 0
			// Every arrival starts, however late a loaded machine reaches it: the storm's counts
			// are the test's, not the generator's timing.
			p.Load.MaxLag = 0
			// No backoff of its own: the wait is the Retry-After.
			p.Journey.Retry = profiles.Retry{Steps: []string{tc.retry}, On: map[string]profiles.RetryRule{"rate_limited": {Retries: retries}}}
			res, led, recs := runAgainst(t, p, cfg, nil)
			checkIdentities(t, res)
			m := res.Overall
			if int64(len(recs)) != res.Arrivals.Planned || res.Arrivals.Started != res.Arrivals.Planned {
				t.Fatalf("planned %d, started %d, records %d: want all equal", res.Arrivals.Planned, res.Arrivals.Started, len(recs))
			}
			auto := map[string]lpsim.Conversation{}
			for _, c := range led.Conversations {
				auto[c.ID] = c
			}

			var sumRetries, retried, exhausted, maxRetries, in, uncertain, missed, sum429 int64
			defer func() {
				if m.RateLimited[tc.step] != sum429 || sum429 == 0 {
					t.Errorf("result: %d 429s at %s, the journeys %d: want equal, and some", m.RateLimited[tc.step], tc.step, sum429)
				}
			}()
			for _, j := range recs {
				sp := j.Steps[tc.step]
				sumRetries += int64(sp.Retries)
				maxRetries = max(maxRetries, int64(sp.Retries))
				if sp.Class == sample.ClassRateLimited {
					exhausted++ // its last 429 was not retried
				}
				// Every 429 counts, the retried ones too: here every failed attempt is one.
				if want := int(sp.Retries) + btoi(sp.Class == sample.ClassRateLimited); int(sp.RateLimited) != want {
					t.Errorf("journey %d: %s counted %d 429s, want %d (%d retries, class %s)", j.Index, tc.step, sp.RateLimited, want, sp.Retries, sp.Class)
				}
				sum429 += int64(sp.RateLimited)
				if j.Outcome != sample.OutcomeOK && j.Class != sample.ClassWindowMissed {
					t.Errorf("journey %d: %v at %s (%s)", j.Index, j.Outcome, j.Failed, j.Class)
					continue
				}
				if int(sp.Attempts) != int(sp.Retries)+1 {
					t.Errorf("journey %d: %s made %d attempts for %d retries", j.Index, tc.step, sp.Attempts, sp.Retries)
				}
				gap, gapMin, ok := j.Gap()
				if !ok {
					t.Errorf("journey %d: no gap", j.Index)
					continue
				}
				// The verdict is the one its bounds give, and its counts follow.
				if v := sample.Judge(gap, gapMin, window); j.Verdict != v {
					t.Errorf("journey %d: verdict %v, its bounds [%v, %v] give %v", j.Index, j.Verdict, gapMin, gap, v)
				}
				switch j.Verdict {
				case sample.VerdictIn:
					in++
				case sample.VerdictUncertain:
					uncertain++
				case sample.VerdictMissed:
					missed++
					if j.Outcome != sample.OutcomeFailed || j.Failed != sample.Send || j.Class != sample.ClassWindowMissed {
						t.Errorf("journey %d: missed, but %v at %s (%s)", j.Index, j.Outcome, j.Failed, j.Class)
					}
				}
				conv, found := auto[j.ConversationID]
				if !found {
					t.Errorf("journey %d: conversation %q not in the ledger", j.Index, j.ConversationID)
					continue
				}
				// The server's gap lies within the journey's bounds, which count from the attempts
				// that took effect; where the bounds decide, the server agrees. How far inside the
				// window a journey that did not wait for a SEND retry fell depends on how promptly a
				// loaded machine sent it: its bounds say, not the planned delay.
				if conv.Gap < gapMin || conv.Gap > gap {
					t.Errorf("journey %d: server gap %v outside the journey's bounds [%v, %v]", j.Index, conv.Gap, gapMin, gap)
				}
				if (j.Verdict == sample.VerdictIn) != conv.AutoMessages && j.Verdict != sample.VerdictUncertain {
					t.Errorf("journey %d: verdict %v [%v, %v], server gap %v, auto messages %v", j.Index, j.Verdict, gapMin, gap, conv.Gap, conv.AutoMessages)
				}
				if sp.Retries == 0 {
					continue
				}
				retried++
				// Retry-After honoured: each retry waited at least 1 s, and the wait is in the step's
				// span and so in the gap's upper bound.
				if want := time.Duration(sp.Retries) * retryAfter; sp.Duration() < want {
					t.Errorf("journey %d: %s took %v for %d retries, want ≥ %v", j.Index, tc.step, sp.Duration(), sp.Retries, want)
				}
				// A SEND retry's wait is in the gap, and its lower bound too: the journey missed the
				// window. A CONVERSATION refused with 429 created nothing: the gap starts at the
				// attempt that passed, and the journey is in.
				if tc.lost {
					if gapMin < time.Duration(sp.Retries)*retryAfter+delay || j.Verdict != sample.VerdictMissed {
						t.Errorf("journey %d: %d SEND retries, gap bounds [%v, %v], verdict %v; want missed", j.Index, sp.Retries, gapMin, gap, j.Verdict)
					}
				} else if from := j.Steps[sample.Send].End - sp.LastBegin; gap > from {
					// From the first attempt, the gap would include the ≥ 1 s waits before the last.
					t.Errorf("journey %d: %d CONVERSATION retries, gap %v (from the last attempt at most %v, create span %v), verdict %v; want the gap from the last attempt",
						j.Index, sp.Retries, gap, from, sp.Duration(), j.Verdict)
				}
				// The server's truth: after a CONVERSATION retry the window starts at the attempt
				// that passed; after a SEND retry the first accepted SEND came ≥ 1 s late.
				if tc.lost {
					if conv.AutoMessages || conv.Gap < delay+retryAfter {
						t.Errorf("journey %d: %d SEND retries, server gap %v, auto messages %v; want ≥ %v, none", j.Index, sp.Retries, conv.Gap, conv.AutoMessages, delay+retryAfter)
					}
				} else if conv.Gap > gap || conv.AutoMessages != (conv.Gap <= window) {
					t.Errorf("journey %d: %d CONVERSATION retries, server gap %v (journey's bound %v), auto messages %v: the window did not start at the attempt that passed", j.Index, sp.Retries, conv.Gap, gap, conv.AutoMessages)
				}
			}
			t.Logf("%d journeys: %d retried (at most %d times), %d retries; verdicts in %d, uncertain %d, missed %d; ledger 429s %d",
				len(recs), retried, maxRetries, sumRetries, in, uncertain, missed, led.Requests[tc.ep][429])
			if retried == 0 || maxRetries < 2 {
				t.Errorf("%d journeys retried, at most %d times: the storm did not happen", retried, maxRetries)
			}
			if exhausted != 0 {
				t.Errorf("%d journeys ran out of retries", exhausted)
			}
			// Those that did not wait for a retry may have missed too, on a machine that sent
			// them late: their bounds, checked above, judged them.
			if tc.lost && missed < retried {
				t.Errorf("%d journeys reported missed, %d lost the window to SEND retries", missed, retried)
			}
			if in+uncertain+missed != int64(len(recs)) {
				t.Errorf("verdicts in %d + uncertain %d + missed %d ≠ %d journeys", in, uncertain, missed, len(recs))
			}
			if m.Verdicts[sample.VerdictIn] != in || m.Verdicts[sample.VerdictUncertain] != uncertain || m.Verdicts[sample.VerdictMissed] != missed {
				t.Errorf("summary verdicts %v, records in %d, uncertain %d, missed %d", m.Verdicts, in, uncertain, missed)
			}
			if got := m.Failures[sample.Send][sample.ClassWindowMissed]; got != missed {
				t.Errorf("window_missed failures %d, missed verdicts %d", got, missed)
			}
			// Every 429 of the ledger is a retry reported, or the last attempt of a journey that ran
			// out of retries (none here).
			if got := m.Retries[tc.step]; got != sumRetries {
				t.Errorf("summary retries on %s %d, records %d", tc.step, got, sumRetries)
			}
			if got := led.Requests[tc.ep][429]; got != sumRetries+exhausted {
				t.Errorf("ledger 429s on %s %d, lpbench retries %d + exhausted %d", tc.ep, got, sumRetries, exhausted)
			}
			if got := m.StepFailures[tc.step][sample.ClassRateLimited]; got != exhausted {
				t.Errorf("rate_limited failures on %s %d, want %d", tc.step, got, exhausted)
			}
			// The server saw the late first SENDs for what they are: every journey in the window
			// triggered auto messages, none that missed it did (the uncertain ones either way).
			if got := led.AutoMessagesTriggered; got < in || got > in+uncertain {
				t.Errorf("ledger auto messages %d, in-window journeys %d, uncertain %d", got, in, uncertain)
			}
		})
	}
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
