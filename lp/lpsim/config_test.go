package lpsim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	good := Account{ID: "1", Region: "va", ClientID: "c", ClientSecret: "s"}
	with := func(f func(*Config)) Config {
		c := Config{Accounts: []Account{good}}
		f(&c)
		return c
	}
	account := func(f func(*Account)) Config {
		a := good
		f(&a)
		return Config{Accounts: []Account{a}}
	}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		// The minimal valid config.
		{"minimal", with(func(*Config) {}), ""},
		// The default config.
		{"default", DefaultConfig(), ""},
		// No accounts.
		{"no accounts", Config{}, "no accounts"},
		// Account ids are required, unique, and one path segment.
		{"empty id", account(func(a *Account) { a.ID = "" }), "empty id"},
		{"duplicate id", with(func(c *Config) { c.Accounts = append(c.Accounts, good) }), `duplicate id "1"`},
		{"slash in id", account(func(a *Account) { a.ID = "1/2" }), "single URL path segment"},
		// Skill ids are plain tokens, each once; an empty list is a list.
		{"skills", account(func(a *Account) { a.Skills = []string{"1234", "-1"} }), ""},
		{"empty skills", account(func(a *Account) { a.Skills = []string{} }), ""},
		{"empty skill", account(func(a *Account) { a.Skills = []string{""} }), `accounts[0].skills[0]: want a skill id such as "1234", got ""`},
		{"skill with a space", account(func(a *Account) { a.Skills = []string{"12 34"} }), `skills[0]: want a skill id`},
		{"duplicate skill", account(func(a *Account) { a.Skills = []string{"1", "2", "1"} }), `accounts[0].skills[2]: duplicate skill "1"`},
		// Regions are va, lo, sy.
		{"bad region", account(func(a *Account) { a.Region = "us" }), `region "us"`},
		// Credentials may be left out: they get defaults (TestConfigGeneratedCredentials).
		{"no client id", account(func(a *Account) { a.ClientID = "" }), ""},
		{"no secret", account(func(a *Account) { a.ClientSecret = "" }), ""},
		// Durations are not negative.
		{"negative lifetime", with(func(c *Config) { c.AppJWTLifetime = -time.Second }), "negative AppJWT lifetime"},
		{"negative jws lifetime", with(func(c *Config) { c.ConsumerJWSLifetime = -time.Second }), "negative ConsumerJWS lifetime"},
		{"negative window", with(func(c *Config) { c.Window = -time.Second }), "negative window"},
		// Latencies are for known endpoints with known distributions and sane parameters.
		{"unknown endpoint", with(func(c *Config) { c.Latency = map[Endpoint]Latency{"nope": Fixed(1)} }), `unknown endpoint "nope"`},
		{"unknown dist", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: {Dist: "gamma"}} }), `unknown latency distribution "gamma"`},
		{"negative fixed", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Fixed(-1)} }), "negative"},
		{"negative uniform", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Uniform(-1, 1)} }), "negative"},
		{"uniform inverted", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Uniform(2, 1)} }), "above max"},
		{"lognormal zero median", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: LogNormal(0, 1)} }), "median"},
		{"lognormal p99 below median", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: LogNormal(2, 1)} }), "below median"},
		// Region offsets are for known regions and not negative.
		{"unknown region offset", with(func(c *Config) { c.RegionLatency = map[string]time.Duration{"us": 1} }), `region latency: region "us"`},
		{"negative region offset", with(func(c *Config) { c.RegionLatency = map[string]time.Duration{"lo": -1} }), "region latency[lo]: negative"},
		// Capacities are for known endpoints, not negative.
		{"capacity endpoint", with(func(c *Config) { c.Capacity = map[Endpoint]ServiceLimit{"nope": {}} }), `capacity: unknown endpoint "nope"`},
		{"capacity concurrency", with(func(c *Config) { c.Capacity = map[Endpoint]ServiceLimit{EndpointCreate: {Concurrency: -1}} }), "capacity[create]: negative concurrency"},
		{"capacity rate", with(func(c *Config) { c.Capacity = map[Endpoint]ServiceLimit{EndpointCreate: {Rate: -1}} }), "capacity[create]: rate -1"},
		// Rate limits likewise.
		{"rate limit endpoint", with(func(c *Config) { c.RateLimits = map[Endpoint]RateLimit{"nope": {}} }), `rate limits: unknown endpoint "nope"`},
		{"rate limit rate", with(func(c *Config) { c.RateLimits = map[Endpoint]RateLimit{EndpointSend: {Rate: -2}} }), "rate limits[send]: rate -2"},
		{"rate limit burst", with(func(c *Config) { c.RateLimits = map[Endpoint]RateLimit{EndpointSend: {Rate: 1, Burst: -1}} }), "negative burst"},
		{"rate limit retry", with(func(c *Config) { c.RateLimits = map[Endpoint]RateLimit{EndpointSend: {Rate: 1, RetryAfter: -1}} }), "negative retry-after"},
		// Fault probabilities are in 0..1 and add up to at most 1.
		{"fault endpoint", with(func(c *Config) { c.Faults = map[Endpoint]Faults{"nope": {}} }), `faults: unknown endpoint "nope"`},
		{"fault probability", with(func(c *Config) { c.Faults = map[Endpoint]Faults{EndpointSend: {Reset: 1.5}} }), "faults[send]: reset probability 1.5"},
		{"fault sum", with(func(c *Config) { c.Faults = map[Endpoint]Faults{EndpointSend: {Error500: 0.6, Error503: 0.6}} }), "add up to 1.2"},
		{"fault all", with(func(c *Config) { c.Faults = map[Endpoint]Faults{EndpointSend: {Error500: 0.5, Malformed: 0.5}} }), ""},
		{"fault trickle", with(func(c *Config) { c.Faults = map[Endpoint]Faults{EndpointSend: {TrickleDelay: -1}} }), "negative trickle delay"},
		// Stall windows start at or after 0 and last.
		{"stall start", with(func(c *Config) { c.Stalls = []StallWindow{{At: -1, For: 1}} }), "stalls[0]: negative start"},
		{"stall length", with(func(c *Config) { c.Stalls = []StallWindow{{At: 1}} }), "stalls[0]: length 0s"},
		// Every problem is reported at once.
		{"several", Config{Accounts: []Account{{ID: "1", Region: "xx", ClientID: "c", ClientSecret: "s"}}, Window: -1}, `region "xx" is not one of va, lo, sy; negative window`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("New succeeded, want error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	a, b := DefaultConfig(), DefaultConfig()
	// Three regions, va first (lpbench drives Accounts[0]), all able to emit auto messages.
	var got []string
	for _, acc := range a.Accounts {
		got = append(got, acc.ID+"/"+acc.Region)
		if !acc.AutoMessages || acc.NoControllerBot {
			t.Errorf("account %s cannot emit auto messages: %+v", acc.ID, acc)
		}
		if !acc.generatedSecret {
			t.Errorf("account %s: secret not marked generated", acc.ID)
		}
	}
	if want := []string{"12345678/va", "23456789/lo", "34567890/sy"}; !reflect.DeepEqual(got, want) {
		t.Errorf("accounts = %v, want %v", got, want)
	}
	if got, want := a.RegionLatency, map[string]time.Duration{"va": 0, "lo": 25 * time.Millisecond, "sy": 60 * time.Millisecond}; !reflect.DeepEqual(got, want) {
		t.Errorf("region latency = %v, want %v", got, want)
	}
	if len(a.Faults) != 0 || len(a.Stalls) != 0 {
		t.Errorf("default config injects faults %v or stalls %v", a.Faults, a.Stalls)
	}
	if len(a.Capacity) != numEndpoints {
		t.Errorf("%d endpoint capacities, want %d", len(a.Capacity), numEndpoints)
	}
	acc := a.Accounts[0]
	if got, want := acc.ID, "12345678"; got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
	if got, want := acc.ClientID, "lpbench-sim"; got != want {
		t.Errorf("ClientID = %q, want %q", got, want)
	}
	if !acc.AutoMessages || acc.Region != "va" {
		t.Errorf("account = %+v, want AUTO_MESSAGES in va", acc)
	}
	if got, want := len(acc.ClientSecret), 64; got != want {
		t.Errorf("secret has %d hex characters, want %d", got, want)
	}
	if acc.ClientSecret == b.Accounts[0].ClientSecret {
		t.Errorf("two DefaultConfigs share the secret")
	}
	if got, want := len(a.Latency), numEndpoints; got != want {
		t.Errorf("%d endpoint latencies, want %d", got, want)
	}
	if a.Window != 10*time.Second || a.AppJWTLifetime != time.Hour {
		t.Errorf("window %v lifetime %v, want 10s 1h", a.Window, a.AppJWTLifetime)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Latency = map[Endpoint]Latency{EndpointSend: Fixed(time.Millisecond)}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	// Defaults are applied.
	if got.AppJWTLifetime != time.Hour || got.Window != 200*time.Millisecond {
		t.Errorf("lifetime %v window %v, want 1h 200ms", got.AppJWTLifetime, got.Window)
	}
	if !reflect.DeepEqual(got.Accounts, cfg.Accounts) {
		t.Errorf("accounts = %+v, want %+v", got.Accounts, cfg.Accounts)
	}
	// The caller's config is not shared with the Sim.
	cfg.Accounts[0].AutoMessages = false
	cfg.Latency[EndpointSend] = Fixed(time.Hour)
	if c := s.Config(); !c.Accounts[0].AutoMessages || c.Latency[EndpointSend] != Fixed(time.Millisecond) {
		t.Errorf("changing the caller's config changed the Sim: %+v", c)
	}
	// SetLatency shows in Config.
	s.SetLatency(EndpointCreate, Uniform(time.Millisecond, 2*time.Millisecond))
	if got, want := s.Config().Latency[EndpointCreate], Uniform(time.Millisecond, 2*time.Millisecond); got != want {
		t.Errorf("latency after SetLatency = %v, want %v", got, want)
	}
}

// TestConfigRoundTripModels: the load, limit and fault models come back from Config as given,
// share nothing with the caller's, and SetFaults shows in Config.
func TestConfigRoundTripModels(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.RegionLatency = map[string]time.Duration{"lo": time.Millisecond}
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCreate: {Concurrency: 3, Rate: 4}}
	cfg.RateLimits = map[Endpoint]RateLimit{EndpointSend: {Rate: 5, Burst: 6, RetryAfter: time.Second}}
	cfg.Faults = map[Endpoint]Faults{EndpointClose: {Reset: 0.5, TrickleDelay: time.Millisecond}}
	cfg.Stalls = []StallWindow{{At: time.Hour, For: time.Second}}
	cfg.ConsumerJWSLifetime = time.Minute
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if !reflect.DeepEqual(got.RegionLatency, cfg.RegionLatency) || !reflect.DeepEqual(got.Capacity, cfg.Capacity) ||
		!reflect.DeepEqual(got.RateLimits, cfg.RateLimits) || !reflect.DeepEqual(got.Faults, cfg.Faults) ||
		!reflect.DeepEqual(got.Stalls, cfg.Stalls) || got.ConsumerJWSLifetime != time.Minute {
		t.Errorf("Config() = %+v, want the models of %+v", got, cfg)
	}
	cfg.Capacity[EndpointCreate] = ServiceLimit{}
	cfg.Faults[EndpointClose] = Faults{}
	cfg.Stalls[0].At = 0
	if c := s.Config(); c.Capacity[EndpointCreate].Concurrency != 3 || c.Faults[EndpointClose].Reset != 0.5 || c.Stalls[0].At != time.Hour {
		t.Errorf("changing the caller's config changed the Sim: %+v", c)
	}
	s.SetFaults(EndpointClose, Faults{})
	s.SetFaults(EndpointCSDS, Faults{Error503: 0.25})
	if c := s.Config(); len(c.Faults) != 1 || c.Faults[EndpointCSDS].Error503 != 0.25 {
		t.Errorf("faults after SetFaults = %v", c.Faults)
	}
}

func TestSetLatencyPanics(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	tests := []struct {
		name string
		e    Endpoint
		l    Latency
	}{
		// Unknown endpoint.
		{"endpoint", "nope", Fixed(1)},
		// Invalid latency.
		{"latency", EndpointSend, Fixed(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SetLatency(%q, %v) did not panic", tt.e, tt.l)
				}
			}()
			s.SetLatency(tt.e, tt.l)
		})
	}
}

