package relay

import (
	"encoding/json"
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
	// TargetsRefused counts deliveries and subscriptions refused (404) for a new target beyond
	// Config.MaxTargets.
	TargetsRefused int64 `json:"targets_refused"`
	// ShuttingDown counts deliveries refused (503, for the sender to retry) once the relay had
	// begun to shut down.
	ShuttingDown int64 `json:"shutting_down"`
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
	st := Stats{Relay: r.instance, Ready: !r.closed, Received: r.received.Load(), TooLarge: r.tooLarge.Load(), TargetsRefused: r.targetsRefused.Load(), ShuttingDown: r.shuttingDown.Load(),
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
