// Package profiles reads, checks and ships run profiles: YAML files that say what a run does —
// its targets (simulated or live LivePerson accounts), its load, its journey, the window it
// judges, its thresholds and its outputs.
//
// Decoding is strict: an unknown key, a wrong type or an impossible value is an error that names
// the file, the line and the key path, and every error of a file is reported at once. Secrets are
// never in a profile: live targets name the environment variables that hold them.
package profiles

import (
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
)

// Profile describes one run.
type Profile struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Targets     []Target      `yaml:"targets"`
	Load        Load          `yaml:"load"`
	Journey     Journey       `yaml:"journey"`
	Window      time.Duration `yaml:"window"` // the AUTO_MESSAGES window first SENDs are judged against
	Thresholds  []Threshold   `yaml:"thresholds"`
	Outputs     Outputs       `yaml:"outputs"`
	Webhooks    Webhooks      `yaml:"webhooks"`
	// Sim configures the embedded simulator that "sim" targets drive.
	Sim lpsim.Config `yaml:"sim"`
	// Checks are the limits of the measurement checks and the checks relaxed.
	Checks CheckLimits `yaml:"checks"`

	// Source is where the profile came from: a file path or "builtin:NAME".
	Source string `yaml:"-"`
}

// Target kinds.
const (
	KindSim    = "sim"    // the embedded simulator
	KindSimURL = "simurl" // a standalone simulator (lpbench sim) reached by http URL, or https on loopback with its ca_file
	KindLive   = "live"   // LivePerson itself
)

