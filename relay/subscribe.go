package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Delivery is one webhook delivery as the relay received it.
type Delivery struct {
	Seq      int64
	Received time.Time   // at the relay, by its clock
	Header   http.Header // the X-LivePerson-* headers and Content-Type
	Body     []byte
}

// Subscriber describes a subscription to open with Subscribe.
type Subscriber struct {
	URL    string // the relay's base URL, e.g. http://lpbench-relay:8080
	Target string // the target whose deliveries to receive: /webhook/<Target> at the relay
	Name   string // the subscriber's name in the relay's logs and stats (letters, digits, . _ -)
	// Client makes the requests; nil: a client without timeout (the stream is long-lived; a
	// silent relay is detected by its missing pings).
	Client *http.Client
	// Deliver is called with every delivery, in order, from one goroutine.
	Deliver func(Delivery)
	// Notice, if set, is told when the subscription is lost and opened again.
	Notice func(msg string)
	// Ping is the relay's keep-alive interval; the stream is taken for dead after three of them
	// without a frame. Default DefaultPing.
	Ping time.Duration
	// Drain bounds Close's settling: reading the target's final sequence number at the relay
	// (GET /stats) and the deliveries up to it still on their way. Default DefaultDrain.
	Drain time.Duration
}

// DefaultDrain is Subscriber.Drain's default.
const DefaultDrain = 2 * time.Second

// SubscriptionStats count what a subscription got and lost.
type SubscriptionStats struct {
	Deliveries int64 // deliveries received
	// Dropped were dropped by the relay for this subscriber (its queue was full), as its
	// notices said; Missed are the other deliveries the relay received while the subscription
	// lasted and that never came: the gaps in the sequence numbers, those received while the
	// subscription was lost (told by the hello frame of the next one), those still on their way
	// when Close gave up (the relay's final sequence number, read at Close), and what a
	// restarted relay had received before the subscription was opened again.
	Dropped, Missed int64
	Reconnects      int64 // subscriptions opened again after one was lost
	// Uncertain counts the times the subscription could not tell what it lost: it reconnected
	// to another relay process (a restart: what the old one received after the stream was lost,
	// and what was sent while none ran, are unknown), or Close could not read the relay's final
	// sequence number (or read another process's). Then Missed is a lower bound.
	Uncertain int64
}

// Subscription is an open subscription, kept open (subscribing again when it is lost) until
// Close.
type Subscription struct {
	sub    Subscriber
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	instance string // the relay process of the current stream
	last     int64  // the last sequence number seen from that process
	// At Close: the sequence number awaited and the channel closed once last reaches it.
	final   int64
	reached chan struct{}

	deliveries, dropped, gaps, reconnects, uncertain atomic.Int64
}

// Subscribe opens a subscription and returns once the relay has confirmed it (its hello frame):
// from then on every delivery the relay receives for the target is handed to s.Deliver. ctx
// bounds the subscribing only; the subscription lasts until Close. The first subscription
// failing is an error naming the relay; later losses are retried until Close, each told to
// s.Notice.
func Subscribe(ctx context.Context, s Subscriber) (*Subscription, error) {
	if s.Client == nil {
		s.Client = &http.Client{}
	}
	if s.Ping <= 0 {
		s.Ping = DefaultPing
	}
	if s.Drain <= 0 {
		s.Drain = DefaultDrain
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	opening := context.AfterFunc(ctx, cancel)
	sub := &Subscription{sub: s, cancel: cancel, done: make(chan struct{})}
	body, err := sub.open(run)
	if !opening() { // ctx ended while subscribing
		cancel()
		if err == nil {
			body.body.Close()
			err = fmt.Errorf("webhook relay: subscribing for target %s: %w", s.Target, context.Cause(ctx))
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	go sub.run(run, body)
	return sub, nil
}

// Stats returns the counts so far.
func (s *Subscription) Stats() SubscriptionStats {
	d := s.dropped.Load()
	return SubscriptionStats{Deliveries: s.deliveries.Load(), Dropped: d, Missed: max(0, s.gaps.Load()-d), Reconnects: s.reconnects.Load(),
		Uncertain: s.uncertain.Load()}
}

// Close ends the subscription and waits until Deliver is no longer called. First, within
// Subscriber.Drain, it reads the target's last sequence number at the relay and waits for the
// deliveries up to it still queued or on their way; those that do not come in time count as
// missed. A relay whose number cannot be read, or that is another process than the stream's,
// counts as uncertain.
func (s *Subscription) Close() {
	deadline := time.Now().Add(s.sub.Drain)
	instance, final, err := s.finalSeq(deadline)
	if err == nil {
		s.await(instance, final, deadline)
	}
	s.cancel()
	<-s.done
	s.settle(instance, final, err)
}

// finalSeq reads the relay's instance and the target's last sequence number (GET /stats).
func (s *Subscription) finalSeq(deadline time.Time) (string, int64, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	u := strings.TrimRight(s.sub.URL, "/") + "/stats"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := s.sub.Client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var st Stats
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&st); err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", u, err)
	}
	for _, t := range st.Targets {
		if t.Name == s.sub.Target {
			return st.Relay, t.Seq, nil
		}
	}
	return st.Relay, 0, nil
}

// await waits until the stream of relay instance has delivered up to final, the deadline
// passes or the stream ends for good.
func (s *Subscription) await(instance string, final int64, deadline time.Time) {
	s.mu.Lock()
	if s.instance != instance || s.last >= final {
		s.mu.Unlock()
		return
	}
	reached := make(chan struct{})
	s.final, s.reached = final, reached
	s.mu.Unlock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-reached:
	case <-t.C:
	case <-s.done:
	}
}

