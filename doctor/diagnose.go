package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/profiles"
)

// webhooks waits for the conversation's notifications and tells from what arrived whether a
// run would see its auto messages, and if not, why.
func (tc *targetCheck) webhooks(id string, sent time.Time) {
	url, t := tc.pt.WebhookURL, tc.client.Target()
	if url == "" {
		tc.noReceiver()
		return
	}
	await := tc.p.Journey.AwaitAutoMessage
	autoAt := tc.in.await(id, await)
	s := tc.in.snap(id)
	got := s.conv.changes + s.conv.echoes + s.conv.content
	paste := capabilities(url)
	switch {
	case s.total == 0:
		tc.c.add(Line{Status: Fail, Check: "webhooks", Paste: paste,
			Seen: fmt.Sprintf("nothing arrived in %s after the first SEND: no conversation change, no echo, no auto message", await),
			Fix: fmt.Sprintf("the webhook path: the app installation's webhooks (client id %s) do not reach this receiver%s; set its capabilities.webhooks to %s, reachable from LivePerson:",
				t.ClientID, viaRelay(tc.p), url)})
	case got == 0 && s.badSig > 0:
		tc.c.add(Line{Status: Fail, Check: "webhooks", Paste: paste,
			Seen: fmt.Sprintf("%d notifications with a signature client id %s's secret does not make, from x-liveperson-client-id %s, while its AppJWT works",
				s.badSig, t.ClientID, strings.Join(s.badSigIDs, ", ")),
			Fix: fmt.Sprintf("the webhooks come from another app installation (%s): point this installation's (client id %s) capabilities.webhooks here and the other's elsewhere, or give this target the other installation's credentials:",
				strings.Join(s.badSigIDs, ", "), t.ClientID)})
	case got == 0:
		tc.c.add(Line{Status: Fail, Check: "webhooks", Paste: paste,
			Seen: fmt.Sprintf("%d notifications arrived in %s, none for this conversation", s.total, await),
			Fix:  fmt.Sprintf("this receiver hears another account's or another app's conversations, not this target's: set the capabilities.webhooks of client id %s's installation to:", t.ClientID)})
	case s.conv.echoes+s.conv.content == 0:
		tc.c.add(Line{Status: Fail, Check: "webhooks", Paste: paste,
			Seen: fmt.Sprintf("%d conversation changes arrived, but no ContentEvent at all, not even the consumer's own echo", s.conv.changes),
			Fix:  "the app installation has no ms.MessagingEventNotification.ContentEvent webhook: add it (auto messages come as ContentEvents), e.g.:"})
	default:
		tc.webhooksSeen(s)
	}
	tc.autoMessage(s, sent, autoAt, await)
	tc.routing(s)
}

// webhooksSeen is the line of a webhook path that works: what arrived for the conversation.
func (tc *targetCheck) webhooksSeen(s snapshot) {
	seen := fmt.Sprintf("for this conversation: %d conversation changes, %d consumer echoes, %d auto messages", s.conv.changes, s.conv.echoes, s.conv.content)
	if s.badSig > 0 {
		seen += fmt.Sprintf("; %d notifications badly signed, from %s", s.badSig, strings.Join(s.badSigIDs, ", "))
	}
	if s.conv.changes == 0 {
		tc.c.add(Line{Status: Warn, Check: "webhooks", Seen: seen, Paste: capabilities(tc.pt.WebhookURL),
			Fix: "no conversation change arrived: the installation has no cqm.ExConversationChangeNotification webhook, which tells the skill a conversation landed on; add it:"})
		return
	}
	tc.c.pass("webhooks", "%s", seen)
}

// autoMessage judges the auto message: the echo without it points at the account's set-up.
func (tc *targetCheck) autoMessage(s snapshot, sent, autoAt time.Time, await time.Duration) {
	switch {
	case !autoAt.IsZero():
		tc.c.pass("auto-message", "arrived %.2fs after the first SEND", autoAt.Sub(sent).Seconds())
	case s.conv.echoes > 0:
		tc.c.fail("auto-message", fmt.Sprintf("the consumer's echo arrived, no auto message in %s", await),
			fmt.Sprintf("AUTO_MESSAGES is not enabled for account %s, or the Controller Bot permission is missing, or no automatic message is configured for a new conversation (Campaign Builder → Automatic Messages): ask the account team / Customer Success Manager",
				tc.client.Target().Account))
	default:
		tc.c.skip("auto-message", "nothing to judge it by: the webhooks above")
	}
}

// routing compares the skill the conversation landed on (conversationDetails.skillId of its
// changes) with the one asked for.
func (tc *targetCheck) routing(s snapshot) {
	var want string
	if tc.o.Skill != nil {
		want = tc.o.Skill(tc.pt.Profile)
	}
	switch {
	case want == "":
		tc.c.skip("routing", "no skill asked for")
	case s.conv.changes == 0:
		tc.c.add(Line{Status: Warn, Check: "routing", Seen: fmt.Sprintf("skill %s asked for, but no conversation change arrived to tell where the conversation landed", want)})
	case slices.ContainsFunc(s.conv.skills, func(k string) bool { return k != want }):
		tc.c.fail("routing", fmt.Sprintf("the conversation landed on skill %s, not on skill %s as asked", strings.Join(s.conv.skills, ", "), want),
			fmt.Sprintf("routing: check the target's skill id %s against the account's skills (an id it does not route goes to its default routing); use a dedicated test skill with a bot and no human agents", want))
	default:
		tc.c.pass("routing", "the conversation landed on skill %s, as asked", want)
	}
}

// noReceiver is the webhooks line of a target without a receiver: a live target needs one to
// see its auto messages; a simulator target only does not check them.
func (tc *targetCheck) noReceiver() {
	if tc.pt.Profile.Kind() == profiles.KindLive {
		tc.c.fail("webhooks", "no webhook receiver: the profile gives LivePerson no URL to reach it (webhooks.public_url or webhooks.relay), so a run cannot see auto messages",
			"set webhooks.public_url to a URL LivePerson reaches this machine's webhooks.listen at, or webhooks.relay to a webhook relay, then run doctor again: it prints the capabilities.webhooks to paste")
	} else {
		tc.c.skip("webhooks", "the profile does not verify auto messages (webhooks.enabled, journey.auto_messages, journey.await_auto_message)")
	}
	tc.c.skip("auto-message", "no webhook receiver")
	tc.c.skip("routing", "no webhook receiver")
}

// viaRelay names the relay, when the receiver listens through one.
func viaRelay(p profiles.Profile) string {
	if p.Webhooks.Relay != "" {
		return " (through the relay " + p.Webhooks.Relay + ")"
	}
	return ""
}
