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

// Endpoint names one simulated LivePerson operation: the unit of latency, capacity, rate-limit
// and fault configuration, and of request counting in the Ledger.
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

// Endpoints returns every simulated Endpoint, in a fixed order.
func Endpoints() []Endpoint { return slices.Clone(endpoints[:]) }

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
//
// Auto messages need both the AUTO_MESSAGES feature (AutoMessages) and the Controller Bot
// permission. The permission is on unless NoControllerBot is set, so that the zero value of the
// field keeps an account as LivePerson normally configures it.
//
// WebhookURL is the first endpoint of the app installation's webhooks (Connector API): every
// notification of the account, of every event type, is POSTed there (see [WebhookConfig]), and
// to every other endpoint registered at run time ([Sim.AddWebhook], POST /_lpsim/webhooks).
// Empty means none to begin with; [Sim.SetWebhook] replaces them all at run time.
//
// An empty ClientID becomes "lpbench-sim"; an empty ClientSecret is generated (random) by New.
// Secrets generated locally, here or by DefaultConfig, are printed by the standalone server
// ([Serve]); secrets given in the configuration never are.
type Account struct {
	ID              string `yaml:"id"`                // e.g. "12345678"
	Region          string `yaml:"region"`            // "va", "lo" or "sy"
	ClientID        string `yaml:"client_id"`         // the app's client id
	ClientSecret    string `yaml:"client_secret"`     // the app's client secret
	AutoMessages    bool   `yaml:"auto_messages"`     // AUTO_MESSAGES feature enabled for the account
	NoControllerBot bool   `yaml:"no_controller_bot"` // the app lacks the Controller Bot permission: no auto messages
	WebhookURL      string `yaml:"webhook_url"`       // the app installation's webhook endpoint, "http(s)://…"; "" = none
	// WebhookEvents are the event types the installation has a webhook for, by their
	// capabilities.webhooks names (WebhookEventTypes); empty = every type.
	WebhookEvents []string `yaml:"webhook_events"`
	// WebhookClientID and WebhookClientSecret, when set (both), make another app installation's
	// the webhooks: its client id in x-liveperson-client-id, its secret signing the deliveries.
	// Empty = the app's own (ClientID, ClientSecret). The secret is never printed.
	WebhookClientID     string `yaml:"webhook_client_id"`
	WebhookClientSecret string `yaml:"webhook_client_secret"`
	// Skills are the account's skill ids. nil (no list): a CONVERSATION's skillId is taken as it
	// is. A list (even empty): an id not in it goes to the default skill "-1" (see
	// [RouteSkill]), which is this simulator's assumption, since LivePerson does not document
	// what it does with an unknown skill.
	Skills []string `yaml:"skills"`

	generatedSecret bool // ClientSecret was generated locally, so it may be printed
}

// Config configures a Sim. Zero values select the documented defaults; every map is keyed by
// Endpoint (or region) and a missing key means "none": no latency, unlimited capacity, no rate
// limit, no faults.
//
// Field tags name the keys of a YAML configuration file; durations are time.Duration, which a
// YAML reader decodes from strings such as "10s".
type Config struct {
	Accounts []Account `yaml:"accounts"`
	// AppJWTLifetime is the lifetime of Sentinel AppJWTs; default 1h when zero.
	AppJWTLifetime time.Duration `yaml:"app_jwt_lifetime"`
	// ConsumerJWSLifetime is the lifetime of IdP ConsumerJWSs. Zero, the default, means they never
	// expire, as LivePerson documents; a positive value gives them an exp claim, and an expired
	// ConsumerJWS is refused with 401 errorCode 40103.
	ConsumerJWSLifetime time.Duration `yaml:"consumer_jws_lifetime"`
	// Window is the AUTO_MESSAGES window; default 10s when zero.
	Window time.Duration `yaml:"window"`
	// Latency is the service time of each endpoint.
	Latency map[Endpoint]Latency `yaml:"latency"`
	// RegionLatency is added to every response's latency for accounts of the region ("va", "lo",
	// "sy"): the network distance to that region. It does not occupy the endpoint's capacity.
	RegionLatency map[string]time.Duration `yaml:"region_latency"`
	// Capacity is what each endpoint serves before requests queue (shared by all accounts).
	Capacity map[Endpoint]ServiceLimit `yaml:"capacity"`
	// RateLimits are per account and endpoint: beyond them, requests are refused with 429.
	RateLimits map[Endpoint]RateLimit `yaml:"rate_limits"`
	// Faults are injected per endpoint with the given probabilities.
	Faults map[Endpoint]Faults `yaml:"faults"`
	// Stalls hold every response during the given windows of time since the Sim was created,
	// in addition to Sim.Stall.
	Stalls []StallWindow `yaml:"stalls"`
	// Webhooks is the delivery of the Connector API's notifications to the accounts' endpoints.
	Webhooks WebhookConfig `yaml:"webhooks"`
	// Seed seeds latency sampling, fault injection and webhook deliveries; 0 = time-based.
	Seed int64 `yaml:"seed"`
	// AllowRemote lets NewServerAt and Serve listen on an address that is not loopback.
	AllowRemote bool `yaml:"allow_remote"`
	// SingleHost serves every route on the one listening address, as before services had hosts
	// of their own: for a simulator reached through one port (a proxy, a port forward). By
	// default a Server gives Sentinel, the IdP and the messaging service a port each, and a
	// request to the wrong service's host is 404, as it is at LivePerson.
	SingleHost bool `yaml:"single_host"`
	// TLS makes a Server speak HTTPS on every host, as LivePerson does, with a certificate for
	// localhost, 127.0.0.1, ::1 and the listening host signed by a CA generated at start, whose
	// certificate (PEM) is written to TLSCAFile: clients verify against it (lpbench: a target's
	// ca_file, or --sim-ca). Webhook deliveries are not affected.
	TLS bool `yaml:"tls"`
	// TLSCAFile is where a TLS Server writes its CA certificate; "" = lpsim-ca.pem in a new
	// temporary directory, removed when the Server closes. The banner prints it. A file that
	// exists is replaced only when it is a CA certificate a simulator wrote; any other is
	// refused (CAFileError).
	TLSCAFile string `yaml:"tls_ca_file"`
	// LedgerConversations is how many of the most recent conversations the ledger keeps in
	// detail (Ledger.Conversations); default DefaultLedgerConversations when zero, -1 keeps
	// them all. Beyond it a conversation is forgotten once closed and its auto messages
	// delivered or dropped; open ones are always kept. The ledger's counters stay exact.
	LedgerConversations int `yaml:"ledger_conversations"`
}

