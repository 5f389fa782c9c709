package relay

import (
	"github.com/prometheus/client_golang/prometheus"
)

// promCollector exports the relay's counters to Prometheus (GET /metrics). It reads Stats at each
// scrape, so the counters have one home, the relay's own, and subscribers that come and go
// leave no stale series behind.
type promCollector struct {
	r *Relay
}

var (
	descReceived     = prometheus.NewDesc("lpbench_relay_received_total", "Webhook deliveries accepted, by target.", []string{"target"}, nil)
	descNoSubscriber = prometheus.NewDesc("lpbench_relay_no_subscriber_total", "Deliveries accepted while no one was subscribed for their target.", []string{"target"}, nil)
	descSubscribers  = prometheus.NewDesc("lpbench_relay_subscribers", "Open subscriptions, by target.", []string{"target"}, nil)
	descLeft         = prometheus.NewDesc("lpbench_relay_subscribers_left_total", "Subscriptions ended, by target.", []string{"target"}, nil)
	descRefused      = prometheus.NewDesc("lpbench_relay_targets_refused_total", "Deliveries and subscriptions refused for a new target beyond -max-targets.", nil, nil)
	descShuttingDown = prometheus.NewDesc("lpbench_relay_shutting_down_total", "Deliveries refused with 503, for the sender to retry, while the relay was shutting down.", nil, nil)
	subLabels        = []string{"target", "subscriber", "id"}
	descFannedOut    = prometheus.NewDesc("lpbench_relay_fanned_out_total", "Deliveries written to an open subscription.", subLabels, nil)
	descDropped      = prometheus.NewDesc("lpbench_relay_dropped_total", "Deliveries dropped for an open subscription: its queue was full.", subLabels, nil)
	descQueued       = prometheus.NewDesc("lpbench_relay_queued", "Deliveries queued for an open subscription.", subLabels, nil)
)

var _ prometheus.Collector = promCollector{}

// Describe sends the descriptors of every metric the relay exports.
func (promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReceived, descNoSubscriber, descSubscribers, descLeft, descRefused, descShuttingDown, descFannedOut, descDropped, descQueued} {
		ch <- d
	}
}

// Collect sends the relay's counters as they are now.
func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.TargetsRefused))
	ch <- prometheus.MustNewConstMetric(descShuttingDown, prometheus.CounterValue, float64(st.ShuttingDown))
	for _, t := range st.Targets {
		ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(t.Received), t.Name)
		ch <- prometheus.MustNewConstMetric(descNoSubscriber, prometheus.CounterValue, float64(t.NoSubscriber), t.Name)
		ch <- prometheus.MustNewConstMetric(descSubscribers, prometheus.GaugeValue, float64(t.Subscribers), t.Name)
		ch <- prometheus.MustNewConstMetric(descLeft, prometheus.CounterValue, float64(t.Left), t.Name)
	}
	for _, s := range st.Subscribers {
		ch <- prometheus.MustNewConstMetric(descFannedOut, prometheus.CounterValue, float64(s.FannedOut), s.Target, s.Name, s.ID)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped), s.Target, s.Name, s.ID)
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(s.Queued), s.Target, s.Name, s.ID)
	}
}
