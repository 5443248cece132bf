package collector

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

const (
	testKey    = "TESTKEY"
	testSecret = "collector-test-secret"
)

// fixtureAPI serves the files of testdata/ as the list endpoints, one page each.
func fixtureAPI(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]string{
		"/byok/v1/keys":                    "byok.json",
		"/iam/v2/api-keys":                 "apikeys.json",
		"/iam/v2/service-accounts":         "service_accounts.json",
		"/iam/v2/users":                    "users.json",
		"/org/v2/environments":             "environments.json",
		"/org/v2/organizations":            "organizations.json",
		"/cmk/v2/clusters":                 "clusters-" + "%s" + ".json",
		"/service-quota/v1/applied-quotas": "quotas.json",
		"/iam/v2/certificate-authorities":  "certificate_authorities.json",
		"/iam/v2/identity-providers":       "identity_providers.json",
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := files[r.URL.Path]
		for _, under := range []string{"certificate-authorities", "identity-providers"} {
			if id, ok := strings.CutPrefix(r.URL.Path, "/iam/v2/"+under+"/"); ok {
				file = map[string]string{"certificate-authorities": "certificate_identity_pools-", "identity-providers": "identity_pools-"}[under] +
					strings.TrimSuffix(id, "/identity-pools") + ".json"
			}
		}
		if strings.Contains(file, "%s") {
			file = fmt.Sprintf(file, r.URL.Query().Get("environment"))
		}
		if r.URL.Path == "/service-quota/v1/applied-quotas" && r.URL.Query().Get("scope") != "ORGANIZATION" {
			file = ""
		}
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("X-RateLimit-Limit", "120")
		w.Header().Set("X-RateLimit-Remaining", "119")
		w.Header().Set("X-RateLimit-Reset", "60")
		_, _ = w.Write(b)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func newClient(t *testing.T, base string, obs apiclient.Observer) *apiclient.Client {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := apiclient.New(apiclient.Config{
		BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret),
		PageSize: 10, RetryBaseDelay: time.Millisecond, Observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newSimAPI starts the simulated API over org on loopback until the test ends.
func newSimAPI(t *testing.T, org sim.OrgConfig) (*sim.Server, *httptest.Server) {
	t.Helper()
	return testkit.StartSim(t, org, testKey, testSecret)
}

var allOn = Options{
	Organization: "acme", Interval: time.Minute, APIKeysPerKey: true,
	Collectors: []string{"organization", "byok", "api_keys", "service_accounts", "users", "environments", "kafka_clusters", "quotas"},
}

// identitiesOn is every collector of the workload identities other than
// API keys.
var identitiesOn = Options{
	Organization: "acme", Interval: time.Minute,
	Collectors: []string{"certificate_authorities", "certificate_identity_pools", "identity_providers", "identity_pools"},
}

func refreshOnce(e *Refresher) { e.Refresh(context.Background(), time.Now().Add(time.Minute)) }

func TestFixtureExposition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		golden string
	}{
		{"all", allOn, "all.prom"},
		{"no-per-key", Options{Organization: "acme", Interval: time.Minute, Collectors: []string{"byok", "api_keys"}}, "no-per-key.prom"},
		{"identities", identitiesOn, "identities.prom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRefresher(newClient(t, fixtureAPI(t).URL, nil), tc.opts)
			if e.Ready() {
				t.Fatal("ready before the first refresh")
			}
			refreshOnce(e)
			if !e.Ready() {
				t.Fatal("not ready after a successful refresh")
			}
			names := []string{
				"confluent_byok_keys", "confluent_byok_key_info", "confluent_byok_key_state",
				"confluent_byok_key_validation_phase", "confluent_byok_key_validation_since_timestamp_seconds",
				"confluent_byok_key_created_timestamp_seconds", "confluent_iam_api_keys", "confluent_iam_api_key_info",
				"confluent_iam_api_key_created_timestamp_seconds", "confluent_iam_api_key_expires_timestamp_seconds",
				"confluent_iam_api_key_resource_info",
				"confluent_byok_key_access_principal_info",
				"confluent_iam_service_account_info", "confluent_iam_user_info", "confluent_environment_info",
				"confluent_kafka_cluster_info", "confluent_quota_limit", "confluent_quota_usage", "confluent_organization_info",
				"confluent_iam_certificate_authority_info", "confluent_iam_certificate_authority_certificate_expires_timestamp_seconds",
				"confluent_iam_certificate_authority_crl_updated_timestamp_seconds", "confluent_iam_identity_provider_info",
				"confluent_iam_identity_pool_info",
				"confluent_refresh_success", "confluent_refresh_pages", "confluent_refresh_errors_total",
				"confluent_refresh_skipped_items", "confluent_refresh_invalid_values",
			}
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				writeExposition(t, gatherer(e), golden, names)
			}
			want, err := os.Open(golden)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			if err := testutil.GatherAndCompare(gatherer(e), want, names...); err != nil {
				t.Fatal(err)
			}
			problems, err := testutil.GatherAndLint(gatherer(e))
			if err != nil || len(problems) > 0 {
				t.Fatalf("lint: %v %+v", err, problems)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// writeExposition writes the families names of g to file as exposition text.
func writeExposition(t *testing.T, g prometheus.Gatherer, file string, names []string) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if slices.Contains(names, mf.GetName()) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDeletedKeysVanish(t *testing.T) {
	s, ts := newSimAPI(t, sim.OrgConfig{Seed: 4, APIKeys: 30})
	e := newRefresher(newClient(t, ts.URL, nil), Options{Organization: "acme", Interval: time.Minute, APIKeysPerKey: true, Collectors: []string{"api_keys"}})
	refreshOnce(e)
	gone := s.APIKeys()[7].ID
	if !strings.Contains(lines(t, e, "confluent_iam_"), gone) {
		t.Fatalf("key %s not exported before its deletion", gone)
	}
	s.DeleteAPIKey(gone)
	refreshOnce(e)
	if out := lines(t, e, "confluent_iam_"); strings.Contains(out, gone) {
		t.Fatalf("deleted key %s still exported", gone)
	}
	if n := sumOf(t, e, "confluent_iam_api_keys"); n != 29 {
		t.Fatalf("confluent_iam_api_keys sums to %v, want 29", n)
	}
}

func TestRunRefreshesOnSchedule(t *testing.T) {
	s, ts := newSimAPI(t, sim.OrgConfig{Seed: 4, BYOKKeys: 3, APIKeys: 3})
	const interval = 300 * time.Millisecond
	e := newRefresher(newClient(t, ts.URL, nil), Options{Organization: "acme", Interval: interval, Collectors: []string{"byok", "api_keys"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// The first refresh starts at once, the next ones every interval: three
	// refreshes of each list.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Requests()) < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after 10s, want 6", len(s.Requests()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !e.Ready() {
		t.Fatal("not ready after refreshes")
	}
	var byok []time.Time
	for _, r := range s.Requests() {
		if r.Endpoint == "byok_keys" {
			byok = append(byok, r.Time)
		}
	}
	// About the interval apart: not sooner, and not a whole interval later
	// (a loop that waited the interval twice, or after each refresh's end
	// plus the interval, would be).
	for i := 1; i < len(byok) && i < 3; i++ {
		if gap := byok[i].Sub(byok[i-1]); gap < interval-20*time.Millisecond || gap > interval+200*time.Millisecond {
			t.Fatalf("BYOK refresh %d came %s after the one before, want about the interval, %s", i+1, gap, interval)
		}
	}
}

func TestScrapeDoesNotCallUpstream(t *testing.T) {
	s, ts := newSimAPI(t, sim.OrgConfig{Seed: 4, BYOKKeys: 3, APIKeys: 3})
	e := newRefresher(newClient(t, ts.URL, nil), allOn)
	refreshOnce(e)
	n := len(s.Requests())
	for range 10 {
		lines(t, e, "confluent_")
	}
	if len(s.Requests()) != n {
		t.Fatalf("scrapes sent %d requests upstream", len(s.Requests())-n)
	}
}

func TestUpstreamMetrics(t *testing.T) {
	up := NewUpstream("acme")
	e := newRefresher(newClient(t, fixtureAPI(t).URL, up), allOn)
	start := time.Now()
	refreshOnce(e)
	want := `
# HELP confluent_http_requests_total Requests sent to the Confluent Cloud API, by HTTP status code ("error" when no response came).
# TYPE confluent_http_requests_total counter
confluent_http_requests_total{code="200",endpoint="byok_keys",organization="acme"} 1
confluent_http_requests_total{code="200",endpoint="cmk_clusters",organization="acme"} 2
confluent_http_requests_total{code="200",endpoint="iam_api_keys",organization="acme"} 1
confluent_http_requests_total{code="200",endpoint="iam_service_accounts",organization="acme"} 1
confluent_http_requests_total{code="200",endpoint="iam_users",organization="acme"} 1
confluent_http_requests_total{code="200",endpoint="org_environments",organization="acme"} 2
confluent_http_requests_total{code="200",endpoint="org_organizations",organization="acme"} 1
confluent_http_requests_total{code="200",endpoint="service_quota_applied_quotas",organization="acme"} 1
# HELP confluent_rate_limit Requests allowed per rate-limit window, from the last X-RateLimit-Limit seen.
# TYPE confluent_rate_limit gauge
confluent_rate_limit{endpoint="byok_keys",organization="acme"} 120
confluent_rate_limit{endpoint="cmk_clusters",organization="acme"} 120
confluent_rate_limit{endpoint="iam_api_keys",organization="acme"} 120
confluent_rate_limit{endpoint="iam_service_accounts",organization="acme"} 120
confluent_rate_limit{endpoint="iam_users",organization="acme"} 120
confluent_rate_limit{endpoint="org_environments",organization="acme"} 120
confluent_rate_limit{endpoint="org_organizations",organization="acme"} 120
confluent_rate_limit{endpoint="service_quota_applied_quotas",organization="acme"} 120
# HELP confluent_rate_limit_remaining Requests left in the rate-limit window, from the last X-RateLimit-Remaining seen.
# TYPE confluent_rate_limit_remaining gauge
confluent_rate_limit_remaining{endpoint="byok_keys",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="cmk_clusters",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="iam_api_keys",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="iam_service_accounts",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="iam_users",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="org_environments",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="org_organizations",organization="acme"} 119
confluent_rate_limit_remaining{endpoint="service_quota_applied_quotas",organization="acme"} 119
`
	if err := testutil.CollectAndCompare(up, strings.NewReader(want),
		"confluent_http_requests_total", "confluent_rate_limit", "confluent_rate_limit_remaining"); err != nil {
		t.Fatal(err)
	}
	reset := testutil.ToFloat64(up.reset.WithLabelValues("byok_keys"))
	if lo, hi := float64(start.Add(59*time.Second).Unix()), float64(time.Now().Add(61*time.Second).Unix()); reset < lo || reset > hi {
		t.Fatalf("reset timestamp %v, want arrival + 60s (%v..%v)", reset, lo, hi)
	}
	if n := testutil.CollectAndCount(up, "confluent_http_request_duration_seconds"); n != 8 {
		t.Fatalf("%d duration histograms, want 8", n)
	}
	if problems, err := testutil.CollectAndLint(up); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
}

// gatherer scrapes e as Prometheus does: through the handler that serves
// it (e's series from their cached encoding, its health gathered per scrape
// from a pedantic registry), read back into families. What a test sees is
// what Prometheus gets.
func gatherer(e *Refresher) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(e); err != nil {
			return nil, err
		}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", "text/plain;version=0.0.4")
		rec := httptest.NewRecorder()
		scrape.New(scrape.Opts{Static: func() *series.Snapshot { return snapshotOf(e) }, Dynamic: reg}).ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("scrape: %d %s", rec.Code, rec.Body)
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		byName, err := parser.TextToMetricFamilies(rec.Body)
		if err != nil {
			return nil, err
		}
		mfs := slices.Collect(maps.Values(byName))
		slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return mfs, nil
	})
}

// lines scrapes e and returns the lines of the metrics with these prefixes.
func lines(t *testing.T, e *Refresher, prefixes ...string) string {
	t.Helper()
	mfs, err := gatherer(e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, p := range prefixes {
			if strings.HasPrefix(mf.GetName(), p) {
				for _, m := range mf.GetMetric() {
					b.WriteString(mf.GetName() + " " + m.String() + "\n")
				}
			}
		}
	}
	return b.String()
}

// sumOf is the sum of all series of one gauge.
func sumOf(t *testing.T, e *Refresher, name string) float64 {
	t.Helper()
	mfs, err := gatherer(e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// TestObserveRateLimitEdges: 0 is a value the headers can carry (nothing
// left, or no requests allowed) and is set; an absent header (-1, zero
// time) leaves the last value seen.
func TestObserveRateLimitEdges(t *testing.T) {
	up := NewUpstream("acme")
	up.ObserveRateLimit("byok_keys", apiclient.RateLimit{Limit: 0, Remaining: 0, Reset: time.Unix(1700000000, 0)})
	up.ObserveRateLimit("byok_keys", apiclient.RateLimit{Limit: -1, Remaining: -1})
	want := `
# HELP confluent_rate_limit Requests allowed per rate-limit window, from the last X-RateLimit-Limit seen.
# TYPE confluent_rate_limit gauge
confluent_rate_limit{endpoint="byok_keys",organization="acme"} 0
# HELP confluent_rate_limit_remaining Requests left in the rate-limit window, from the last X-RateLimit-Remaining seen.
# TYPE confluent_rate_limit_remaining gauge
confluent_rate_limit_remaining{endpoint="byok_keys",organization="acme"} 0
# HELP confluent_rate_limit_reset_timestamp_seconds When the rate-limit window resets: arrival of the last response plus its X-RateLimit-Reset.
# TYPE confluent_rate_limit_reset_timestamp_seconds gauge
confluent_rate_limit_reset_timestamp_seconds{endpoint="byok_keys",organization="acme"} 1.7e+09
`
	if err := testutil.CollectAndCompare(up, strings.NewReader(want),
		"confluent_rate_limit", "confluent_rate_limit_remaining", "confluent_rate_limit_reset_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotIsSortedAndWhole: the exporter's snapshot holds every
// collector's families sorted by name whatever order the collectors
// complete in, and a refresh replaces it as a whole, published once per
// change.
func TestSnapshotIsSortedAndWhole(t *testing.T) {
	var published []*series.Snapshot
	var mu sync.Mutex
	opts := allOn
	opts.Publish = publishFunc(func(s *series.Snapshot) { mu.Lock(); published = append(published, s); mu.Unlock() })
	r := newRig(opts)
	first := snapshotOf(r.exp)
	if first.Len() != 0 {
		t.Fatalf("families before any refresh: %d", first.Len())
	}
	r.refresh()
	snap := snapshotOf(r.exp)
	names := []string{}
	for _, mf := range snap.Select(func(string) bool { return true }) {
		names = append(names, mf.GetName())
	}
	if !slices.IsSorted(names) || len(names) < 15 || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("families not sorted, or a name twice: %v", names)
	}
	if !snap.Has("confluent_kafka_cluster_info") || snap.Has("confluent_refresh_success") || snap.Has("zzz") {
		t.Error("Has answers wrong")
	}
	if len(published) != 8 || first == snap || published[7] != snap {
		t.Errorf("%d snapshots published for 8 collectors, the last the one served: %v", len(published), published[len(published)-1] == snap)
	}
}

// TestUnchangedListKeepsSnapshot: a refresh that reads the same list again
// keeps the snapshot (and so the encodings cached from it); a change of one
// value replaces it.
func TestUnchangedListKeepsSnapshot(t *testing.T) {
	var swaps atomic.Int32
	opts := allOn
	opts.Publish = publishFunc(func(*series.Snapshot) { swaps.Add(1) })
	r := newRig(opts)
	r.refresh()
	first, n := snapshotOf(r.exp), swaps.Load()
	r.refresh()
	if snapshotOf(r.exp) != first || swaps.Load() != n {
		t.Fatalf("an unchanged refresh replaced the snapshot (%d more swaps)", swaps.Load()-n)
	}
	r.fake.mu.Lock()
	r.fake.byok[0].Validation.Phase = "INVALID"
	r.fake.mu.Unlock()
	r.refresh()
	if snapshotOf(r.exp) == first || swaps.Load() != n+1 {
		t.Fatalf("a changed phase: %d swaps, want 1", swaps.Load()-n)
	}
	if !strings.Contains(lines(t, r.exp, "confluent_byok_key_validation_phase"), `value:"INVALID"`) {
		t.Error("the changed list is not served")
	}
}
