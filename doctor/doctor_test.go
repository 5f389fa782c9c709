package doctor

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/relay"
)

// The secrets of the test accounts: the output must never show them.
const (
	appSecret   = "app-secret-7f3a91c0"
	otherSecret = "other-secret-5be2d417"
)

// textOf writes each line of the checklist to out, as `STATUS check: seen`, then its fix and
// paste block (render.DoctorLine writes them for the command); a header as `target NAME`.
func textOf(out *strings.Builder) func(Event) {
	return func(e Event) {
		if h := e.Header; h != nil {
			fmt.Fprintf(out, "target %s: account %s, domain API %s\n", h.Name, h.Account, h.Domain)
			return
		}
		fmt.Fprintf(out, "%s %s: %s\n     fix: %s\n%s\n", e.Line.Status, e.Line.Check, e.Line.Seen, e.Line.Fix, e.Line.Paste)
	}
}

// simConfig is a quick simulator: one account with AUTO_MESSAGES, no latency, fast webhooks.
func simConfig() lpsim.Config {
	cfg := lpsim.Config{Accounts: []lpsim.Account{{ID: "12345678", Region: "va", ClientID: "app-1", ClientSecret: appSecret, AutoMessages: true}}}
	cfg.Webhooks.Latency = lpsim.Fixed(time.Millisecond)
	return cfg
}

// check runs doctor on the smoke profile against a simulator of cfg, waiting at most await for
// the notifications, and returns whether every check passed and the output.
func check(t *testing.T, cfg lpsim.Config, await time.Duration, skill string) (bool, string) {
	t.Helper()
	return checkVia(t, cfg, await, skill, "")
}

// checkVia is check with the receiver subscribed to the webhook relay at relayURL ("": none).
func checkVia(t *testing.T, cfg lpsim.Config, await time.Duration, skill, relayURL string) (bool, string) {
	t.Helper()
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	p, err := profiles.Open("smoke")
	if err != nil {
		t.Fatal(err)
	}
	p.Journey.AwaitAutoMessage = await
	p.Webhooks.Relay = relayURL
	var out strings.Builder
	o := Options{Engine: engine.Options{Sim: sim}, SendDelay: 50 * time.Millisecond,
		Skill: func(profiles.Target) string { return skill }, Emit: textOf(&out)}
	ok, err := Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, secret := range []string{appSecret, otherSecret, "eyJ"} { // eyJ: the start of every JWT
		if strings.Contains(out.String(), secret) {
			t.Errorf("the output shows a secret (%q):\n%s", secret, out.String())
		}
	}
	if cv := sim.Ledger().Conversations; len(cv) != 1 || !cv[0].Closed {
		t.Errorf("conversations left by doctor: %+v, want one, closed", cv)
	}
	return ok, out.String()
}

