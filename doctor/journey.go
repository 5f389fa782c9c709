package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/sample"
)

// appJWT fetches an AppJWT and reads, when it can, the account, client and scope it is for.
func (tc *targetCheck) appJWT(ctx context.Context, d lp.Domains) (string, bool) {
	t := tc.client.Target()
	tok, err := tc.client.FetchAppJWT(ctx, d)
	if err != nil {
		fix := "Sentinel did not answer as expected: try again, and check the network path to " + d.Sentinel
		if lp.ClassOf(err) == sample.ClassAuth {
			fix = "Sentinel refused the client credentials: give the target the client id and secret of the account's app installation (Connector API, client credentials) through client_id_env and client_secret_env"
		}
		tc.c.fail("appjwt", fmt.Sprintf("no AppJWT for client id %s: %v", t.ClientID, err), fix)
		return "", false
	}
	cl := claims(tok.Token)
	seen := fmt.Sprintf("credentials accepted (client id %s)", t.ClientID)
	if cl.Aud != "" || cl.Scope != "" || cl.Exp > 0 {
		seen += fmt.Sprintf("; token for account %s, client %s, scope %s", orNone(cl.Aud), orNone(cl.Azp), orNone(cl.Scope))
	}
	if cl.Exp > 0 && cl.Iat > 0 {
		seen += fmt.Sprintf(", valid %s", time.Duration(cl.Exp-cl.Iat)*time.Second)
	}
	switch {
	case cl.Aud != "" && cl.Aud != t.Account:
		tc.c.fail("appjwt", seen, fmt.Sprintf("the token is for account %s, not the target's %s: the credentials are another account's installation", cl.Aud, t.Account))
		return "", false
	case cl.Scope != "" && !slices.Contains(strings.Fields(cl.Scope), "msg.consumer"):
		tc.c.add(Line{Status: Warn, Check: "appjwt", Seen: seen, Fix: "the token's scope lacks msg.consumer, which the Send API needs: check the installation's scope"})
	default:
		tc.c.pass("appjwt", "%s", seen)
	}
	return tok.Token, true
}

// jwtClaims are the AppJWT claims doctor reads.
type jwtClaims struct {
	Aud   string `json:"aud"`
	Azp   string `json:"azp"`
	Scope string `json:"scope"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

// claims reads a JWT's payload; an unreadable one gives none (LivePerson does not promise them).
func claims(token string) jwtClaims {
	var c jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err == nil {
		_ = json.Unmarshal(raw, &c)
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// clockWarn is the clock offset past which doctor warns.
const clockWarn = time.Second

// clock reads the offset of the target's clock from its Date header.
func (tc *targetCheck) clock(ctx context.Context) {
	off, err := engine.MeasureClock(ctx, tc.client.Target())
	if err != nil {
		tc.c.add(Line{Status: Warn, Check: "clock", Seen: fmt.Sprintf("could not read the target's Date header: %v", err)})
		return
	}
	seen := fmt.Sprintf("offset from the target's Date header between %+.1fs and %+.1fs (1 s resolution)", off.Min.Seconds(), off.Max.Seconds())
	if off.Excludes(clockWarn) {
		tc.c.add(Line{Status: Warn, Check: "clock", Seen: seen, Fix: "synchronise the local clock (NTP): notification times and a distributed run's start barrier read it"})
		return
	}
	tc.c.pass("clock", "%s", seen)
}

// journey drives one conversation: CONVERSATION, the first SEND SendDelay after it, the wait
// for the notifications, and a close, which always follows a created conversation.
func (tc *targetCheck) journey(ctx context.Context, con *lp.Consumer) {
	start := time.Now()
	id, err := tc.client.CreateConversation(ctx, con)
	if err != nil {
		tc.c.fail("conversation", fmt.Sprintf("CONVERSATION refused: %v", err), requestFix(err))
		tc.skip("conversation", "send", "webhooks", "auto-message", "routing", "close")
		return
	}
	tc.c.pass("conversation", "created %s with the Client-Properties header (AUTO_MESSAGES)", id)
	defer tc.close(con, id)
	select {
	case <-time.After(time.Until(start.Add(tc.o.SendDelay))):
	case <-ctx.Done():
	}
	sent := time.Now()
	gap := sent.Sub(start)
	if _, err := tc.client.Send(ctx, con, id, "lpbench doctor"); err != nil {
		tc.c.fail("send", fmt.Sprintf("the first SEND, %.1fs after the CONVERSATION request, was refused: %v", gap.Seconds(), err), requestFix(err))
		tc.skip("send", "webhooks", "auto-message", "routing") // close is still to come
		return
	}
	if gap > tc.p.Window {
		tc.c.fail("send", fmt.Sprintf("the first SEND went %.1fs after the CONVERSATION request, past the %s window", gap.Seconds(), tc.p.Window),
			"the CONVERSATION request took too long: no auto message can be expected; try again, and check the target's latency")
	} else {
		tc.c.pass("send", "first message accepted %.1fs after the CONVERSATION request (window %s)", gap.Seconds(), tc.p.Window)
	}
	tc.webhooks(id, sent)
}

// requestFix says what to do about a refused Send API request.
func requestFix(err error) string {
	switch lp.ClassOf(err) {
	case sample.ClassAuth:
		return "the Send API refused the AppJWT or the ConsumerJWS: check that the installation is the account's Connector API app with scope msg.consumer"
	case sample.ClassRateLimited:
		return "the account's quota answered 429: wait, and lower max_request_rate for this target"
	}
	return "check the error above with the account's admin; try again once it is fixed"
}

// closeTimeout bounds the close, which runs even when the check was interrupted.
const closeTimeout = 15 * time.Second

// close closes the conversation, so that the check leaves none open.
func (tc *targetCheck) close(con *lp.Consumer, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := tc.client.CloseConversation(ctx, con, id); err != nil {
		tc.c.fail("close", fmt.Sprintf("conversation %s could not be closed: %v", id, err),
			"it may still be open on the account: close it from the agent workspace, or run doctor again once the error is fixed")
		return
	}
	tc.c.pass("close", "conversation %s closed", id)
}
