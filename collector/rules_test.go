package collector

// The collector's own rules, against a fake Lister: no HTTP, no simulator.
// What the API client does with each upstream fault is apiclient's to test;
// a few tests in faults_test.go check the wiring through the simulator.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// fakeLister answers with canned lists, or with an error while one is set.
type fakeLister struct {
	mu         sync.Mutex
	byok       []apiclient.BYOKKey
	apiKeys    []apiclient.APIKey
	sas        []apiclient.ServiceAccount
	users      []apiclient.User
	envs       []apiclient.Environment
	clusters   map[string][]apiclient.KafkaCluster // by environment
	quotas     []apiclient.AppliedQuota
	orgs       []apiclient.Organization
	cas        []apiclient.CertificateAuthority
	providers  []apiclient.IdentityProvider
	pools      map[string][]apiclient.IdentityPool // by authority or provider
	stats      apiclient.ListStats
	byokErr    error
	apiKeysErr error
	errs       map[string]error // of the other lists, by endpoint
	deadlines  []time.Time      // of the contexts the lists were called with
	calls      []string         // the lists read, in order (clusters with their environment)
}

var _ Lister = (*fakeLister)(nil)

func (f *fakeLister) ListBYOKKeys(ctx context.Context) ([]apiclient.BYOKKey, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointBYOKKeys, &f.byok, &f.byokErr)
}

func (f *fakeLister) ListAPIKeys(ctx context.Context) ([]apiclient.APIKey, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointIAMAPIKeys, &f.apiKeys, &f.apiKeysErr)
}

func (f *fakeLister) ListServiceAccounts(ctx context.Context) ([]apiclient.ServiceAccount, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointServiceAccounts, &f.sas, f.errOf(apiclient.EndpointServiceAccounts))
}

func (f *fakeLister) ListUsers(ctx context.Context) ([]apiclient.User, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointUsers, &f.users, f.errOf(apiclient.EndpointUsers))
}

func (f *fakeLister) ListEnvironments(ctx context.Context) ([]apiclient.Environment, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointEnvironments, &f.envs, f.errOf(apiclient.EndpointEnvironments))
}

func (f *fakeLister) ListKafkaClusters(ctx context.Context, env string) ([]apiclient.KafkaCluster, apiclient.ListStats, error) {
	f.mu.Lock()
	clusters := f.clusters[env]
	f.mu.Unlock()
	err := f.errOf(apiclient.EndpointKafkaClusters + " " + env) // one environment's list
	if *err == nil {
		err = f.errOf(apiclient.EndpointKafkaClusters)
	}
	return answer(ctx, f, apiclient.EndpointKafkaClusters+" "+env, &clusters, err)
}

func (f *fakeLister) ListAppliedQuotas(ctx context.Context, scope string) ([]apiclient.AppliedQuota, apiclient.ListStats, error) {
	f.mu.Lock()
	var quotas []apiclient.AppliedQuota
	for _, q := range f.quotas {
		if q.Scope == scope {
			quotas = append(quotas, q)
		}
	}
	f.mu.Unlock()
	err := f.errOf(apiclient.EndpointAppliedQuotas + " " + scope) // one scope's list
	if *err == nil {
		err = f.errOf(apiclient.EndpointAppliedQuotas)
	}
	return answer(ctx, f, apiclient.EndpointAppliedQuotas+" "+scope, &quotas, err)
}

func (f *fakeLister) ListOrganizations(ctx context.Context) ([]apiclient.Organization, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointOrganizations, &f.orgs, f.errOf(apiclient.EndpointOrganizations))
}

func (f *fakeLister) ListCertificateAuthorities(ctx context.Context) ([]apiclient.CertificateAuthority, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointCertificateAuthorities, &f.cas, f.errOf(apiclient.EndpointCertificateAuthorities))
}

func (f *fakeLister) ListCertificateIdentityPools(ctx context.Context, authority string) ([]apiclient.IdentityPool, apiclient.ListStats, error) {
	return f.poolsOf(ctx, apiclient.EndpointCertificateIdentityPools, authority)
}

func (f *fakeLister) ListIdentityProviders(ctx context.Context) ([]apiclient.IdentityProvider, apiclient.ListStats, error) {
	return answer(ctx, f, apiclient.EndpointIdentityProviders, &f.providers, f.errOf(apiclient.EndpointIdentityProviders))
}

