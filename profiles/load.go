package profiles

import (
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

//go:embed *.yaml
var builtin embed.FS

// Defaults returns the values a profile starts from before its file is read.
func Defaults() Profile {
	return Profile{
		Load: defaultLoad(),
		Journey: Journey{
			Lookup:           LookupCached,
			ConsumerID:       "lpbench-{run}-{target}-{n}",
			SendDelay:        Delay{Dist: "fixed"},
			Message:          "Hi from lpbench - Auto Messages feature",
			AutoMessages:     true,
			Close:            true,
			RequestTimeout:   30 * time.Second,
			AwaitAutoMessage: 10 * time.Second,
			ConsumerProfile:  lp.DefaultConsumerProfile(),
			Retry: Retry{
				Steps: []string{"lookup", "appjwt", "consumerjws", "close"},
				On: map[string]RetryRule{
					"rate_limited": {Retries: 2, Backoff: time.Second},
					"http_5xx":     {Retries: 2, Backoff: time.Second},
					"network":      {Retries: 1, Backoff: 100 * time.Millisecond},
				},
			},
		},
		Window:   10 * time.Second,
		Webhooks: Webhooks{Enabled: true, Listen: "127.0.0.1:0", Grace: time.Second},
		Outputs:  Outputs{MetricsLinger: 30 * time.Second},
		Sim:      lpsim.DefaultConfig(),
		Checks:   defaultChecks(),
	}
}

// defaultLoad is the profile's load when a file has none: 20 journeys/s for 10 s.
func defaultLoad() Load {
	var l Load
	l.setDefaults()
	l.Stages = []Stage{{Duration: 10 * time.Second, Rate: Rate{From: 20, To: 20}}}
	return l
}

// setDefaults gives a load section brought in by a file (a target's own) its defaults, no stages.
func (l *Load) setDefaults() {
	*l = Load{Arrivals: ArrivalsUniform, MaxInFlight: 1000, WhenFull: WhenFullDrop, MaxLag: DefaultMaxLag}
}

// Info names a shipped profile.
type Info struct {
	Name        string
	Description string
}

// List returns the shipped profiles, by name.
func List() []Info {
	entries, _ := fs.Glob(builtin, "*.yaml")
	var out []Info
	for _, e := range entries {
		name := strings.TrimSuffix(e, ".yaml")
		p, err := Builtin(name)
		desc := p.Description
		if err != nil {
			desc = "(invalid: " + err.Error() + ")"
		}
		out = append(out, Info{Name: name, Description: desc})
	}
	return out
}

// Builtin reads and checks the shipped profile name.
func Builtin(name string) (Profile, error) {
	data, err := builtin.ReadFile(name + ".yaml")
	if err != nil {
		return Profile{}, fmt.Errorf("no shipped profile %q (lpbench profiles lists them)", name)
	}
	return Parse(name+".yaml", data)
}

// Open reads the profile nameOrFile: a shipped profile when it is a shipped name (without .yaml,
// .yml or a slash: ./regions/ does not hide the shipped regions, ./regions.yaml is a file), else
// a file when one exists at that path (or the name ends in .yaml/.yml or holds a slash), else a
// shipped profile (whose error lists them).
func Open(nameOrFile string) (Profile, error) {
	path := strings.HasSuffix(nameOrFile, ".yaml") || strings.HasSuffix(nameOrFile, ".yml") || strings.ContainsAny(nameOrFile, "/"+string(os.PathSeparator))
	if _, err := fs.Stat(builtin, nameOrFile+".yaml"); err == nil && !path {
		return Builtin(nameOrFile)
	}
	if _, err := os.Stat(nameOrFile); err == nil || path {
		data, err := os.ReadFile(nameOrFile)
		if err != nil {
			return Profile{}, fmt.Errorf("reading profile: %w", err)
		}
		return Parse(nameOrFile, data)
	}
	return Builtin(nameOrFile)
}

// Parse decodes and checks a profile read from file. The error, when not nil, is an Errors
// holding every problem found, each with file, line and key path.
func Parse(file string, data []byte) (Profile, error) { return parse(file, data, false) }

// ParseEffective decodes and checks the effective profile of a result (Result.Effective) read
// from source, to judge it again (a merge): like Parse, but the files the profile names (ca_file)
// are not read, since the run read them and they need not be where the merge runs.
func ParseEffective(source string, data []byte) (Profile, error) {
	return parse("effective profile of "+source, data, true)
}

func parse(file string, data []byte, noFiles bool) (Profile, error) {
	p := Defaults()
	d, err := parseInto(file, data, &p)
	if err != nil {
		return p, Errors{err.(*FieldError)}
	}
	d.noFiles = noFiles
	if p.Name == "" {
		p.Name = strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml")
	}
	p.Source = file
	p.check(d)
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
		return p, d.errs
	}
	return p, nil
}

