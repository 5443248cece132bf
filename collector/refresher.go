// Package collector turns the lists the API client reads into series: one
// collector per list, each registered by its file (byok.go, apikeys.go,
// ...), and the Refresher of an organisation's lists. Its refresh loop
// reads every page of each list on an interval and, only when a list is
// complete and changed, publishes one snapshot of every list's latest
// families (package series). The Refresher is also the
// prometheus.Collector of its own health; it never talks to the API when
// scraped.
package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/backoff"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

const namespace = "confluent"

// Lister reads complete lists from the API; *apiclient.Client is one.
type Lister interface {
	ListBYOKKeys(ctx context.Context) ([]apiclient.BYOKKey, apiclient.ListStats, error)
	ListAPIKeys(ctx context.Context) ([]apiclient.APIKey, apiclient.ListStats, error)
	ListServiceAccounts(ctx context.Context) ([]apiclient.ServiceAccount, apiclient.ListStats, error)
	ListUsers(ctx context.Context) ([]apiclient.User, apiclient.ListStats, error)
	ListEnvironments(ctx context.Context) ([]apiclient.Environment, apiclient.ListStats, error)
	ListKafkaClusters(ctx context.Context, environment string) ([]apiclient.KafkaCluster, apiclient.ListStats, error)
	ListAppliedQuotas(ctx context.Context, scope string) ([]apiclient.AppliedQuota, apiclient.ListStats, error)
	ListOrganizations(ctx context.Context) ([]apiclient.Organization, apiclient.ListStats, error)
	ListCertificateAuthorities(ctx context.Context) ([]apiclient.CertificateAuthority, apiclient.ListStats, error)
	ListCertificateIdentityPools(ctx context.Context, authority string) ([]apiclient.IdentityPool, apiclient.ListStats, error)
	ListIdentityProviders(ctx context.Context) ([]apiclient.IdentityProvider, apiclient.ListStats, error)
	ListIdentityPools(ctx context.Context, provider string) ([]apiclient.IdentityPool, apiclient.ListStats, error)
}

// Options says which collectors run and how often. main builds it from flags.
type Options struct {
	// Organization is the value of the organization label of every series.
	Organization string

	Interval time.Duration // between the starts of two refreshes
	// RetryDelay is the wait after a failed refresh before the next
	// attempt (0: DefaultRetryDelay); it doubles after each failure in a
	// row, up to Interval.
	RetryDelay time.Duration

	// Collectors are the names of the collectors to run (Collectors()).
	Collectors []string
	// APIKeysPerKey adds the per-key series of API keys (info, created,
	// resources): off for very large organisations.
	APIKeysPerKey bool
	// QuotaScopes are the quota scopes read (apiclient.ScopeOrganization,
	// ...); none: the organisation's.
	QuotaScopes []string

	// AuditLog, if set, is the organisation's audit-log reader (run by the
	// caller: it outlives a restart of the collectors). The exporter tells
	// it of each list of API keys and serves what it says of each key;
	// AuditLogInfo is what confluent_audit_log_info says of it.
	AuditLog     *auditlog.Reader
	AuditLogInfo AuditLogInfo

	Logger log.Logger
	// Publish, if set, is handed the new snapshot each time a complete
	// refresh changed a list, in the refresh's goroutine: the serving side
	// encodes what changed there, off the scrape path.
	Publish Publisher
}

// A Publisher serves what a refresher publishes: every list's latest
// families, as one snapshot, replaced as a whole.
type Publisher interface {
	Publish(*series.Snapshot)
}

// job is one collector with the families of its latest complete list and
// its health.
type job struct {
	name string // the collector label's value
	reader
	families atomic.Pointer[series.Families]

	wake chan struct{} // RetryFailed: attempt now (buffered: one pending)

	mu          sync.Mutex
	attempted   bool
	success     bool
	forbidden   bool // the last attempt ended in 403
	duration    time.Duration
	pages       int
	lastSuccess time.Time
	complete    apiclient.ListStats // of the data now served
	errors      map[apiclient.Reason]float64
}

// Refresher runs the refresh loop of one organisation's collectors and
// publishes their series (Options.Publish). It is the prometheus.Collector
// of the refreshes' health.
type Refresher struct {
	org        string
	interval   time.Duration
	retryDelay time.Duration
	logger     log.Logger
	jobs       []*job
	publish    Publisher
	audit      *auditLog // nil without an audit log
	auditFam   atomic.Pointer[series.Families]

	swapMu sync.Mutex // one snapshot published at a time, in the order made

	pending   atomic.Int32 // collectors that have not finished a refresh yet
	attempted chan struct{}
}

