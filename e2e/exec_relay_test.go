package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/relay"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// relayProcess is a running `lpbench relay`: its URL and what it logged.
type relayProcess struct {
	url string
	mu  sync.Mutex
	log strings.Builder
}

func (p *relayProcess) logged() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startRelayProcess starts `lpbench relay` on 127.0.0.1; it is stopped (SIGTERM) when the test
// ends.
func startRelayProcess(t *testing.T, bin string) *relayProcess {
	t.Helper()
	cmd := exec.Command(bin, "relay", "-listen", "127.0.0.1:0")
	banner, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &relayProcess{}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-copied
		cmd.Wait()
	})
	line, err := bufio.NewReader(banner).ReadString('\n')
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("no URL in the relay's banner: %q (%v)", line, err)
	}
	go io.Copy(io.Discard, banner)
	p.url = m[1]
	return p
}

// getJSON decodes the answer of GET url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// runRelayedShard runs shard k of n of run id on the simulator through the relay, writing to
// dir/shard-k; the command is returned unstarted.
func relayedShard(bin, simURL, relayURL, dir, id string, k, n int, rate int, d time.Duration) *exec.Cmd {
	return exec.Command(bin, "run", "--rate", fmt.Sprint(rate), "--duration", d.String(),
		"--sim-url", simURL, "--webhook-relay", relayURL, "--shard", fmt.Sprintf("%d/%d", k, n), "--no-progress", "--run-id", id,
		// Several processes at once on a loaded test machine: the counts are the test's, not the
		// generator's timing (relaxed checks are still shown).
		"--relax-check", "generator_lag", "--relax-check", "generator_cpu", "--relax-check", "load_delivered", "--relax-check", "arrivals",
		"--out", filepath.Join(dir, fmt.Sprint("shard-", k)))
}