func (f *fakeLister) ListIdentityPools(ctx context.Context, provider string) ([]apiclient.IdentityPool, apiclient.ListStats, error) {
	return f.poolsOf(ctx, apiclient.EndpointIdentityPools, provider)
}

// poolsOf answers the pools of one authority or provider; an error may be
// set for that one alone ("endpoint parent") or for all.
func (f *fakeLister) poolsOf(ctx context.Context, endpoint, parent string) ([]apiclient.IdentityPool, apiclient.ListStats, error) {
	f.mu.Lock()
	pools := f.pools[parent]
	f.mu.Unlock()
	err := f.errOf(endpoint + " " + parent)
	if *err == nil {
		err = f.errOf(endpoint)
	}
	return answer(ctx, f, endpoint+" "+parent, &pools, err)
}

// errOf is where the error of endpoint is kept.
func (f *fakeLister) errOf(endpoint string) *error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.errs[endpoint]
	return &err
}

// answer notes the call and its deadline and returns a copy of *items, or *err.
func answer[K any](ctx context.Context, f *fakeLister, call string, items *[]K, err *error) ([]K, apiclient.ListStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, _ := ctx.Deadline()
	f.deadlines = append(f.deadlines, d)
	f.calls = append(f.calls, call)
	if *err != nil {
		return nil, apiclient.ListStats{Pages: 2}, *err
	}
	return append([]K(nil), *items...), f.stats, nil
}

func (f *fakeLister) fail(byok, apiKeys error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byokErr, f.apiKeysErr = byok, apiKeys
}

// failList makes the list of endpoint (not the key lists) fail with err; nil heals it.
func (f *fakeLister) failList(endpoint string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[endpoint] = err
}

func newFake() *fakeLister {
	return &fakeLister{
		byok: []apiclient.BYOKKey{{
			ID: "cck-1", DisplayName: "billing", Provider: "AWS", State: "IN_USE", CloudKeyID: "arn:1",
			KMS:        apiclient.KMSKey{Roles: []string{"role/b", "role/a", "role/a"}},
			Validation: apiclient.Validation{Phase: "VALID", Region: "us-east-1"},
		}, {
			ID: "cck-2", Provider: "GCP", State: "AVAILABLE", Validation: apiclient.Validation{Phase: "INITIALIZING"},
			CreatedAt: time.Unix(1700000000, 0),
		}},
		apiKeys: []apiclient.APIKey{{
			ID: "K1", Description: "cli key", OwnerID: "sa-1", OwnerKind: "ServiceAccount", Resources: []apiclient.Resource{{ID: "cloud", Kind: "Cloud"}},
			CreatedAt: time.Unix(1700000000, 0),
		}},
		sas:   []apiclient.ServiceAccount{{ID: "sa-1", DisplayName: "deployer", Description: "CI"}},
		users: []apiclient.User{{ID: "u-1", FullName: "Ada Lovelace"}},
		envs:  []apiclient.Environment{{ID: "env-1", DisplayName: "production"}, {ID: "env-2", DisplayName: "staging"}},
		clusters: map[string][]apiclient.KafkaCluster{
			"env-1": {{ID: "lkc-1", DisplayName: "orders", Environment: "env-1", Cloud: "AWS", Region: "us-east-1", Availability: "MULTI_ZONE", BYOKKeyID: "cck-1"}},
			"env-2": {
				{ID: "lkc-2", DisplayName: "scratch", Environment: "env-2", Cloud: "GCP", Region: "us-central1", Availability: "SINGLE_ZONE"},
				{ID: "lkc-1", DisplayName: "orders", Environment: "env-1", Cloud: "AWS", Region: "us-east-1", Availability: "MULTI_ZONE", BYOKKeyID: "cck-1"},
			},
		},
		quotas: []apiclient.AppliedQuota{
			{Code: "iam.max_cloud_api_keys.per_org", Scope: "ORGANIZATION", Limit: 1000, HasLimit: true, Usage: 1, HasUsage: true},
			{Code: "kafka.max_kafka_creation.per_day", Scope: "ORGANIZATION", Limit: 20, HasLimit: true},
			// Per principal and per cluster: one code, one item for each.
			{Code: "iam.max_cloud_api_keys.per_service_account", Scope: "SERVICE_ACCOUNT", ResourceID: "sa-1", Limit: 100, HasLimit: true, Usage: 3, HasUsage: true},
			{Code: "iam.max_cloud_api_keys.per_service_account", Scope: "SERVICE_ACCOUNT", ResourceID: "sa-2", Limit: 100, HasLimit: true},
			{Code: "kafka.max_api_keys.per_cluster", Scope: "KAFKA_CLUSTER", ResourceID: "lkc-1", Limit: 2000, HasLimit: true, Usage: 7, HasUsage: true},
		},
		errs: map[string]error{},
	}
}