var _ prometheus.Collector = (*Refresher)(nil)

var (
	refreshSuccessDesc = healthDesc("refresh", "success",
		"1 if the last refresh of the collector read every page, 0 if it failed.", "collector")
	refreshDurationDesc = healthDesc("refresh", "duration_seconds",
		"How long the last refresh of the collector took.", "collector")
	refreshPagesDesc = healthDesc("refresh", "pages",
		"Pages read by the last refresh of the collector.", "collector")
	refreshLastSuccessDesc = healthDesc("refresh", "last_success_timestamp_seconds",
		"When the data now served by the collector was read.", "collector")
	refreshErrorsDesc = healthDesc("refresh", "errors_total",
		"Failed refreshes of the collector, by reason.", "collector", "reason")
	refreshSkippedDesc = healthDesc("refresh", "skipped_items",
		"Items of the last complete list that were not exported: no_id, long_id (an id over 1,024 bytes, never cut), no_owner (Confluent-internal API keys).",
		"collector", "reason")
	refreshInvalidDesc = healthDesc("refresh", "invalid_values",
		"Values of the last complete list left out of exported items, or cut, by field: unreadable, missing though required, or longer than 1,024 bytes (a text is cut to it, an id left out).",
		"collector", "field")
	refreshDescs = []*prometheus.Desc{
		refreshSuccessDesc, refreshDurationDesc, refreshPagesDesc, refreshLastSuccessDesc,
		refreshErrorsDesc, refreshSkippedDesc, refreshInvalidDesc,
	}
)

// healthDesc describes a metric of the exporter's health, collected at
// scrape time, with the label organization before labels.
func healthDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help,
		append([]string{series.OrganizationLabel}, labels...), nil)
}

// New returns a Refresher of the collectors opts names. Run starts it.
func New(lister Lister, opts Options) *Refresher {
	logger := opts.Logger
	if logger == nil {
		logger = log.NewNopLogger()
	}
	e := &Refresher{
		attempted: make(chan struct{}), org: opts.Organization, interval: opts.Interval, logger: logger,
		publish: opts.Publish, retryDelay: opts.RetryDelay,
	}
	if e.retryDelay <= 0 {
		e.retryDelay = DefaultRetryDelay
	}
	if opts.AuditLog != nil {
		e.audit = &auditLog{
			org: opts.Organization, reader: opts.AuditLog, info: opts.AuditLogInfo,
			inputs: &usageInputs{}, publishEvery: defaultPublishEvery,
		}
	}
	for _, name := range opts.Collectors {
		c, err := lookup(name)
		if err != nil {
			panic(err) // config takes only the registry's names
		}
		j := &job{name: name, reader: c.build(env{lister: lister, opts: opts, audit: e.audit}), errors: map[apiclient.Reason]float64{}, wake: make(chan struct{}, 1)}
		for _, r := range apiclient.Reasons {
			j.errors[r] = 0
		}
		e.jobs = append(e.jobs, j)
	}
	e.pending.Store(int32(len(e.jobs)))
	if len(e.jobs) == 0 {
		close(e.attempted)
	}
	return e
}

// Attempted is closed once every collector has finished its first
// refresh, successful or not.
func (e *Refresher) Attempted() <-chan struct{} { return e.attempted }

// Run refreshes every collector at once and then every interval, until ctx
// ends. Collectors refresh concurrently and independently: one that is
// slow or failing never delays another's; one collector's refreshes never
// overlap.
func (e *Refresher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range e.jobs {
		wg.Go(func() { e.loop(ctx, j) })
	}
	if e.audit != nil {
		wg.Go(func() {
			e.audit.run(ctx, func(f series.Families) {
				e.auditFam.Store(&f)
				e.swap()
			})
		})
	}
	wg.Wait()
}

// DefaultRetryDelay is the wait before the first retry of a failed
// refresh: soon enough that a fixed secret or a passing outage is seen
// within seconds, not at the next interval.
const DefaultRetryDelay = 10 * time.Second

