package collector

// The wiring of the collector to the real API client, through the simulated
// API: a few faults end to end, a rate-limit storm, scrapes during a refresh
// held upstream, odd items. The collector's rules are tested against a fake
// Lister (rules_test.go); what the client makes of each fault, in apiclient.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// faultRig is a simulated API, a client and a Refresher whose log lines are kept.
type faultRig struct {
	sim    *sim.Server
	client *apiclient.Client
	exp    *Refresher
	log    *testkit.Buffer
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	s, srv := newSimAPI(t, sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 60, Quirks: true})
	u, _ := url.Parse(srv.URL)
	c, err := apiclient.New(apiclient.Config{
		BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret), PageSize: 10,
		Timeout: 10 * time.Second, RetryBaseDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := &testkit.Buffer{}
	e := newRefresher(c, Options{Organization: "acme", Interval: time.Minute, APIKeysPerKey: true, Logger: log.NewLogfmtLogger(buf), Collectors: []string{"byok", "api_keys"}})
	return &faultRig{sim: s, client: c, exp: e, log: buf}
}

// refresh runs one refresh of both collectors with the given deadline.
func (r *faultRig) refresh(within time.Duration) {
	r.exp.Refresh(context.Background(), time.Now().Add(within))
}

func (r *faultRig) keyMetrics(t *testing.T) string {
	t.Helper()
	return lines(t, r.exp, "confluent_byok_", "confluent_iam_")
}

// TestFaultsThroughTheClient: an upstream fault reaches the collector as the
// client's typed error: the right reason counted, the client's words in the
// one log line, the previous data kept, recovery after.
func TestFaultsThroughTheClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sim.Faults
		reason apiclient.Reason
		words  []string
	}{
		{"401", sim.Faults{Status: 401}, apiclient.ReasonUnauthorized, []string{"HTTP 401", `\"Authentication Required\"`, "request_id "}},
		{"truncated JSON on page 2", sim.Faults{Body: "truncated", Page: 2}, apiclient.ReasonDecode, []string{"unexpected end of JSON"}},
		{"repeated token", sim.Faults{Next: "repeat-token"}, apiclient.ReasonPagination, []string{"page token repeated"}},
	} {
		for _, ep := range []struct{ endpoint, collector string }{{"byok_keys", "byok"}, {"iam_api_keys", "api_keys"}} {
			t.Run(tc.name+"/"+ep.collector, func(t *testing.T) {
				r := newFaultRig(t)
				r.refresh(10 * time.Second)
				before := r.keyMetrics(t)
				f := tc.faults
				f.Endpoint = ep.endpoint
				r.sim.SetFaults(f)
				r.log.Reset()
				r.refresh(10 * time.Second)
				if after := r.keyMetrics(t); after != before {
					t.Fatalf("the served data changed:\n%s", testkit.LineDiff(before, after))
				}
				if h := health(t, r.exp, ep.collector, tc.reason); h.success != 0 || h.errors != 1 {
					t.Fatalf("health %+v, want success 0 and one %s error\n%s", h, tc.reason, r.log.String())
				}
				warn := r.log.Lines("level=warn")
				if len(warn) != 1 {
					t.Fatalf("%d warning lines, want 1:\n%s", len(warn), r.log.String())
				}
				for _, w := range append([]string{"collector=" + ep.collector, "reason=" + string(tc.reason), ep.endpoint + ":"}, tc.words...) {
					if !strings.Contains(warn[0], w) {
						t.Errorf("log line lacks %q:\n%s", w, warn[0])
					}
				}
				r.sim.SetFaults(sim.Faults{})
				r.refresh(10 * time.Second)
				if h := health(t, r.exp, ep.collector, tc.reason); h.success != 1 {
					t.Fatalf("no recovery:\n%s", r.log.String())
				}
			})
		}
	}
}

// TestA429HoldsBothCollectors: the rate limit is the organisation's, so a
// 429 on one list makes the other collectors, sharing the client, give up
// when the wait would pass the refresh deadline, without a request.
func TestA429HoldsBothCollectors(t *testing.T) {
	r := newFaultRig(t)
	r.refresh(10 * time.Second)
	r.sim.SetFaults(sim.Faults{Status: http.StatusTooManyRequests, RetryAfter: 30, Endpoint: "byok_keys"})
	// The BYOK list first, alone, then the others over the same client.
	byok := newRefresher(r.client, Options{Organization: "acme", Interval: time.Minute, Logger: log.NewNopLogger(), Collectors: []string{"byok"}})
	byok.Refresh(context.Background(), time.Now().Add(5*time.Second))
	before := len(r.sim.Requests())
	r.refresh(5 * time.Second)
	if n := len(r.sim.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent inside the window a 429 asked to wait out", n)
	}
	for _, c := range []string{"byok", "api_keys"} {
		if h := health(t, r.exp, c, apiclient.ReasonRateLimited); h.success != 0 || h.errors != 1 {
			t.Errorf("%s: health %+v, want one rate_limited failure\n%s", c, h, r.log.String())
		}
	}
}

