package collector

import (
	"context"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The audit log's series: the last authentication, the failures and
// whether the log can see each listed key are families of the
// organisation's snapshot (up to one series per key each, encoded when
// they change, as the key metrics are); the reader's health is a handful
// of series collected per scrape.
var (
	apiKeyLastAuthDesc = series.NewGauge("iam", "api_key_last_authenticated_timestamp_seconds",
		"Time of the newest successful authentication with the API key seen in the audit log, kept across restarts (absent: none since the window's start).", "key_id")
	authFailuresDesc = series.NewCounter("iam", "api_key_authentication_failures_total",
		`Failed authentications seen in the audit log since the exporter started, by API key: key_id is the identifier only when it is a key listed within the lookback, else "" (what a client typed never becomes a label).`,
		"key_id")
	usageTrackedDesc = series.NewGauge("iam", "api_key_usage_tracked",
		"1 when every resource the API key opens records its sign-ins in the audit log (a Kafka cluster other than Basic, Schema Registry, ksqlDB, Flink): its last authentication can be acted on. 0 otherwise: a Basic cluster, Cloud, Global, Tableflow, a cluster the exporter does not list, or the audit-log key itself.",
		"key_id")
	auditLogInfoDesc = series.NewGauge("audit_log", "info",
		"The audit log read: its topic and the API key the exporter reads it with (an audit-log key, of a service account the organisation's lists do not show). Always 1.",
		"key_id", "topic")
	// In the snapshot, with the last authentications they speak of: a
	// scrape never sees caught_up 1 beside older last authentications.
	auditWindowDesc = series.NewGauge("audit_log", "window_start_timestamp_seconds",
		"The audit log has been read without a gap since then, across restarts: a last authentication older than this, or none, means none since.")
	auditCaughtUpDesc = series.NewGauge("audit_log", "caught_up",
		"1 once every partition has been read up to the end it had when reading started, and every authentication read is in the series served: until then a last authentication can only be older than the truth.")

	auditRecordsDesc = healthDesc("audit_log", "records_total",
		"Audit-log records read: authentication (a sign-in with an API key), identity (a sign-in with a token or certificate), other (any other event type), invalid (not a readable event).", "kind")
	auditNewestDesc = healthDesc("audit_log", "newest_record_timestamp_seconds",
		"Time of the newest audit-log record read.")
	auditUpDesc = healthDesc("audit_log", "up",
		"1 while the audit log's reader is connected and reading.")
	auditErrorsDesc = healthDesc("audit_log", "errors_total",
		"Failures reading the audit log, by reason: unauthorized, network, timeout, topic_missing, stalled (records to read and none read for 5 minutes), other.", "reason")
	auditLagDesc = healthDesc("audit_log", "lag_records",
		"Records the audit log's brokers have that are not read yet: the end offsets last seen minus the positions, summed over partitions.")
	auditUntrustedDesc = healthDesc("audit_log", "untrusted_times_total",
		"Sign-ins whose event time was not believed (more than 10 minutes after its record was written, before 2000, or ahead of the exporter's clock): the record's time, or the time it was read, stood in.")
	auditStateSavedDesc = healthDesc("audit_log", "state_saved_timestamp_seconds",
		"When what was learnt from the audit log was last saved under --storage.path.")
	auditStateErrorsDesc = healthDesc("audit_log", "state_errors_total",
		"Failures of the audit log's state file, by operation: load (unreadable or corrupt: set aside, the log read afresh), save (usage kept in memory only).", "operation")
)

// defaultPublishEvery is how often the audit log's series are rebuilt
// while they change: a record a second changes them; their families are
// encoded at most this often. A change of whether reading caught up, and a
// new list of keys or clusters, are published at once.
const defaultPublishEvery = 15 * time.Second

// usageInputs is what the audit log's series need of the other lists: the
// resources of every listed API key and the kind of every listed Kafka
// cluster, from the latest complete lists (nil before the first).
type usageInputs struct {
	mu       sync.Mutex
	keys     map[string][]apiclient.Resource
	clusters map[string]string // id → kind
	version  uint64
}

func (u *usageInputs) setKeys(keys []apiclient.APIKey) {
	m := make(map[string][]apiclient.Resource, len(keys))
	for _, k := range keys {
		m[k.ID] = k.Resources
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.keys = m
	u.version++
}

func (u *usageInputs) setClusters(clusters []apiclient.KafkaCluster) {
	m := make(map[string]string, len(clusters))
	for _, c := range clusters {
		m[c.ID] = c.Kind
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if maps.Equal(m, u.clusters) {
		return
	}
	u.clusters = m
	u.version++
}

func (u *usageInputs) get() (keys map[string][]apiclient.Resource, clusters map[string]string, version uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.keys, u.clusters, u.version
}

// tracked reports whether the audit log records the sign-ins of a key
// opening resources: every resource must be one whose sign-ins are
// audited. Basic clusters have no audit log; Cloud, Global and Tableflow
// keys sign in nowhere the log sees; a cluster not listed, or of no known
// kind, cannot be told from a Basic one.
func tracked(resources []apiclient.Resource, clusters map[string]string) bool {
	if len(resources) == 0 {
		return false
	}
	for _, r := range resources {
		switch r.Kind {
		case "SchemaRegistry", "ksqlDB", "Region", "FlinkRegion":
		case "Cluster":
			if kind := clusters[r.ID]; kind == "" || strings.EqualFold(kind, "Basic") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// auditLog turns an organisation's audit-log reader into series.
type auditLog struct {
	org          string
	reader       *auditlog.Reader
	info         AuditLogInfo
	inputs       *usageInputs
	publishEvery time.Duration
	prev         series.Families // the last published, kept where unchanged
}

// AuditLogInfo names what confluent_audit_log_info says.
type AuditLogInfo struct{ APIKey, Topic string }

// run publishes the audit log's series whenever they changed, at most
// every publishEvery, and at once when reading catches up or a list
// changes, until ctx ends. The reader runs elsewhere: it outlives a
// restart of the organisation's collectors.
func (a *auditLog) run(ctx context.Context, publish func(series.Families)) {
	t := time.NewTicker(min(time.Second, a.publishEvery))
	defer t.Stop()
	var seenReader, seenInputs uint64
	var last time.Time
	var shownCaughtUp bool // what the last series published say
	first := true
	for {
		v, iv := a.reader.Version(), a.inputsVersion()
		if first || v != seenReader || iv != seenInputs {
			caughtUp := a.reader.Status().CaughtUp
			if first || iv != seenInputs || shownCaughtUp != caughtUp || time.Since(last) >= a.publishEvery {
				u := a.reader.Usage()
				publish(a.families(u))
				shownCaughtUp = u.CaughtUp
				seenReader, seenInputs, last, first = v, iv, time.Now(), false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *auditLog) inputsVersion() uint64 {
	_, _, v := a.inputs.get()
	return v
}

// families are the audit log's series of the organisation's snapshot. A
// family that did not change since the last is that one, with what was
// encoded of it. (Their label values are listed keys, unique and UTF-8:
// Build cannot fail.) The failures wait for the first complete list of
// keys: until then no identifier can be told from what a client typed.
func (a *auditLog) families(u auditlog.Usage) series.Families {
	b := series.NewBuilder(a.org)
	b.Add(auditLogInfoDesc, 1, a.info.APIKey, a.info.Topic)
	b.AddTimestamp(auditWindowDesc, u.WindowStart)
	b.Add(auditCaughtUpDesc, boolFloat(u.CaughtUp))
	for _, k := range u.LastSuccesses {
		b.AddTimestamp(apiKeyLastAuthDesc, k.LastSuccess, k.ID)
	}
	if u.Known {
		b.Add(authFailuresDesc, float64(u.Unknown), "")
		for _, k := range u.Failures {
			b.Add(authFailuresDesc, float64(k.Failures), k.ID)
		}
	}
	keys, clusters, _ := a.inputs.get()
	for id, resources := range keys {
		b.Add(usageTrackedDesc, boolFloat(id != a.info.APIKey && tracked(resources, clusters)), id)
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

var auditDescs = []*prometheus.Desc{
	auditRecordsDesc, auditNewestDesc, auditUpDesc, auditErrorsDesc,
	auditLagDesc, auditUntrustedDesc, auditStateSavedDesc, auditStateErrorsDesc,
}

func (a *auditLog) describe(ch chan<- *prometheus.Desc) {
	for _, d := range auditDescs {
		ch <- d
	}
}

// collect sends the reader's health (caught_up and the window's start are
// in the snapshot, with the last authentications).
func (a *auditLog) collect(ch chan<- prometheus.Metric) {
	s := a.reader.Status()
	for kind := range auditlog.NumKinds {
		ch <- prometheus.MustNewConstMetric(auditRecordsDesc, prometheus.CounterValue, float64(s.Records[kind]), a.org, kind.String())
	}
	if !s.Newest.IsZero() {
		ch <- prometheus.MustNewConstMetric(auditNewestDesc, prometheus.GaugeValue, unixSeconds(s.Newest), a.org)
	}
	ch <- prometheus.MustNewConstMetric(auditUpDesc, prometheus.GaugeValue, boolFloat(s.Up), a.org)
	for _, r := range auditlog.Reasons {
		ch <- prometheus.MustNewConstMetric(auditErrorsDesc, prometheus.CounterValue, float64(s.Errors[r]), a.org, string(r))
	}
	if s.Lag >= 0 {
		ch <- prometheus.MustNewConstMetric(auditLagDesc, prometheus.GaugeValue, float64(s.Lag), a.org)
	}
	ch <- prometheus.MustNewConstMetric(auditUntrustedDesc, prometheus.CounterValue, float64(s.Untrusted), a.org)
	if !s.Saved.IsZero() {
		ch <- prometheus.MustNewConstMetric(auditStateSavedDesc, prometheus.GaugeValue, unixSeconds(s.Saved), a.org)
	}
	for _, op := range []string{auditlog.OpLoad, auditlog.OpSave} {
		ch <- prometheus.MustNewConstMetric(auditStateErrorsDesc, prometheus.CounterValue, float64(s.StateErrors[op]), a.org, op)
	}
}

// keysListed takes a complete list of API keys: only they become label
// values, and their resources say whether the log sees them. Nil-safe:
// without an audit log it does nothing.
func (a *auditLog) keysListed(keys []apiclient.APIKey) {
	if a == nil {
		return
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	a.reader.SetListed(ids)
	a.inputs.setKeys(keys)
}

// clustersListed takes a complete list of Kafka clusters: their kinds say
// which keys the log sees. Nil-safe.
func (a *auditLog) clustersListed(clusters []apiclient.KafkaCluster) {
	if a != nil {
		a.inputs.setClusters(clusters)
	}
}