// Defaults applied by New to zero fields of Config.
const (
	DefaultAppJWTLifetime = time.Hour
	DefaultWindow         = 10 * time.Second
	DefaultClientID       = "lpbench-sim"
	// DefaultLedgerConversations is the default Config.LedgerConversations: several times the
	// largest run a test compares with the ledger (a few thousand conversations), a 20 s run at
	// 1,000 conversations per second, and about 20 MB of detail.
	DefaultLedgerConversations = 20000
)

// DefaultConfig returns a ready-to-use configuration that looks like a healthy multi-region
// deployment: three accounts with AUTO_MESSAGES and the Controller Bot permission, "12345678" in
// va (first: lpbench drives Accounts[0]), "23456789" in lo and "34567890" in sy, each with its
// own client id and a client secret random per call; log-normal latencies per endpoint; region
// offsets of 0 (va), 25ms (lo) and 60ms (sy); capacities that put the knee of a ramp near 300
// conversations per second (CONVERSATION saturates first); and a Sentinel rate limit of 10
// tokens per second per account (burst 20, Retry-After 5s, LivePerson's advice for login
// calls). No faults, no stalls: those are for tests and robustness runs to add.
func DefaultConfig() Config {
	account := func(id, region, clientID string) Account {
		return Account{
			ID: id, Region: region, ClientID: clientID, ClientSecret: newSecret(),
			AutoMessages: true, generatedSecret: true,
		}
	}
	return Config{
		Accounts: []Account{
			account("12345678", "va", DefaultClientID),
			account("23456789", "lo", DefaultClientID+"-lo"),
			account("34567890", "sy", DefaultClientID+"-sy"),
		},
		AppJWTLifetime:      DefaultAppJWTLifetime,
		Window:              DefaultWindow,
		LedgerConversations: DefaultLedgerConversations,
		Latency: map[Endpoint]Latency{
			EndpointCSDS:        LogNormal(15*time.Millisecond, 60*time.Millisecond),
			EndpointAppJWT:      LogNormal(40*time.Millisecond, 150*time.Millisecond),
			EndpointConsumerJWS: LogNormal(35*time.Millisecond, 120*time.Millisecond),
			EndpointCreate:      LogNormal(90*time.Millisecond, 350*time.Millisecond),
			EndpointSend:        LogNormal(45*time.Millisecond, 180*time.Millisecond),
			EndpointClose:       LogNormal(40*time.Millisecond, 150*time.Millisecond),
		},
		RegionLatency: map[string]time.Duration{"va": 0, "lo": 25 * time.Millisecond, "sy": 60 * time.Millisecond},
		// Mean service times are about 1.2 × the median (σ ≈ 0.58), so the throughput of an
		// endpoint saturates near Concurrency / (1.2 × median): CONVERSATION at 32 / 107ms ≈ 300/s,
		// the others at 1,000/s or more.
		Capacity: map[Endpoint]ServiceLimit{
			EndpointCSDS:        {Concurrency: 256},
			EndpointAppJWT:      {Concurrency: 16},
			EndpointConsumerJWS: {Concurrency: 64},
			EndpointCreate:      {Concurrency: 32},
			EndpointSend:        {Concurrency: 64},
			EndpointClose:       {Concurrency: 64},
		},
		RateLimits: map[Endpoint]RateLimit{
			EndpointAppJWT: {Rate: 10, Burst: 20, RetryAfter: 5 * time.Second},
		},
		Webhooks: DefaultWebhookConfig(),
	}
}

