package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// relayedShard returns a shard's result whose one target heard n deliveries through a relay,
// each hop of hop, one of them with the relay's clock ahead.
func relayedShard(t *testing.T, n int, hop time.Duration) *report.Result {
	t.Helper()
	r := report.NewRecorder(report.RecorderOptions{Targets: []string{"sim"}, Epoch: time.Now(), Window: 10 * time.Second})
	per, all := r.Close()
	h := report.NewRelayHop()
	for range n - 1 {
		h.Record(hop)
	}
	h.Record(-time.Millisecond)
	w := &sample.WebhookStats{Received: int64(n), Relayed: int64(n), RelayDropped: 2, RelayMissed: 3, RelayReconnects: 1}
	return &report.Result{Window: 10 * time.Second, Start: time.Now(), Relay: "http://relay:8080", PerTarget: per, Overall: all,
		Targets: []report.TargetInfo{{Name: "sim", Webhooks: w, RelayHop: h}}}
}

// TestRelayHopMerge: the relay hop and counters survive the result file, merge exactly (the hop
// histograms add bucket by bucket, the clock-behind counts add), and the summary shows them.
func TestRelayHopMerge(t *testing.T) {
	t.Parallel()
	a, b := roundTrip(t, relayedShard(t, 10, 2*time.Millisecond)), roundTrip(t, relayedShard(t, 30, 8*time.Millisecond))
	if a.Relay != "http://relay:8080" || a.Targets[0].RelayHop == nil || a.Targets[0].RelayHop.H.TotalCount() != 10 || a.Targets[0].RelayHop.Behind != 1 {
		t.Fatalf("read back: relay %q, target %+v", a.Relay, a.Targets[0])
	}
	m, err := report.Merge([]*report.Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	hop, w := m.Targets[0].RelayHop, m.Targets[0].Webhooks
	if hop.H.TotalCount() != 40 || hop.Behind != 2 || hdr.MaxOf(hop.H) < 8*time.Millisecond || hdr.Percentile(hop.H, 50) < 7*time.Millisecond {
		t.Errorf("merged hop: %d hops, %d behind, p50 %v, max %v", hop.H.TotalCount(), hop.Behind, hdr.Percentile(hop.H, 50), hdr.MaxOf(hop.H))
	}
	if w.Relayed != 40 || w.RelayDropped != 4 || w.RelayMissed != 6 || w.RelayReconnects != 2 || m.Relay != a.Relay {
		t.Errorf("merged counters %+v, relay %q", *w, m.Relay)
	}
	var s strings.Builder
	if err := render.Summary(m)(&s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"webhook relay http://relay:8080: relayed 40, dropped by the relay 4 (shard too slow), missed while not subscribed 6, resubscribed 2\n",
		"relay hop (relay receive → shard receive, two clocks; part of automsg): p50 ",
		" over 40 deliveries; 2 negative (the relay's clock ahead), counted as 0\n",
	} {
		if !strings.Contains(s.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, s.String())
		}
	}
}