// check fills derived defaults and records every impossible value in d.
func (p *Profile) check(d *decoder) {
	if p.Window <= 0 {
		d.errorf(nil, "window", "must be > 0, got %v", p.Window)
	}
	if _, err := lpsim.New(p.Sim); err != nil {
		d.errorf(nil, "sim", "%v", err)
	}
	if len(p.Targets) == 0 {
		p.Targets = []Target{{Name: "sim", CSDS: "sim"}}
	}
	names := map[string]int{}
	shared := 0 // targets that share the profile's load
	weights := 0
	for i := range p.Targets {
		t := &p.Targets[i]
		at := fmt.Sprintf("targets[%d]", i)
		p.checkTarget(d, at, t)
		if t.Name == "" {
			d.errorf(nil, at+".name", "is required")
		} else if first, dup := names[t.Name]; dup {
			d.errorf(nil, at+".name", "duplicate target name %q (also targets[%d])", t.Name, first)
		} else {
			names[t.Name] = i
		}
		if t.Load != nil {
			checkLoad(d, at+".load", t.Load)
			continue
		}
		shared++
		weights += max(t.Weight, 0)
	}
	if shared > 0 {
		checkLoad(d, "load", &p.Load)
		if weights == 0 {
			d.errorf(nil, "targets", "the weights of the targets that share the load sum to 0")
		}
	}
	p.checkJourney(d)
	p.checkWebhooks(d)
	p.checkOutputs(d)
	p.checkChecks(d)
	if !d.has("thresholds") {
		p.Thresholds = p.defaultThresholds()
	}
	for i := range p.Thresholds {
		th := &p.Thresholds[i]
		at := fmt.Sprintf("thresholds[%d]", i)
		parsed, err := report.ParseThreshold(th.Expr)
		if err != nil {
			d.errorf(nil, at, "%v", err)
		}
		th.Parsed = parsed
		if _, ok := names[th.Target]; th.Target != "" && !ok {
			d.errorf(nil, at+".target", "no target named %q", th.Target)
		}
		if th.AbortDelay < 0 {
			d.errorf(nil, at+".abort_delay", "must be ≥ 0, got %v", th.AbortDelay)
		}
	}
}

func (p *Profile) checkTarget(d *decoder, at string, t *Target) {
	if !d.has(at + ".weight") {
		t.Weight = 1
	}
	if t.Weight < 0 {
		d.errorf(nil, at+".weight", "must be ≥ 0, got %d", t.Weight)
	}
	if t.RequestTimeout < 0 {
		d.errorf(nil, at+".request_timeout", "must be ≥ 0, got %v", t.RequestTimeout)
	}
	if t.MaxRequestRate < 0 {
		d.errorf(nil, at+".max_request_rate", "must be ≥ 0, got %g", t.MaxRequestRate)
	}
	if t.Insecure && (t.Kind() == KindSim || strings.HasSuffix(hostOf(t.CSDSURL()), "liveperson.net")) {
		d.errorf(nil, at+".insecure", "certificate checks can be skipped only for a local target reached by https, not for %q", t.CSDS)
	}
	if t.CAFile != "" {
		checkCAFile(d, at, t)
	}
	checkRouting(d, at, t)
	switch t.Kind() {
	case KindSim:
		if t.Account == "" {
			t.Account = p.Sim.Accounts[0].ID
		}
		i := slices.IndexFunc(p.Sim.Accounts, func(a lpsim.Account) bool { return a.ID == t.Account })
		if i < 0 {
			ids := make([]string, len(p.Sim.Accounts))
			for k, a := range p.Sim.Accounts {
				ids[k] = a.ID
			}
			d.errorf(nil, at+".account", "the simulator has no account %q (it has %s)", t.Account, strings.Join(ids, ", "))
			return
		}
		if t.Region == "" {
			t.Region = p.Sim.Accounts[i].Region
		}
		if t.Name == "" {
			t.Name = "sim-" + t.Region
		}
	default:
		if t.Account == "" {
			d.errorf(nil, at+".account", "is required for a target that is not the embedded simulator")
		}
		if t.Kind() == KindLive && (t.ClientIDEnv == "" || t.ClientSecretEnv == "") {
			d.errorf(nil, at, "a live target needs client_id_env and client_secret_env (names of environment variables)")
		}
		if strings.HasPrefix(t.CSDS, "https://") || t.Kind() == KindLive {
			if _, err := parseHost(t.CSDSURL()); err != nil {
				d.errorf(nil, at+".csds", "%v", err)
			}
		}
	}
}

