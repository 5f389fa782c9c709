package engine

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// targetRun is one target's client and journey during a run, and where its arrivals are
// counted: the lane of the schedule that deals them.
type targetRun struct {
	prof    profiles.Target
	kind    string
	client  *lp.Client
	journey *lp.Journey
	share   float64 // its share of the profile's load (by weight); 0 with a load of its own
	runner  *loadgen.Runner
	lane    int
	// askedInFlight is its schedule's max_in_flight as the profile asked (the runner's bound may
	// be lower: see inFlightBound).
	askedInFlight int
}

// newTargets builds every target's client and journey, and their shares of the profile's load.
// The journeys get the run's epoch from schedule.
func newTargets(p profiles.Profile, sim *lpsim.Server, o Options) ([]*targetRun, error) {
	run := o.RunID
	if run == "" {
		run = NewRunID()
	}
	targets := make([]*targetRun, len(p.Targets))
	for i, t := range p.Targets {
		tr, err := newTargetRun(p, t, i, sim, o, time.Time{}, run)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		targets[i] = tr
	}
	assignShares(targets)
	return targets, nil
}

// NewJourney builds the client and journey of target t of profile p exactly as a run does,
// with times recorded from epoch: sim is the simulator of a "sim" target; getenv gives the
// credentials of the others. Benchmarks use it to drive journeys without a run around them.
func NewJourney(p profiles.Profile, t profiles.Target, sim *lpsim.Server, getenv func(string) string, epoch time.Time) (*lp.Journey, error) {
	tr, err := newTargetRun(p, t, 0, sim, Options{Getenv: getenv}, epoch, NewRunID())
	if err != nil {
		return nil, err
	}
	return tr.journey, nil
}

// newTargetRun builds the client and journey of target t (index i).
func newTargetRun(p profiles.Profile, t profiles.Target, i int, sim *lpsim.Server, o Options, epoch time.Time, run string) (*targetRun, error) {
	lt, err := lpTarget(t, sim, o)
	if err != nil {
		return nil, err
	}
	lt.Routing, lt.ConsumerProfile = lpRouting(t.Routing), &p.Journey.ConsumerProfile
	// The runner of the target's load bounds its journeys (shared with other targets, or its own).
	lt.MaxInFlight = p.Load.MaxInFlight
	if t.Load != nil {
		lt.MaxInFlight = t.Load.MaxInFlight
	}
	client, err := lp.NewClient(lt)
	if err != nil {
		return nil, err
	}
	timeout := p.Journey.RequestTimeout
	if t.RequestTimeout > 0 {
		timeout = t.RequestTimeout
	}
	shard := "0"
	if o.Shards > 1 {
		shard = strconv.Itoa(o.Shard)
	}
	id := strings.NewReplacer("{run}", run, "{target}", t.Name, "{shard}", shard).Replace(p.Journey.ConsumerID)
	prefix, suffix, _ := strings.Cut(id, "{n}")
	retry, err := retryPolicy(p.Journey.Retry)
	if err != nil {
		return nil, err
	}
	journey := &lp.Journey{
		Client: client,
		Epoch:  epoch,
		Target: uint16(i),
		Opts: lp.JourneyOptions{
			Window:            p.Window,
			LookupPerConsumer: p.Journey.Lookup == profiles.LookupPerConsumer,
			AutoMessages:      p.Journey.AutoMessages,
			SendDelay:         p.Journey.SendDelay.Sampler(),
			Message:           p.Journey.Message,
			Close:             p.Journey.Close,
			RequestTimeout:    timeout,
			ConsumerPrefix:    prefix,
			ConsumerSuffix:    suffix,
			Retry:             retry,
			ExpectSkill:       checkedSkill(t.Routing),
		},
	}
	if o.Journal != nil { // never a nil *Journal in the interface: no journal costs nothing
		journey.Opts.Journal = o.Journal
	}
	return &targetRun{prof: t, kind: t.Kind(), client: client, journey: journey}, nil
}

