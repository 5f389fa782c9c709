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
		// Regions are va, lo, sy.
		{"bad region", account(func(a *Account) { a.Region = "us" }), `region "us"`},
		// Credentials are required.
		{"no client id", account(func(a *Account) { a.ClientID = "" }), "empty client id"},
		{"no secret", account(func(a *Account) { a.ClientSecret = "" }), "empty client secret"},
		// Durations are not negative.
		{"negative lifetime", with(func(c *Config) { c.AppJWTLifetime = -time.Second }), "negative AppJWT lifetime"},
		{"negative window", with(func(c *Config) { c.Window = -time.Second }), "negative window"},
		// Latencies are for known endpoints with known distributions and sane parameters.
		{"unknown endpoint", with(func(c *Config) { c.Latency = map[Endpoint]Latency{"nope": Fixed(1)} }), `unknown endpoint "nope"`},
		{"unknown dist", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: {Dist: "gamma"}} }), `unknown latency distribution "gamma"`},
		{"negative fixed", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Fixed(-1)} }), "negative"},
		{"negative uniform", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Uniform(-1, 1)} }), "negative"},
		{"uniform inverted", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: Uniform(2, 1)} }), "above max"},
		{"lognormal zero median", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: LogNormal(0, 1)} }), "median"},
		{"lognormal p99 below median", with(func(c *Config) { c.Latency = map[Endpoint]Latency{EndpointSend: LogNormal(2, 1)} }), "below median"},
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