// checkCAFile checks a target's ca_file: for a target reached by https, without insecure, a
// readable PEM file holding a certificate. A relative path becomes one from the profile's
// directory.
func checkCAFile(d *decoder, at string, t *Target) {
	switch {
	case t.Insecure:
		d.errorf(nil, at+".ca_file", "use either ca_file (certificates verified against it) or insecure (not verified), not both")
		return
	case t.Kind() == KindSim || !strings.HasPrefix(t.CSDSURL(), "https://"):
		d.errorf(nil, at+".ca_file", "is for a target reached by https, not %q", t.CSDS)
		return
	case d.noFiles:
		return
	}
	if !filepath.IsAbs(t.CAFile) && d.file != "" {
		t.CAFile = filepath.Join(filepath.Dir(d.file), t.CAFile)
	}
	if _, err := LoadCAFile(t.CAFile); err != nil {
		d.errorf(nil, at+".ca_file", "%v", err)
	}
}

// LoadCAFile reads a PEM file of CA certificates into a pool; an unreadable file, or one with no
// certificate, is an error naming it.
func LoadCAFile(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

func checkLoad(d *decoder, at string, l *Load) {
	if len(l.Stages) == 0 {
		d.errorf(nil, at+".stages", "at least one stage is required")
	}
	var total float64
	for i, s := range l.Stages {
		sat := fmt.Sprintf("%s.stages[%d]", at, i)
		if s.Duration <= 0 {
			d.errorf(nil, sat+".duration", "must be > 0, got %v", s.Duration)
		}
		if s.Rate.From < 0 || s.Rate.To < 0 {
			d.errorf(nil, sat+".rate", "must be ≥ 0, got %s", fmtRate(s.Rate))
		}
		total += (s.Rate.From + s.Rate.To) / 2 * s.Duration.Seconds()
	}
	if len(l.Stages) > 0 && total < 1 && !hasErrorsUnder(d, at) {
		d.errorf(nil, at+".stages", "the stages plan no arrival (their rates integrate to %.3g)", total)
	}
	if total > 1e9 {
		d.errorf(nil, at+".stages", "the stages plan %.3g arrivals: more than 10⁹", total)
	}
	d.oneOf(at+".arrivals", l.Arrivals, ArrivalsUniform, ArrivalsPoisson)
	if l.MaxInFlight < 1 {
		d.errorf(nil, at+".max_in_flight", "must be ≥ 1, got %d", l.MaxInFlight)
	}
	d.oneOf(at+".when_full", l.WhenFull, WhenFullDrop, WhenFullQueue)
	if l.WhenFull == WhenFullQueue && !d.has(at+".max_lag") {
		l.MaxLag = 0 // a queue's waits are lag by design; a file may still bound them
	}
	if l.MaxLag < 0 || (l.MaxLag > 0 && l.MaxLag < minMaxLag) {
		d.errorf(nil, at+".max_lag", "must be 0 (no limit) or ≥ %v, got %v", minMaxLag, l.MaxLag)
	}
}

func hasErrorsUnder(d *decoder, at string) bool {
	for _, e := range d.errs {
		if strings.HasPrefix(e.Path, at) {
			return true
		}
	}
	return false
}

func fmtRate(r Rate) string {
	if r.From == r.To {
		return strconv.FormatFloat(r.From, 'g', -1, 64)
	}
	return strconv.FormatFloat(r.From, 'g', -1, 64) + " -> " + strconv.FormatFloat(r.To, 'g', -1, 64)
}

func (p *Profile) checkJourney(d *decoder) {
	j := &p.Journey
	d.oneOf("journey.lookup", j.Lookup, LookupCached, LookupPerConsumer)
	if !strings.Contains(j.ConsumerID, "{n}") || !strings.Contains(j.ConsumerID, "{run}") {
		d.errorf(nil, "journey.consumer_id", "must contain {run} and {n} so that every consumer id is unique, got %q", j.ConsumerID)
	}
	checkDelay(d, "journey.send_delay", j.SendDelay)
	var pe *lp.ProfileError
	if err := j.ConsumerProfile.Validate(); errors.As(err, &pe) {
		d.errorf(nil, "journey.consumer_profile."+pe.Key, "%s", pe.Msg)
	}
	if j.RequestTimeout <= 0 {
		d.errorf(nil, "journey.request_timeout", "must be > 0, got %v", j.RequestTimeout)
	}
	for i, s := range j.Retry.Steps {
		if _, ok := sample.ParseStep(s); !ok {
			d.errorf(nil, fmt.Sprintf("journey.retry.steps[%d]", i), "unknown step %q (steps: lookup, appjwt, consumerjws, create, send, close)", s)
		}
	}
	for class, r := range j.Retry.On {
		at := "journey.retry.on." + class
		if !slices.Contains(RetryableClasses, class) {
			d.errorf(nil, at, "cannot retry class %q (retryable: %s)", class, strings.Join(RetryableClasses, ", "))
		}
		if r.Retries < 0 || r.Retries > 10 {
			d.errorf(nil, at+".retries", "must be between 0 and 10, got %d", r.Retries)
		}
		if r.Backoff < 0 {
			d.errorf(nil, at+".backoff", "must be ≥ 0, got %v", r.Backoff)
		}
	}
}

func (p *Profile) checkWebhooks(d *decoder) {
	w := &p.Webhooks
	if p.Journey.AwaitAutoMessage < 0 {
		d.errorf(nil, "journey.await_auto_message", "must be ≥ 0, got %v", p.Journey.AwaitAutoMessage)
	}
	if !w.Enabled {
		return
	}
	if _, _, err := net.SplitHostPort(w.Listen); err != nil {
		d.errorf(nil, "webhooks.listen", "want host:port, got %q", w.Listen)
	}
	if w.Grace < 0 {
		d.errorf(nil, "webhooks.grace", "must be ≥ 0, got %v", w.Grace)
	}
	if w.PublicURL != "" {
		u, err := url.Parse(w.PublicURL)
		switch {
		case err == nil && u.User != nil:
			d.errorf(nil, "webhooks.public_url", "no user or password in the receiver's URL (it is written to every output), got %q", u.Redacted())
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			d.errorf(nil, "webhooks.public_url", "want an http(s) URL, got %q", redactUserinfo(w.PublicURL))
		}
	}
	if w.Relay != "" {
		if err := CheckRelayURL(w.Relay); err != nil {
			d.errorf(nil, "webhooks.relay", "%v", err)
		} else if w.PublicURL != "" {
			d.errorf(nil, "webhooks.relay", "set with webhooks.public_url: with a relay, LivePerson's webhook URL is the relay's (<relay public URL>/webhook/<target>), set in the app installation; remove public_url")
		}
	}
}

// CheckRelayURL accepts the base URL of a webhook relay: http(s), a host, no query or fragment,
// and no user or password: the URL is written to every output (summary, reports, result.json,
// the history) and registered with the simulator, so credentials in it would be too. An error
// never repeats a password.
func CheckRelayURL(raw string) error {
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		return fmt.Errorf("no user or password in the relay's URL (it is written to every output; the relay needs none), got %q", u.Redacted())
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("want the relay's base http(s) URL, e.g. http://lpbench-relay:8080, got %q", redactUserinfo(raw))
	}
	return nil
}