// Target is one account to drive.
type Target struct {
	Name    string `yaml:"name"`
	Account string `yaml:"account"`
	// CSDS is "sim" (the default: the embedded simulator), an http:// URL of a standalone
	// simulator, or the host (or https:// URL) of LivePerson's domain API, e.g.
	// "api.liveperson.net".
	CSDS   string `yaml:"csds"`
	Region string `yaml:"region"` // label for reports (va, lo, sy); for sim targets, taken from the simulator's account
	// ClientIDEnv and ClientSecretEnv name the environment variables holding the app's
	// credentials (live targets and standalone simulators).
	ClientIDEnv     string `yaml:"client_id_env"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	// Weight is the target's share of the profile's arrivals (default 1), for targets without a
	// load of their own.
	Weight int `yaml:"weight"`
	// Load, when set, gives the target its own arrival schedule instead of a share.
	Load           *Load         `yaml:"load"`
	RequestTimeout time.Duration `yaml:"request_timeout"` // overrides journey.request_timeout
	MaxRequestRate float64       `yaml:"max_request_rate"`
	// Insecure skips TLS certificate verification: only for a target explicitly local (e.g. a
	// simulator behind a self-signed certificate), never for LivePerson; the report says so.
	Insecure bool `yaml:"insecure"`
	// CAFile is a PEM file of the certificate authorities to verify the target's certificates
	// with, instead of the system's: a standalone simulator over TLS (`lpbench sim --tls` prints
	// its CA file). Certificates are still verified, unlike Insecure; a relative path is from the
	// profile's directory.
	CAFile string `yaml:"ca_file"`
	// Routing says where the target's conversations go (see Routing); required on live targets.
	Routing *Routing `yaml:"routing,omitempty"`
}

// Kind returns KindSim, KindSimURL or KindLive. A standalone simulator is reached by an http://
// URL, or over TLS (`lpbench sim --tls`) by an https:// URL of a loopback host with the
// simulator's ca_file; any other https target is live.
func (t *Target) Kind() string {
	switch {
	case t.CSDS == "" || t.CSDS == "sim":
		return KindSim
	case strings.HasPrefix(t.CSDS, "http://"), strings.HasPrefix(t.CSDS, "https://") && t.CAFile != "" && isLoopback(hostOf(t.CSDS)):
		return KindSimURL
	default:
		return KindLive
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CSDSURL returns the base URL of the target's domain API (not for KindSim).
func (t *Target) CSDSURL() string {
	if strings.Contains(t.CSDS, "://") {
		return strings.TrimRight(t.CSDS, "/")
	}
	return "https://" + strings.TrimRight(t.CSDS, "/")
}

// Arrival processes.
const (
	ArrivalsUniform = "uniform"
	ArrivalsPoisson = "poisson"
)

// When the pool is full.
const (
	WhenFullDrop  = "drop"
	WhenFullQueue = "queue"
)

// Load is an arrival schedule.
type Load struct {
	Stages      []Stage `yaml:"stages"`
	Arrivals    string  `yaml:"arrivals"` // uniform (default) or poisson
	Seed        int64   `yaml:"seed"`     // Poisson randomness; 0: a fixed default, so runs repeat
	MaxInFlight int     `yaml:"max_in_flight"`
	// WhenFull says what an arrival that finds max_in_flight journeys running does: "drop" (the
	// default: counted, never started) or "queue" (waits for a slot; its lateness shows as lag).
	WhenFull string `yaml:"when_full"`
	// MaxLag is how late the dispatcher may start an arrival: one it reaches later than this
	// after its intended time (a CPU-starved generator) is dropped and counted as late instead,
	// so the load never runs seconds behind its plan. 0: no limit. Default DefaultMaxLag with
	// when_full: drop, 0 with queue (whose waits are lag by design).
	MaxLag time.Duration `yaml:"max_lag"`
}

// DefaultMaxLag is load.max_lag's default with when_full: drop. A healthy generator on a busy
// 2-core machine starts its arrivals within a few milliseconds (a GC pause or a scheduler
// hiccup: tens), so a second never fires on a healthy run; a generator that has fallen a second
// behind is starved, and running its arrivals later still would only measure it (the first SEND
// window is 10 s).
const DefaultMaxLag = time.Second

// minMaxLag is the smallest max_lag other than 0: below it, timer wake-ups alone would drop
// arrivals.
const minMaxLag = 10 * time.Millisecond

// Stage is a span of the schedule.
type Stage struct {
	Duration time.Duration `yaml:"duration"`
	Rate     Rate          `yaml:"rate"`
}

// Rate is a constant arrival rate per second (From == To), or a linear ramp written "10 -> 100".
type Rate struct {
	From, To float64
}

func (r *Rate) decodeYAML(d *decoder, n *yaml.Node, path string) {
	if f, ok := number(n); ok {
		r.From, r.To = f, f
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		from, to, ok := strings.Cut(n.Value, "->")
		if ok {
			var a, b float64
			if parseNum(strings.TrimSpace(from), &a) && parseNum(strings.TrimSpace(to), &b) {
				r.From, r.To = a, b
				return
			}
		}
	}
	d.errorf(n, path, `want a rate per second (e.g. 20) or a ramp (e.g. "10 -> 100"), got %s`, kindName(n))
}

// Journey shapes every synthetic consumer's journey.
type Journey struct {
	// Lookup is "cached" (one CSDS answer per target, kept 60 s) or "per_consumer".
	Lookup string `yaml:"lookup"`
	// ConsumerID is the ext_consumer_id pattern: {run} (a random id per run), {target},
	// {shard} and {n} (the arrival's index) are replaced. It must hold {run} and {n}.
	ConsumerID     string        `yaml:"consumer_id"`
	SendDelay      Delay         `yaml:"send_delay"`
	Message        string        `yaml:"message"`
	AutoMessages   bool          `yaml:"auto_messages"`
	Close          bool          `yaml:"close"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	Retry          Retry         `yaml:"retry"`
	// AwaitAutoMessage is how long a journey waits, after its first SEND, for its conversation's
	// first auto message to reach the webhook receiver (0: it does not wait).
	AwaitAutoMessage time.Duration `yaml:"await_auto_message"`
	// ConsumerProfile is the profile every synthetic consumer sets with its CONVERSATION
	// (userprofile.SetUserProfile); by default plainly synthetic (lp.DefaultConsumerProfile).
	ConsumerProfile lp.ConsumerProfile `yaml:"consumer_profile"`
}

// Lookup modes.
const (
	LookupCached      = "cached"
	LookupPerConsumer = "per_consumer"
)

// Delay is a think-time distribution: a duration ("2s", fixed), or a mapping with dist fixed
// (value), uniform (min, max) or normal (mean, stddev; truncated at 0).
type Delay struct {
	Dist   string        `yaml:"dist"`
	Value  time.Duration `yaml:"value"`
	Min    time.Duration `yaml:"min"`
	Max    time.Duration `yaml:"max"`
	Mean   time.Duration `yaml:"mean"`
	StdDev time.Duration `yaml:"stddev"`
}

func (dl *Delay) decodeYAML(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		*dl = Delay{Dist: "fixed"}
		d.duration(n, reflect.ValueOf(&dl.Value).Elem(), path)
		return
	}
	d.structure(n, reflect.ValueOf(dl).Elem(), path)
}