// TestShardsThroughRelay: the whole distributed path on this machine — one `lpbench sim`, one
// `lpbench relay`, three shard processes with -sim-url and -webhook-relay, then `lpbench merge`.
// Every shard registered the relay's one URL, which the simulator holds as one endpoint and
// delivers to once; the relay fanned every delivery out to the three. The merged count of
// consumers served equals the ledger's conversations whose auto message was delivered, exactly;
// each shard counted its own conversations only (the others' unmatched), and none reports
// no_auto_message for a conversation that got its auto message.
func TestShardsThroughRelay(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	simURL := startSimProcess(t, bin)
	rl := startRelayProcess(t, bin)
	dir := t.TempDir()
	const rate, shards = 30, 3
	var wg sync.WaitGroup
	errs := make([]error, shards)
	for k := range shards {
		wg.Go(func() {
			if out, err := relayedShard(bin, simURL, rl.url, dir, "relay-test", k, shards, rate, 3*time.Second).CombinedOutput(); err != nil {
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
	merged := mergeShards(t, dir, []int{0, 1, 2})
	var led lpsim.Ledger
	getJSON(t, simURL+"/_lpsim/ledger", &led)
	var withAuto int64
	for _, c := range led.Conversations {
		if c.AutoMessages && c.FirstAutoMessageDelivered {
			withAuto++
		}
	}
	h := merged.Overall.Headline()
	if w := merged.Targets[0].Webhooks; w == nil || h.Served != withAuto || w.AutoMessages != withAuto || withAuto != rate*3 {
		t.Errorf("merged: served %d (receivers %+v), ledger %d conversations with their auto message delivered, planned %d", h.Served, w, withAuto, rate*3)
	}
	checkShardAutoMessages(t, dir, shards, led)
	var st relay.Stats
	getJSON(t, rl.url+"/stats", &st)
	checkRelayedShards(t, dir, []int{0, 1, 2}, led, st)
	if len(led.WebhookEndpoints) != 1 || led.Webhooks.Deliveries != led.Webhooks.Emitted || st.Received != led.Webhooks.Delivered {
		t.Errorf("the simulator delivered to %d endpoints, %d deliveries of %d notifications; the relay received %d: want one endpoint, once each",
			len(led.WebhookEndpoints), led.Webhooks.Deliveries, led.Webhooks.Emitted, st.Received)
	}
	if len(st.Left) != shards || len(st.Subscribers) != 0 {
		t.Errorf("relay: %d subscribers left, %d still there; want %d and 0", len(st.Left), len(st.Subscribers), shards)
	}
}

// TestShardKilledThroughRelay: the same with shard 1 killed (SIGKILL) mid-run. Shards 0 and 2
// are unaffected — each served exactly its conversations whose auto message was delivered, no
// no_auto_message, nothing dropped or missed at the relay — the relay logs and lists the lost
// subscriber, and merge --allow-partial adds up the two.
func TestShardKilledThroughRelay(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	simURL := startSimProcess(t, bin)
	rl := startRelayProcess(t, bin)
	dir := t.TempDir()
	const rate, shards = 20, 3
	var wg sync.WaitGroup
	errs := make([]error, shards)
	for _, k := range []int{0, 2} {
		wg.Go(func() {
			if out, err := relayedShard(bin, simURL, rl.url, dir, "relay-kill", k, shards, rate, 5*time.Second).CombinedOutput(); err != nil {
				errs[k] = fmt.Errorf("shard %d: %v\n%s", k, err, out)
			}
		})
	}
	victim := relayedShard(bin, simURL, rl.url, dir, "relay-kill", 1, shards, rate, 5*time.Second)
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once its subscription is in place and its conversations are under way.
	waitUntil(t, "shard 1's subscription", func() bool { return strings.Contains(rl.logged(), "relay-kill.shard-1-of-3") })
	time.Sleep(2 * time.Second)
	victim.Process.Kill()
	victim.Wait()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	leftLine := regexp.MustCompile(`subscriber relay-kill\.shard-1-of-3 \(s\d+\) left target sim: `)
	waitUntil(t, "the relay to see shard 1 go", func() bool { return leftLine.MatchString(rl.logged()) })
	var led lpsim.Ledger
	getJSON(t, simURL+"/_lpsim/ledger", &led)
	var st relay.Stats
	getJSON(t, rl.url+"/stats", &st)
	checkRelayedShards(t, dir, []int{0, 2}, led, st)
	var lost *relay.SubscriberStats
	for i, s := range st.Left {
		if s.Name == "relay-kill.shard-1-of-3" {
			lost = &st.Left[i]
		}
	}
	if lost == nil || lost.Reason == "" || lost.Left.IsZero() {
		t.Fatalf("the relay does not list the killed shard among those that left: %+v", st.Left)
	}
	t.Logf("lost subscriber: %+v", *lost)
	merged := mergeShards(t, dir, []int{0, 2}, "--allow-partial")
	served := servedByShard(led, shards)
	if got, want := merged.Overall.Headline().Served, served[0]+served[2]; got != want || want == 0 {
		t.Errorf("merged shards 0 and 2 served %d, the ledger delivered %d of their auto messages", got, want)
	}
}

// waitUntil polls cond every 20 ms for up to 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// mergeShards merges the given shards' results of dir and returns the merged result.
func mergeShards(t *testing.T, dir string, ks []int, flags ...string) *report.Result {
	t.Helper()
	args := []string{"merge"}
	for _, k := range ks {
		args = append(args, filepath.Join(dir, fmt.Sprint("shard-", k), "result.json"))
	}
	out := filepath.Join(dir, "merged.json")
	if code, stdout, stderr := runBin(t, append(append(args, "-o", out), flags...)...); code != exitcode.OK {
		t.Fatalf("merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	m, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// servedByShard counts, by shard (arrival index mod shards), the ledger's conversations whose
// first auto message was delivered.
func servedByShard(led lpsim.Ledger, shards int) []int64 {
	index := regexp.MustCompile(`-(\d+)$`)
	served := make([]int64, shards)
	for _, c := range led.Conversations {
		if m := index.FindStringSubmatch(c.ExtConsumerID); m != nil && c.FirstAutoMessageDelivered {
			n, _ := strconv.Atoi(m[1])
			served[n%shards]++
		}
	}
	return served
}

// checkRelayedShards: each listed shard heard its deliveries through the relay — all it received
// was relayed, nothing dropped or missed — served exactly its conversations whose first auto
// message the simulator delivered, reports no no_auto_message, and its relay hop was measured.
func checkRelayedShards(t *testing.T, dir string, ks []int, led lpsim.Ledger, st relay.Stats) {
	t.Helper()
	served := servedByShard(led, 3)
	for _, k := range ks {
		r, err := report.ReadFile(filepath.Join(dir, fmt.Sprint("shard-", k), "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		w, hop := r.Targets[0].Webhooks, r.Targets[0].RelayHop
		if w == nil || hop == nil || r.Relay == "" {
			t.Fatalf("shard %d: webhooks %+v, hop %v, relay %q", k, w, hop, r.Relay)
		}
		if w.Relayed != w.Received || w.Received == 0 || w.RelayDropped != 0 || w.RelayMissed != 0 || w.BadSignature != 0 || hop.H.TotalCount() != w.Relayed {
			t.Errorf("shard %d: %+v, %d hops", k, *w, hop.H.TotalCount())
		}
		if got := r.Overall.Headline().Served; got != served[k] || w.AutoMessages != served[k] {
			t.Errorf("shard %d: served %d (receiver %d), ledger %d", k, got, w.AutoMessages, served[k])
		}
		var noAuto int64
		for s := range sample.NumSteps {
			noAuto += r.Overall.Failures[s][sample.ClassNoAutoMessage]
		}
		if noAuto != 0 {
			t.Errorf("shard %d: %d no_auto_message, though every auto message was delivered", k, noAuto)
		}
		t.Logf("shard %d: relayed %d, hop p50 %v p99 %v max %v", k, w.Relayed, hdr.Percentile(hop.H, 50), hdr.Percentile(hop.H, 99), time.Duration(hop.H.Max()))
	}
	if st.Received == 0 || st.TooLarge != 0 {
		t.Errorf("relay stats %+v", st)
	}
}