// redactUserinfo hides what lies between a URL's "//" and its last "@" before the path, for a
// URL url.Parse could not read.
func redactUserinfo(raw string) string {
	start := strings.Index(raw, "//")
	if start < 0 {
		return raw
	}
	rest := raw[start+2:]
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	return raw[:start+2] + "xxxxx" + rest[at:]
}

func (p *Profile) checkOutputs(d *decoder) {
	if o := p.Outputs; o.MetricsListen != "" {
		if err := CheckListen(o.MetricsListen); err != nil {
			d.errorf(nil, "outputs.metrics_listen", "%v", err)
		}
	}
	if p.Outputs.MetricsLinger < 0 {
		d.errorf(nil, "outputs.metrics_linger", "must be ≥ 0, got %v", p.Outputs.MetricsLinger)
	}
}

// CheckListen checks a listen address: host:port, the port a number from 0 to 65535 (0: a free
// one), the host a name or an IP address, or empty for every interface.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port (e.g. 127.0.0.1:9464 or :9464), got %q", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("want a port from 0 to 65535 in host:port, got %q", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("want a host name or IP address in host:port, got %q", addr)
	}
	return nil
}

// defaultThresholds judge the consumers of a profile that lists no thresholds (an explicit
// `thresholds: []` lists none): automsg.missing where auto messages are verified, window.not_in
// (timing alone, uncertain not good) where they are not, so that no run exits 0 while its
// consumers went unserved.
func (p *Profile) defaultThresholds() []Threshold {
	var verified, unverified bool
	for i := range p.Targets {
		if p.VerifiesAutoMessages(&p.Targets[i]) {
			verified = true
		} else {
			unverified = true
		}
	}
	var out []Threshold
	if verified {
		out = append(out, Threshold{Expr: "automsg.missing < 1%"})
	}
	if unverified {
		out = append(out, Threshold{Expr: "window.not_in < 1%"})
	}
	return out
}