// settle counts, once the stream has ended, what never came of the deliveries up to final.
func (s *Subscription) settle(instance string, final int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reached = nil
	switch {
	case err != nil:
		s.uncertain.Add(1)
		s.notice(fmt.Sprintf("webhook relay %s: the final count of target %s could not be read (%v): deliveries lost at the end of the run are not known", s.sub.URL, s.sub.Target, err))
	case instance != s.instance:
		s.uncertain.Add(1)
		s.notice(fmt.Sprintf("webhook relay %s: at the end of the run another relay process answered (%s, the stream's was %s): deliveries lost at the end of the run are not known", s.sub.URL, instance, s.instance))
	case final > s.last:
		s.gaps.Add(final - s.last)
		s.last = final
	}
}

// advanced records that the stream has delivered up to seq (s.mu held), and ends Close's wait
// once it reaches the awaited number.
func (s *Subscription) advanced(seq int64) {
	s.last = max(s.last, seq)
	if s.reached != nil && s.last >= s.final {
		close(s.reached)
		s.reached = nil
	}
}

// streamBody is an open stream: its decoder and the means to cut it.
type streamBody struct {
	body io.ReadCloser
	fr   *frameReader
}

// open subscribes and reads the hello frame.
func (s *Subscription) open(ctx context.Context) (*streamBody, error) {
	u := strings.TrimRight(s.sub.URL, "/") + "/subscribe/" + url.PathEscape(s.sub.Target) + "?name=" + url.QueryEscape(s.sub.Name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("webhook relay %s: %w", s.sub.URL, err)
	}
	resp, err := s.sub.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("webhook relay: subscribing for target %s: %w", s.sub.Target, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("webhook relay: subscribing for target %s at %s: %s: %s", s.sub.Target, u, resp.Status, strings.TrimSpace(string(b)))
	}
	st := &streamBody{body: resp.Body, fr: newFrameReader(resp.Body)}
	hello, err := s.hello(ctx, st)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("webhook relay: subscribing for target %s at %s: %w", s.sub.Target, u, err)
	}
	s.mu.Lock()
	switch {
	case s.instance == "": // the first stream
		s.instance, s.last = hello.Relay, hello.Seq
	case hello.Relay != s.instance:
		// A restarted relay, whose numbers start anew: what it received before this
		// subscription never reached us (missed); what the old one received after the stream
		// was lost, and what was sent while no relay ran, are unknown (uncertain).
		s.gaps.Add(hello.Seq)
		s.uncertain.Add(1)
		s.instance, s.last = hello.Relay, hello.Seq
	case hello.Seq > s.last:
		// The same relay: what it received since the last delivery seen, queued for the lost
		// stream or received while there was none, never came.
		s.gaps.Add(hello.Seq - s.last)
	}
	s.advanced(hello.Seq)
	s.mu.Unlock()
	return st, nil
}

// hello reads the first frame within three pings.
func (s *Subscription) hello(ctx context.Context, st *streamBody) (Frame, error) {
	t := time.AfterFunc(3*s.sub.Ping, func() { st.body.Close() })
	defer t.Stop()
	f, err := st.fr.next()
	if err != nil {
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
		return f, fmt.Errorf("no hello frame: %w", err)
	}
	if f.Type != FrameHello {
		return f, fmt.Errorf("the first frame is %q, not hello", f.Type)
	}
	return f, nil
}

// run reads streams until Close, subscribing again whenever one is lost.
func (s *Subscription) run(ctx context.Context, st *streamBody) {
	defer close(s.done)
	backoff := 100 * time.Millisecond
	for {
		err := s.read(ctx, st)
		st.body.Close()
		if ctx.Err() != nil {
			return
		}
		s.notice(fmt.Sprintf("webhook relay %s: the subscription for target %s was lost (%v); subscribing again", s.sub.URL, s.sub.Target, err))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			var oerr error
			if st, oerr = s.open(ctx); oerr == nil {
				s.reconnects.Add(1)
				backoff = 100 * time.Millisecond
				break
			}
			if ctx.Err() != nil {
				return
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}
}

func (s *Subscription) notice(msg string) {
	if s.sub.Notice != nil {
		s.sub.Notice(msg)
	}
}

// read hands the stream's deliveries to Deliver until it ends, fails or stays silent for three
// pings.
func (s *Subscription) read(ctx context.Context, st *streamBody) error {
	quiet := 3 * s.sub.Ping
	watchdog := time.AfterFunc(quiet, func() { st.body.Close() })
	defer watchdog.Stop()
	for {
		f, err := st.fr.next()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, io.EOF) {
				return errors.New("the relay ended the stream")
			}
			return err
		}
		if ctx.Err() != nil { // Close: what is still buffered counts as missed
			return ctx.Err()
		}
		watchdog.Reset(quiet)
		switch f.Type {
		case FrameDelivery:
			s.deliver(f)
		case FrameDropped:
			s.dropped.Add(f.Count)
		case FrameBye:
			return errors.New("the relay shut down")
		}
	}
}

// deliver counts the sequence gap before f and hands it on.
func (s *Subscription) deliver(f Frame) {
	s.mu.Lock()
	gap := f.Seq - s.last - 1
	s.advanced(f.Seq)
	s.mu.Unlock()
	s.deliveries.Add(1)
	if gap > 0 {
		s.gaps.Add(gap) // dropped or missed: Stats tells them apart with the notices
	}
	h := make(http.Header, len(f.Header))
	for k, v := range f.Header {
		h.Set(k, v)
	}
	s.sub.Deliver(Delivery{Seq: f.Seq, Received: time.Unix(0, f.Received), Header: h, Body: f.Body})
}