// TestQuotaScopes: each scope asked for is read, one item per principal or
// cluster (the same code for each) becomes one series each, named by
// resource_id; one scope failing fails the refresh and keeps the last data.
func TestQuotaScopes(t *testing.T) {
	opts := Options{Interval: time.Minute, QuotaScopes: []string{"ORGANIZATION", "SERVICE_ACCOUNT", "KAFKA_CLUSTER"}, Collectors: []string{"quotas"}}
	r := newRig(opts)
	r.refresh()
	want := strings.Join([]string{
		`quota_code="iam.max_cloud_api_keys.per_org",resource_id="",scope="ORGANIZATION"} 1000`,
		`quota_code="iam.max_cloud_api_keys.per_service_account",resource_id="sa-1",scope="SERVICE_ACCOUNT"} 100`,
		`quota_code="iam.max_cloud_api_keys.per_service_account",resource_id="sa-2",scope="SERVICE_ACCOUNT"} 100`,
		`quota_code="kafka.max_api_keys.per_cluster",resource_id="lkc-1",scope="KAFKA_CLUSTER"} 2000`,
		`quota_code="kafka.max_kafka_creation.per_day",resource_id="",scope="ORGANIZATION"} 20`,
		`quota_code="iam.max_cloud_api_keys.per_org",resource_id="",scope="ORGANIZATION"} 1`,
		`quota_code="iam.max_cloud_api_keys.per_service_account",resource_id="sa-1",scope="SERVICE_ACCOUNT"} 3`,
		`quota_code="kafka.max_api_keys.per_cluster",resource_id="lkc-1",scope="KAFKA_CLUSTER"} 7`,
	}, "\n")
	got := exposition(t, r.exp, "confluent_quota_")
	if stripped := stripNames(got); stripped != want {
		t.Fatalf("got\n%s\nwant\n%s", stripped, want)
	}
	if calls := strings.Join(r.fake.calls, ","); calls != "service_quota_applied_quotas ORGANIZATION,service_quota_applied_quotas SERVICE_ACCOUNT,service_quota_applied_quotas KAFKA_CLUSTER" {
		t.Fatalf("lists read: %s", calls)
	}
	r.fake.failList(apiclient.EndpointAppliedQuotas+" KAFKA_CLUSTER", &apiclient.APIError{Endpoint: "service_quota_applied_quotas", StatusCode: 403})
	r.refresh()
	if after := exposition(t, r.exp, "confluent_quota_"); after != got {
		t.Fatalf("one scope failing changed the served data:\n%s", testkit.LineDiff(got, after))
	}
	if h := health(t, r.exp, "quotas", apiclient.ReasonForbidden); h.success != 0 || h.errors != 1 {
		t.Fatalf("quotas health %+v, want success 0 and one forbidden", h)
	}
}

// exposition is the text exposition of e's series whose names start with prefix.
func exposition(t *testing.T, e *Refresher, prefix string) string {
	t.Helper()
	mfs, err := gatherer(e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), prefix) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// stripNames keeps the series lines of an exposition, from their first
// label after organization, for comparing.
func stripNames(text string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if _, rest, ok := strings.Cut(line, `organization="acme",`); ok && !strings.HasPrefix(line, "#") {
			out = append(out, rest)
		}
	}
	return strings.Join(out, "\n")
}

// rig is a Refresher over a fake Lister, with its log.
type rig struct {
	fake *fakeLister
	exp  *Refresher
	log  *testkit.Buffer
}