// VerifiesAutoMessages reports whether the journeys of target t wait for their auto messages:
// the receiver is on and the target can reach it — a simulator always (lpbench registers the
// receiver with it: in process, or a standalone one over its control call, which reaches the
// receiver on this machine), LivePerson only through webhooks.public_url or a webhook relay
// (webhooks.relay, whose URL its app installation has).
func (p *Profile) VerifiesAutoMessages(t *Target) bool {
	return p.Webhooks.Enabled && p.Journey.AutoMessages && p.Journey.AwaitAutoMessage > 0 &&
		(t.Kind() != KindLive || p.Webhooks.PublicURL != "" || p.Webhooks.Relay != "")
}

// RetryableClasses are the failure classes a retry policy may name.
var RetryableClasses = []string{"rate_limited", "http_5xx", "timeout", "network", "auth", "protocol", "http_4xx"}

func checkDelay(d *decoder, at string, dl Delay) {
	if !d.oneOf(at+".dist", dl.Dist, "fixed", "uniform", "normal") {
		return
	}
	neg := func(key string, v time.Duration) {
		if v < 0 {
			d.errorf(nil, at+"."+key, "must be ≥ 0, got %v", v)
		}
	}
	switch dl.Dist {
	case "fixed":
		neg("value", dl.Value)
	case "uniform":
		neg("min", dl.Min)
		neg("max", dl.Max)
		if dl.Max < dl.Min {
			d.errorf(nil, at+".max", "must be ≥ min (%v), got %v", dl.Min, dl.Max)
		}
	case "normal":
		neg("mean", dl.Mean)
		neg("stddev", dl.StdDev)
	}
}

// CheckLive verifies what a run against live targets needs from the environment: every named
// credential variable is set. It returns nil when the profile has no live target.
func (p *Profile) CheckLive(getenv func(string) string) error {
	var errs []error
	for i, t := range p.Targets {
		if t.Kind() == KindSim {
			continue
		}
		for _, v := range []struct{ key, env string }{{"client_id_env", t.ClientIDEnv}, {"client_secret_env", t.ClientSecretEnv}} {
			if v.env != "" && getenv(v.env) == "" {
				errs = append(errs, fmt.Errorf("%s: targets[%d].%s: environment variable %s is not set", p.Source, i, v.key, v.env))
			}
		}
	}
	return errors.Join(errs...)
}

// HasLive reports whether the profile drives LivePerson itself.
func (p *Profile) HasLive() bool {
	return slices.ContainsFunc(p.Targets, func(t Target) bool { return t.Kind() == KindLive })
}

// hostOf returns the host name of a URL, or "".
func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return pu.Hostname()
}

// parseHost checks that u is an https URL with a host and nothing after it.
func parseHost(u string) (string, error) {
	pu, err := url.Parse(u)
	switch {
	case err != nil:
		return "", fmt.Errorf("not a URL: %q", u)
	case pu.Scheme != "https":
		return "", fmt.Errorf("LivePerson targets are reached over https, got %q", u)
	case pu.Host == "" || (pu.Path != "" && pu.Path != "/") || pu.RawQuery != "":
		return "", fmt.Errorf("want a host name such as api.liveperson.net, got %q", u)
	}
	return pu.Host, nil
}

func parseNum(s string, f *float64) bool {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	*f = v
	return true
}

// ParseSimConfig reads a standalone simulator's configuration (lpbench sim --config), strictly
// like a profile, over the simulator's defaults. Accounts it leaves without a client secret get
// one generated at start (and printed in the simulator's banner).
func ParseSimConfig(file string, data []byte) (lpsim.Config, error) {
	cfg := SimDefaults()
	d, err := parseInto(file, data, &cfg)
	if err != nil {
		return cfg, Errors{err.(*FieldError)}
	}
	if _, err := lpsim.New(cfg); err != nil {
		d.errorf(nil, "", "%v", err)
	}
	if len(d.errs) > 0 {
		return cfg, d.errs
	}
	return cfg, nil
}

// SimDefaults is the standalone simulator's default configuration: the default deployment with
// its client secrets left to be generated at start.
func SimDefaults() lpsim.Config {
	cfg := lpsim.DefaultConfig()
	for i := range cfg.Accounts {
		cfg.Accounts[i].ClientSecret = ""
	}
	return cfg
}