func TestRateLimitStorm(t *testing.T) {
	s := sim.New(sim.Config{
		Org: sim.OrgConfig{Seed: 3, BYOKKeys: 12, APIKeys: 24}, APIKey: testKey, APISecret: testSecret,
		RateLimit: 5, RateWindow: time.Second,
	})
	// Without rate-limit headers the exporter learns of the window only from
	// 429s (with them it waits for the reset and a storm never starts).
	s.SetFaults(sim.Faults{NoRateLimitHeaders: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret), PageSize: 2, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := newRefresher(c, Options{Organization: "acme", Interval: time.Minute, APIKeysPerKey: true, Collectors: []string{"byok", "api_keys"}})
	e.Refresh(context.Background(), time.Now().Add(30*time.Second)) // 18 pages at 5 a second
	if !e.Ready() {
		t.Fatal("the refresh did not complete under the rate limit")
	}
	reqs := s.Requests()
	limited := 0
	for i, r := range reqs {
		if r.Status != http.StatusTooManyRequests {
			continue
		}
		limited++
		for _, next := range reqs[i+1:] {
			if next.Endpoint == r.Endpoint {
				if next.Time.Before(r.RetryAt) {
					t.Errorf("%s asked again %s before the window ended", r.Endpoint, r.RetryAt.Sub(next.Time))
				}
				break
			}
		}
	}
	// When a window resets, each list sends one request at a time: no herd.
	if n := s.MaxInFlight(); n > 2 {
		t.Errorf("%d requests at once, want at most one per list", n)
	}
	if limited == 0 {
		t.Error("no request was answered 429: the storm did not happen")
	}
	t.Logf("%d requests, %d answered 429", len(reqs), limited)
}

// TestScrapesDoNotWaitForARefresh: while a refresh is held upstream, a
// scrape answers at once with the previous complete data.
func TestScrapesDoNotWaitForARefresh(t *testing.T) {
	r := newFaultRig(t)
	r.refresh(10 * time.Second)
	before := r.keyMetrics(t)
	r.sim.SetFaults(sim.Faults{Hold: true})
	done := make(chan struct{})
	go func() { r.refresh(time.Minute); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); r.sim.Held() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d list requests held upstream after 10s, want both lists'", r.sim.Held())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 3 {
		scraped := make(chan string, 1)
		go func() { scraped <- r.keyMetrics(t) }()
		select {
		case got := <-scraped:
			if got != before {
				t.Fatalf("a scrape during the refresh did not serve the previous data:\n%s", testkit.LineDiff(before, got))
			}
		case <-time.After(5 * time.Second):
			r.sim.SetFaults(sim.Faults{}) // let the refresh, and the scrape behind it, end
			t.Fatal("a scrape waited for the refresh held upstream")
		}
	}
	select {
	case <-done:
		t.Fatal("the refresh ended while its requests were held: the scrapes proved nothing")
	default:
	}
	r.sim.SetFaults(sim.Faults{}) // release
	<-done
	if h := health(t, r.exp, "byok", apiclient.ReasonOther); h.success != 1 {
		t.Fatalf("the released refresh failed:\n%s", r.log.String())
	}
}