func newRig(opts Options) *rig {
	r := &rig{fake: newFake(), log: &testkit.Buffer{}}
	opts.Logger = log.NewLogfmtLogger(r.log)
	if opts.Organization == "" {
		opts.Organization = "acme"
	}
	r.exp = newRefresher(r.fake, opts)
	return r
}

func (r *rig) refresh() { r.exp.Refresh(context.Background(), time.Now().Add(time.Minute)) }

// TestAttempted: Attempted is closed once every collector has finished its
// first refresh, failed ones included, and not before.
func TestAttempted(t *testing.T) {
	r := newRig(allOn)
	select {
	case <-r.exp.Attempted():
		t.Fatal("closed before any refresh")
	default:
	}
	r.fake.fail(&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 401}, nil)
	r.refresh()
	select {
	case <-r.exp.Attempted():
	default:
		t.Fatal("not closed after every collector's first refresh, one of them failed")
	}
	r.refresh() // a second round must not close it again (a panic)
}

// TestRefreshFailureRules: whatever a list fails with, the collector keeps
// serving its last complete data, sets success 0, counts the right reason,
// logs one warning line that says what went wrong, and recovers on the next
// complete list; the other collector is not touched.
func TestRefreshFailureRules(t *testing.T) {
	for _, tc := range []struct {
		err    error
		reason apiclient.Reason
	}{
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 401, Title: "Authentication Required", RequestID: "r1"}, apiclient.ReasonUnauthorized},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 403, Detail: "invalid API key", InvalidKey: true}, apiclient.ReasonUnauthorized},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 403, Title: "User Access Unauthorized"}, apiclient.ReasonForbidden},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 429}, apiclient.ReasonRateLimited},
		{&apiclient.RateLimitedError{Endpoint: "byok_keys", Wait: "4s"}, apiclient.ReasonRateLimited},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 503}, apiclient.ReasonServerError},
		{fmt.Errorf("byok_keys: %w", context.DeadlineExceeded), apiclient.ReasonTimeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, apiclient.ReasonNetwork},
		{&apiclient.DecodeError{Endpoint: "byok_keys", Err: errors.New("body is HTML, not JSON")}, apiclient.ReasonDecode},
		{&apiclient.PaginationError{Endpoint: "byok_keys", Msg: "page token repeated"}, apiclient.ReasonPagination},
		{&apiclient.CredentialError{Err: errors.New("open /run/secret: no such file or directory")}, apiclient.ReasonOther},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 404}, apiclient.ReasonOther},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			r := newRig(allOn)
			r.refresh()
			before := lines(t, r.exp, "confluent_byok_", "confluent_iam_")
			if before == "" {
				t.Fatal("nothing served after a complete refresh")
			}
			r.log.Reset()

			r.fake.fail(tc.err, nil)
			r.refresh()
			if after := lines(t, r.exp, "confluent_byok_", "confluent_iam_"); after != before {
				t.Fatalf("the served data changed:\n%s", testkit.LineDiff(before, after))
			}
			if got := health(t, r.exp, "byok", tc.reason); got != (healthOf{success: 0, errors: 1, pages: 2, lastSuccess: 1}) {
				t.Errorf("byok health %+v, want success 0, errors{%s} 1, pages 2", got, tc.reason)
			}
			if got := health(t, r.exp, "api_keys", tc.reason); got.success != 1 || got.errors != 0 {
				t.Errorf("the other collector was touched: %+v", got)
			}
			warn := r.log.Lines("level=warn")
			if len(warn) != 1 {
				t.Fatalf("%d warning lines, want 1:\n%s", len(warn), r.log.String())
			}
			for _, want := range []string{
				`msg="Refresh failed, serving the previous complete data"`, "collector=byok",
				"reason=" + string(tc.reason), "pages=2", tc.err.Error()[:min(len(tc.err.Error()), 20)],
			} {
				if !strings.Contains(warn[0], want) {
					t.Errorf("log line lacks %q:\n%s", want, warn[0])
				}
			}

			r.fake.fail(nil, nil)
			r.fake.byok = r.fake.byok[:1]
			r.refresh()
			if got := health(t, r.exp, "byok", tc.reason); got.success != 1 || got.errors != 1 {
				t.Errorf("no recovery: %+v", got)
			}
			if strings.Contains(lines(t, r.exp, "confluent_byok_"), "cck-2") {
				t.Error("the recovered list is not the one served")
			}
		})
	}
}

