package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// Upstream counts the requests the API client sends and keeps the last rate
// limit the API reported. It is the client's apiclient.Observer and a
// prometheus.Collector.
type Upstream struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	limit     *prometheus.GaugeVec
	remaining *prometheus.GaugeVec
	reset     *prometheus.GaugeVec
}

var (
	_ prometheus.Collector = (*Upstream)(nil)
	_ apiclient.Observer   = (*Upstream)(nil)
)

// NewUpstream returns an Upstream with no observations, for the
// organisation whose name its series carry as the label organization.
func NewUpstream(organization string) *Upstream {
	endpoint := []string{"endpoint"}
	org := prometheus.Labels{series.OrganizationLabel: organization}
	return &Upstream{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total", ConstLabels: org,
			Help: `Requests sent to the Confluent Cloud API, by HTTP status code ("error" when no response came).`,
		}, []string{"endpoint", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds", ConstLabels: org,
			Help:    "Duration of requests to the Confluent Cloud API, body included.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, endpoint),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "rate_limit", ConstLabels: org,
			Help: "Requests allowed per rate-limit window, from the last X-RateLimit-Limit seen.",
		}, endpoint),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "rate_limit_remaining", ConstLabels: org,
			Help: "Requests left in the rate-limit window, from the last X-RateLimit-Remaining seen.",
		}, endpoint),
		reset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "rate_limit_reset_timestamp_seconds", ConstLabels: org,
			Help: "When the rate-limit window resets: arrival of the last response plus its X-RateLimit-Reset.",
		}, endpoint),
	}
}

// ObserveRequest implements apiclient.Observer.
func (u *Upstream) ObserveRequest(endpoint, code string, d time.Duration) {
	u.requests.WithLabelValues(endpoint, code).Inc()
	u.durations.WithLabelValues(endpoint).Observe(d.Seconds())
}

// ObserveRateLimit implements apiclient.Observer. A header a response lacks
// leaves the last value seen in place.
func (u *Upstream) ObserveRateLimit(endpoint string, rl apiclient.RateLimit) {
	if rl.Limit >= 0 {
		u.limit.WithLabelValues(endpoint).Set(float64(rl.Limit))
	}
	if rl.Remaining >= 0 {
		u.remaining.WithLabelValues(endpoint).Set(float64(rl.Remaining))
	}
	if !rl.Reset.IsZero() {
		u.reset.WithLabelValues(endpoint).Set(unixSeconds(rl.Reset))
	}
}

// Describe implements prometheus.Collector.
func (u *Upstream) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range u.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (u *Upstream) Collect(ch chan<- prometheus.Metric) {
	for _, c := range u.collectors() {
		c.Collect(ch)
	}
}

func (u *Upstream) collectors() []prometheus.Collector {
	return []prometheus.Collector{u.requests, u.durations, u.limit, u.remaining, u.reset}
}
