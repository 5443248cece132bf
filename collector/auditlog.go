package collector

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The audit log's series: the last authentication and the failures of
// each listed key are families of the organisation's snapshot (up to one
// series per key each, encoded when they change, as the key metrics are);
// the reader's health is a handful of series collected per scrape.
var (
	apiKeyLastAuthMetric = series.NewMetric("iam", "api_key_last_authenticated_timestamp_seconds",
		"Event time of the newest successful authentication with the API key seen in the audit log (absent: none in the window read).", "key_id")
	authFailuresMetric = series.NewCounter("iam", "api_key_authentication_failures_total",
		`Failed authentications seen in the audit log since the exporter started, by API key: key_id is the identifier only when it is a key the exporter has listed since it started, else "" (what a client typed never becomes a label).`,
		"key_id")
	auditLogInfoMetric = series.NewMetric("audit_log", "info",
		"The audit log read: its topic and the API key the exporter reads it with (an audit-log key, of a service account the organisation's lists do not show). Always 1.",
		"key_id", "topic")

	auditRecordsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "records_total"),
		"Audit-log records read: authentication (with an API key), other (any other event type), invalid (not a readable event).",
		[]string{"organization", "kind"}, nil)
	auditNewestDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "newest_record_timestamp_seconds"),
		"Event time of the newest audit-log record read.", []string{"organization"}, nil)
	auditWindowDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "window_start_timestamp_seconds"),
		"The oldest event time read continuously from: now − lookback when reading started.", []string{"organization"}, nil)
	auditCaughtUpDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "caught_up"),
		"1 once every partition has been read up to the end it had when reading started: until then a last authentication can only be older than the truth.",
		[]string{"organization"}, nil)
	auditUpDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "up"),
		"1 while the audit log's reader is connected and reading.", []string{"organization"}, nil)
	auditErrorsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit_log", "errors_total"),
		"Failures reading the audit log, by reason: unauthorized, network, timeout, topic_missing, other.",
		[]string{"organization", "reason"}, nil)
)

// auditPublishEvery is how often the last authentications and failures are
// turned into series when they changed: a record a second changes them;
// their families are encoded at most this often. (A variable for the tests.)
var auditPublishEvery = 15 * time.Second

// keySet is the API keys of the organisation: those of the latest list,
// and every one listed since the exporter started (deleted keys that keep
// failing are worth a label). Only these identifiers of the audit log
// become label values.
type keySet struct {
	mu      sync.RWMutex
	current map[string]struct{} // nil until the first complete list
	ever    map[string]struct{}
	version uint64 // changes with current
}

// set replaces the latest list.
func (s *keySet) set(keys []string) {
	current := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		current[k] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ever == nil {
		s.ever = map[string]struct{}{}
	}
	if maps.Equal(current, s.current) {
		return
	}
	for k := range current {
		s.ever[k] = struct{}{}
	}
	s.current = current
	s.version++
}

// listed reports whether id is in the latest list.
func (s *keySet) listed(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.current[id]
	return ok
}

// listedOnce reports whether id was listed since the start.
func (s *keySet) listedOnce(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.ever[id]
	return ok
}

// known reports whether a list has completed: before, no identifier can be
// told from what a client typed.
func (s *keySet) known() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current != nil
}

func (s *keySet) changes() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

// auditLog turns an organisation's audit-log reader into series.
type auditLog struct {
	org    string
	reader *auditlog.Reader
	info   AuditLogInfo
	listed *keySet
	prev   series.Families // the last published, kept where unchanged
}

// AuditLogInfo names what confluent_audit_log_info says.
type AuditLogInfo struct{ APIKey, Topic string }

// run reads the log and publishes the last authentications whenever they
// changed, at most every auditPublishEvery, until ctx ends.
func (a *auditLog) run(ctx context.Context, publish func(series.Families)) {
	var wg sync.WaitGroup
	wg.Go(func() { a.reader.Run(ctx) })
	t := time.NewTicker(auditPublishEvery)
	defer t.Stop()
	seen := [2]uint64{^uint64(0)}
	for {
		if now := [2]uint64{a.reader.Version(), a.listed.changes()}; now != seen {
			seen = now
			publish(a.families())
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// families are the audit log's series of the organisation's snapshot. A
// family that did not change since the last is that one, with what was
// encoded of it. (Their label values are listed keys, unique and UTF-8:
// Build cannot fail.) The failures wait for the first complete list of
// keys: until then no identifier can be told from what a client typed.
func (a *auditLog) families() series.Families {
	b := series.NewBuilder(a.org)
	b.Add(auditLogInfoMetric, 1, a.info.APIKey, a.info.Topic)
	for _, k := range a.reader.LastSuccesses(a.listed.listed) {
		b.AddTimestamp(apiKeyLastAuthMetric, k.LastSuccess, k.ID)
	}
	if a.listed.known() {
		keys, unknown := a.reader.Failures(a.listed.listedOnce)
		b.Add(authFailuresMetric, float64(unknown), "")
		for _, k := range keys {
			b.Add(authFailuresMetric, float64(k.Failures), k.ID)
		}
	}
	families, _ := b.Build()
	for i := range families {
		for _, p := range a.prev {
			if (series.Families{p}).Equal(families[i : i+1]) {
				families[i] = p
			}
		}
	}
	a.prev = families
	return families
}

func (a *auditLog) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{auditRecordsDesc, auditNewestDesc, auditWindowDesc, auditCaughtUpDesc, auditUpDesc, auditErrorsDesc} {
		ch <- d
	}
}

// collect sends the reader's health.
func (a *auditLog) collect(ch chan<- prometheus.Metric) {
	s := a.reader.Status()
	for kind := range auditlog.KindInvalid + 1 {
		ch <- prometheus.MustNewConstMetric(auditRecordsDesc, prometheus.CounterValue, float64(s.Records[kind]), a.org, kind.String())
	}
	if !s.Newest.IsZero() {
		ch <- prometheus.MustNewConstMetric(auditNewestDesc, prometheus.GaugeValue, unixSeconds(s.Newest), a.org)
	}
	if !s.WindowStart.IsZero() {
		ch <- prometheus.MustNewConstMetric(auditWindowDesc, prometheus.GaugeValue, unixSeconds(s.WindowStart), a.org)
	}
	ch <- prometheus.MustNewConstMetric(auditCaughtUpDesc, prometheus.GaugeValue, boolFloat(s.CaughtUp), a.org)
	ch <- prometheus.MustNewConstMetric(auditUpDesc, prometheus.GaugeValue, boolFloat(s.Up), a.org)
	for _, r := range auditlog.Reasons {
		ch <- prometheus.MustNewConstMetric(auditErrorsDesc, prometheus.CounterValue, float64(s.Errors[r]), a.org, string(r))
	}
}
