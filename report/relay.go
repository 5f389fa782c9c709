package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// RelayHop is the distribution of the webhook relay's hop for one target: for each relayed
// delivery, the time from its arrival at the relay (the relay's clock) to its arrival at the
// shard's receiver (the shard's clock). The automsg latency of a relayed run includes it: it is
// measured at the shard, so the relay can only make it look worse, never better; the hop says by
// how much. The two clocks are different machines' (NTP-synchronised in a cluster): a hop that
// came out negative, the relay's clock ahead, counts as 0 and in Behind.
type RelayHop struct {
	H      *hdrhistogram.Histogram
	Behind int64 // hops that came out negative
}

// NewRelayHop returns an empty distribution.
func NewRelayHop() *RelayHop { return &RelayHop{H: NewHistogram()} }

// Record adds one hop. Not safe for concurrent use.
func (r *RelayHop) Record(d time.Duration) {
	if d < 0 {
		r.Behind++
	}
	record(r.H, d)
}

// relayHopFile is RelayHop in the result file.
type relayHopFile struct {
	histFile
	Behind int64 `json:"clock_behind"`
}

// MarshalJSON writes the histogram as result files write every histogram.
func (r *RelayHop) MarshalJSON() ([]byte, error) {
	hf, err := histToFile(r.H)
	if err != nil {
		return nil, err
	}
	return json.Marshal(relayHopFile{histFile: hf, Behind: r.Behind})
}

// UnmarshalJSON reads it back, checking its geometry.
func (r *RelayHop) UnmarshalJSON(b []byte) error {
	var f relayHopFile
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	h, err := decodeHistogram(f.HDR)
	if err != nil {
		return fmt.Errorf("relay_hop: %w", err)
	}
	r.H, r.Behind = h, f.Behind
	return nil
}

// addRelayHop merges b into a copy of a; nil stands for "not relayed".
func addRelayHop(a, b *RelayHop) (*RelayHop, error) {
	if b == nil {
		return a, nil
	}
	sum := NewRelayHop()
	for _, o := range []*RelayHop{a, b} {
		if o == nil {
			continue
		}
		if err := mergeHistogram(sum.H, o.H); err != nil {
			return nil, fmt.Errorf("relay_hop: %w", err)
		}
		sum.Behind += o.Behind
	}
	return sum, nil
}

// webhookLines are the lines, without their line break, that say what a target's webhook
// receiver got — received, first auto messages, duplicates, late, unmatched, echoes, bad
// signatures, and undecodable, dropped or reordered deliveries when there were any — and, when the
// run went through a relay, the relay's counters and its hop. None when the target had no
// receiver. The terminal summary and the markdown both show them.
func webhookLines(relayURL string, t TargetInfo) []string {
	w := t.Webhooks
	if w == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "webhooks: received %d, first auto messages %d, duplicates %d, late %d, unmatched %d, consumer echoes %d, bad signatures %d",
		w.Received, w.AutoMessages, w.Duplicates, w.Late, w.Unmatched, w.Echoes, w.BadSignature)
	if w.Undecodable+w.Overflow > 0 {
		fmt.Fprintf(&b, ", undecodable %d, dropped (queue full) %d", w.Undecodable, w.Overflow)
	}
	if w.Reordered > 0 {
		fmt.Fprintf(&b, ", out of order %d", w.Reordered)
	}
	lines := []string{b.String()}
	if relayURL == "" {
		return lines
	}
	lines = append(lines, fmt.Sprintf("webhook relay %s: relayed %d, dropped by the relay %d (shard too slow), missed while not subscribed %d, resubscribed %d",
		relayURL, w.Relayed, w.RelayDropped, w.RelayMissed, w.RelayReconnects))
	if w.RelayUncertain > 0 {
		lines = append(lines, fmt.Sprintf("webhook relay: losses not known %d time(s) (the relay restarted during the run, or its final count could not be read)", w.RelayUncertain))
	}
	hop := t.RelayHop
	if hop == nil || hop.H.TotalCount() == 0 {
		return lines
	}
	h := hop.H
	b.Reset()
	fmt.Fprintf(&b, "relay hop (relay receive → shard receive, two clocks; part of automsg): p50 %s, p99 %s, max %s over %d deliveries",
		fmtDur(Percentile(h, 50)), fmtDur(Percentile(h, 99)), fmtDur(maxOf(h)), h.TotalCount())
	if hop.Behind > 0 {
		fmt.Fprintf(&b, "; %d negative (the relay's clock ahead), counted as 0", hop.Behind)
	}
	return append(lines, b.String())
}
