package lpsim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Endpoint names one simulated LivePerson operation: the unit of latency configuration and of
// request counting in the Ledger.
type Endpoint string

// The simulated endpoints.
const (
	EndpointCSDS        Endpoint = "csds"        // both CSDS forms
	EndpointAppJWT      Endpoint = "appjwt"      // Sentinel token
	EndpointConsumerJWS Endpoint = "consumerjws" // IdP consumer
	EndpointCreate      Endpoint = "create"      // CONVERSATION
	EndpointSend        Endpoint = "send"        // SEND with ms.PublishEvent (and other events)
	EndpointClose       Endpoint = "close"       // SEND endpoint with cm.UpdateConversationField CLOSE
)

// endpoints lists every Endpoint; an Endpoint's position here is its index in the Sim's
// per-endpoint arrays.
var endpoints = [...]Endpoint{
	EndpointCSDS, EndpointAppJWT, EndpointConsumerJWS, EndpointCreate, EndpointSend, EndpointClose,
}

const numEndpoints = len(endpoints)

// index returns e's position in endpoints, or -1 when e is not a known endpoint.
func (e Endpoint) index() int {
	switch e {
	case EndpointCSDS:
		return 0
	case EndpointAppJWT:
		return 1
	case EndpointConsumerJWS:
		return 2
	case EndpointCreate:
		return 3
	case EndpointSend:
		return 4
	case EndpointClose:
		return 5
	}
	return -1
}

// Account is one simulated LivePerson account (brand) and the credentials of its one installed app.
type Account struct {
	ID           string // e.g. "12345678"
	Region       string // "va", "lo" or "sy"
	ClientID     string
	ClientSecret string
	AutoMessages bool // AUTO_MESSAGES feature enabled for the account
}

// Config configures a Sim. The zero values of AppJWTLifetime and Window select their defaults.
type Config struct {
	Accounts       []Account
	AppJWTLifetime time.Duration        // default 1h when zero
	Window         time.Duration        // default 10s when zero: the AUTO_MESSAGES window
	Latency        map[Endpoint]Latency // per endpoint service time; missing = zero
	Seed           int64                // latency randomness; 0 = time-based
}

// Defaults applied by New to zero fields of Config.
const (
	DefaultAppJWTLifetime = time.Hour
	DefaultWindow         = 10 * time.Second
)

// DefaultConfig returns a ready-to-use configuration: one account "12345678" in region "va" with
// AUTO_MESSAGES enabled, client id "lpbench-sim" and a client secret random per call, and
// log-normal latencies per endpoint resembling a healthy LivePerson region.
func DefaultConfig() Config {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand panics instead)
	return Config{
		Accounts: []Account{{
			ID:           "12345678",
			Region:       "va",
			ClientID:     "lpbench-sim",
			ClientSecret: hex.EncodeToString(secret),
			AutoMessages: true,
		}},
		AppJWTLifetime: DefaultAppJWTLifetime,
		Window:         DefaultWindow,
		Latency: map[Endpoint]Latency{
			EndpointCSDS:        LogNormal(15*time.Millisecond, 60*time.Millisecond),
			EndpointAppJWT:      LogNormal(40*time.Millisecond, 150*time.Millisecond),
			EndpointConsumerJWS: LogNormal(35*time.Millisecond, 120*time.Millisecond),
			EndpointCreate:      LogNormal(90*time.Millisecond, 350*time.Millisecond),
			EndpointSend:        LogNormal(45*time.Millisecond, 180*time.Millisecond),
			EndpointClose:       LogNormal(40*time.Millisecond, 150*time.Millisecond),
		},
	}
}

// regions are the LivePerson regions an Account may be in.
var regions = []string{"va", "lo", "sy"}

// withDefaults validates c and returns a deep copy with the defaults applied, so the caller's
// slices and maps are never shared with a running Sim.
func (c Config) withDefaults() (Config, error) {
	// Every problem is reported at once, so a config file is fixed in one go.
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(c.Accounts) == 0 {
		bad("no accounts")
	}
	seen := make(map[string]bool, len(c.Accounts))
	for i, a := range c.Accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.ID == "":
			bad("%s: empty id", where)
		case strings.ContainsAny(a.ID, "/?#% "):
			bad("%s: id %q is not a single URL path segment", where, a.ID)
		case seen[a.ID]:
			bad("%s: duplicate id %q", where, a.ID)
		}
		seen[a.ID] = true
		if !slices.Contains(regions, a.Region) {
			bad("%s: region %q is not one of %s", where, a.Region, strings.Join(regions, ", "))
		}
		if a.ClientID == "" {
			bad("%s: empty client id", where)
		}
		if a.ClientSecret == "" {
			bad("%s: empty client secret", where)
		}
	}
	if c.AppJWTLifetime < 0 {
		bad("negative AppJWT lifetime %v", c.AppJWTLifetime)
	}
	if c.Window < 0 {
		bad("negative window %v", c.Window)
	}
	// Sorted, so the error message is stable.
	for _, e := range slices.Sorted(maps.Keys(c.Latency)) {
		if e.index() < 0 {
			bad("latency: unknown endpoint %q", e)
			continue
		}
		if err := c.Latency[e].Validate(); err != nil {
			bad("latency[%s]: %v", e, err)
		}
	}
	if len(problems) > 0 {
		return Config{}, errors.New("lpsim: invalid config: " + strings.Join(problems, "; "))
	}

	c.Accounts = slices.Clone(c.Accounts)
	c.Latency = maps.Clone(c.Latency)
	if c.Latency == nil {
		c.Latency = map[Endpoint]Latency{}
	}
	if c.AppJWTLifetime == 0 {
		c.AppJWTLifetime = DefaultAppJWTLifetime
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	return c, nil
}
