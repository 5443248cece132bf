package collector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
)

// enrichment maps each collector of names and quotas to the lists it reads
// and a metric it serves.
var enrichment = []struct {
	collector string
	endpoints []string
	metric    string
}{
	{"service_accounts", []string{apiclient.EndpointServiceAccounts}, "confluent_iam_service_account_info"},
	{"users", []string{apiclient.EndpointUsers}, "confluent_iam_user_info"},
	{"environments", []string{apiclient.EndpointEnvironments}, "confluent_environment_info"},
	{"kafka_clusters", []string{apiclient.EndpointEnvironments, apiclient.EndpointKafkaClusters}, "confluent_kafka_cluster_info"},
	{"quotas", []string{apiclient.EndpointAppliedQuotas}, "confluent_quota_"},
}

// TestEnrichmentFailuresStayTheirOwn: when a list of names or quotas fails,
// its collector keeps serving its last complete data and says it failed,
// and nothing else changes: the key metrics never depend on the names.
func TestEnrichmentFailuresStayTheirOwn(t *testing.T) {
	for _, tc := range enrichment {
		for _, endpoint := range tc.endpoints {
			t.Run(tc.collector+"/"+endpoint, func(t *testing.T) {
				r := newRig(allOn)
				r.refresh()
				before := lines(t, r.exp, "confluent_byok_", "confluent_iam_", "confluent_environment_", "confluent_kafka_", "confluent_quota_")
				if !strings.Contains(before, tc.metric) {
					t.Fatalf("%s not served after a complete refresh:\n%s", tc.metric, before)
				}
				r.fake.failList(endpoint, &apiclient.APIError{Endpoint: endpoint, StatusCode: 403, Title: "Forbidden"})
				r.refresh()
				after := lines(t, r.exp, "confluent_byok_", "confluent_iam_", "confluent_environment_", "confluent_kafka_", "confluent_quota_")
				if after != before {
					t.Fatalf("the served data changed:\n%s", diffLines(before, after))
				}
				for _, other := range append([]string{"byok", "api_keys"}, collectorNames()...) {
					h := health(t, r.exp, other, apiclient.ReasonForbidden)
					// kafka_clusters reads the environments itself.
					failed := other == tc.collector || endpoint == apiclient.EndpointEnvironments && (other == "environments" || other == "kafka_clusters")
					if failed && (h.success != 0 || h.errors != 1) {
						t.Errorf("%s: health %+v, want one forbidden failure", other, h)
					}
					if !failed && (h.success != 1 || h.errors != 0) {
						t.Errorf("%s was touched by the failure of %s: %+v", other, endpoint, h)
					}
				}
			})
		}
	}
}

func collectorNames() []string {
	var out []string
	for _, tc := range enrichment {
		out = append(out, tc.collector)
	}
	return out
}

