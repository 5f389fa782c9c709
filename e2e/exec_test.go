package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// These tests run the lpbench binary as a user does, against simulators on 127.0.0.1.

// TestInterruptWritesEverything: SIGINT mid-run stops the arrivals, lets the journeys in flight
// finish, writes every file, and exits 130; the counts add up.
func TestInterruptWritesEverything(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "run", "--duration", "30s", "--rate", "20", "--out", dir, "--no-progress", "--grace", "5s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(exitcode.Interrupted) {
		t.Fatalf("exit: %v, want %d\n%s", err, exitcode.Interrupted, stderr.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to stop after SIGINT", took)
	}
	res, err := report.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := res.Arrivals
	if a.Planned != 600 || a.Planned != a.Started+a.Dropped+a.NotStarted || a.NotStarted == 0 {
		t.Errorf("arrivals %+v", a)
	}
	if got := res.Overall.Started(); got != a.Started {
		t.Errorf("outcomes add to %d, started %d", got, a.Started)
	}
	if res.End != report.EndInterrupted {
		t.Errorf("end reason %q", res.End)
	}
	for _, f := range []string{"summary.txt", "junit.xml", "run.hlog"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing after the interrupt: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "(interrupted)") {
		t.Errorf("summary does not say the run was interrupted:\n%s", stdout.String())
	}
}

// loggedJourneys returns how many journeys the interval log at path holds so far (0 while it
// does not exist); a last line being written is not counted.
func loggedJourneys(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	tags, _ := report.ReadHlog(f)
	if h := tags["all.journey"]; h != nil {
		return h.TotalCount()
	}
	return 0
}

// TestKillLeavesReadableLog: after SIGKILL mid-run, the interval log holds every second up to
// the last and reads back; result.json is absent, never half-written.
func TestKillLeavesReadableLog(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "run", "--duration", "30s", "--rate", "20", "--out", dir, "--no-progress")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed once the log holds 40 journeys (two whole seconds at 20/s), however long a loaded
	// machine takes to get there: polled, within a bound.
	for deadline := time.Now().Add(time.Minute); loggedJourneys(filepath.Join(dir, "run.hlog")) < 40; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the interval log did not reach 40 journeys in a minute")
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "result.json")); !os.IsNotExist(err) {
		t.Errorf("result.json after SIGKILL: %v (want absent)", err)
	}
	f, err := os.Open(filepath.Join(dir, "run.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tags, err := report.ReadHlog(f)
	if err != nil {
		t.Logf("reading the log: %v (a last line may be cut)", err)
	}
	h := tags["all.journey"]
	// The 40 journeys logged before the kill are still there.
	if h == nil || h.TotalCount() < 40 {
		t.Fatalf("all.journey in the log: %v", h)
	}
	code, out, errs := runBin(t, "report", "-from-hlog", filepath.Join(dir, "run.hlog"))
	if code != exitcode.OK || !strings.Contains(out, "all.step.create") {
		t.Errorf("report -from-hlog: exit %d\n%s%s", code, out, errs)
	}
}

// tokenRecorder is a reverse proxy in front of a simulator that keeps every token it sees in
// answers, so a test can look for them in lpbench's outputs.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens map[string]bool
}

var tokenField = regexp.MustCompile(`"(?:access_token|token)"\s*:\s*"([^"]+)"`)

func (tr *tokenRecorder) modify(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	for _, m := range tokenField.FindAllSubmatch(body, -1) {
		tr.mu.Lock()
		tr.tokens[string(m[1])] = true
		tr.mu.Unlock()
	}
	return nil
}

