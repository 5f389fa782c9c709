package relay

import (
	"context"
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
}

// SubscriptionStats count what a subscription got and lost.
type SubscriptionStats struct {
	Deliveries int64 // deliveries received
	// Dropped were dropped by the relay for this subscriber (its queue was full), as its
	// notices said; Missed arrived at the relay while the subscriber was not subscribed (the
	// gaps in the sequence numbers that no notice explains, and what a restarted relay had
	// received before the subscription was opened again).
	Dropped, Missed int64
	Reconnects      int64 // subscriptions opened again after one was lost
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

	deliveries, dropped, gaps, reconnects atomic.Int64
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
	return SubscriptionStats{Deliveries: s.deliveries.Load(), Dropped: d, Missed: max(0, s.gaps.Load()-d), Reconnects: s.reconnects.Load()}
}

// Close ends the subscription and waits until Deliver is no longer called.
func (s *Subscription) Close() {
	s.cancel()
	<-s.done
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
	if hello.Relay != s.instance { // another relay process: its numbers start anew
		if s.instance != "" {
			// A restarted relay: what it received before this subscription never reached us.
			// (What was sent while no relay ran, the sender counts as failed.)
			s.gaps.Add(hello.Seq)
		}
		s.instance, s.last = hello.Relay, hello.Seq
	}
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
	if f.Seq > s.last {
		s.last = f.Seq
	}
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
