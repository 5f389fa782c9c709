package profiles

import (
	"net/url"
	"strings"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
)

// Plan returns l's arrival schedule for shard k of n (n ≤ 1: every arrival). The schedule's
// maths — rates, durations, counts, integrals — is the plan's: ask it, not the stages.
func (l Load) Plan(k, n int) loadgen.Plan {
	plan := loadgen.Plan{Poisson: l.Arrivals == ArrivalsPoisson, Seed: l.Seed, Shard: k, Shards: n}
	for _, s := range l.Stages {
		plan.Stages = append(plan.Stages, loadgen.Stage{Duration: s.Duration, From: s.Rate.From, To: s.Rate.To})
	}
	return plan
}

// Loads returns every schedule of the profile: its load when a target shares it (first), then
// the load of each target that has its own.
func (p Profile) Loads() []Load {
	var out []Load
	for _, t := range p.Targets {
		if t.Load == nil {
			out = append(out, p.Load)
			break
		}
	}
	for _, t := range p.Targets {
		if t.Load != nil {
			out = append(out, *t.Load)
		}
	}
	return out
}

// PeakRate returns the highest total arrival rate the profile asks for (an upper bound when
// targets have schedules of their own, whose peaks may not coincide).
func (p Profile) PeakRate() float64 {
	var r float64
	for _, l := range p.Loads() {
		r += l.Plan(0, 1).PeakRate()
	}
	return r
}

// Duration returns the length of the longest schedule.
func (p Profile) Duration() time.Duration {
	var d time.Duration
	for _, l := range p.Loads() {
		d = max(d, l.Plan(0, 1).Duration())
	}
	return d
}

// ExpectedArrivals returns the journeys the profile's schedules ask for in all.
func (p Profile) ExpectedArrivals() float64 {
	var n float64
	for _, l := range p.Loads() {
		n += l.Plan(0, 1).Expected()
	}
	return n
}

// RunPlan is what a run of the profile will do, computed before anything is sent: the plan that
// --plan prints and that a live run shows before it asks nothing more and starts.
type RunPlan struct {
	Profile string
	Targets []TargetPlan
	// PeakRate, Duration and Conversations are the whole run's: journeys/s at the peak (an upper
	// bound when targets peak at different times), the longest schedule, and the conversations
	// opened in all.
	PeakRate      float64
	Duration      time.Duration
	Conversations float64
	// Close is journey.close: each conversation is closed at the end of its journey.
	Close bool
	// Notes are further lines about the plan, each a sentence: where a prediction computed from
	// the plan (e.g. whether the planned journeys can support each thresholded percentile) is
	// added, so that the plan and validate say it before anything is sent.
	Notes []string
	// Search, for a capacity search, is its worst case; each target's figures are then those of
	// one step at the highest rate the search may try.
	Search *SearchPlan
}

// SearchPlan is the worst case of a capacity search: every step run, each rate doubled from the
// first one up to the cap.
type SearchPlan struct {
	From, Max        float64 // the first rate and the highest allowed (0: none), journeys/s
	Peak             float64 // the highest rate the worst case tries
	Step, CoolDown   time.Duration
	Steps            int
	Conversations    float64
	MaxConversations float64
	Duration         time.Duration
	SLO              []string
}

// TargetPlan is what the run will do to one target.
type TargetPlan struct {
	Name, Account, Kind string
	Endpoint            string // the CSDS URL, or "the embedded simulator"
	// Stages are the target's own schedule: its share of a shared load, or its own load.
	Stages        []loadgen.Stage
	PeakRate      float64 // journeys/s
	Duration      time.Duration
	Conversations float64
	// Requests are the requests per second each service receives at the peak; RequestRate is
	// their sum, which MaxRequestRate (0: no cap) caps.
	Requests       []ServiceRate
	RequestRate    float64
	MaxRequestRate float64
	Routing        string
	Webhook        string // where LivePerson's notifications for the target go, or why none
	ConsumerID     string // the ext_consumer_id pattern
	Thresholds     []string
}

// ServiceRate is a service's requests per second at a plan's peak.
type ServiceRate struct {
	Service   string // lp's name of it: csds, sentinel, idp, asyncMessagingEnt
	Requests  string // which requests: look-up, AppJWT, ConsumerJWS, CONVERSATION…
	PerSecond float64
	Cached    bool // one request shared by the target's journeys, renewed now and then
}