// TestFirstFailureServesNothing: before any complete list, a failure serves
// no key metrics, keeps the exporter not ready, and says so.
func TestFirstFailureServesNothing(t *testing.T) {
	r := newRig(allOn)
	r.fake.fail(&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 401}, nil)
	r.refresh()
	if r.exp.Ready() {
		t.Fatal("ready with one collector never refreshed")
	}
	if got := lines(t, r.exp, "confluent_byok_"); got != "" {
		t.Fatalf("key metrics served before any complete list:\n%s", got)
	}
	if got := health(t, r.exp, "byok", apiclient.ReasonUnauthorized); got != (healthOf{success: 0, errors: 1, pages: 2, lastSuccess: -1}) {
		t.Errorf("health %+v", got)
	}
	warn := r.log.Lines("level=warn", "collector=byok")
	if len(warn) != 1 || !strings.Contains(warn[0], "nothing is served for this collector until a refresh completes") {
		t.Fatalf("want one line saying nothing is served yet:\n%s", r.log.String())
	}
	r.fake.fail(nil, nil)
	r.refresh()
	if !r.exp.Ready() {
		t.Fatal("not ready after every collector completed a refresh")
	}
}

// TestShutdownIsNotAFailure: a refresh cut short because the exporter stops
// is not counted and not logged.
func TestShutdownIsNotAFailure(t *testing.T) {
	r := newRig(allOn)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.fake.fail(context.Canceled, context.Canceled)
	for _, endpoint := range []string{apiclient.EndpointServiceAccounts, apiclient.EndpointUsers, apiclient.EndpointEnvironments, apiclient.EndpointAppliedQuotas, apiclient.EndpointOrganizations} {
		r.fake.failList(endpoint, context.Canceled)
	}
	r.exp.Refresh(ctx, time.Now().Add(time.Minute))
	if got := health(t, r.exp, "byok", apiclient.ReasonOther); got.success != -1 || got.errors != 0 {
		t.Errorf("a shutdown was counted: %+v", got)
	}
	if r.log.String() != "" {
		t.Errorf("a shutdown was logged:\n%s", r.log.String())
	}
}

// TestRefreshDeadline: each list is read with the deadline Refresh is given
// (Run gives the next scheduled start), so a refresh never overlaps the next.
func TestRefreshDeadline(t *testing.T) {
	r := newRig(allOn)
	deadline := time.Now().Add(42 * time.Second)
	r.exp.Refresh(context.Background(), deadline)
	// byok, api keys, service accounts, users, environments, quotas, the
	// organisation, and for the clusters the environments again and the
	// clusters of each of the two.
	if len(r.fake.deadlines) != 10 {
		t.Fatalf("%d lists read, want 10: %v", len(r.fake.deadlines), r.fake.calls)
	}
	for _, d := range r.fake.deadlines {
		if !d.Equal(deadline) {
			t.Errorf("list read with deadline %v, want %v", d, deadline)
		}
	}
}