// lpTarget returns the client's view of target t: where it is and its credentials.
func lpTarget(t profiles.Target, sim *lpsim.Server, o Options) (lp.Target, error) {
	lt := lp.Target{Name: t.Name, Account: t.Account, MaxRequestRate: t.MaxRequestRate, InsecureSkipVerify: t.Insecure}
	switch kind := t.Kind(); kind {
	case profiles.KindSim:
		acct, ok := simAccount(sim.Config(), t.Account)
		if !ok {
			return lt, fmt.Errorf("the simulator has no account %q", t.Account)
		}
		lt.CSDS, lt.Scheme, lt.ClientID, lt.ClientSecret = sim.URL, "http", acct.ClientID, acct.ClientSecret
		if sim.CAFile != "" { // the simulator speaks TLS (sim: {tls: true}): verify against its CA
			lt.Scheme, lt.RootCAs, lt.CAFile = "https", x509.NewCertPool(), sim.CAFile
			lt.RootCAs.AppendCertsFromPEM(sim.CA)
		}
	default:
		lt.CSDS, lt.Scheme = t.CSDSURL(), "https"
		if kind == profiles.KindSimURL && strings.HasPrefix(lt.CSDS, "http://") {
			lt.Scheme = "http"
		}
		if t.CAFile != "" {
			pool, err := profiles.LoadCAFile(t.CAFile)
			if err != nil {
				return lt, &InputError{fmt.Errorf("ca_file: %w", err)}
			}
			lt.RootCAs, lt.CAFile = pool, t.CAFile
		}
		lt.ClientID, lt.ClientSecret = o.Getenv(t.ClientIDEnv), o.Getenv(t.ClientSecretEnv)
		if app, ok := o.credentials[t.Name]; ok {
			lt.ClientID, lt.ClientSecret = app.ClientID, app.ClientSecret
		}
	}
	return lt, nil
}

// lpRouting returns the routing the client asks for: nothing for the account's default.
func lpRouting(r *profiles.Routing) lp.Routing {
	if r == nil || r.Default {
		return lp.Routing{}
	}
	return lp.Routing{SkillID: r.SkillID, CampaignID: r.CampaignID, EngagementID: r.EngagementID}
}

// checkedSkill returns the skill whose routing the journeys check: the one asked for, unless
// none was or it is "-1" (any skill, which every skill matches).
func checkedSkill(r *profiles.Routing) string {
	if r == nil || r.SkillID == profiles.AnySkill {
		return ""
	}
	return r.SkillID
}

func simAccount(cfg lpsim.Config, id string) (lpsim.Account, bool) {
	for _, a := range cfg.Accounts {
		if a.ID == id {
			return a, true
		}
	}
	return lpsim.Account{}, false
}

// retryPolicy turns the profile's retry section into the journey's policy.
func retryPolicy(r profiles.Retry) (lp.RetryPolicy, error) {
	var pol lp.RetryPolicy
	for _, name := range r.Steps {
		s, ok := sample.ParseStep(name)
		if !ok {
			return pol, fmt.Errorf("unknown step %q in the retry policy", name)
		}
		pol.Steps[s] = true
	}
	for name, rule := range r.On {
		c, ok := sample.ParseClass(name)
		if !ok {
			return pol, fmt.Errorf("unknown failure class %q in the retry policy", name)
		}
		pol.Rules[c] = lp.RetryRule{Retries: rule.Retries, Backoff: rule.Backoff}
	}
	return pol, nil
}

// assignShares sets each target's share of the profile's load, by weight.
func assignShares(targets []*targetRun) {
	total := 0
	for _, tr := range targets {
		if tr.prof.Load == nil {
			total += max(tr.prof.Weight, 0)
		}
	}
	for _, tr := range targets {
		if tr.prof.Load == nil && total > 0 {
			tr.share = float64(max(tr.prof.Weight, 0)) / float64(total)
		}
	}
}

// arrivals returns the target's arrival counts once its schedule has run.
func (tr *targetRun) arrivals() report.Arrivals {
	return arrivals(tr.runner.LaneCounts(tr.lane))
}

// arrivals converts the load generator's counts.
func arrivals(c loadgen.Counts) report.Arrivals {
	return report.Arrivals{Planned: c.Planned, Started: c.Started, Dropped: c.Dropped, Late: c.Late, NotStarted: c.NotStarted}
}

// info describes the target in the result.
func (tr *targetRun) info(hooks *sample.WebhookStats) report.TargetInfo {
	return report.TargetInfo{
		Name: tr.prof.Name, Account: tr.prof.Account, Kind: tr.kind, Region: tr.prof.Region, Insecure: tr.prof.Insecure,
		AppJWTFetches: tr.client.AppJWTFetches(), DomainLookups: tr.client.DomainLookups(), Webhooks: hooks,
		Skill: tr.journey.Opts.ExpectSkill,
	}
}