// Retry is the journey's retry policy: which steps may be retried, and for which failure classes
// how many times after what backoff. A 429's Retry-After is honoured when it is longer than the
// backoff. Retrying CONVERSATION or SEND spends the AUTO_MESSAGES window; they are not retried
// unless listed in Steps.
type Retry struct {
	Steps []string             `yaml:"steps"`
	On    map[string]RetryRule `yaml:"on"` // failure class → rule
}

// RetryRule is how often and after how long a failure class is retried.
type RetryRule struct {
	Retries int           `yaml:"retries"`
	Backoff time.Duration `yaml:"backoff"`
}

// Threshold is a pass/fail criterion over the run's metrics: a bare expression such as
// "gap.p99 < 10s", or a mapping with expr, target (a target's name; empty for the whole run),
// abort_on_fail and abort_delay.
type Threshold struct {
	Expr        string        `yaml:"expr"`
	Target      string        `yaml:"target"`
	AbortOnFail bool          `yaml:"abort_on_fail"`
	AbortDelay  time.Duration `yaml:"abort_delay"`

	// Parsed is Expr parsed; set by validation.
	Parsed report.Threshold `yaml:"-"`
}

func (t *Threshold) decodeYAML(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		t.Expr = n.Value
		return
	}
	d.structure(n, reflect.ValueOf(t).Elem(), path)
}

// Webhooks configure the receiver of the Connector API webhooks through which auto messages
// arrive. Each target's deliveries go to <public_url>/webhook/<target name>, signed with that
// target's app client secret.
type Webhooks struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"` // address the receiver listens on
	// PublicURL is the URL LivePerson reaches the receiver at (registered in the app
	// installation); for simulator targets the receiver's own address is used.
	PublicURL string `yaml:"public_url"`
	// Relay is the base URL of a webhook relay (lpbench relay) to subscribe to instead of
	// listening: in a distributed run, LivePerson's one webhook URL is the relay's
	// (<relay>/webhook/<target name>), and every shard hears every delivery through it. With
	// simulator targets the run registers <relay>/webhook/<target> with the simulator. Exclusive
	// with public_url.
	Relay string `yaml:"relay"`
	// Grace is how long the receiver stays up after the last journey, so that late deliveries
	// still count.
	Grace time.Duration `yaml:"grace"`
}

// Outputs say where reports go.
type Outputs struct {
	Dir string `yaml:"dir"` // directory for result files; empty: none for now
	// MetricsListen, when set, is the host:port where the run serves its live Prometheus
	// metrics at /metrics (port 0: a free one).
	MetricsListen string `yaml:"metrics_listen"`
	// MetricsLinger is how long the metrics endpoint stays up after the run, for a final
	// scrape (default 30 s, at least a usual scrape interval; 0: it closes at once).
	MetricsLinger time.Duration `yaml:"metrics_linger"`
	// History is the history file (SQLite) each run is appended to; --history and
	// $LPBENCH_HISTORY come first.
	History string `yaml:"history"`
}

// Sampler returns a function drawing delays from the distribution (safe for concurrent use), or
// nil for a fixed zero delay.
func (dl Delay) Sampler() func() time.Duration {
	switch dl.Dist {
	case "uniform":
		lo, span := dl.Min, dl.Max-dl.Min
		return func() time.Duration { return lo + time.Duration(rand.Int64N(int64(span)+1)) }
	case "normal":
		mean, sd := float64(dl.Mean), float64(dl.StdDev)
		return func() time.Duration { return time.Duration(max(0, mean+sd*rand.NormFloat64())) }
	default:
		if dl.Value <= 0 {
			return nil
		}
		v := dl.Value
		return func() time.Duration { return v }
	}
}

// MarshalYAML writes a constant rate as a number and a ramp as "from -> to", the forms a profile
// reads.
func (r Rate) MarshalYAML() (any, error) {
	if r.From == r.To {
		return r.From, nil
	}
	return fmtRate(r), nil
}

// Effective returns the profile as YAML, as it was run, without secrets: the simulator's
// generated client secrets are removed (live targets only ever name environment variables).
// The text reads back as a profile.
func (p Profile) Effective() (string, error) {
	q := p
	q.Sim.Accounts = append([]lpsim.Account(nil), p.Sim.Accounts...)
	for i := range q.Sim.Accounts {
		q.Sim.Accounts[i].ClientSecret = ""
	}
	b, err := yaml.Marshal(q)
	return string(b), err
}
