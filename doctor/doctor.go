// Package doctor is lpbench's preflight: before a run spends its conversations, it checks each
// target of a profile in the order a journey needs it — the domain API (CSDS) for every service
// the journey uses, the AppJWT (and the token's account and scope), a ConsumerJWS, the clock
// offset read from the Date header — then drives one journey with the Client-Properties header
// (CONVERSATION, the first SEND about a second later, a wait for the notifications, a close) and
// tells from what the webhooks brought why auto messages would not be seen: the webhook path,
// another installation's signature, no ContentEvent webhook, the account's AUTO_MESSAGES set-up,
// or routing to another skill.
//
// It owns the checklist (PASS, FAIL, WARN, SKIP lines with what was seen, and what to do for
// each FAIL) and the diagnosis, told as they come (Options.Emit; render.DoctorLine writes them). It sets
// nothing up itself: engine.Preflight builds the clients and starts and registers the webhook
// receivers exactly as a run does. It must not know the command line, exit codes or where the
// profile came from, prints nothing, and never tells a secret.
package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/profiles"
)

// Options configure a check.
type Options struct {
	// Engine sets up the targets as a run: SimURL, SimCA, Sim and Getenv are read.
	Engine engine.Options
	// SendDelay is the time from the CONVERSATION request to the first SEND (default 1 s).
	SendDelay time.Duration
	// Skill returns the skill id target t's conversations must land on; "" (or a nil Skill)
	// leaves routing unchecked.
	Skill func(t profiles.Target) string
	// Emit receives the checklist as it goes (render.DoctorHeader and DoctorLine write it); nil drops it.
	Emit func(Event)
}

// DefaultSendDelay is the time from the CONVERSATION request to the first SEND: well inside the
// window, as a consumer who types at once.
const DefaultSendDelay = time.Second

// Run checks every target of p, telling the checklist to o.Emit, and reports whether every check
// passed (WARN and SKIP allowed). An error means the checks could not start (an
// *engine.InputError when the profile or the options are to blame).
func Run(ctx context.Context, p profiles.Profile, o Options) (bool, error) {
	if o.Emit == nil {
		o.Emit = func(Event) {}
	}
	if o.SendDelay <= 0 {
		o.SendDelay = DefaultSendDelay
	}
	boxes := make([]*inbox, len(p.Targets))
	for i := range boxes {
		boxes[i] = newInbox()
	}
	pf, err := engine.NewPreflight(p, o.Engine, func(d engine.Delivery) {
		if d.Target >= 0 && d.Target < len(boxes) {
			boxes[d.Target].add(d)
		}
	})
	if err != nil {
		return false, err
	}
	defer pf.Close()
	ok := true
	for i, pt := range pf.Targets {
		boxes[i].setSecret(pt.Client.Target().ClientSecret)
		tc := &targetCheck{p: p, pt: pt, in: boxes[i], o: o, c: &checklist{emit: o.Emit}}
		tc.run(ctx, i)
		ok = ok && !tc.c.failed()
	}
	return ok, nil
}

// targetCheck is the check of one target.
type targetCheck struct {
	p      profiles.Profile
	pt     engine.PreflightTarget
	in     *inbox
	o      Options
	c      *checklist
	client *lp.Client
}

// checkNames are the checks of a target, in order.
var checkNames = []string{"csds", "appjwt", "consumerjws", "clock", "conversation", "send", "webhooks", "auto-message", "routing", "close"}

// run tells the header of target number i and its checklist.
func (tc *targetCheck) run(ctx context.Context, i int) {
	tc.client = tc.pt.Client
	t := tc.client.Target()
	tc.c.emit(Event{Header: &Header{Index: i, Name: tc.pt.Profile.Name, Account: t.Account, Domain: t.CSDS}})
	d, ok := tc.domains(ctx)
	if !ok {
		tc.skip("csds", checkNames[1:]...)
		return
	}
	jwt, ok := tc.appJWT(ctx, d)
	if !ok {
		tc.skip("appjwt", checkNames[2:]...)
		return
	}
	ext := "lpbench-doctor-" + randomHex()
	jws, err := tc.client.ConsumerJWS(ctx, d, jwt, ext)
	if err != nil {
		tc.c.fail("consumerjws", fmt.Sprintf("the IdP refused a ConsumerJWS for %s: %v", ext, err),
			"the app installation must be allowed to act for consumers (Connector API, scope msg.consumer); check the installation with the account's admin")
		tc.skip("consumerjws", checkNames[3:]...)
		return
	}
	tc.c.pass("consumerjws", "issued for %s", ext)
	tc.clock(ctx)
	tc.journey(ctx, &lp.Consumer{Domains: d, AppJWT: jwt, JWS: jws, AutoMessages: true})
}

// skip prints a SKIP line for each of the checks names, which the failure of check failed
// leaves without a subject.
func (tc *targetCheck) skip(failed string, names ...string) {
	for _, name := range names {
		tc.c.skip(name, "not run: %s failed", failed)
	}
}

// domains looks up the account's services and prints one line per service the journey uses.
func (tc *targetCheck) domains(ctx context.Context) (lp.Domains, bool) {
	t := tc.client.Target()
	d, err := tc.client.LookupDomains(ctx)
	if err != nil {
		tc.c.fail("csds", fmt.Sprintf("the domain API did not give the account's services: %v", err),
			fmt.Sprintf("check the target's account id (%s) and its csds host (%s): the domain API must list sentinel, idp and asyncMessagingEnt for the account", t.Account, t.CSDS))
		return d, false
	}
	for _, s := range []struct{ name, host string }{
		{lp.ServiceSentinel, d.Sentinel}, {lp.ServiceIdP, d.IdP}, {lp.ServiceMessaging, d.Messaging},
	} {
		tc.c.pass("csds", "%s at %s", s.name, s.host)
	}
	return d, true
}

// randomHex returns 8 random hex digits.
func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RoutedSkill is the skill target t's conversations must land on (an Options.Skill): its
// routing.skill_id, unless that is "-1" (any skill) or the routing names none ("": the routing
// check is left out).
func RoutedSkill(t profiles.Target) string {
	if t.Routing == nil || t.Routing.SkillID == profiles.AnySkill {
		return ""
	}
	return t.Routing.SkillID
}