// TestNoSecretsInOutputs runs the binary against a simulator reached by URL with a known client
// secret, records every token the simulator issued, and searches every output — stdout, stderr
// and every file — for the secret and the tokens: none may appear.
func TestNoSecretsInOutputs(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	const secret = "known-client-secret-4f2a9c"
	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil
	cfg.Accounts[0].ClientSecret = secret
	cfg.AppJWTLifetime = 2 * time.Second // several AppJWTs over the run
	cfg.SingleHost = true                // one port, behind the recording proxy
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	u, _ := url.Parse(sim.URL)
	rec := &tokenRecorder{tokens: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = rec.modify
	front := httptest.NewServer(proxy)
	defer front.Close()

	dir := t.TempDir()
	prof := writeProfile(t, `load:
  stages:
    - {duration: 4s, rate: 10}
targets:
  - name: local
    account: "12345678"
    csds: `+front.URL+`
    client_id_env: LPBENCH_TEST_CLIENT_ID
    client_secret_env: LPBENCH_TEST_CLIENT_SECRET
    routing: default
thresholds: ["errors < 1%"]
`)
	cmd := exec.Command(bin, "run", prof, "--out", dir, "--no-progress")
	cmd.Env = append(os.Environ(), "LPBENCH_TEST_CLIENT_ID="+cfg.Accounts[0].ClientID, "LPBENCH_TEST_CLIENT_SECRET="+secret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	rec.mu.Lock()
	secrets := []string{secret}
	for tok := range rec.tokens {
		secrets = append(secrets, tok)
	}
	rec.mu.Unlock()
	if len(secrets) < 3 {
		t.Fatalf("only %d tokens seen: the proxy saw no traffic", len(secrets)-1)
	}
	outputs := map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		outputs[e.Name()] = b
	}
	if len(outputs) < 6 {
		t.Errorf("only %d outputs to search", len(outputs))
	}
	for name, data := range outputs {
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains a secret or token (%.12s…)", name, s)
			}
		}
	}
	res, err := report.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Overall.Outcomes[sample.OutcomeOK] != 40 {
		t.Errorf("ok = %d, want 40", res.Overall.Outcomes[sample.OutcomeOK])
	}
}

