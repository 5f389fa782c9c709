package relay

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collector keeps what a subscription delivered.
type collector struct {
	mu sync.Mutex
	ds []Delivery
}

func (c *collector) deliver(d Delivery) {
	c.mu.Lock()
	c.ds = append(c.ds, d)
	c.mu.Unlock()
}

func (c *collector) all() []Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Delivery(nil), c.ds...)
}

// waitFor polls cond every 5 ms for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a slow subscriber drains 1,024 frames at 1 ms each, slower on a busy machine
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// post delivers body to the relay for target, with a signature header, and checks the 200.
func post(t *testing.T, c *http.Client, base, target string, body []byte, sig string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhook/"+target, bytes.NewReader(body))
	req.Header.Set("X-LivePerson-Signature", sig)
	req.Header.Set("X-LivePerson-Account-Id", "12345678")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "not relayed")
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /webhook/%s: %s", target, resp.Status)
	}
}

func subscribe(t *testing.T, base, target, name string, c *collector) *Subscription {
	t.Helper()
	s, err := Subscribe(context.Background(), Subscriber{URL: base, Target: target, Name: name, Deliver: c.deliver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestFanOut: every subscriber of a target gets every delivery, in order, with its body byte for
// byte and LivePerson's headers (others are not relayed); another target's subscriber gets none
// of them; the counters add up.
func TestFanOut(t *testing.T) {
	t.Parallel()
	r := New(Config{})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	cs := []*collector{{}, {}, {}}
	for i, c := range cs {
		subscribe(t, srv.URL, "sim", fmt.Sprint("shard-", i), c)
	}
	other := &collector{}
	subscribe(t, srv.URL, "other", "x", other)
	const n = 100
	for i := range n {
		// Bytes that are not even JSON: the relay does not look inside.
		post(t, srv.Client(), srv.URL, "sim", []byte(fmt.Sprintf("body %d \x00\xff", i)), fmt.Sprint("sha1=sig", i))
	}
	for i, c := range cs {
		waitFor(t, fmt.Sprint("subscriber ", i), func() bool { return len(c.all()) == n })
		for k, d := range c.all() {
			if got, want := string(d.Body), fmt.Sprintf("body %d \x00\xff", k); got != want || d.Seq != int64(k+1) {
				t.Fatalf("subscriber %d, delivery %d: seq %d body %q, want seq %d body %q", i, k, d.Seq, got, k+1, want)
			}
			if got, want := d.Header.Get("X-Liveperson-Signature"), fmt.Sprint("sha1=sig", k); got != want {
				t.Errorf("signature %q, want %q", got, want)
			}
			if d.Header.Get("X-Liveperson-Account-Id") != "12345678" || d.Header.Get("Content-Type") != "application/json" || d.Header.Get("Authorization") != "" {
				t.Errorf("headers %v", d.Header)
			}
			if d.Received.IsZero() || time.Since(d.Received) > time.Minute {
				t.Errorf("received %v", d.Received)
			}
		}
	}
	if got := len(other.all()); got != 0 {
		t.Errorf("the other target's subscriber got %d deliveries", got)
	}
	st := r.Stats()
	if st.Received != n || len(st.Subscribers) != 4 {
		t.Fatalf("stats %+v", st)
	}
	for _, s := range st.Subscribers {
		if want := map[bool]int64{true: n, false: 0}[s.Target == "sim"]; s.FannedOut != want || s.Dropped != 0 {
			t.Errorf("subscriber %+v, want %d fanned out", s, want)
		}
	}
}

// TestNoSubscriber: a delivery no one hears is answered 200 and counted; a body beyond MaxBody
// is refused with 413.
func TestNoSubscriber(t *testing.T) {
	t.Parallel()
	r := New(Config{})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	post(t, srv.Client(), srv.URL, "sim", []byte("{}"), "sha1=x")
	resp, err := http.Post(srv.URL+"/webhook/sim", "application/json", bytes.NewReader(make([]byte, MaxBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body beyond MaxBody: %s", resp.Status)
	}
	st := r.Stats()
	if st.Received != 1 || st.TooLarge != 1 || len(st.Targets) != 1 || st.Targets[0].NoSubscriber != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestQueueDropsOldest: a full queue drops its oldest frames, counts them, and the next take
// reports them once; the byte bound holds as well as the count bound.
func TestQueueDropsOldest(t *testing.T) {
	t.Parallel()
	s := newSubscriber("s1", "x", "sim", 8, 1<<20, time.Now())
	for i := range 20 {
		s.push([]byte{byte(i)})
	}
	frames, dropped := s.take(nil)
	if len(frames) != 8 || dropped != 12 || frames[0][0] != 12 || frames[7][0] != 19 {
		t.Fatalf("take: %d frames from %v, dropped %d; want 8 from 12, dropped 12", len(frames), frames[0], dropped)
	}
	if _, d := s.take(nil); d != 0 || s.dropped.Load() != 12 {
		t.Errorf("second take dropped %d, total %d", d, s.dropped.Load())
	}
	b := newSubscriber("s2", "x", "sim", 100, 10, time.Now())
	for range 4 {
		b.push([]byte("abcd"))
	}
	if got, _ := b.take(nil); len(got) != 2 || b.dropped.Load() != 2 || b.peak.Load() > 10 {
		t.Errorf("byte bound: %d frames, dropped %d, peak %d bytes", len(got), b.dropped.Load(), b.peak.Load())
	}
}

// TestSlowSubscriber: a subscriber that does not read loses its oldest deliveries once its
// queue is full, and is told how many in a dropped frame; what it gets and what was dropped add
// up to every delivery; a subscriber that reads loses nothing meanwhile.
func TestSlowSubscriber(t *testing.T) {
	t.Parallel()
	r := New(Config{QueueFrames: 256})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	fast := &collector{}
	subscribe(t, srv.URL, "sim", "fast", fast)
	resp, err := http.Get(srv.URL + "/subscribe/sim?name=slow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 4<<20)
	if _, err := br.ReadBytes('\n'); err != nil { // hello
		t.Fatal(err)
	}
	// 2000 deliveries of 8 KiB: far more than the connection's buffers hold, unread.
	const n = 2000
	body := bytes.Repeat([]byte("x"), 8<<10)
	for range n {
		post(t, srv.Client(), srv.URL, "sim", body, "sha1=x")
	}
	waitFor(t, "the fast subscriber", func() bool { return len(fast.all()) == n })
	var got, dropped, last int64
	fr := newFrameReader(br)
	for got+dropped < n {
		f, err := fr.next()
		if err != nil {
			t.Fatalf("after %d delivered and %d dropped: %v", got, dropped, err)
		}
		switch f.Type {
		case FrameDelivery:
			if f.Seq <= last {
				t.Fatalf("seq %d after %d", f.Seq, last)
			}
			last = f.Seq
			got++
		case FrameDropped:
			dropped += f.Count
		}
	}
	if dropped == 0 || got+dropped != n {
		t.Errorf("slow subscriber: %d delivered + %d dropped, want %d with some dropped", got, dropped, n)
	}
	for _, s := range r.Stats().Subscribers {
		switch s.Name {
		case "slow":
			if s.Dropped != dropped || s.PeakQueueBytes > 256*int64(len(deliveryFrame(1, time.Now(), nil, body))+256) {
				t.Errorf("slow: %+v, want %d dropped and at most 256 frames queued", s, dropped)
			}
		case "fast":
			if s.Dropped != 0 || s.FannedOut != n {
				t.Errorf("fast: %+v", s)
			}
		}
	}
	t.Logf("slow subscriber: %d delivered, %d dropped", got, dropped)
}

// TestComeAndGo: subscribers join and leave while deliveries flow; each gets what arrived while
// it was subscribed; the stats remember who left and why.
func TestComeAndGo(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	var logMu sync.Mutex
	r := New(Config{Log: writerFunc(func(p []byte) { logMu.Lock(); log.Write(p); logMu.Unlock() })})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	a, b := &collector{}, &collector{}
	sa := subscribe(t, srv.URL, "sim", "a", a)
	for range 10 {
		post(t, srv.Client(), srv.URL, "sim", []byte("1"), "s")
	}
	subscribe(t, srv.URL, "sim", "b", b)
	for range 10 {
		post(t, srv.Client(), srv.URL, "sim", []byte("2"), "s")
	}
	waitFor(t, "a", func() bool { return len(a.all()) == 20 })
	sa.Close()
	waitFor(t, "a to leave", func() bool { return len(r.Stats().Left) == 1 })
	for range 10 {
		post(t, srv.Client(), srv.URL, "sim", []byte("3"), "s")
	}
	waitFor(t, "b", func() bool { return len(b.all()) == 20 })
	if ds := b.all(); ds[0].Seq != 11 || ds[19].Seq != 30 {
		t.Errorf("b got seq %d..%d, want 11..30", ds[0].Seq, ds[19].Seq)
	}
	st := r.Stats()
	if l := st.Left[0]; l.Name != "a" || l.FannedOut != 20 || l.Left.IsZero() || !strings.Contains(l.Reason, "closed the connection") {
		t.Errorf("left: %+v", l)
	}
	if len(st.Subscribers) != 1 || st.Subscribers[0].Name != "b" || st.Targets[0].Left != 1 {
		t.Errorf("stats %+v", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(log.String(), "subscriber a (s1) left target sim: the subscriber closed the connection; fanned out 20, dropped 0") {
		t.Errorf("log:\n%s", log.String())
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// TestResubscribe: a subscription whose stream is cut subscribes again by itself, counts the
// reconnect, and counts the deliveries that came while it was away as missed (not dropped).
func TestResubscribe(t *testing.T) {
	t.Parallel()
	r, srv, refuse := refusingRelay(t)
	c := &collector{}
	var notices atomic.Int64
	s, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: c.deliver,
		Notice: func(string) { notices.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	post(t, srv.Client(), srv.URL, "sim", []byte("before"), "s")
	waitFor(t, "the first delivery", func() bool { return len(c.all()) == 1 })
	refuse.Store(true)
	srv.CloseClientConnections()
	waitFor(t, "the subscriber to leave", func() bool { return len(r.Stats().Subscribers) == 0 })
	for range 5 {
		post(t, &http.Client{}, srv.URL, "sim", []byte("away"), "s")
	}
	refuse.Store(false)
	waitFor(t, "the reconnect", func() bool { return s.Stats().Reconnects == 1 })
	post(t, &http.Client{}, srv.URL, "sim", []byte("after"), "s")
	waitFor(t, "the last delivery", func() bool { return len(c.all()) == 2 })
	if st := s.Stats(); st.Missed != 5 || st.Dropped != 0 || st.Deliveries != 2 || notices.Load() != 1 {
		t.Errorf("stats %+v, notices %d; want 5 missed, 2 deliveries, 1 notice", st, notices.Load())
	}
}

// TestSubscribeErrors: a relay that is not there, or refuses, is an error naming it.
func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(Config{}).Handler())
	t.Cleanup(srv.Close)
	_, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "bad name!", Deliver: func(Delivery) {}})
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("a bad name: %v", err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if _, err := Subscribe(context.Background(), Subscriber{URL: gone.URL, Target: "sim", Name: "k", Deliver: func(Delivery) {}}); err == nil ||
		!strings.Contains(err.Error(), "webhook relay: subscribing for target sim") {
		t.Errorf("no relay: %v", err)
	}
}

// TestServe: the health and readiness endpoints, the metrics; on shutdown the subscription gets
// what was queued and a bye, readiness is refused to new subscribers, and Serve returns.
func TestServe(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, "127.0.0.1:0", Config{}, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base := line[strings.Index(line, "http://") : len(line)-1]
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	c := &collector{}
	var notice atomic.Value
	s, err := Subscribe(context.Background(), Subscriber{URL: base, Target: "sim", Name: "shard-0", Deliver: c.deliver,
		Notice: func(m string) { notice.Store(m) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	post(t, &http.Client{}, base, "sim", []byte("x"), "s")
	waitFor(t, "the delivery", func() bool { return len(c.all()) == 1 })
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"# TYPE lpbench_relay_received_total counter\nlpbench_relay_received_total{target=\"sim\"} 1\n",
		`lpbench_relay_fanned_out_total{id="s1",subscriber="shard-0",target="sim"} 1`,
		`lpbench_relay_dropped_total{id="s1",subscriber="shard-0",target="sim"} 0`,
		`lpbench_relay_subscribers{target="sim"} 1`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("Serve did not return")
	}
	waitFor(t, "the notice", func() bool { v, _ := notice.Load().(string); return strings.Contains(v, "the relay shut down") })
}

// TestCloseRefusesDeliveries: once the relay is closing, a delivery is answered 503 (LivePerson
// retries it, to the relay that replaces this one) and counted, never answered 200 and lost with
// the streams that are ending.
func TestCloseRefusesDeliveries(t *testing.T) {
	t.Parallel()
	r := New(Config{})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	post(t, srv.Client(), srv.URL, "sim", []byte("before"), "s")
	r.Close()
	resp, err := srv.Client().Post(srv.URL+"/webhook/sim", "application/json", strings.NewReader("after"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a delivery during shutdown: %d, want 503", resp.StatusCode)
	}
	st := r.Stats()
	if st.Received != 1 || st.ShuttingDown != 1 || st.Ready {
		t.Errorf("stats: received %d, shutting down %d, ready %v; want 1, 1, false", st.Received, st.ShuttingDown, st.Ready)
	}
}

// TestCloseLosesNoAnsweredDelivery: deliveries race Close; every one answered 200 reaches the
// subscriber before the relay's bye (the others are answered 503), over 30 trials.
func TestCloseLosesNoAnsweredDelivery(t *testing.T) {
	t.Parallel()
	for trial := range 30 {
		r := New(Config{})
		srv := httptest.NewServer(r.Handler())
		c := &collector{}
		var bye atomic.Bool
		sub, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: c.deliver,
			Notice: func(m string) { bye.Store(bye.Load() || strings.Contains(m, "the relay shut down")) }})
		if err != nil {
			t.Fatal(err)
		}
		var answered atomic.Int64
		var posters sync.WaitGroup
		for range 4 {
			posters.Add(1)
			go func() {
				defer posters.Done()
				for {
					resp, err := srv.Client().Post(srv.URL+"/webhook/sim", "application/json", strings.NewReader("{}"))
					if err != nil {
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						return // refused: the relay is shutting down
					}
					answered.Add(1)
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		r.Close()
		posters.Wait()
		waitFor(t, "the bye", bye.Load)
		if got, want := int64(len(c.all())), answered.Load(); got != want {
			t.Errorf("trial %d: %d deliveries answered 200, %d reached the subscriber", trial, want, got)
		}
		sub.Close()
		srv.Close()
	}
}

// TestSubscribeContext: the context given to Subscribe bounds the subscribing, not the
// subscription: cancelled after, deliveries still come.
func TestSubscribeContext(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(Config{}).Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{}
	s, err := Subscribe(ctx, Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: c.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancel()
	post(t, srv.Client(), srv.URL, "sim", []byte("x"), "s")
	waitFor(t, "the delivery after the cancel", func() bool { return len(c.all()) == 1 })
	if _, err := Subscribe(ctx, Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: c.deliver}); err == nil {
		t.Error("subscribed with a cancelled context")
	}
}

// TestResubscribeRestartedRelay: when the relay process behind the URL is replaced (another
// instance id), the deliveries the new one received before the subscription came back count as
// missed, the reconnect as uncertain (what the old one received after the stream was lost is not
// known), and its sequence numbers are followed from there.
func TestResubscribeRestartedRelay(t *testing.T) {
	t.Parallel()
	var cur atomic.Pointer[Relay]
	cur.Store(New(Config{}))
	var refuse atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if refuse.Load() && strings.HasPrefix(req.URL.Path, "/subscribe/") {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		cur.Load().Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	c := &collector{}
	s, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: c.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	post(t, &http.Client{}, srv.URL, "sim", []byte("1"), "s")
	waitFor(t, "the first delivery", func() bool { return len(c.all()) == 1 })
	refuse.Store(true)
	old := cur.Swap(New(Config{}))
	old.Close() // bye: the subscription goes
	for range 4 {
		post(t, &http.Client{}, srv.URL, "sim", []byte("to the new relay"), "s")
	}
	refuse.Store(false)
	waitFor(t, "the reconnect", func() bool { return s.Stats().Reconnects == 1 })
	post(t, &http.Client{}, srv.URL, "sim", []byte("after"), "s")
	waitFor(t, "the delivery after", func() bool { return len(c.all()) == 2 })
	if st := s.Stats(); st.Missed != 4 || st.Dropped != 0 || st.Uncertain != 1 || c.all()[1].Seq != 5 {
		t.Errorf("stats %+v, last seq %d; want 4 missed, 1 uncertain (the old relay's losses are not known), seq 5", st, c.all()[1].Seq)
	}
}

// refusingRelay is a relay behind a server that can refuse subscriptions for a while.
func refusingRelay(t *testing.T) (*Relay, *httptest.Server, *atomic.Bool) {
	t.Helper()
	r := New(Config{})
	var refuse atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if refuse.Load() && strings.HasPrefix(req.URL.Path, "/subscribe/") {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		r.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return r, srv, &refuse
}

// TestTrailingLossAtReconnect: deliveries the relay received while the subscription was lost,
// with none after it came back, count as missed at once (the hello frame's number), not only
// when a later delivery shows the gap.
func TestTrailingLossAtReconnect(t *testing.T) {
	t.Parallel()
	r, srv, refuse := refusingRelay(t)
	c := &collector{}
	s := subscribe(t, srv.URL, "sim", "k", c)
	post(t, srv.Client(), srv.URL, "sim", []byte("before"), "s")
	waitFor(t, "the first delivery", func() bool { return len(c.all()) == 1 })
	refuse.Store(true)
	srv.CloseClientConnections()
	waitFor(t, "the subscriber to leave", func() bool { return len(r.Stats().Subscribers) == 0 })
	for range 5 {
		post(t, &http.Client{}, srv.URL, "sim", []byte("away"), "s")
	}
	refuse.Store(false)
	waitFor(t, "the reconnect", func() bool { return s.Stats().Reconnects == 1 })
	if st := s.Stats(); st.Missed != 5 || st.Deliveries != 1 || st.Uncertain != 0 {
		t.Errorf("after the reconnect: %+v; want 5 missed, 1 delivery, none uncertain", st)
	}
	s.Close()
	if st := s.Stats(); st.Missed != 5 || st.Uncertain != 0 {
		t.Errorf("after Close: %+v; want still 5 missed, none uncertain", st)
	}
}

// TestTrailingLossAtClose: at Close, what the relay received for the target up to then reaches
// the subscriber (the frames still queued are drained, within Drain) or counts as missed; a
// subscription still lost at Close counts what it never got as missed.
func TestTrailingLossAtClose(t *testing.T) {
	t.Parallel()
	t.Run("drained", func(t *testing.T) {
		t.Parallel()
		_, srv, _ := refusingRelay(t)
		var got atomic.Int64
		s, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k",
			Deliver: func(Delivery) { time.Sleep(2 * time.Millisecond); got.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			post(t, srv.Client(), srv.URL, "sim", []byte("x"), "s")
		}
		s.Close() // at once: most of the 50 are still queued or on their way
		if st := s.Stats(); got.Load() != 50 || st.Deliveries != 50 || st.Missed != 0 || st.Uncertain != 0 {
			t.Errorf("delivered %d, stats %+v; want all 50 drained by Close", got.Load(), st)
		}
	})
	t.Run("too slow", func(t *testing.T) {
		t.Parallel()
		_, srv, _ := refusingRelay(t)
		s, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k", Drain: 100 * time.Millisecond,
			Deliver: func(Delivery) { time.Sleep(20 * time.Millisecond) }})
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			post(t, srv.Client(), srv.URL, "sim", []byte("x"), "s")
		}
		s.Close()
		if st := s.Stats(); st.Deliveries == 30 || st.Deliveries+st.Missed+st.Dropped != 30 || st.Uncertain != 0 {
			t.Errorf("stats %+v; want delivered + missed = 30, some missed", st)
		}
	})
	t.Run("lost", func(t *testing.T) {
		t.Parallel()
		r, srv, refuse := refusingRelay(t)
		c := &collector{}
		s := subscribe(t, srv.URL, "sim", "k", c)
		post(t, srv.Client(), srv.URL, "sim", []byte("1"), "s")
		waitFor(t, "the first delivery", func() bool { return len(c.all()) == 1 })
		refuse.Store(true)
		srv.CloseClientConnections()
		waitFor(t, "the subscriber to leave", func() bool { return len(r.Stats().Subscribers) == 0 })
		for range 5 {
			post(t, &http.Client{}, srv.URL, "sim", []byte("2"), "s")
		}
		s.Close()
		if st := s.Stats(); st.Deliveries != 1 || st.Missed != 5 || st.Uncertain != 0 {
			t.Errorf("stats %+v; want 1 delivery, 5 missed", st)
		}
	})
	t.Run("relay gone", func(t *testing.T) {
		t.Parallel()
		_, srv, _ := refusingRelay(t)
		var notice atomic.Value
		s, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "sim", Name: "k", Deliver: func(Delivery) {},
			Notice: func(m string) { notice.Store(m) }})
		if err != nil {
			t.Fatal(err)
		}
		srv.CloseClientConnections()
		srv.Close()
		s.Close()
		if st := s.Stats(); st.Uncertain != 1 {
			t.Errorf("stats %+v; want 1 uncertain: the final count could not be read", st)
		}
		if m, _ := notice.Load().(string); !strings.Contains(m, "could not be read") {
			t.Errorf("notice %q", m)
		}
	})
}

// TestMaxTargets: the relay keeps at most MaxTargets targets: a delivery or a subscription for a
// new one beyond it is refused with 404 and counted (stats, metrics); the targets it has go on.
func TestMaxTargets(t *testing.T) {
	t.Parallel()
	r := New(Config{MaxTargets: 2})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	c := &collector{}
	subscribe(t, srv.URL, "a", "k", c)
	post(t, srv.Client(), srv.URL, "b", []byte("x"), "s")
	for _, path := range []string{"/webhook/c", "/webhook/d"} {
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(msg), "at most 2 targets") {
			t.Errorf("POST %s: %s %s, want 404", path, resp.Status, msg)
		}
	}
	if _, err := Subscribe(context.Background(), Subscriber{URL: srv.URL, Target: "e", Name: "k", Deliver: c.deliver}); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Errorf("subscribing for a third target: %v", err)
	}
	post(t, srv.Client(), srv.URL, "a", []byte("y"), "s")
	waitFor(t, "the delivery to a", func() bool { return len(c.all()) == 1 })
	st := r.Stats()
	if st.TargetsRefused != 3 || len(st.Targets) != 2 || st.Received != 2 {
		t.Errorf("stats %+v, want 3 refused, 2 targets, 2 received", st)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "lpbench_relay_targets_refused_total 3\n") || strings.Contains(string(m), `target="c"`) {
		t.Errorf("metrics:\n%s", m)
	}
}