// TestConfigGeneratedCredentials: an account without credentials gets the default client id and a
// random secret, marked generated (so Serve may print it); given secrets are not marked.
func TestConfigGeneratedCredentials(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Accounts: []Account{
		{ID: "1", Region: "va"},
		{ID: "2", Region: "lo", ClientID: "mine", ClientSecret: "given"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	gen, given := s.Config().Accounts[0], s.Config().Accounts[1]
	if got, want := gen.ClientID, DefaultClientID; got != want {
		t.Errorf("client id = %q, want %q", got, want)
	}
	if len(gen.ClientSecret) != 64 || !gen.generatedSecret {
		t.Errorf("generated secret %q (generated %v): want 64 hex characters, marked", gen.ClientSecret, gen.generatedSecret)
	}
	if given.ClientID != "mine" || given.ClientSecret != "given" || given.generatedSecret {
		t.Errorf("given credentials changed: %+v", given)
	}
	// The generated secret works.
	st, b := call(t, s, "POST", sentinelPath("1"), "client_id="+DefaultClientID+"&client_secret="+gen.ClientSecret,
		"Content-Type", "application/x-www-form-urlencoded")
	if st != 200 {
		t.Errorf("AppJWT with the generated secret: %d %s", st, b)
	}
}

func TestSetFaultsPanics(t *testing.T) {
	t.Parallel()
	s, _ := newFakeSim(t, testConfig())
	tests := []struct {
		name string
		e    Endpoint
		f    Faults
	}{
		// Unknown endpoint.
		{"endpoint", "nope", Faults{}},
		// Probabilities adding up to more than 1.
		{"faults", EndpointSend, Faults{Error500: 0.7, Reset: 0.7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SetFaults(%q, %+v) did not panic", tt.e, tt.f)
				}
			}()
			s.SetFaults(tt.e, tt.f)
		})
	}
}