// loop refreshes j every interval, counted from the start of the last
// successful refresh. After a failure the next attempt comes after
// retryDelay, doubling with each failure in a row up to the interval, or
// at once when RetryFailed wakes it.
func (e *Refresher) loop(ctx context.Context, j *job) {
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0 // in a row
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-j.wake:
			t.Stop()
		}
		start := time.Now()
		next := start.Add(e.interval)
		retryIn := backoff.Doubling(e.retryDelay, e.interval, failures+1)
		// A refresh that would run past the next start gives up.
		if err := e.refresh(ctx, j, next, retryIn); err == nil {
			failures = 0
		} else {
			failures++
			next = time.Now().Add(retryIn)
		}
		// Reading a list allocates many times what its snapshot keeps;
		// hand that back to the OS now rather than hold it until the
		// scavenger gets to it (docs/benchmarks.md: RSS at 10k keys).
		debug.FreeOSMemory()
		t.Reset(time.Until(next))
	}
}

// RetryFailed starts a new attempt now of each collector whose last
// refresh failed (its secret file changed: the fix may be in). The
// others keep to their interval.
func (e *Refresher) RetryFailed() {
	for _, j := range e.jobs {
		j.mu.Lock()
		failed := j.attempted && !j.success
		j.mu.Unlock()
		if failed {
			select {
			case j.wake <- struct{}{}:
			default: // one is pending already
			}
		}
	}
}

// refresh reads j's list once, until deadline, and serves it if complete.
// A failure is logged with when the next attempt is: retryIn from now.
// It returns the error (nil for a shutdown).
func (e *Refresher) refresh(parent context.Context, j *job, deadline time.Time, retryIn time.Duration) error {
	ctx, cancel := context.WithDeadline(parent, deadline)
	defer cancel()
	start := time.Now()
	s := series.NewBuilder(e.org)
	items, stats, err := j.update(ctx, s)
	var families series.Families
	if err == nil {
		families, err = s.Build()
	}
	took := time.Since(start)
	if err != nil && parent.Err() != nil {
		return nil // shutting down: not a failure of the upstream
	}

	j.mu.Lock()
	served := !j.lastSuccess.IsZero()
	first := !j.attempted
	j.attempted = true
	j.duration = took
	j.pages = stats.Pages
	j.success = err == nil
	j.forbidden = reasonOf(err) == apiclient.ReasonForbidden
	changed := false
	if err == nil {
		// A list that did not change leaves its families, and what was
		// encoded of them, as they are: most refreshes change nothing.
		if old := j.families.Load(); old == nil || !old.Equal(families) {
			j.families.Store(&families)
			changed = true
		}
		j.lastSuccess = time.Now()
		j.complete = stats
	} else {
		j.errors[reasonOf(err)]++
	}
	j.mu.Unlock()
	if changed {
		e.swap()
	}
	if first && e.pending.Add(-1) == 0 {
		close(e.attempted)
	}

	if err != nil {
		msg := "Refresh failed, serving the previous complete data"
		if !served {
			msg = "Refresh failed; nothing is served for this collector until a refresh completes"
		}
		// err names the endpoint, the HTTP status, the API's error title and
		// X-Request-Id where there was one; never the credentials.
		kv := []any{
			"msg", msg, "organization", e.org, "collector", j.name, "reason", reasonOf(err), "pages", stats.Pages, "duration", took,
			"next_attempt", time.Now().Add(retryIn).UTC().Format(time.RFC3339), "retry_in", retryIn, "err", err,
		}
		if hint := e.hint(j, reasonOf(err)); hint != "" {
			kv = append(kv, "hint", hint)
		}
		level.Warn(e.logger).Log(kv...)
		return err
	}
	e.logDropped(j.name, stats)
	level.Info(e.logger).Log("msg", "Refresh complete", "organization", e.org, "collector", j.name, "items", items,
		"pages", stats.Pages, "duration", took)
	return nil
}

// logDropped logs each kind of item or value a complete list left out, once
// per refresh, with a count and one example. Confluent-internal API keys are
// expected: they are logged at debug.
func (e *Refresher) logDropped(collector string, stats apiclient.ListStats) {
	for _, reason := range slices.Sorted(maps.Keys(stats.Skipped)) {
		t := stats.Skipped[reason]
		lvl := level.Warn
		if reason == apiclient.SkipNoOwner {
			lvl = level.Debug
		}
		lvl(e.logger).Log("msg", "Skipped list items", "organization", e.org, "collector", collector, "reason", reason,
			"count", t.Count, "example", t.Example)
	}
	for _, field := range slices.Sorted(maps.Keys(stats.Invalid)) {
		t := stats.Invalid[field]
		level.Warn(e.logger).Log("msg", "Left out values that could not be read", "organization", e.org, "collector", collector, "field", field,
			"count", t.Count, "example_id", t.Example)
	}
}