// newSecret returns 32 random bytes in hex.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// Regions are the LivePerson regions an Account may be in.
var regions = []string{"va", "lo", "sy"}

// withDefaults validates c and returns a deep copy with the defaults applied, so the caller's
// slices and maps are never shared with a running Sim.
func (c Config) withDefaults() (Config, error) {
	if problems := c.problems(); len(problems) > 0 {
		return Config{}, errors.New("lpsim: invalid config: " + strings.Join(problems, "; "))
	}
	c.Accounts = slices.Clone(c.Accounts)
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.ClientID == "" {
			a.ClientID = DefaultClientID
		}
		if a.ClientSecret == "" {
			a.ClientSecret, a.generatedSecret = newSecret(), true
		}
	}
	c.Latency = cloneOrEmpty(c.Latency)
	c.RegionLatency = cloneOrEmpty(c.RegionLatency)
	c.Capacity = cloneOrEmpty(c.Capacity)
	c.RateLimits = cloneOrEmpty(c.RateLimits)
	c.Faults = cloneOrEmpty(c.Faults)
	c.Stalls = slices.Clone(c.Stalls)
	c.Webhooks = c.Webhooks.withDefaults()
	if c.AppJWTLifetime == 0 {
		c.AppJWTLifetime = DefaultAppJWTLifetime
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.LedgerConversations == 0 {
		c.LedgerConversations = DefaultLedgerConversations
	}
	return c, nil
}

// problems returns everything wrong with c, in a stable order. Every problem is reported at
// once, so a config file is fixed in one go.
func (c Config) problems() []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkAccounts(c.Accounts, bad)
	if c.AppJWTLifetime < 0 {
		bad("negative AppJWT lifetime %v", c.AppJWTLifetime)
	}
	if c.ConsumerJWSLifetime < 0 {
		bad("negative ConsumerJWS lifetime %v", c.ConsumerJWSLifetime)
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
	for _, r := range slices.Sorted(maps.Keys(c.RegionLatency)) {
		if !slices.Contains(regions, r) {
			bad("region latency: region %q is not one of %s", r, strings.Join(regions, ", "))
		} else if d := c.RegionLatency[r]; d < 0 {
			bad("region latency[%s]: negative %v", r, d)
		}
	}
	checkEach(c.Capacity, "capacity", bad, ServiceLimit.Validate)
	checkEach(c.RateLimits, "rate limits", bad, RateLimit.Validate)
	checkEach(c.Faults, "faults", bad, Faults.Validate)
	for i, w := range c.Stalls {
		if err := w.Validate(); err != nil {
			bad("stalls[%d]: %v", i, err)
		}
	}
	if err := c.Webhooks.Validate(); err != nil {
		bad("webhooks: %v", err)
	}
	if c.LedgerConversations < -1 {
		bad("ledger_conversations %d: give a count of conversations, or -1 to keep them all", c.LedgerConversations)
	}
	if c.TLSCAFile != "" && !c.TLS {
		bad("tls_ca_file %q without tls", c.TLSCAFile)
	}
	return problems
}

// checkAccounts reports to bad what is wrong with the accounts: none at all, an id that is
// empty, duplicate or not a URL path segment, an unknown region, a bad webhook URL.
func checkAccounts(accounts []Account, bad func(string, ...any)) {
	if len(accounts) == 0 {
		bad("no accounts")
	}
	seen := make(map[string]bool, len(accounts))
	for i, a := range accounts {
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
		if err := checkWebhookURL(a.WebhookURL); err != nil {
			bad("%s: %v", where, err)
		}
		checkWebhookInstallation(a, where, bad)
		for k, id := range a.Skills {
			if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }) {
				bad("%s.skills[%d]: want a skill id such as \"1234\", got %q", where, k, id)
			} else if slices.Index(a.Skills, id) < k {
				bad("%s.skills[%d]: duplicate skill %q", where, k, id)
			}
		}
	}
}

// checkEach validates every entry of a per-endpoint map, in endpoint order.
func checkEach[V any](m map[Endpoint]V, what string, bad func(string, ...any), validate func(V) error) {
	for _, e := range slices.Sorted(maps.Keys(m)) {
		if e.index() < 0 {
			bad("%s: unknown endpoint %q", what, e)
			continue
		}
		if err := validate(m[e]); err != nil {
			bad("%s[%s]: %v", what, e, err)
		}
	}
}

// cloneOrEmpty returns a copy of m, never nil.
func cloneOrEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return maps.Clone(m)
}