func diffLines(a, b string) string {
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !strings.Contains(a, l) {
			out = append(out, "+ "+l)
		}
	}
	for _, l := range strings.Split(a, "\n") {
		if !strings.Contains(b, l) {
			out = append(out, "- "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestClustersOfEveryEnvironment: the clusters of every environment are
// read, one failing environment fails the whole list (never a partial one),
// and a cluster listed twice is served once.
func TestClustersOfEveryEnvironment(t *testing.T) {
	r := newRig(Options{Organization: "acme", Interval: time.Minute, Collectors: []string{"kafka_clusters"}})
	r.refresh()
	got := lines(t, r.exp, "confluent_kafka_cluster_info")
	for _, want := range []string{`value:"lkc-1"`, `value:"lkc-2"`} {
		if !strings.Contains(got, want) {
			t.Errorf("cluster %s not served:\n%s", want, got)
		}
	}
	if n := strings.Count(got, `value:"lkc-1"`); n != 1 {
		t.Errorf("lkc-1 served %d times, want once", n)
	}
	if want := []string{"org_environments", "cmk_clusters env-1", "cmk_clusters env-2"}; strings.Join(r.fake.calls, ",") != strings.Join(want, ",") {
		t.Errorf("lists read %v, want %v", r.fake.calls, want)
	}

	// Every cluster deleted, and the second environment's list fails: the
	// first environment's (now empty) list is not served alone.
	r.fake.mu.Lock()
	r.fake.clusters = nil
	r.fake.mu.Unlock()
	r.fake.failList(apiclient.EndpointKafkaClusters+" env-2", &apiclient.APIError{Endpoint: "cmk_clusters", StatusCode: 403})
	r.refresh()
	if after := lines(t, r.exp, "confluent_kafka_cluster_info"); after != got {
		t.Fatalf("a failed list changed what is served:\n%s", diffLines(got, after))
	}
	// The log line names the environment (a 403 can mean it is gone or
	// hidden), and the reason is still the API's.
	if lines := r.log.Lines("collector=kafka_clusters", "reason=forbidden", "environment env-2: cmk_clusters: HTTP 403"); len(lines) != 1 {
		t.Fatalf("want one warning naming the environment:\n%s", r.log)
	}
	r.fake.failList(apiclient.EndpointKafkaClusters+" env-2", nil)
	r.refresh()
	if after := lines(t, r.exp, "confluent_kafka_cluster_info"); after != "" {
		t.Fatalf("clusters served after every cluster was deleted:\n%s", after)
	}
}

// TestQuotaUsageOnlyWhereReported: a quota without usage has a limit and no
// usage series (never a 0 that reads as "nothing used").
func TestQuotaUsageOnlyWhereReported(t *testing.T) {
	r := newRig(Options{Organization: "acme", Interval: time.Minute, Collectors: []string{"quotas"}})
	r.refresh()
	limits := lines(t, r.exp, "confluent_quota_limit")
	usage := lines(t, r.exp, "confluent_quota_usage")
	if !strings.Contains(limits, "kafka.max_kafka_creation.per_day") || !strings.Contains(limits, "iam.max_cloud_api_keys.per_org") {
		t.Errorf("limits:\n%s", limits)
	}
	if strings.Contains(usage, "kafka.max_kafka_creation.per_day") || !strings.Contains(usage, "iam.max_cloud_api_keys.per_org") {
		t.Errorf("usage:\n%s", usage)
	}
}

// TestNoEmailAddressIsExported: the users list carries email addresses;
// no series, label or help text may.
func TestNoEmailAddressIsExported(t *testing.T) {
	e := newRefresher(newClient(t, fixtureAPI(t).URL, nil), allOn)
	refreshOnce(e)
	mfs, err := gatherer(e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(b.String(), "Marty McFly") {
		t.Fatalf("the users were not exported at all:\n%s", b.String())
	}
	for _, leak := range []string{"marty.mcfly@example.com", "doc.brown@example.com", "AUTH_TYPE"} {
		if strings.Contains(b.String(), leak) {
			t.Errorf("the exposition contains %q", leak)
		}
	}
}

// TestAddStats: the stats of the environments list and of each cluster
// list add up: pages, and each tally's count, keeping the first example,
// without changing the stats added to.
func TestAddStats(t *testing.T) {
	a := apiclient.ListStats{Pages: 1, Skipped: map[string]apiclient.Tally{apiclient.SkipNoID: {Count: 1, Example: "page 1 item 2"}}}
	b := apiclient.ListStats{
		Pages:   2,
		Skipped: map[string]apiclient.Tally{apiclient.SkipNoID: {Count: 2, Example: "page 2 item 1"}},
		Invalid: map[string]apiclient.Tally{"spec.region": {Count: 3, Example: "lkc-9"}},
	}
	sum := addStats(a, b)
	if sum.Pages != 3 || sum.Skipped[apiclient.SkipNoID] != (apiclient.Tally{Count: 3, Example: "page 1 item 2"}) ||
		sum.Invalid["spec.region"] != (apiclient.Tally{Count: 3, Example: "lkc-9"}) {
		t.Errorf("sum %+v", sum)
	}
	if a.Skipped[apiclient.SkipNoID].Count != 1 || a.Invalid != nil {
		t.Errorf("the stats added to changed: %+v", a)
	}
	if got := addStats(apiclient.ListStats{}, apiclient.ListStats{}); got.Skipped != nil || got.Invalid != nil {
		t.Errorf("nothing added made tallies: %+v", got)
	}
}

// TestPoolsOfEveryAuthorityAndProvider: the identity pools of every
// certificate authority and every identity provider, one family for both
// kinds; one authority's pool list failing (a 403) fails that collector
// alone, which keeps serving its last complete list, and names the
// authority; the providers' pools go on.
func TestPoolsOfEveryAuthorityAndProvider(t *testing.T) {
	r := newRig(identitiesOn)
	r.fake.mu.Lock()
	r.fake.cas = []apiclient.CertificateAuthority{{ID: "op-ca1", DisplayName: "Root CA", State: "ENABLED"}, {ID: "op-ca2", State: "NEW_STATE"}}
	r.fake.providers = []apiclient.IdentityProvider{{ID: "op-idp1", DisplayName: "Okta", State: "ENABLED"}}
	r.fake.pools = map[string][]apiclient.IdentityPool{
		"op-ca1":  {{ID: "pool-1", DisplayName: "payments", ProviderID: "op-ca1", IdentityClaim: "CN", State: "ENABLED"}},
		"op-ca2":  {{ID: "pool-2", DisplayName: "partner", ProviderID: "op-ca2", IdentityClaim: "CN", State: "ENABLED"}},
		"op-idp1": {{ID: "pool-3", DisplayName: "ci", ProviderID: "op-idp1", IdentityClaim: "claims.sub", State: "ENABLED"}},
	}
	r.fake.mu.Unlock()
	r.refresh()
	got := lines(t, r.exp, "confluent_iam_identity_pool_info")
	for _, want := range []string{`value:"pool-1"`, `value:"pool-2"`, `value:"pool-3"`, `value:"certificate"`, `value:"oauth"`} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s:\n%s", want, got)
		}
	}
	if cas := lines(t, r.exp, "confluent_iam_certificate_authority_info"); !strings.Contains(cas, `value:"NEW_STATE"`) {
		t.Errorf("a state added later is not passed through:\n%s", cas)
	}

	r.fake.mu.Lock()
	r.fake.pools["op-ca1"] = nil
	r.fake.pools["op-idp1"] = append(r.fake.pools["op-idp1"], apiclient.IdentityPool{ID: "pool-4", ProviderID: "op-idp1"})
	r.fake.mu.Unlock()
	r.fake.failList(apiclient.EndpointCertificateIdentityPools+" op-ca2", &apiclient.APIError{Endpoint: apiclient.EndpointCertificateIdentityPools, StatusCode: 403})
	r.refresh()
	after := lines(t, r.exp, "confluent_iam_identity_pool_info")
	if !strings.Contains(after, `value:"pool-1"`) || !strings.Contains(after, `value:"pool-4"`) {
		t.Errorf("want the certificate pools as they were and the providers' new pool:\n%s", after)
	}
	if h := health(t, r.exp, "certificate_identity_pools", apiclient.ReasonForbidden); h.success != 0 || h.errors != 1 {
		t.Errorf("certificate_identity_pools health %+v, want failed, one forbidden", h)
	}
	if h := health(t, r.exp, "identity_pools", apiclient.ReasonForbidden); h.success != 1 {
		t.Errorf("identity_pools health %+v, want it unaffected", h)
	}
	if lines := r.log.Lines("collector=certificate_identity_pools", "reason=forbidden", "certificate authority op-ca2"); len(lines) != 1 {
		t.Fatalf("want one warning naming the authority:\n%s", r.log)
	}
}