// TestShardsOnOneSimulator: one standalone simulator and four lpbench processes, each running
// shard k/4 of one plan. The merged result's counts equal the simulator's ledger, the
// consumers' arrival indexes in the ledger are exactly those of the single-process plan, each
// once, and each process verified exactly its own consumers' auto messages.
func TestShardsOnOneSimulator(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	simURL := startSimProcess(t, bin)

	dir := t.TempDir()
	const rate, seconds, shards = 40, 3, 4
	// Every planned arrival starts however late a loaded machine reaches it (max_lag 0): the
	// test compares counts with the ledger, arrival by arrival.
	prof := writeProfile(t, `load:
  stages:
    - {duration: 3s, rate: 40}
  max_in_flight: 500
  max_lag: 0
thresholds: ["errors < 1%"]
`)
	var wg sync.WaitGroup
	errs := make([]error, shards)
	for k := range shards {
		wg.Go(func() {
			out, err := exec.Command(bin, "run", prof, "--rate", fmt.Sprint(rate), "--duration", fmt.Sprint(seconds, "s"),
				"--sim-url", simURL, "--shard", fmt.Sprintf("%d/%d", k, shards), "--no-progress",
				// Four processes at once on a loaded test machine: the merge's exit code is about
				// the counts here, not the generator's timing (relaxed checks are still shown).
				"--relax-check", "generator_lag", "--relax-check", "generator_cpu", "--relax-check", "load_delivered", "--relax-check", "arrivals", "--run-id", "shards-test",
				"--out", filepath.Join(dir, fmt.Sprint("shard-", k))).CombinedOutput()
			if err != nil {
				errs[k] = fmt.Errorf("shard %d: %v\n%s", k, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"merge"}
	for k := range shards {
		args = append(args, filepath.Join(dir, fmt.Sprint("shard-", k), "result.json"))
	}
	merged := filepath.Join(dir, "merged.json")
	if code, _, stderr := runBin(t, append(args, "-o", merged)...); code != exitcode.OK {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	res, err := report.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(simURL + "/_lpsim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var led lpsim.Ledger
	if err := json.NewDecoder(resp.Body).Decode(&led); err != nil {
		t.Fatal(err)
	}
	const planned = rate * seconds
	if a := res.Arrivals; a.Planned != planned || a.Started != planned {
		t.Errorf("merged arrivals %+v, want %d planned and started", a, planned)
	}
	ok := res.Overall.Outcomes[sample.OutcomeOK]
	for _, c := range []struct {
		what        string
		got, ledger int64
	}{
		{"conversations", ok, led.ConversationsCreated},
		{"first sends", ok, led.FirstSends},
		{"closes", res.Overall.Requests[sample.Close], led.ConversationsClosed},
		{"create requests", res.Overall.Requests[sample.Create], led.Requests[lpsim.EndpointCreate][200]},
	} {
		if c.got != c.ledger {
			t.Errorf("%s: merged %d, ledger %d", c.what, c.got, c.ledger)
		}
	}
	seen := map[int]int{}
	index := regexp.MustCompile(`-(\d+)$`)
	for _, c := range led.Conversations {
		m := index.FindStringSubmatch(c.ExtConsumerID)
		if m == nil {
			t.Fatalf("consumer id %q has no arrival index", c.ExtConsumerID)
		}
		n, _ := strconv.Atoi(m[1])
		seen[n]++
	}
	for n := range planned {
		if seen[n] != 1 {
			t.Errorf("arrival %d ran %d times across the shards", n, seen[n])
		}
	}
	if len(seen) != planned {
		t.Errorf("%d distinct arrivals, want %d", len(seen), planned)
	}
	checkShardAutoMessages(t, dir, shards, led)
}

// checkShardAutoMessages: every shard verified its own consumers: its received first auto
// messages equal the ledger's conversations of its arrivals (index mod shards) whose first auto
// message reached its receiver, and the shards add up to the conversations that got theirs.
//
// Each shard's own receiver is one of the simulator's endpoints (or, through a relay, the relay
// is the only one). A shard's endpoint is among those its own conversations' first auto
// messages were delivered to, every one of them: it was registered before its first journey and
// removed after its last. With an endpoint per shard, the other shards' first auto messages
// delivered there were counted unmatched: at least as many as were delivered to the least served
// of the endpoints it could be. How many that is depends on how long the shards overlapped (one
// that finished first removed its endpoint before the others' last conversations): the ledger's
// deliveries per endpoint say it, not the plan.
func checkShardAutoMessages(t *testing.T, dir string, shards int, led lpsim.Ledger) {
	t.Helper()
	index := regexp.MustCompile(`-(\d+)$`)
	own := make([][]lpsim.Conversation, shards)
	var emitted int64
	for _, c := range led.Conversations {
		n, _ := strconv.Atoi(index.FindStringSubmatch(c.ExtConsumerID)[1])
		if c.FirstAutoMessageDeliveries != nil {
			own[n%shards] = append(own[n%shards], c)
			emitted++
		}
	}
	perShard := len(led.WebhookEndpoints) > 1
	var sum int64
	for k := range shards {
		r, err := report.ReadFile(filepath.Join(dir, fmt.Sprint("shard-", k), "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		w := r.Targets[0].Webhooks
		if w == nil {
			t.Fatalf("shard %d verified no auto message", k)
		}
		endpoints := endpointsOf(own[k])
		if len(endpoints) == 0 {
			t.Errorf("shard %d: no endpoint received the first auto message of each of its %d conversations", k, len(own[k]))
		}
		served := int64(len(own[k]))
		h := r.Overall.Headline()
		if !h.Verified || h.Served != served || w.AutoMessages != served {
			t.Errorf("shard %d: served %d (receiver %d), ledger %d for its conversations", k, h.Served, w.AutoMessages, served)
		}
		if others := othersDelivered(led, own[k], endpoints); perShard && w.Unmatched+w.Overflow < others {
			t.Errorf("shard %d: %d unmatched (%d overflowed), the other shards' first auto messages delivered to its endpoint %d", k, w.Unmatched, w.Overflow, others)
		}
		sum += h.Served
	}
	if sum != emitted || sum == 0 {
		t.Errorf("the shards served %d consumers, the ledger emitted %d first auto messages", sum, emitted)
	}
}

// endpointsOf returns the webhook endpoints every one of convs' first auto messages was
// delivered to.
func endpointsOf(convs []lpsim.Conversation) map[string]bool {
	var common map[string]bool
	for _, c := range convs {
		got := map[string]bool{}
		for _, d := range c.FirstAutoMessageDeliveries {
			if d.Delivered && (common == nil || common[d.Webhook]) {
				got[d.Webhook] = true
			}
		}
		common = got
	}
	return common
}

// othersDelivered returns, of the given endpoints, the least number of first auto messages of
// conversations not in own delivered to one.
func othersDelivered(led lpsim.Ledger, own []lpsim.Conversation, endpoints map[string]bool) int64 {
	mine := map[string]bool{}
	for _, c := range own {
		mine[c.ID] = true
	}
	least := int64(-1)
	for e := range endpoints {
		var n int64
		for _, c := range led.Conversations {
			if d, ok := c.FirstAutoMessageAt(e); ok && d.Delivered && !mine[c.ID] {
				n++
			}
		}
		if least < 0 || n < least {
			least = n
		}
	}
	return max(least, 0)
}