// TestDroppedItemsAndValues: what a complete list left out is served as
// gauges of that list, logged once per kind, and replaced by the next list.
func TestDroppedItemsAndValues(t *testing.T) {
	r := newRig(Options{Organization: "acme", Interval: time.Minute, APIKeysPerKey: true, Logger: log.NewNopLogger(), Collectors: []string{"byok", "api_keys"}})
	r.fake.stats = apiclient.ListStats{
		Pages:   3,
		Skipped: map[string]apiclient.Tally{apiclient.SkipNoID: {Count: 2, Example: "page 1 item 4"}, apiclient.SkipNoOwner: {Count: 5, Example: "K9"}},
		Invalid: map[string]apiclient.Tally{"metadata.created_at": {Count: 3, Example: "cck-1"}},
	}
	r.refresh()
	want := `
# HELP confluent_refresh_invalid_values Values of the last complete list left out of exported items, or cut, by field: unreadable, missing though required, or longer than 1,024 bytes (a text is cut to it, an id left out).
# TYPE confluent_refresh_invalid_values gauge
confluent_refresh_invalid_values{collector="api_keys",field="metadata.created_at",organization="acme"} 3
confluent_refresh_invalid_values{collector="byok",field="metadata.created_at",organization="acme"} 3
# HELP confluent_refresh_skipped_items Items of the last complete list that were not exported: no_id, long_id (an id over 1,024 bytes, never cut), no_owner (Confluent-internal API keys).
# TYPE confluent_refresh_skipped_items gauge
confluent_refresh_skipped_items{collector="api_keys",organization="acme",reason="long_id"} 0
confluent_refresh_skipped_items{collector="api_keys",organization="acme",reason="no_id"} 2
confluent_refresh_skipped_items{collector="api_keys",organization="acme",reason="no_owner"} 5
confluent_refresh_skipped_items{collector="byok",organization="acme",reason="long_id"} 0
confluent_refresh_skipped_items{collector="byok",organization="acme",reason="no_id"} 2
# HELP confluent_refresh_pages Pages read by the last refresh of the collector.
# TYPE confluent_refresh_pages gauge
confluent_refresh_pages{collector="api_keys",organization="acme"} 3
confluent_refresh_pages{collector="byok",organization="acme"} 3
`
	names := []string{"confluent_refresh_invalid_values", "confluent_refresh_skipped_items", "confluent_refresh_pages"}
	if err := testutil.GatherAndCompare(gatherer(r.exp), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`level=warn msg="Skipped list items" organization=acme collector=byok reason=no_id count=2 example="page 1 item 4"`,
		`level=debug msg="Skipped list items" organization=acme collector=api_keys reason=no_owner count=5 example=K9`,
		`level=warn msg="Left out values that could not be read" organization=acme collector=api_keys field=metadata.created_at count=3 example_id=cck-1`,
	} {
		if n := len(r.log.Lines(line)); n != 1 {
			t.Errorf("%d lines %s, want 1:\n%s", n, line, r.log.String())
		}
	}

	// A failed refresh keeps the gauges of the data still served.
	r.fake.fail(errors.New("boom"), nil)
	r.fake.stats = apiclient.ListStats{Pages: 1}
	r.refresh()
	got := lines(t, r.exp, "confluent_refresh_invalid_values")
	if !strings.Contains(got, `value:"byok"`) || strings.Contains(got, `value:"api_keys"`) {
		t.Errorf("want byok's gauges kept (its data is still served) and api_keys' replaced:\n%s", got)
	}
}

// healthOf is a collector's health series; -1 for one not served.
type healthOf struct{ success, errors, pages, lastSuccess float64 }

func health(t *testing.T, e *Refresher, collector string, reason apiclient.Reason) healthOf {
	t.Helper()
	mfs, err := gatherer(e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	h := healthOf{-1, -1, -1, -1}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["collector"] != collector {
				continue
			}
			switch mf.GetName() {
			case "confluent_refresh_success":
				h.success = m.GetGauge().GetValue()
			case "confluent_refresh_pages":
				h.pages = m.GetGauge().GetValue()
			case "confluent_refresh_last_success_timestamp_seconds":
				h.lastSuccess = m.GetGauge().GetValue()
			case "confluent_refresh_errors_total":
				if labels["reason"] == string(reason) {
					h.errors = m.GetCounter().GetValue()
				}
			}
		}
	}
	if h.lastSuccess > 0 {
		h.lastSuccess = 1 // present; its value is the clock's
	}
	return h
}

// TestFailureHints: a refresh refused for the credentials or a role says
// what usually fixes it.
func TestFailureHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		hint string
	}{
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 401}, "a Kafka cluster API key is refused here"},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 403}, "OrganizationAdmin reads every list"},
		{&apiclient.APIError{Endpoint: "byok_keys", StatusCode: 503}, ""},
	} {
		r := newRig(Options{Organization: "acme", Interval: time.Minute, Collectors: []string{"byok"}})
		r.fake.fail(tc.err, nil)
		r.refresh()
		line := r.log.Lines("level=warn", "collector=byok")
		if len(line) != 1 {
			t.Fatalf("%d warning lines:\n%s", len(line), r.log.String())
		}
		if got := strings.Contains(line[0], "hint="); got != (tc.hint != "") || !strings.Contains(line[0], tc.hint) {
			t.Errorf("%v: line %s, want hint %q", tc.err, line[0], tc.hint)
		}
	}
}