// Plan returns the profile's run plan (every shard's arrivals together).
func (p Profile) Plan() RunPlan {
	rp := RunPlan{Profile: p.Name, PeakRate: p.PeakRate(), Duration: p.Duration(),
		Conversations: p.ExpectedArrivals(), Close: p.Journey.Close}
	total := 0
	for _, t := range p.Targets {
		if t.Load == nil {
			total += max(t.Weight, 0)
		}
	}
	for i := range p.Targets {
		rp.Targets = append(rp.Targets, p.targetPlan(&p.Targets[i], total))
	}
	// Predictions from the plan (whether the planned journeys can support each thresholded
	// percentile, as validate says) go into rp.Notes: --plan, a live run's confirmation and a
	// capacity search's plan (capacity.Plan calls this) then all show them.
	for _, w := range p.SupportWarnings(0, 1) {
		rp.Notes = append(rp.Notes, w.String())
	}
	return rp
}

// targetPlan returns target t's plan; total is the sum of the weights sharing the profile's load.
func (p Profile) targetPlan(t *Target, total int) TargetPlan {
	load, share := p.Load, 1.0
	if t.Load != nil {
		load = *t.Load
	} else if total > 0 {
		share = float64(max(t.Weight, 0)) / float64(total)
	}
	plan := load.Plan(0, 1)
	for i, s := range plan.Stages {
		plan.Stages[i] = loadgen.Stage{Duration: s.Duration, From: s.From * share, To: s.To * share}
	}
	tp := TargetPlan{Name: t.Name, Account: t.Account, Kind: t.Kind(), Endpoint: t.CSDSURL(), Stages: plan.Stages,
		PeakRate: plan.PeakRate(), Duration: plan.Duration(), Conversations: plan.Expected(),
		MaxRequestRate: t.MaxRequestRate, Routing: t.Routing.String(), Webhook: p.webhookOf(t),
		ConsumerID: p.Journey.ConsumerID}
	if tp.Kind == KindSim {
		tp.Endpoint = "the embedded simulator"
	}
	tp.Requests = p.Journey.requests(tp.PeakRate)
	for _, r := range tp.Requests {
		tp.RequestRate += r.PerSecond
	}
	for _, th := range p.Thresholds {
		if th.Target == "" || th.Target == t.Name {
			tp.Thresholds = append(tp.Thresholds, th.Expr)
		}
	}
	return tp
}

// requests returns the requests per second of each service at rate journeys/s: a look-up per
// journey or one shared (cached), an AppJWT shared by the target's journeys, a ConsumerJWS per
// journey, and CONVERSATION, the first SEND and the close (when the journey closes) on the
// messaging service. Retries add to these.
func (j Journey) requests(rate float64) []ServiceRate {
	lookup := ServiceRate{Service: "csds", Requests: "look-up", Cached: true}
	if j.Lookup == LookupPerConsumer {
		lookup = ServiceRate{Service: "csds", Requests: "look-up", PerSecond: rate}
	}
	msgs, what := 2.0, "CONVERSATION, SEND"
	if j.Close {
		msgs, what = 3, "CONVERSATION, SEND, close"
	}
	return []ServiceRate{lookup, {Service: lp.ServiceSentinel, Requests: "AppJWT", Cached: true},
		{Service: lp.ServiceIdP, Requests: "ConsumerJWS", PerSecond: rate},
		{Service: lp.ServiceMessaging, Requests: what, PerSecond: msgs * rate}}
}

// webhookOf says where LivePerson's notifications for t go, or why the run takes none.
func (p Profile) webhookOf(t *Target) string {
	path := "/webhook/" + url.PathEscape(t.Name)
	switch {
	case !p.VerifiesAutoMessages(t):
		return "none: auto messages are not observed (the first SEND's timing is judged)"
	case p.Webhooks.Relay != "":
		return strings.TrimRight(p.Webhooks.Relay, "/") + path + " (relay)"
	case p.Webhooks.PublicURL != "":
		return strings.TrimRight(p.Webhooks.PublicURL, "/") + path
	case t.Kind() != KindLive:
		return "lpbench's receiver on " + p.Webhooks.Listen + path + ", registered with the simulator (port 0: a free one)"
	}
	return "lpbench's receiver on " + p.Webhooks.Listen + path
}

// LiveNames lists the names of the profile's targets on LivePerson itself, comma-separated.
func (p Profile) LiveNames() string {
	var names []string
	for _, t := range p.Targets {
		if t.Kind() == KindLive {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}
