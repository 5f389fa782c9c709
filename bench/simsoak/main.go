// Command simsoak measures the standalone simulator's memory over a long run: it starts
// `lpbench sim` (-bin, -config), registers a webhook receiver of its own (unless -webhooks=false),
// and runs up to -conversations consumer journeys (bench.Plain: ConsumerJWS, CONVERSATION, first
// SEND, close; a new ext_consumer_id each) as fast as -workers goroutines go, for at most
// -duration. Every -every it prints the conversations done and the simulator's VmRSS and VmHWM
// (/proc/PID/status). At the end it checks the ledger's counters against the journeys done,
// waits for the webhook deliveries to settle, then reads the whole ledger once (the detail
// kept) and prints the RSS after it.
//
// It prints nothing secret: the generated client secret is read from GET /_lpsim/apps and only
// used.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lpbench/lpbench/bench"
	"github.com/lpbench/lpbench/lp/lpsim"
)

func main() {
	bin := flag.String("bin", "./lpbench", "the lpbench binary")
	config := flag.String("config", "bench/sim-fast.yaml", "the simulator's configuration")
	keep := flag.Int("ledger-conversations", 0, "passed to lpbench sim when not 0")
	conversations := flag.Int("conversations", 500000, "journeys to run")
	workers := flag.Int("workers", 16, "concurrent journeys")
	duration := flag.Duration("duration", 9*time.Minute, "stop starting journeys after this long")
	every := flag.Duration("every", 5*time.Second, "sampling interval")
	webhooks := flag.Bool("webhooks", true, "register a webhook receiver, so every journey's notifications are delivered")
	flag.Parse()
	if err := run(*bin, *config, *keep, *conversations, *workers, *duration, *every, *webhooks); err != nil {
		fmt.Fprintln(os.Stderr, "simsoak:", err)
		os.Exit(1)
	}
}

// run is the whole measurement; see the package comment.
func run(bin, config string, keep, conversations, workers int, duration, every time.Duration, webhooks bool) error {
	args := []string{"sim", "-listen", "127.0.0.1:0", "-config", config}
	if keep != 0 {
		args = append(args, "-ledger-conversations", strconv.Itoa(keep))
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	simURL, err := banner(out)
	if err != nil {
		return err
	}
	go io.Copy(io.Discard, out)
	ctx := context.Background()
	apps, err := lpsim.Apps(ctx, http.DefaultClient, simURL)
	if err != nil || len(apps) == 0 {
		return fmt.Errorf("reading the apps: %v", err)
	}
	var delivered atomic.Int64
	if webhooks {
		if err := receive(ctx, simURL, apps[0].Account, &delivered); err != nil {
			return err
		}
	}
	c := bench.NewPlain(apps[0].Account)
	if err := c.Setup(simURL, apps[0].ClientID, apps[0].ClientSecret); err != nil {
		return err
	}
	fmt.Printf("simsoak: lpbench %s, %d workers, webhooks %v\n", strings.Join(args, " "), workers, webhooks)
	fmt.Println("t_s conversations rate_per_s rss_mb hwm_mb webhooks_delivered")
	pid := cmd.Process.Pid
	var done, failed atomic.Int64
	start := time.Now()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		sample(pid, start, every, stop, &done, &delivered)
	}()
	drive(c, conversations, workers, start.Add(duration), &done, &failed)
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	rss, hwm := memory(pid)
	fmt.Printf("simsoak: %d journeys (%d failed) in %.1fs, %.0f/s; RSS %.1f MB, peak %.1f MB\n",
		done.Load(), failed.Load(), elapsed.Seconds(), float64(done.Load())/elapsed.Seconds(), rss, hwm)
	return after(simURL, pid, done.Load(), webhooks)
}

// sample prints, every interval until stop, the journeys done, their rate over the interval,
// process pid's memory and the deliveries received.
func sample(pid int, start time.Time, every time.Duration, stop <-chan struct{}, done, delivered *atomic.Int64) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := int64(0), start
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			n := done.Load()
			rss, hwm := memory(pid)
			fmt.Printf("%.0f %d %.0f %.1f %.1f %d\n", now.Sub(start).Seconds(), n, float64(n-last)/now.Sub(lastAt).Seconds(), rss, hwm, delivered.Load())
			last, lastAt = n, now
		}
	}
}

// drive runs journeys 0 to conversations-1 on workers goroutines, starting none after until.
func drive(c *bench.Plain, conversations, workers int, until time.Time, done, failed *atomic.Int64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(until) {
				n := next.Add(1) - 1
				if n >= int64(conversations) {
					return
				}
				if err := c.Journey(int(n)); err != nil {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
}

// after checks the ledger's counters against the journeys done, waits for the deliveries to
// settle, and reads the whole ledger once.
func after(simURL string, pid int, done int64, webhooks bool) error {
	var led lpsim.Ledger
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if err := getLedger(simURL+"/_lpsim/ledger?limit=0", &led); err != nil {
			return err
		}
		if led.Webhooks.Pending == 0 || time.Now().After(deadline) {
			break
		}
	}
	fmt.Printf("simsoak: ledger created %d closed %d sends %d auto %d kept %d forgotten %d; webhooks emitted %d delivered %d dropped %d pending %d\n",
		led.ConversationsCreated, led.ConversationsClosed, led.Sends, led.AutoMessagesTriggered, led.ConversationsKept,
		led.ConversationsForgotten, led.Webhooks.Emitted, led.Webhooks.Delivered, led.Webhooks.Dropped, led.Webhooks.Pending)
	if led.ConversationsCreated != done || led.ConversationsClosed != done {
		return fmt.Errorf("the ledger counts %d created, %d closed; %d journeys done", led.ConversationsCreated, led.ConversationsClosed, done)
	}
	if webhooks && led.Webhooks.Delivered != 4*done {
		return fmt.Errorf("the ledger counts %d deliveries delivered, want 4 per journey (%d)", led.Webhooks.Delivered, 4*done)
	}
	rss, _ := memory(pid)
	start := time.Now()
	resp, err := http.Get(simURL + "/_lpsim/ledger")
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	after, hwm := memory(pid)
	fmt.Printf("simsoak: settled RSS %.1f MB; GET /_lpsim/ledger %d bytes in %v; RSS after %.1f MB, peak %.1f MB\n",
		rss, n, time.Since(start).Round(time.Millisecond), after, hwm)
	return nil
}

// banner reads the simulator's first line and returns its URL.
func banner(out io.Reader) (string, error) {
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading the banner: %v", err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "lpsim listening on ")
	if !ok {
		return "", fmt.Errorf("unexpected banner %q", line)
	}
	return u, nil
}

// receive starts a webhook receiver that answers 200 to everything, and registers it.
func receive(ctx context.Context, simURL, account string, delivered *atomic.Int64) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		delivered.Add(1)
	}))
	_, err = lpsim.RegisterWebhook(ctx, http.DefaultClient, simURL, account, "http://"+ln.Addr().String()+"/hook")
	return err
}

// getLedger decodes a ledger answer into led.
func getLedger(u string, led *lpsim.Ledger) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(led)
}

// memory returns the VmRSS and VmHWM of process pid in MB (10^6 bytes).
func memory(pid int) (rss, hwm float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024 / 1e6
		case "VmHWM:":
			hwm = kb * 1024 / 1e6
		}
	}
	return rss, hwm
}
