package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Stats are the relay's counters (GET /stats).
type Stats struct {
	Relay    string `json:"relay"`    // the process's instance id, as in hello frames
	Ready    bool   `json:"ready"`    // accepting subscriptions
	Received int64  `json:"received"` // deliveries accepted, every target
	TooLarge int64  `json:"too_large"`
	// Targets by name, in name order.
	Targets []TargetStats `json:"targets"`
	// Subscribers are the open subscriptions; Left the latest that ended (at most 64), with
	// when and why.
	Subscribers []SubscriberStats `json:"subscribers"`
	Left        []SubscriberStats `json:"left"`
}

// TargetStats count one target's deliveries.
type TargetStats struct {
	Name         string `json:"name"`
	Received     int64  `json:"received"`      // deliveries accepted for it
	NoSubscriber int64  `json:"no_subscriber"` // of which no one was subscribed to hear
	Seq          int64  `json:"seq"`           // the last sequence number given
	Subscribers  int    `json:"subscribers"`   // open subscriptions
	Left         int64  `json:"left"`          // subscriptions ended
}

// SubscriberStats count one subscription's deliveries. FannedOut + Dropped + Queued is every
// delivery queued for it, but for those lost with a failed write.
type SubscriberStats struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Target         string    `json:"target"`
	Since          time.Time `json:"since"`
	Left           time.Time `json:"left,omitzero"`
	Reason         string    `json:"reason,omitempty"` // why it ended
	Queued         int       `json:"queued"`           // deliveries waiting to be written
	FannedOut      int64     `json:"fanned_out"`       // deliveries written to its stream
	Dropped        int64     `json:"dropped"`          // deliveries dropped: its queue was full
	PeakQueueBytes int64     `json:"peak_queue_bytes"` // the most its queue held
}

// Stats returns the counters now.
func (r *Relay) Stats() Stats {
	r.mu.RLock()
	st := Stats{Relay: r.instance, Ready: !r.closed, Received: r.received.Load(), TooLarge: r.tooLarge.Load(),
		Left: slices.Clone(r.left), Subscribers: []SubscriberStats{}}
	topics := make([]*topic, 0, len(r.topics))
	for _, t := range r.topics {
		topics = append(topics, t)
	}
	r.mu.RUnlock()
	if st.Left == nil {
		st.Left = []SubscriberStats{}
	}
	slices.SortFunc(topics, func(a, b *topic) int { return strings.Compare(a.name, b.name) })
	for _, t := range topics {
		t.mu.Lock()
		subs, seq := slices.Clone(t.subs), t.seq
		t.mu.Unlock()
		st.Targets = append(st.Targets, TargetStats{Name: t.name, Received: t.received.Load(), NoSubscriber: t.noSubscriber.Load(),
			Seq: seq, Subscribers: len(subs), Left: t.leftCount.Load()})
		for _, s := range subs {
			st.Subscribers = append(st.Subscribers, s.stats(time.Time{}, ""))
		}
	}
	return st
}

func (r *Relay) handleStats(w http.ResponseWriter, _ *http.Request) {
	b, _ := json.MarshalIndent(r.Stats(), "", "  ") // plain data: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// handleMetrics writes the counters in Prometheus' text exposition format.
func (r *Relay) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	st := r.Stats()
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("lpbench_relay_received_total", "counter", "Webhook deliveries accepted, by target.")
	for _, t := range st.Targets {
		fmt.Fprintf(&b, "lpbench_relay_received_total{target=%s} %d\n", label(t.Name), t.Received)
	}
	metric("lpbench_relay_no_subscriber_total", "counter", "Deliveries accepted while no one was subscribed for their target.")
	for _, t := range st.Targets {
		fmt.Fprintf(&b, "lpbench_relay_no_subscriber_total{target=%s} %d\n", label(t.Name), t.NoSubscriber)
	}
	metric("lpbench_relay_subscribers", "gauge", "Open subscriptions, by target.")
	for _, t := range st.Targets {
		fmt.Fprintf(&b, "lpbench_relay_subscribers{target=%s} %d\n", label(t.Name), t.Subscribers)
	}
	metric("lpbench_relay_subscribers_left_total", "counter", "Subscriptions ended, by target.")
	for _, t := range st.Targets {
		fmt.Fprintf(&b, "lpbench_relay_subscribers_left_total{target=%s} %d\n", label(t.Name), t.Left)
	}
	for _, m := range []struct {
		name, typ, help string
		v               func(SubscriberStats) int64
	}{
		{"lpbench_relay_fanned_out_total", "counter", "Deliveries written to an open subscription.", func(s SubscriberStats) int64 { return s.FannedOut }},
		{"lpbench_relay_dropped_total", "counter", "Deliveries dropped for an open subscription: its queue was full.", func(s SubscriberStats) int64 { return s.Dropped }},
		{"lpbench_relay_queued", "gauge", "Deliveries queued for an open subscription.", func(s SubscriberStats) int64 { return int64(s.Queued) }},
	} {
		metric(m.name, m.typ, m.help)
		for _, s := range st.Subscribers {
			fmt.Fprintf(&b, "%s{target=%s,subscriber=%s,id=%s} %d\n", m.name, label(s.Target), label(s.Name), label(s.ID), m.v(s))
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}

// label quotes a label value as the text format wants: backslash, double quote and newline
// escaped.
func label(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}