// hint is the likely fix of j's failure for reason, logged with it; "" when
// there is none to give.
func (e *Refresher) hint(j *job, reason apiclient.Reason) string {
	switch reason {
	case apiclient.ReasonUnauthorized:
		return "the API key or its secret is wrong, revoked or rotated; it must be a Cloud API key (confluent api-key create --resource cloud): " +
			"a Kafka cluster API key is refused here. A fixed secret file is read again within seconds"
	case apiclient.ReasonForbidden:
		c, _ := lookup(j.name)
		return fmt.Sprintf("the key's service account lacks a role for this list: OrganizationAdmin reads every list (docs/configuration.md, Permissions), "+
			"or turn this collector off with --no-%s (in a configuration file: collectors: {%s: false})", c.Flag(), c.Name)
	}
	return ""
}

// reasonOf classifies a refresh error (apiclient.ReasonOf, plus a label value
// the API sent that Prometheus cannot carry).
func reasonOf(err error) apiclient.Reason {
	if errors.Is(err, series.ErrLabelValue) {
		return apiclient.ReasonDecode
	}
	return apiclient.ReasonOf(err)
}

// Ready reports whether every collector is done: it has completed one
// successful refresh, or its last attempt was refused with 403 (the key's
// role does not cover that list: waiting would never end, and
// confluent_refresh_success 0 and its reason already say so).
func (e *Refresher) Ready() bool {
	for _, j := range e.jobs {
		if j.families.Load() != nil {
			continue
		}
		j.mu.Lock()
		forbidden := j.forbidden
		j.mu.Unlock()
		if !forbidden {
			return false
		}
	}
	return true
}

// swap publishes a snapshot of every collector's latest families: one call
// per change.
func (e *Refresher) swap() {
	e.swapMu.Lock()
	defer e.swapMu.Unlock()
	var lists []series.Families
	for _, j := range e.jobs {
		if f := j.families.Load(); f != nil {
			lists = append(lists, *f)
		}
	}
	if f := e.auditFam.Load(); f != nil {
		lists = append(lists, *f)
	}
	if e.publish != nil {
		e.publish.Publish(series.New(lists...))
	}
}

// Describe implements prometheus.Collector for the health metrics.
func (e *Refresher) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range refreshDescs {
		ch <- d
	}
	if e.audit != nil {
		e.audit.describe(ch)
	}
}

// Collect implements prometheus.Collector: the health of each collector. It
// never waits on the API.
func (e *Refresher) Collect(ch chan<- prometheus.Metric) {
	for _, j := range e.jobs {
		j.collectHealth(ch, e.org)
	}
	if e.audit != nil {
		e.audit.collect(ch)
	}
}

func (j *job) collectHealth(ch chan<- prometheus.Metric, org string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	name := j.name
	if j.attempted {
		ch <- prometheus.MustNewConstMetric(refreshSuccessDesc, prometheus.GaugeValue, boolFloat(j.success), org, name)
		ch <- prometheus.MustNewConstMetric(refreshDurationDesc, prometheus.GaugeValue, j.duration.Seconds(), org, name)
		ch <- prometheus.MustNewConstMetric(refreshPagesDesc, prometheus.GaugeValue, float64(j.pages), org, name)
	}
	if !j.lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(refreshLastSuccessDesc, prometheus.GaugeValue, unixSeconds(j.lastSuccess), org, name)
	}
	for _, r := range apiclient.Reasons {
		ch <- prometheus.MustNewConstMetric(refreshErrorsDesc, prometheus.CounterValue, j.errors[r], org, name, string(r))
	}
	if j.lastSuccess.IsZero() {
		return
	}
	reasons := []string{apiclient.SkipNoID, apiclient.SkipLongID}
	if sk, ok := j.reader.(skipper); ok {
		reasons = sk.skipReasons()
	}
	for _, r := range reasons {
		ch <- prometheus.MustNewConstMetric(refreshSkippedDesc, prometheus.GaugeValue, float64(j.complete.Skipped[r].Count), org, name, r)
	}
	for field, t := range j.complete.Invalid {
		ch <- prometheus.MustNewConstMetric(refreshInvalidDesc, prometheus.GaugeValue, float64(t.Count), org, name, field)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
