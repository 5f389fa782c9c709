package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
)

// fixture is a simulator on 127.0.0.1 and a client acting for its consumers as a run would.
type fixture struct {
	t      *testing.T
	sim    *lpsim.Server
	client *lp.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sim, err := lpsim.NewServer(lpsim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	acct := sim.Config().Accounts[0]
	c, err := lp.NewClient(lp.Target{Name: "sim", Account: acct.ID, CSDS: sim.URL, Scheme: "http", ClientID: acct.ClientID, ClientSecret: acct.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return &fixture{t: t, sim: sim, client: c}
}

// consumer returns the credentials of consumer id.
func (f *fixture) consumer(id string) *lp.Consumer {
	f.t.Helper()
	ctx := context.Background()
	d, _, err := f.client.Domains(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	tok, _, err := f.client.AppJWT(ctx, d)
	if err != nil {
		f.t.Fatal(err)
	}
	jws, err := f.client.ConsumerJWS(ctx, d, tok, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return &lp.Consumer{Domains: d, AppJWT: tok, JWS: jws}
}

// open opens a conversation for consumer id, and closes it at once when closed is true.
func (f *fixture) open(id string, closed bool) string {
	f.t.Helper()
	con := f.consumer(id)
	conv, err := f.client.CreateConversation(context.Background(), con)
	if err != nil {
		f.t.Fatal(err)
	}
	if closed {
		if err := f.client.CloseConversation(context.Background(), con, conv); err != nil {
			f.t.Fatal(err)
		}
	}
	return conv
}

// journalAt creates a journal at dir for a run on the fixture's simulator.
func (f *fixture) journalAt(dir string) *journal.Journal {
	f.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	j, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		f.t.Fatal(err)
	}
	acct := f.sim.Config().Accounts[0]
	if err := j.WriteHeader(journal.Header{RunID: "r", Close: true, Targets: []journal.Target{
		{Name: "sim", Account: acct.ID, Kind: "simurl", SimURL: f.sim.URL},
	}}); err != nil {
		f.t.Fatal(err)
	}
	return j
}

// TestCleanup: each state a killed run leaves a consumer in is resolved as it should be, in a
// run's journal and a capacity step's; the ledger shows every conversation closed; a second
// cleanup finds nothing open; no secret is printed.
func TestCleanup(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	j := f.journalAt(dir)
	for _, id := range []string{"open", "flight", "never", "closed-late", "done", "refused"} {
		j.Opening(0, id)
	}
	j.Opened(0, "open", f.open("open", false))              // opened, the kill came before its close
	f.open("flight", false)                                 // opened, the kill came before its answer
	j.Opened(0, "closed-late", f.open("closed-late", true)) // closed, the kill came before the entry
	done := f.open("done", true)
	j.Opened(0, "done", done)
	j.Closed(0, "done", done)
	j.Refused(0, "refused")
	j.Close()
	step := f.journalAt(filepath.Join(dir, "step-01"))
	step.Opening(0, "step")
	step.Opened(0, "step", f.open("step", false))
	step.Close()

	var log eventLog
	rep, err := Run(context.Background(), dir, Options{Events: log.add, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Journals: 2, Consumers: 7, Open: 5, InFlight: 2, Counts: Counts{Closed: 3, AlreadyClosed: 2}}
	if *rep != want {
		t.Errorf("report %+v\nwant   %+v\n%s", *rep, want, log.String())
	}
	led := f.sim.Ledger()
	// open, flight, closed-late, done, step, and the CONVERSATION that found never had none.
	if led.ConversationsCreated != 6 || led.ConversationsClosed != 6 {
		t.Errorf("ledger: %d created, %d closed; want 6 and 6", led.ConversationsCreated, led.ConversationsClosed)
	}
	for _, c := range led.Conversations {
		if !c.Closed {
			t.Errorf("conversation %s of %s left open", c.ID, c.ExtConsumerID)
		}
	}
	if secret := f.sim.Config().Accounts[0].ClientSecret; strings.Contains(log.String(), secret) {
		t.Error("the log shows the client secret")
	}
	again, err := Run(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Open != 0 || again.Closed != 0 || f.sim.Ledger().ConversationsCreated != 6 {
		t.Errorf("a second cleanup: %+v, %d conversations created: want nothing open, nothing sent", *again, f.sim.Ledger().ConversationsCreated)
	}
}

// TestCannotClose: a target that refuses the credentials leaves a known conversation "could not
// close" and an in-flight one "could not resolve", with the errors in the log and no secret.
func TestCannotClose(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"kind":"resp","code":401,"body":{"title":"invalid site","details":"x"},"type":".ReqBody$ErrorResp"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	j, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	j.WriteHeader(journal.Header{RunID: "r", Targets: []journal.Target{{Name: "t", Account: "1", Kind: "simurl", CSDS: srv.URL, ClientIDEnv: "ID_VAR", ClientSecretEnv: "SECRET_VAR"}}})
	j.Opening(0, "a")
	j.Opened(0, "a", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	j.Opening(0, "b")
	j.Close()
	env := map[string]string{"ID_VAR": "id", "SECRET_VAR": "s3cr3t-value"}
	var log eventLog
	rep, err := Run(context.Background(), dir, Options{Getenv: func(k string) string { return env[k] }, Events: log.add, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.CouldNotClose != 1 || rep.Unresolved != 1 || rep.Left() != 2 {
		t.Errorf("report %+v: want 1 could not close, 1 unresolved", *rep)
	}
	if !strings.Contains(log.String(), "could not close conversation 3f2504e0") || !strings.Contains(log.String(), "could not resolve") {
		t.Errorf("log:\n%s", log.String())
	}
	if strings.Contains(log.String(), "s3cr3t-value") {
		t.Error("the log shows the client secret")
	}
}

// TestRefusals: nothing is sent for a journal whose target cannot be cleaned up as asked: a live
// target without Live, a credential variable not set, no journal at all.
func TestRefusals(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	write := func(dir string, tg journal.Target) {
		j, err := journal.Create(filepath.Join(dir, journal.FileName))
		if err != nil {
			t.Fatal(err)
		}
		j.WriteHeader(journal.Header{RunID: "r", Targets: []journal.Target{tg}})
		j.Opening(0, "a")
		j.Close()
	}
	live, unset := t.TempDir(), t.TempDir()
	write(live, journal.Target{Name: "prod", Account: "1", Kind: "live", CSDS: srv.URL, ClientIDEnv: "ID_VAR", ClientSecretEnv: "SECRET_VAR"})
	write(unset, journal.Target{Name: "local", Account: "1", Kind: "simurl", CSDS: srv.URL, ClientIDEnv: "ID_VAR", ClientSecretEnv: "SECRET_VAR"})
	getenv := func(k string) string { return map[string]string{"ID_VAR": "id"}[k] }
	for _, c := range []struct {
		name, dir, want string
	}{
		{"live without --live", live, "target prod (account 1) is on LivePerson itself"},
		{"credential not set", unset, `"SECRET_VAR" is not set`},
		{"no journal", t.TempDir(), "no journal.jsonl under"},
	} {
		_, err := Run(context.Background(), c.dir, Options{Getenv: getenv})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error saying %q", c.name, err, c.want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestEmbeddedSimulator: the conversations of a run on the embedded simulator ended with it:
// nothing to close, nothing left open.
func TestEmbeddedSimulator(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	j.WriteHeader(journal.Header{RunID: "r", Targets: []journal.Target{{Name: "sim", Account: "1", Kind: "sim"}}})
	j.Opening(0, "a")
	j.Opened(0, "a", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	j.Close()
	var log eventLog
	rep, err := Run(context.Background(), dir, Options{Events: log.add})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Open != 1 || rep.Gone != 1 || rep.Left() != 0 || rep.Closed != 0 || !strings.Contains(log.String(), "Gone:1 ") {
		t.Errorf("report %+v\n%s", *rep, log.String())
	}
}

// eventLog keeps a cleanup's events as text, a line each, every field named.
type eventLog struct{ strings.Builder }

func (l *eventLog) add(e Event) {
	switch {
	case e.Journal != nil:
		fmt.Fprintf(l, "%+v\n", *e.Journal)
	case e.Consumer != nil:
		fmt.Fprintf(l, "%+v\n", *e.Consumer)
	}
}