// TestOddItemsAreCountedAndLoggedOnce: a page of odd items (no id, nulls,
// wrong types, unreadable times) does not fail the refresh; what was left
// out is counted in the health gauges and logged once per kind, with a
// count and an example.
func TestOddItemsAreCountedAndLoggedOnce(t *testing.T) {
	r := newFaultRig(t)
	r.sim.SetFaults(sim.Faults{Body: "odd-items", Page: 1})
	r.refresh(10 * time.Second)
	for _, c := range []string{"byok", "api_keys"} {
		if h := health(t, r.exp, c, apiclient.ReasonDecode); h.success != 1 {
			t.Fatalf("odd items failed %s:\n%s", c, r.log.String())
		}
	}
	got := lines(t, r.exp, "confluent_refresh_skipped_items", "confluent_refresh_invalid_values")
	got = strings.Join(strings.Fields(got), " ") // protobuf's text spacing varies
	for _, want := range []string{
		`confluent_refresh_skipped_items label:{name:"collector" value:"byok"} label:{name:"organization" value:"acme"} label:{name:"reason" value:"no_id"} gauge:{value:3}`,
		`confluent_refresh_skipped_items label:{name:"collector" value:"api_keys"} label:{name:"organization" value:"acme"} label:{name:"reason" value:"no_id"} gauge:{value:2}`,
		`confluent_refresh_invalid_values label:{name:"collector" value:"byok"} label:{name:"field" value:"provider"} label:{name:"organization" value:"acme"} gauge:{value:2}`,
		`confluent_refresh_invalid_values label:{name:"collector" value:"api_keys"} label:{name:"field" value:"spec.expires_at"} label:{name:"organization" value:"acme"} gauge:{value:1}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	if !strings.Contains(got, `value:"no_owner"} gauge:{value:1}`) {
		t.Errorf("no_owner: want the odd one:\n%s", got)
	}
	log := r.log.String()
	for _, want := range []string{
		`level=warn msg="Skipped list items" organization=acme collector=byok reason=no_id count=3 example="page 1 item 11"`,
		`level=warn msg="Left out values that could not be read" organization=acme collector=byok field=provider count=2 example_id=cck-odd01`,
		`level=warn msg="Left out values that could not be read" organization=acme collector=api_keys field=metadata.created_at count=1 example_id=ODDTIMES`,
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("want the line once:\n%s\nlog:\n%s", want, log)
		}
	}
	if strings.Contains(log, "level=warn msg=\"Skipped list items\" collector=api_keys reason=no_owner") {
		t.Errorf("Confluent-internal keys are expected: debug, not warn:\n%s", log)
	}

	// The next complete refresh without odd items sets the gauges back.
	r.sim.SetFaults(sim.Faults{})
	r.refresh(10 * time.Second)
	if got := lines(t, r.exp, "confluent_refresh_invalid_values"); got != "" {
		t.Errorf("invalid values of an older refresh still served:\n%s", got)
	}
}

// TestListsEndingWithNullData: against a server that ends every list with a
// page of {"data": null} (Confluent's CLI test server does), every collector
// refreshes and serves what it serves without that page.
func TestListsEndingWithNullData(t *testing.T) {
	s, ts := newSimAPI(t, sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 60, Quirks: true})
	plain := newRefresher(newClient(t, ts.URL, nil), allOn)
	refreshOnce(plain)
	s.SetFaults(sim.Faults{Body: "null-last-page"})
	e := newRefresher(newClient(t, ts.URL, nil), allOn)
	refreshOnce(e)
	if got := lines(t, e, "confluent_refresh_success"); strings.Contains(got, "value:0") {
		t.Fatalf("a collector failed on the null last page:\n%s", got)
	}
	nulls := 0
	for _, r := range s.Requests() {
		if r.NullData {
			nulls++
		}
	}
	if nulls < len(collectorNames()) {
		t.Fatalf("%d pages of null data served; every list should have ended with one", nulls)
	}
	prefixes := []string{"confluent_byok_", "confluent_iam_", "confluent_environment_", "confluent_kafka_", "confluent_quota_", "confluent_organization_"}
	if want, got := lines(t, plain, prefixes...), lines(t, e, prefixes...); got != want || want == "" {
		t.Fatalf("the series differ from those of the same lists without the null pages:\n%s", diffLines(want, got))
	}
}

// TestPoliteUnderARateLimit: with every collector on under a limit of 2
// requests per 3 s, only the first burst (the lists that start at once,
// before any answer) meets a used-up window; after it the client paces by
// X-RateLimit-Remaining and -Reset, so no request arrives while the
// organisation is blocked, and the refresh completes.
func TestPoliteUnderARateLimit(t *testing.T) {
	testkit.Slow(t)
	t.Parallel()
	const window = 3 * time.Second
	s := sim.New(sim.Config{
		Org: sim.OrgConfig{Seed: 5, BYOKKeys: 3, APIKeys: 8}, APIKey: testKey, APISecret: testSecret,
		RateLimit: 2, RateWindow: window,
	})
	srv := httptest.NewServer(s)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret), PageSize: 100, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	buf := &testkit.Buffer{}
	e := newRefresher(c, Options{
		Organization: "acme", Interval: time.Minute, Logger: log.NewLogfmtLogger(buf),
		APIKeysPerKey: true,
		Collectors:    []string{"byok", "api_keys", "service_accounts", "users", "environments", "kafka_clusters", "quotas", "organization", "certificate_authorities", "certificate_identity_pools", "identity_providers", "identity_pools"},
	})
	e.Refresh(context.Background(), time.Now().Add(2*time.Minute))
	if !e.Ready() {
		t.Fatalf("the refresh did not complete under the rate limit:\n%s", buf.String())
	}
	reqs := s.Requests()
	if len(reqs) == 0 || reqs[0].Status == http.StatusTooManyRequests {
		t.Fatal("no request, or the first one was refused: the test proves nothing")
	}
	firstWindowEnd := time.Time{}
	burst, limited, late := 0, 0, 0
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			limited++
			if firstWindowEnd.IsZero() {
				firstWindowEnd = r.RetryAt
			}
		}
		switch {
		case firstWindowEnd.IsZero() || r.Time.Before(firstWindowEnd):
			burst++
		case r.Status == http.StatusTooManyRequests:
			late++
			t.Errorf("%s at +%s: sent while the organisation was blocked", r.Endpoint, r.Time.Sub(reqs[0].Time).Round(time.Millisecond))
		}
	}
	if len(reqs) <= 2*2 {
		t.Fatalf("%d requests: the limit never bit, the test proves nothing", len(reqs))
	}
	t.Logf("%d requests over %s, %d answered 429, %d in the first burst, %d sent while blocked",
		len(reqs), reqs[len(reqs)-1].Time.Sub(reqs[0].Time).Round(time.Second), limited, burst, late)
}