// TestHealthy: a default simulator passes every check, the routing asked for included.
func TestHealthy(t *testing.T) {
	t.Parallel()
	ok, out := check(t, simConfig(), 5*time.Second, "-1")
	if !ok || strings.Contains(out, "FAIL") {
		t.Fatalf("a check failed against a healthy simulator:\n%s", out)
	}
	for _, want := range []string{
		"PASS csds: sentinel at ", "PASS csds: idp at ", "PASS csds: asyncMessagingEnt at ",
		"PASS appjwt: credentials accepted (client id app-1); token for account 12345678, client app-1, scope msg.consumer",
		"PASS consumerjws: issued for lpbench-doctor-", "PASS clock: ", "PASS conversation: created ",
		"PASS send: first message accepted", "PASS webhooks: ", "PASS auto-message: arrived",
		"PASS routing: the conversation landed on skill -1, as asked", "PASS close: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestDiagnoses: each misconfiguration of the account or its installation fails with the line
// that names its cause and remedy.
func TestDiagnoses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*lpsim.Config)
		skill string
		want  []string
	}{
		{"deliveries lost", func(c *lpsim.Config) { c.Webhooks.Loss = 1 }, "", []string{
			"FAIL webhooks: nothing arrived in 1s after the first SEND",
			"fix: the webhook path: the app installation's webhooks (client id app-1) do not reach this receiver; set its capabilities.webhooks to http://127.0.0.1:",
			`"ms.MessagingEventNotification.ContentEvent": {`, `"endpoint": "http://127.0.0.1:`, "SKIP auto-message:"}},
		{"another installation", func(c *lpsim.Config) {
			c.Accounts[0].WebhookClientID, c.Accounts[0].WebhookClientSecret = "other-app", otherSecret
		}, "", []string{
			"FAIL webhooks: 3 notifications with a signature client id app-1's secret does not make, from x-liveperson-client-id other-app, while its AppJWT works",
			"fix: the webhooks come from another app installation (other-app)"}},
		{"no ContentEvent webhook", func(c *lpsim.Config) {
			c.Accounts[0].WebhookEvents = []string{lpsim.EventConversationChange}
		}, "", []string{
			"FAIL webhooks: 1 conversation changes arrived, but no ContentEvent at all, not even the consumer's own echo",
			"fix: the app installation has no ms.MessagingEventNotification.ContentEvent webhook"}},
		{"auto messages off", func(c *lpsim.Config) { c.Accounts[0].AutoMessages = false }, "", []string{
			"PASS webhooks: ", "FAIL auto-message: the consumer's echo arrived, no auto message in 1s",
			"fix: AUTO_MESSAGES is not enabled for account 12345678, or the Controller Bot permission is missing, or no automatic message is configured for a new conversation",
			"ask the account team / Customer Success Manager"}},
		{"no Controller Bot permission", func(c *lpsim.Config) { c.Accounts[0].NoControllerBot = true }, "", []string{
			"FAIL auto-message: the consumer's echo arrived, no auto message", "Controller Bot permission is missing"}},
		{"another skill", func(*lpsim.Config) {}, "1234", []string{
			"PASS auto-message: ", "FAIL routing: the conversation landed on skill -1, not on skill 1234 as asked",
			"fix: routing: check the target's skill id 1234 against the account's skills"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := simConfig()
			tc.edit(&cfg)
			ok, out := check(t, cfg, time.Second, tc.skill)
			if ok {
				t.Errorf("every check passed:\n%s", out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
		})
	}
}

// TestBadCredentials: credentials Sentinel refuses fail the AppJWT check, name what to do, skip
// what needs a token, and never show the secret given.
func TestBadCredentials(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(simConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	f := filepath.Join(t.TempDir(), "p.yaml")
	body := "name: wrong\ntargets:\n  - name: brand\n    account: \"12345678\"\n    csds: " + sim.URL +
		"\n    client_id_env: DOCTOR_ID\n    client_secret_env: DOCTOR_SECRET\n"
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DOCTOR_ID": "app-1", "DOCTOR_SECRET": "wrong-secret-0c9e"}
	var out strings.Builder
	ok, err := Run(context.Background(), p, Options{Engine: engine.Options{Getenv: func(k string) string { return env[k] }}, Emit: textOf(&out)})
	if err != nil || ok {
		t.Fatalf("Run = %v, %v; want a failed check", ok, err)
	}
	for _, want := range []string{
		"PASS csds: sentinel at ", "FAIL appjwt: no AppJWT for client id app-1",
		"fix: Sentinel refused the client credentials", "SKIP consumerjws: not run: appjwt failed", "SKIP close: not run: appjwt failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "wrong-secret-0c9e") || strings.Contains(out.String(), appSecret) {
		t.Errorf("the output shows a secret:\n%s", out.String())
	}
	if n := len(sim.Ledger().Conversations); n != 0 {
		t.Errorf("%d conversations created", n)
	}
}

// TestThroughRelay: with a webhook relay the notifications reach doctor through it, are judged
// the same, and the capabilities.webhooks to paste name the relay's URL.
func TestThroughRelay(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(relay.New(relay.Config{}).Handler())
	t.Cleanup(srv.Close)
	if ok, out := checkVia(t, simConfig(), 5*time.Second, "", srv.URL); !ok || !strings.Contains(out, "PASS auto-message: arrived") {
		t.Errorf("a check failed through the relay:\n%s", out)
	}
	cfg := simConfig()
	cfg.Accounts[0].WebhookClientID, cfg.Accounts[0].WebhookClientSecret = "other-app", otherSecret
	ok, out := checkVia(t, cfg, time.Second, "", srv.URL)
	for _, want := range []string{"from x-liveperson-client-id other-app", `"endpoint": "` + srv.URL + `/webhook/sim"`} {
		if ok || !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
