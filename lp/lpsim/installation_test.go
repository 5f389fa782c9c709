package lpsim

import (
	"strings"
	"testing"
)

// TestWebhookEvents: an installation with a webhook for conversation changes only delivers the
// OPEN and CLOSE changes, neither the consumer's echo nor the auto message, and the ledger
// counts what it did not emit.
func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, nil)
	cfg := webhookConfig(rcv.URL)
	cfg.Accounts[0].WebhookEvents = []string{EventConversationChange}
	s, _ := newFakeSim(t, cfg)
	c := newConsumer(t, s, accA, "changes-only")
	_, _, id := c.create(t, true)
	c.send(t, id, true)
	c.close(t, id)
	led := settle(t, s)
	var types []string
	for _, d := range rcv.deliveries() {
		types = append(types, d.note.Type)
	}
	if want := []string{EventConversationChange, EventConversationChange}; strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("deliveries = %v, want %v", types, want)
	}
	if led.Webhooks.Unsubscribed != 2 { // the echo and the one auto message
		t.Errorf("unsubscribed = %d, want 2 (%+v)", led.Webhooks.Unsubscribed, led.Webhooks)
	}
}

// TestWebhookOtherInstallation: deliveries of an account whose webhooks are another
// installation's carry its client id and are signed with its secret, not the app's.
func TestWebhookOtherInstallation(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, nil)
	rcv.secrets[accA] = "other-secret"
	cfg := webhookConfig(rcv.URL)
	cfg.Accounts[0].WebhookClientID, cfg.Accounts[0].WebhookClientSecret = "other-app", "other-secret"
	s, _ := newFakeSim(t, cfg)
	c := newConsumer(t, s, accA, "other")
	_, _, id := c.create(t, true)
	c.send(t, id, true)
	settle(t, s)
	got := rcv.deliveries()
	rcv.mu.Lock()
	bad := rcv.badSig
	rcv.mu.Unlock()
	if len(got) == 0 || bad != 0 {
		t.Fatalf("%d deliveries signed with the other secret, %d not", len(got), bad)
	}
	for _, d := range got {
		if d.client != "other-app" {
			t.Errorf("x-liveperson-client-id = %q, want other-app", d.client)
		}
	}
}

// TestWebhookInstallationConfig: unknown or repeated event types and a signing client id
// without its secret are refused, naming the account.
func TestWebhookInstallationConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Account)
		want string
	}{
		{"unknown event", func(a *Account) { a.WebhookEvents = []string{"ContentEvent"} }, `accounts[0]: webhook_events[0]: unknown event type "ContentEvent"`},
		{"twice", func(a *Account) { a.WebhookEvents = []string{EventContent, EventContent} }, `webhook_events[1]: "` + EventContent + `" is listed twice`},
		{"id alone", func(a *Account) { a.WebhookClientID = "x" }, "accounts[0]: webhook_client_id and webhook_client_secret go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.edit(&cfg.Accounts[0])
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}
